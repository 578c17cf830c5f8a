// The Store on etcd (v3 API, through the etcd3 client): what lets several
// API servers share one cluster state. etcd already has the Store's model:
// its revision is the global one, a key's create and mod revisions are ours,
// and each write is one Txn whose compares are the Store's preconditions.
// One difference shows through: etcd commits a whole Txn at one revision, so
// the ops of a multi-op txn share a modRevision (see Store.txn).
// The client is loaded on first open: it is heavy, and SQLite is the default.
import type { Etcd3, ICompare, IKeyValue, IRequestOp, IResponseOp, ITxnResponse } from 'etcd3';
import { watchEtcd, type EtcdKeys } from './etcd-watch.ts';
import {
  ConflictError, KeyExistsError, KeyNotFoundError, StoreError, StoreUnavailableError,
  type KeyValue, type ListResult, type Store, type TxnOp, type WatchCallbacks, type WatchHandle,
} from './store.ts';

/**
 * The etcd limits kcs's writes need: a commit holds up to 1,024 bindings
 * with their events and the nodes' ledgers (about 2,100 operations), and a
 * node's ledger of 110 pods is tens of KiB. etcd's defaults are 128
 * operations and 1.5 MiB per request.
 */
export const ETCD_LIMIT_FLAGS = ['--max-txn-ops=4096', '--max-request-bytes=33554432'];

/**
 * How long one etcd call may take: past it the call fails (and the API
 * answers 503) instead of holding the request while etcd is away. A call
 * is sent again only to another member when none could be reached (see
 * resent); a member whose connection keeps failing is passed over for a
 * second at a time.
 */
export const CALL_DEADLINE_MS = 5_000;

/**
 * A call queued on a connection that was closed before it could start. The
 * etcd3 client closes every connection to a member when a stream on it
 * fails or a call fails unavailable (this failure included), and calls
 * still waiting for a new connection fail so: over TLS, whose handshake
 * keeps them waiting longer, often. Nothing reached etcd, so the call is
 * sent again whatever it was, after a pause growing by 20 ms a try, up to
 * UNSENT_RETRIES times; such failures do not count against the member in
 * its circuit breaker.
 */
function neverStarted(err: unknown): boolean {
  return /Channel closed before call started/.test((err as Error)?.message ?? '');
}
const UNSENT_RETRIES = 10;
/**
 * The list of every key (the object cache's load: 150,000 pods and more at
 * scale) may take longer to send; lists that answer a request keep the
 * call deadline, so a hung etcd is still a 503 within it.
 */
export const WHOLE_LIST_DEADLINE_MS = 30_000;

/**
 * etcd did not answer (down, unreachable, too slow): the call's outcome is
 * unknown. A write may still have been applied whole (a Txn is atomic, never
 * half), as with Kubernetes' API server on etcd; a client reads again.
 */
/** The Store's own errors pass through; any other is etcd failing to answer. */
function unavailable(endpoints: string, err: unknown): Error {
  if (err instanceof StoreError) return err;
  return new StoreUnavailableError(`the store (etcd at ${endpoints}) is unavailable: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export interface EtcdStoreOptions {
  /** Client URLs (http://host:port) or host:port pairs of the etcd members. */
  endpoints: string[];
  /**
   * Prepended to every key, so one etcd can hold several clusters
   * (Kubernetes' --etcd-prefix). No cluster's prefix may start with
   * another's: that one's lists and watches of every key would see it.
   */
  keyPrefix?: string;
  /**
   * Revisions of history kept for watches that resume from an older one
   * (default 100,000, as the SQLite store keeps): past it, this store has
   * etcd compact the older history, as Kubernetes' API server does, or it
   * would grow until etcd refuses writes.
   */
  historyLimit?: number;
  /** Talk to etcd over TLS (https), trusting this CA, with a client certificate if etcd checks them. */
  tls?: EtcdTls;
}

/** What kube-apiserver's --etcd-cafile, --etcd-certfile and --etcd-keyfile name: PEM text. */
export interface EtcdTls {
  ca: string;
  cert?: string;
  key?: string;
}

/** The endpoints of an `etcd://host:port[,host:port...]` store URL; undefined for anything else. */
export function etcdEndpointsOf(storeUrl: string): string[] | undefined {
  const match = /^etcd:\/\/(.*)$/.exec(storeUrl);
  if (!match) return undefined;
  const endpoints = match[1]!.split(',').map((e) => e.trim().replace(/\/+$/, '')).filter(Boolean);
  for (const e of endpoints) {
    if (!/^[^\s/:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(e)) throw new StoreError(`${e} in ${storeUrl} is not host:port`);
  }
  if (!endpoints.length) throw new StoreError(`${storeUrl} names no etcd endpoint`);
  return endpoints;
}

/** When a call is sent again: its error says no member could be reached, up to attempts sends. */
interface Resending {
  unreachable: (err: unknown) => boolean;
  attempts: number;
}

export class EtcdStore implements Store {
  /** Several API servers share one etcd. */
  readonly shared = true;
  private readonly resending: Resending;
  private readonly client: Etcd3;
  private readonly prefix: Buffer;
  private readonly keys: EtcdKeys;
  /** A key no store key is (store keys are paths): reading it costs nothing, and the answer carries the revision. */
  private readonly probeKey: Buffer;
  private readonly watches = new Set<{ handle: WatchHandle; callbacks: WatchCallbacks }>();
  private closed = false;
  private readonly historyLimit: number;
  /** The revision this store last had etcd compact to (0: none yet). */
  private compactedTo = 0;
  /** The endpoints, for the message of an outage. */
  private readonly endpoints: string;
  /** Rethrows a failed call's error as the Store's: its own, or StoreUnavailableError. */
  private readonly fail = (err: unknown): never => { throw unavailable(this.endpoints, err); };

  private constructor(client: Etcd3, endpoints: string, keyPrefix: string, historyLimit: number, resending: Resending) {
    this.client = client;
    this.resending = resending;
    this.endpoints = endpoints;
    this.historyLimit = historyLimit;
    this.prefix = Buffer.from(keyPrefix);
    this.probeKey = Buffer.concat([this.prefix, Buffer.from([0])]);
    this.keys = {
      range: (prefix) => {
        const key = this.wrap(prefix);
        // The empty key with range end \0 is etcd's "every key".
        return { key: key.length ? key : Buffer.from([0]), range_end: rangeEnd(key) };
      },
      unwrap: (key) => key.subarray(this.prefix.length).toString('utf8'),
    };
  }

  /** Connects to etcd; fails if no endpoint answers. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const { Etcd3, GRPCUnavailableError } = await import('etcd3');
    const { circuitBreaker, ConsecutiveBreaker, handleWhen, noop } = await import('cockatiel');
    const client = new Etcd3({
      hosts: options.endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `${options.tls ? 'https' : 'http'}://${e}`)),
      ...(options.tls && {
        credentials: {
          rootCertificate: Buffer.from(options.tls.ca),
          ...(options.tls.cert !== undefined && options.tls.key !== undefined && { certChain: Buffer.from(options.tls.cert), privateKey: Buffer.from(options.tls.key) }),
        },
      }),
      // The object cache lists every key at start: no 4 MiB cap on an answer.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      dialTimeout: 5_000,
      // Watches are long-lived streams; every other call has a deadline.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
      faultHandling: {
        // A member is passed over when its connection fails, not when a call
        // outlasts its deadline: a slow moment (a leader election, a loaded
        // machine) would otherwise shut healthy members out for seconds.
        // A call that never started (see neverStarted) says nothing of the member.
        host: () => circuitBreaker(handleWhen((err) => err instanceof GRPCUnavailableError && !neverStarted(err)), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
        // Calls are sent again by the store itself (resent), which knows a write from a read.
        global: noop,
      },
    });
    const unreachable = (err: unknown) => err instanceof GRPCUnavailableError;
    const store = new EtcdStore(client, options.endpoints.join(', '), options.keyPrefix ?? '', options.historyLimit ?? 100_000, { unreachable, attempts: options.endpoints.length + 2 });
    try {
      await store.currentRevision();
    } catch (err) {
      client.close();
      throw new StoreError(`no etcd answers at ${options.endpoints.join(', ')}: ${(err as Error).message}`);
    }
    return store;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const res = await this.resent(() => this.client.kv.range({ key: this.wrap(key) })).catch(this.fail);
    return res.kvs[0] && this.toKeyValue(res.kvs[0]);
  }

  async list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    const deadline = prefix === '' ? WHOLE_LIST_DEADLINE_MS : CALL_DEADLINE_MS;
    const res = await this.resent(() => this.client.kv.range(this.keys.range(prefix), { deadline: Date.now() + deadline })).catch(this.fail);
    return { items: res.kvs.map((kv) => this.toKeyValue(kv)), revision: Number(res.header.revision) };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return (await this.txn([{ type: 'create', key, value }]))[0]!;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return (await this.txn([{ type: 'update', key, value, expectedModRevision }]))[0]!;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return (await this.txn([{ type: 'delete', key, expectedModRevision }]))[0]!;
  }

  /**
   * One etcd Txn: a compare per op; on success the puts and deletes (with
   * the values they replace), on failure a read of every key, to tell which
   * op failed and why.
   */
  async txn(ops: TxnOp[]): Promise<KeyValue[]> {
    this.assertOpen();
    if (!ops.length) return [];
    const seen = new Set<string>();
    for (const op of ops) {
      // etcd refuses a Txn that writes one key twice.
      if (seen.has(op.key)) throw new StoreError(`key ${op.key} is written twice in one transaction`);
      seen.add(op.key);
    }
    let resent = false;
    const res = await this.resent(() => this.client.kv.txn({
      compare: ops.map((op) => this.compareOf(op)),
      success: ops.map((op) => this.requestOf(op)),
      failure: ops.map((op) => ({ request_range: { key: this.wrap(op.key) } })),
    }), () => { resent = true; }).catch((err: Error) => {
      // etcd's defaults (128 operations, 1.5 MiB a request) are below kcs's batched bindings (up to 1,024 pods with their events and nodes' ledgers).
      if (/too many operations in txn request|request is too large/.test(err.message)) {
        throw new StoreError(`etcd refused a transaction of ${ops.length} operations (${err.message}): start etcd with ${ETCD_LIMIT_FLAGS.join(' ')}`);
      }
      return this.fail(err);
    });
    if (!res.succeeded) {
      const applied = resent ? this.appliedAlready(ops, res) : undefined;
      if (applied) return applied;
      throw this.failureOf(ops, res);
    }
    const revision = Number(res.header.revision);
    this.compactBehind(revision);
    return ops.map((op, i) => this.writtenBy(op, res.responses[i]!, revision));
  }

  async watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Promise<WatchHandle> {
    this.assertOpen();
    const entry = { handle: undefined as unknown as WatchHandle, callbacks };
    // A watch is opened again only while it has delivered nothing (it may
    // replay history before it resolves): its owner would see events twice.
    let delivered = false;
    const handle = await this.resent(() => watchEtcd(this.client.watchClient, this.keys, prefix, fromRevision, {
      onEvent: (event) => {
        delivered = true;
        callbacks.onEvent(event);
      },
      onError: (err) => {
        this.watches.delete(entry);
        callbacks.onError?.(err);
      },
    }, (revision) => this.historyKept(revision), (err) => unavailable(this.endpoints, err)), undefined, () => !delivered).catch(this.fail);
    entry.handle = {
      stop: () => {
        this.watches.delete(entry);
        handle.stop();
      },
    };
    this.watches.add(entry);
    return entry.handle;
  }

  /** Whether etcd still has revision: a read at a compacted one fails. */
  private async historyKept(revision: number): Promise<boolean> {
    try {
      await this.resent(() => this.client.kv.range({ key: this.probeKey, revision }));
      return true;
    } catch (err) {
      if (/compacted/.test((err as Error).message)) return false;
      return this.fail(err);
    }
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    const res = await this.resent(() => this.client.kv.range({ key: this.probeKey })).catch(this.fail);
    return Number(res.header.revision);
  }

  /** Drops etcd's history up to revision: watches from before it get RevisionCompactedError. */
  async compact(revision: number): Promise<void> {
    this.assertOpen();
    await this.client.kv.compact({ revision, physical: true }).catch(this.fail);
  }

  /**
   * Past the kept window (by a tenth, so compactions come in steps), has
   * etcd drop the history before it. Every API server on the etcd does the
   * same from the revisions of its own writes: a compaction to a revision
   * another already passed is refused, and that is all.
   */
  private compactBehind(revision: number): void {
    if (revision - this.compactedTo <= this.historyLimit * 1.1) return;
    this.compactedTo = revision - this.historyLimit;
    this.client.kv.compact({ revision: this.compactedTo }).catch((err: Error) => {
      if (!/compacted/.test(err.message) && !this.closed) process.emitWarning(`kcs could not compact etcd to revision ${this.compactedTo}: ${err.message}`);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('store closed');
    for (const w of [...this.watches]) {
      w.handle.stop();
      w.callbacks.onError?.(err);
    }
    this.client.close();
  }

  private compareOf(op: TxnOp): ICompare {
    const key = this.wrap(op.key);
    if (op.type === 'create') return { key, target: 'Create', result: 'Equal', create_revision: 0 };
    if (op.expectedModRevision === undefined) return { key, target: 'Create', result: 'Greater', create_revision: 0 };
    return { key, target: 'Mod', result: 'Equal', mod_revision: op.expectedModRevision };
  }

  private requestOf(op: TxnOp): IRequestOp {
    const key = this.wrap(op.key);
    if (op.type === 'delete') return { request_delete_range: { key, prev_kv: true } };
    return { request_put: { key, value: Buffer.from(op.value, 'utf8'), prev_kv: op.type === 'update' } };
  }

  private writtenBy(op: TxnOp, response: IResponseOp, revision: number): KeyValue {
    if (op.type === 'create') return { key: op.key, value: op.value, createRevision: revision, modRevision: revision };
    const prev = op.type === 'update' ? response.response_put.prev_kv : response.response_delete_range.prev_kvs[0];
    if (!prev) throw new StoreError(`etcd did not return the value ${op.type} replaced at ${op.key}`);
    const value = op.type === 'update' ? op.value : prev.value.toString('utf8');
    return { key: op.key, value, createRevision: Number(prev.create_revision), modRevision: revision };
  }

  /**
   * Sends a call, and again to another member while no member could be
   * reached (a refused or dropped connection; a call past its deadline is
   * not sent again). onResend hears of each new send: a write sent twice
   * may have been applied by the first. A call that never started is sent
   * again whatever it was (see neverStarted). Nothing is sent again once
   * mayResend says no.
   */
  private async resent<T>(send: () => Promise<T>, onResend?: () => void, mayResend: () => boolean = () => true): Promise<T> {
    for (let attempt = 1, unsent = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (this.closed || !mayResend()) throw err;
        // Never sent: always safe to send, after the new connection has had a moment.
        if (neverStarted(err) && ++unsent <= UNSENT_RETRIES) {
          attempt--;
          await new Promise((r) => setTimeout(r, 20 * unsent));
          continue;
        }
        if (!this.resending.unreachable(err) || attempt >= this.resending.attempts) throw err;
        onResend?.();
      }
    }
  }

  /**
   * A Txn sent more than once, refused, whose creates and updates all find
   * their key holding exactly the value they write: the earlier send was
   * applied (the member lost its connection after applying it), so that is
   * the answer, not a conflict with itself. Values of kcs objects carry
   * uids and timestamps: another writer's is not the same text.
   */
  private appliedAlready(ops: TxnOp[], res: ITxnResponse): KeyValue[] | undefined {
    const found: KeyValue[] = [];
    for (const [i, op] of ops.entries()) {
      const current = res.responses[i]?.response_range.kvs[0];
      if (op.type === 'delete' || !current || current.value.toString('utf8') !== op.value) return undefined;
      found.push({ key: op.key, value: op.value, createRevision: Number(current.create_revision), modRevision: Number(current.mod_revision) });
    }
    return found;
  }

  /** The error of the first op whose compare failed, from the keys as the failed Txn read them. */
  private failureOf(ops: TxnOp[], res: ITxnResponse): Error {
    for (const [i, op] of ops.entries()) {
      const current = res.responses[i]?.response_range.kvs[0];
      if (op.type === 'create') {
        if (current) return new KeyExistsError(op.key);
        continue;
      }
      if (!current) return new KeyNotFoundError(op.key);
      const actual = Number(current.mod_revision);
      if (op.expectedModRevision !== undefined && actual !== op.expectedModRevision) return new ConflictError(op.key, op.expectedModRevision, actual);
    }
    return new StoreError('etcd refused the transaction, but every compare holds');
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    return { key: this.keys.unwrap(kv.key), value: kv.value.toString('utf8'), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) };
  }

  private wrap(key: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(key, 'utf8')]);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

/** etcd's range end for every key starting with prefix: the prefix with its last byte below 0xff incremented. */
function rangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] += 1;
      return end;
    }
  }
  return Buffer.from([0]); // no bound: every key from prefix on
}
