// One Store watch as one etcd watch stream: a prefix watch from the
// revision after the one asked for, with each event's previous key-value.
// A stream of its own per watch keeps the compacted-revision answer (which
// the etcd3 client's shared, self-resuming watcher turns into a bare error)
// and ends the watch when the stream ends: the owner re-lists and watches
// again, as it does when the SQLite store closes.
import type { IEvent, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';
import { RevisionCompactedError, type StoreEvent, type WatchCallbacks, type WatchHandle } from './store.ts';

/** Longer than etcd takes to come to a new watch's replay (it does so every 100 ms). */
const UNSYNCED_WATCH_MS = 2_000;

export interface EtcdKeys {
  /** The etcd key range [key, rangeEnd) holding every store key under prefix. */
  range(prefix: string): { key: Buffer; range_end: Buffer };
  /** A store key from the etcd key. */
  unwrap(key: Buffer): string;
}

/**
 * Opens the watch; resolves once etcd has created it and the history it
 * replays is there, or rejects (RevisionCompactedError when fromRevision is
 * too old). historyKept(revision) tells whether etcd still has revision;
 * outage(err) is the Store's error for a stream that broke or ended.
 */
export async function watchEtcd(
  client: WatchClient, keys: EtcdKeys, prefix: string, fromRevision: number, callbacks: WatchCallbacks,
  historyKept: (revision: number) => Promise<boolean>, outage: (err: Error) => Error,
): Promise<WatchHandle> {
  const stream = await client.watch();
  return new Promise<WatchHandle>((resolve, reject) => {
    let created = false;
    let stopped = false;
    const handle: WatchHandle = {
      stop() {
        if (stopped) return;
        stopped = true;
        // Ended before it is cancelled: the etcd3 client takes an error on a
        // stream still writable (the cancel's own) for a failing member and
        // closes every connection to it, failing the calls waiting on them.
        stream.end();
        stream.cancel();
      },
    };
    const fail = (err: Error) => {
      if (stopped) return;
      handle.stop();
      if (created) callbacks.onError?.(err);
      else reject(err);
    };
    stream.on('data', (res: IWatchResponse) => {
      if (stopped) return;
      if (res.canceled) {
        // etcd keeps the state at the compacted revision: a watch from the one before it still replays everything after.
        const compacted = Number(res.compact_revision);
        fail(compacted > 0 ? new RevisionCompactedError(fromRevision, compacted - 1) : new Error(`etcd canceled the watch on ${prefix}: ${res.cancel_reason || 'no reason given'}`));
        return;
      }
      if (res.created && !created) {
        // etcd creates a watch from a compacted revision, then cancels it
        // (naming the compacted revision) when it comes to replay it, up to
        // 100 ms later: a watch that replays history waits for that answer
        // if the history is gone.
        if (fromRevision + 1 > Number(res.header.revision)) {
          created = true;
          resolve(handle);
        } else {
          historyKept(fromRevision + 1).then((kept) => {
            if (stopped) return;
            if (kept) {
              created = true;
              resolve(handle);
              return;
            }
            // The cancel naming the compacted revision is on its way, unless
            // the compaction came just after etcd had replayed what it had.
            setTimeout(() => fail(new Error(`etcd compacted revision ${fromRevision + 1} while the watch on ${prefix} was being created`)), UNSYNCED_WATCH_MS).unref();
          }, fail);
        }
      }
      for (const event of res.events ?? []) {
        if (stopped) return;
        try {
          callbacks.onEvent(toStoreEvent(event, keys));
        } catch (err) {
          // A watcher whose handler fails cannot be trusted to have seen the event (as in watchers.ts).
          fail(err as Error);
          return;
        }
      }
    });
    stream.on('error', (err: Error) => fail(outage(err)));
    stream.on('end', () => fail(outage(new Error(`the etcd watch on ${prefix} ended`))));
    const request: IWatchRequest = {
      create_request: { ...keys.range(prefix), start_revision: fromRevision + 1, prev_kv: true },
    };
    stream.write(request);
  });
}

function toStoreEvent(event: IEvent, keys: EtcdKeys): StoreEvent {
  const key = keys.unwrap(event.kv.key);
  const revision = Number(event.kv.mod_revision);
  const prev = event.prev_kv;
  if (event.type === 'Delete') {
    // prev_kv is missing only if the value deleted was already compacted away.
    const value = prev ? prev.value.toString('utf8') : '';
    return { type: 'delete', key, value, prevValue: value, revision, createRevision: prev ? Number(prev.create_revision) : 0 };
  }
  const value = event.kv.value.toString('utf8');
  const createRevision = Number(event.kv.create_revision);
  if (createRevision === revision) return { type: 'create', key, value, revision, createRevision };
  return { type: 'update', key, value, prevValue: prev?.value.toString('utf8'), revision, createRevision };
}
