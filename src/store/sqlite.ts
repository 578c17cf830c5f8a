// The embedded store: one SQLite file (node:sqlite, WAL) holding the current
// key-values and a window of history for watches. This process is the only
// writer (the file is opened with an exclusive lock), so watch events are
// published in-process right after each write commits, in revision order.
// For the same reason the current key-values are also kept in memory, in key
// order (as etcd keeps its index in memory): reads and the compares of
// writes never go to SQLite, which only has to take the writes.
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import sortedBtree from 'sorted-btree';
import {
  ConflictError, KeyExistsError, KeyNotFoundError, prefixEnd, RevisionCompactedError,
  type KeyValue, type ListResult, type Store, type StoreEvent, type TxnOp, type WatchCallbacks, type WatchHandle,
} from './store.ts';
import { WatcherSet } from './watchers.ts';

export interface SqliteStoreOptions {
  /** Events kept for watches that resume from an older revision. */
  historyLimit?: number;
  /** How often the WAL is folded into the database file, in ms (default 100). */
  checkpointIntervalMs?: number;
}

/**
 * Past this many writes since the WAL was last folded in whole, the writer
 * truncates it itself. The checkpointer copies pages while writes go on, so
 * under steady writes it never catches up with the end of the WAL, and the
 * WAL only starts over after a checkpoint that got to its end: without this
 * it grew to 1.7 GB in 8 s of writes.
 */
const CHECKPOINT_AFTER_WRITES = 10_000;

/**
 * The same by size: large values make a large WAL in fewer writes (10,000
 * writes of 1 KiB made a 191 MB WAL), so every this many writes the writer
 * looks at the WAL file, and one past WAL_LIMIT_BYTES is truncated too.
 */
const WAL_CHECK_EVERY_WRITES = 1_000;
const WAL_LIMIT_BYTES = 64 * 2 ** 20;

/**
 * The checkpointer: a second connection, in a worker thread, folding the WAL
 * into the database file on a timer. Copying the pages and the fsyncs that
 * go with it took a fifth of a busy store's main thread, in stalls of up to
 * 200 ms; on another thread they hold up no write. (CommonJS: an eval'd
 * worker is.)
 */
const CHECKPOINTER = `
const { DatabaseSync } = require('node:sqlite');
const { parentPort, workerData } = require('node:worker_threads');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let paused = false;
const timer = setInterval(() => {
  if (paused) return;
  try {
    const r = checkpoint.get();
    parentPort.postMessage({ complete: r.busy === 0 && r.log === r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
}, workerData.intervalMs);
// 'pause' and 'resume': the writer's own truncation needs the WAL to itself (see checkpoint()).
parentPort.on('message', (m) => {
  if (m === 'pause' || m === 'resume') { paused = m === 'pause'; return; }
  clearInterval(timer); db.close(); parentPort.close();
});
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  prev_value TEXT,
  create_rev INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

interface Row { key: string; value: string; create_rev: number; mod_rev: number }
const BTree = sortedBtree.default;
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
interface EventRow { rev: number; type: string; key: string; value: string; prev_value: string | null; create_rev: number }

export class StateLockedError extends Error {
  override name = 'StateLockedError';
}

/** Opens lockPath and takes an exclusive lock on it, held until the connection closes. */
function acquireLock(lockPath: string, storePath: string): DatabaseSync {
  closeSync(openSync(lockPath, 'a', 0o600));
  const lock = new DatabaseSync(lockPath, { timeout: 0 });
  try {
    // In the exclusive locking mode the lock the first write takes is kept.
    lock.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN IMMEDIATE; PRAGMA user_version = 1; COMMIT;');
    return lock;
  } catch (err) {
    lock.close();
    if (/locked|busy/i.test((err as Error).message)) throw new StateLockedError(`the store ${storePath} is in use by another kcs process`);
    throw err;
  }
}

/**
 * Whether a process holds the store at this path open (its lock is taken),
 * checked by taking the lock and letting it go at once. A store never
 * created is not in use.
 */
export function storeInUse(storePath: string): boolean {
  if (!existsSync(storePath)) return false;
  try {
    acquireLock(`${storePath}.lock`, storePath).close();
    return false;
  } catch (err) {
    if (err instanceof StateLockedError) return true;
    throw err;
  }
}

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly watchers = new WatcherSet();
  private readonly historyLimit: number;
  private revision: number;
  private compacted: number;
  private closed = false;
  private writesSinceCheckpoint = 0;
  /** The checkpointer was told to pause while the writer truncates the WAL itself. */
  private checkpointerPaused = false;
  private writesSinceWalCheck = 0;
  /** The WAL passed WAL_LIMIT_BYTES: truncate it at the next chance. */
  private walOversize = false;
  private readonly checkpointTimer: NodeJS.Timeout | undefined;
  private readonly checkpointer: Worker | undefined;
  private checkpointerExited: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly lock: DatabaseSync | undefined;
  private readonly truncate: StatementSync;
  /** Every current key-value, in key order: what the kv table holds. */
  private readonly rows = new BTree<string, Row>(undefined, byKey);
  /** Within a group commit: the rows its transactions changed so far (null: deleted), not yet in rows. */
  private pending = new Map<string, Row | null>();
  /** Within one transaction of a group commit: its changes, merged into pending if it succeeds. */
  private staged = new Map<string, Row | null>();
  /** Transactions waiting for the next group commit. */
  private queue: Array<{ ops: TxnOp[]; resolve: (kvs: KeyValue[]) => void; reject: (err: unknown) => void }> = [];
  private flushScheduled = false;
  private readonly stmt: Record<'all' | 'insert' | 'update' | 'remove' | 'event' | 'history' | 'compact' | 'setMeta' | 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', StatementSync>;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.historyLimit = options.historyLimit ?? 100_000;
    // The store holds everything the cluster knows: only its owner may read
    // it. SQLite gives the WAL files the database file's permissions.
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
    }
    // An exclusive lock, on a lock file beside the store, held while it is
    // open: a second kcs on the same state would break the single-writer
    // watch guarantee, so it must fail to open instead. (The store itself is
    // opened in the normal locking mode, so the checkpointer can open it too.)
    this.lock = path === ':memory:' ? undefined : acquireLock(`${path}.lock`, path);
    try {
      this.db = new DatabaseSync(path, { timeout: 1000 });
      // Checkpoints run on a 100 ms timer, not inside whichever commit fills
      // the WAL: SQLite's automatic ones stalled one write in ~300 for ~6 ms.
      // Measured with bench/api.ts: paced p99 dropped from 12-18 to 11-14 ms.
      // (Once a second was worse: each folded ~2,500 writes in one ~30 ms stall.)
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;');
      this.db.exec(SCHEMA);
      this.stmt = {
        all: this.db.prepare('SELECT key, value, create_rev, mod_rev FROM kv'),
        insert: this.db.prepare('INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
        update: this.db.prepare('UPDATE kv SET value = ?, mod_rev = ? WHERE key = ?'),
        remove: this.db.prepare('DELETE FROM kv WHERE key = ?'),
        event: this.db.prepare('INSERT INTO events (rev, type, key, value, prev_value, create_rev) VALUES (?, ?, ?, ?, ?, ?)'),
        history: this.db.prepare('SELECT rev, type, key, value, prev_value, create_rev FROM events WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev'),
        compact: this.db.prepare('DELETE FROM events WHERE rev <= ?'),
        begin: this.db.prepare('BEGIN'),
        commit: this.db.prepare('COMMIT'),
        rollback: this.db.prepare('ROLLBACK'),
        savepoint: this.db.prepare('SAVEPOINT txn'),
        release: this.db.prepare('RELEASE txn'),
        rollbackTo: this.db.prepare('ROLLBACK TO txn'),
        setMeta: this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      };
      this.truncate = this.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');
      const meta = (name: string) => (this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: number } | undefined)?.value ?? 0;
      const lastEvent = (this.db.prepare('SELECT max(rev) AS rev FROM events').get() as { rev: number | null }).rev ?? 0;
      this.revision = Math.max(lastEvent, meta('revision'));
      this.compacted = meta('compacted');
      for (const row of this.stmt.all.all() as unknown as Row[]) this.rows.set(row.key, { ...row });
      const intervalMs = options.checkpointIntervalMs ?? 100;
      if (path === ':memory:') {
        this.checkpointTimer = setInterval(() => this.checkpoint(), intervalMs);
        this.checkpointTimer.unref();
      } else {
        this.checkpointer = new Worker(CHECKPOINTER, { eval: true, workerData: { path, intervalMs } });
        this.checkpointerExited = new Promise((resolve) => this.checkpointer!.once('exit', resolve));
        this.checkpointer.unref();
        this.checkpointer.on('message', (m: { complete?: boolean; error?: string }) => {
          if (m.error) process.emitWarning(`kcs store checkpoint failed: ${m.error}`);
          else if (m.complete) this.writesSinceCheckpoint = 0; // the next write starts the WAL over
        });
        this.checkpointer.on('error', (err) => process.emitWarning(`kcs store checkpointer stopped: ${err.message}`));
      }
    } catch (err) {
      // Nothing half-open is left behind: the lock especially, or this
      // process could never open the store again.
      void this.checkpointer?.terminate();
      try { (this as unknown as { db?: DatabaseSync }).db?.close(); } catch { /* closing what failed to open */ }
      this.lock?.close();
      if (/locked|busy/i.test((err as Error).message)) throw new StateLockedError(`the store ${path} is in use by another process`);
      throw err;
    }
  }

  /** Folds the WAL into the database file, if anything was written since the last time. */
  private checkpoint(): void {
    if (this.closed || this.writesSinceCheckpoint === 0) return;
    // TRUNCATE: copy what is left (the checkpointer did most of it) and start
    // the WAL over. Busy while the checkpointer is at work: it is paused until
    // a truncation gets through (the next write tries again), since on a busy
    // machine its passes can overlap every attempt and the WAL grew past 170 MB.
    const result = this.truncate.get() as { busy: number };
    if (result.busy === 0) {
      this.writesSinceCheckpoint = 0;
      this.walOversize = false;
      if (this.checkpointerPaused) this.checkpointer?.postMessage('resume');
      this.checkpointerPaused = false;
    } else if (this.checkpointer && !this.checkpointerPaused) {
      this.checkpointerPaused = true;
      this.checkpointer.postMessage('pause');
    }
  }

  private walBytes(): number {
    return this.path === ':memory:' ? 0 : (statSync(`${this.path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  }

    async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const row = this.rows.get(key);
    return row && toKeyValue(row);
  }

  async list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    const items: KeyValue[] = [];
    for (const [key, row] of this.rows.entries(prefix)) {
      if (key >= end) break;
      items.push(toKeyValue(row));
    }
    return { items, revision: this.revision };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return (await this.write([{ type: 'create', key, value }]))[0]!;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return (await this.write([{ type: 'update', key, value, expectedModRevision }]))[0]!;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return (await this.write([{ type: 'delete', key, expectedModRevision }]))[0]!;
  }

  async txn(ops: TxnOp[]): Promise<KeyValue[]> {
    return ops.length ? this.write(ops) : [];
  }

  async watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Promise<WatchHandle> {
    this.assertOpen();
    if (fromRevision < this.compacted) throw new RevisionCompactedError(fromRevision, this.compacted);
    const watcher = this.watchers.add(prefix, fromRevision, callbacks);
    // Replay and registration happen in one synchronous step: no write can
    // land between them, so nothing is skipped or delivered twice.
    if (fromRevision < this.revision) {
      const rows = this.stmt.history.all(fromRevision, prefix, prefixEnd(prefix)) as unknown as EventRow[];
      for (const row of rows) watcher.push(toEvent(row));
    }
    return watcher;
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.flush(); // what was written before close is committed
    clearInterval(this.checkpointTimer);
    if (this.checkpointer) {
      this.checkpointer.ref(); // the process waits for it to stop
      this.checkpointer.postMessage('stop');
      await this.checkpointerExited;
      this.writesSinceCheckpoint = 1; // one last fold, whatever the worker did last
    }
    this.checkpoint();
    this.closed = true;
    this.watchers.failAll(new Error('store closed'));
    this.db.close();
    this.lock?.close();
  }

  /** One op's change to the kv table, at revision rev; throws (and writes nothing) if its compare fails. */
  private apply(op: TxnOp, rev: number): StoreEvent {
    const row = this.current(op.key);
    if (op.type === 'create') {
      if (row) throw new KeyExistsError(op.key);
      this.stmt.insert.run(op.key, op.value, rev, rev);
      this.staged.set(op.key, { key: op.key, value: op.value, create_rev: rev, mod_rev: rev });
      return { type: 'create', key: op.key, value: op.value, revision: rev, createRevision: rev };
    }
    if (!row) throw new KeyNotFoundError(op.key);
    if (op.expectedModRevision !== undefined && row.mod_rev !== op.expectedModRevision) throw new ConflictError(op.key, op.expectedModRevision, row.mod_rev);
    if (op.type === 'update') {
      this.stmt.update.run(op.value, rev, op.key);
      this.staged.set(op.key, { key: op.key, value: op.value, create_rev: row.create_rev, mod_rev: rev });
      return { type: 'update', key: op.key, value: op.value, prevValue: row.value, revision: rev, createRevision: row.create_rev };
    }
    this.stmt.remove.run(op.key);
    this.staged.set(op.key, null);
    return { type: 'delete', key: op.key, value: row.value, prevValue: row.value, revision: rev, createRevision: row.create_rev };
  }

  /** The row at key as the transaction being applied sees it: its own changes, then the group's, then the store's. */
  private current(key: string): Row | undefined {
    const mine = this.staged.get(key);
    if (mine !== undefined) return mine ?? undefined;
    const group = this.pending.get(key);
    if (group !== undefined) return group ?? undefined;
    return this.rows.get(key);
  }

  /**
   * Queues a transaction for the next group commit. Every transaction that
   * arrives within one turn of the event loop (the requests of many clients)
   * is written in one SQLite transaction, each in a savepoint of its own:
   * one that fails a compare is rolled back alone, and the others commit.
   * The commit, not each write, is what costs most, so under load this
   * multiplies the writes a second the store takes.
   */
  private write(ops: TxnOp[]): Promise<KeyValue[]> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes every queued transaction in one SQLite transaction, then publishes their events in order. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const t of batch) t.reject(new Error('store is closed'));
      return;
    }
    const events: StoreEvent[] = [];
    const outcomes: Array<{ events: StoreEvent[] } | { error: unknown }> = [];
    try {
      this.stmt.begin.run();
      for (const t of batch) {
        const mine: StoreEvent[] = [];
        this.stmt.savepoint.run();
        try {
          for (const op of t.ops) {
            const event = this.apply(op, this.revision + events.length + mine.length + 1);
            this.stmt.event.run(event.revision, event.type, event.key, event.value, event.prevValue ?? null, event.createRevision);
            mine.push(event);
          }
          this.stmt.release.run();
          for (const [key, row] of this.staged) this.pending.set(key, row);
          events.push(...mine);
          outcomes.push({ events: mine });
        } catch (err) {
          // This transaction alone is undone; SQLite may have rolled back the whole group (a full disk, an I/O error).
          if (!this.db.isTransaction) throw err;
          this.stmt.rollbackTo.run();
          this.stmt.release.run();
          outcomes.push({ error: err });
        } finally {
          this.staged.clear();
        }
      }
      this.stmt.commit.run();
    } catch (err) {
      try {
        if (this.db.isTransaction) this.stmt.rollback.run();
      } finally {
        this.pending.clear();
        this.staged.clear();
      }
      for (const t of batch) t.reject(err);
      return;
    }
    for (const [key, row] of this.pending) {
      if (row) this.rows.set(key, row);
      else this.rows.delete(key);
    }
    this.pending.clear();
    this.revision += events.length;
    // Published before any housekeeping: the writes are committed, so no
    // failure below may keep them from watchers or fail the caller.
    for (const event of events) this.watchers.publish(event);
    for (const [i, t] of batch.entries()) {
      const outcome = outcomes[i]!;
      if ('error' in outcome) t.reject(outcome.error);
      else t.resolve(outcome.events.map((e) => ({ key: e.key, value: e.value, createRevision: e.createRevision, modRevision: e.revision })));
    }
    try {
      this.writesSinceCheckpoint += events.length;
      this.writesSinceWalCheck += events.length;
      if (this.writesSinceWalCheck >= WAL_CHECK_EVERY_WRITES) {
        this.writesSinceWalCheck = 0;
        this.walOversize ||= this.walBytes() > WAL_LIMIT_BYTES;
      }
      if (this.walOversize || this.writesSinceCheckpoint >= CHECKPOINT_AFTER_WRITES) this.checkpoint();
      if (this.revision - this.compacted > this.historyLimit * 1.1) this.compact();
    } catch (err) {
      process.emitWarning(`kcs store housekeeping failed: ${(err as Error).message}`);
    }
  }

  /** Drops history up to upTo (by default, all but the kept window); watches from before it get RevisionCompactedError. */
  compact(upTo = this.revision - this.historyLimit): void {
    this.assertOpen();
    upTo = Math.min(upTo, this.revision);
    if (upTo <= this.compacted) return;
    this.stmt.begin.run();
    try {
      this.stmt.compact.run(upTo);
      this.stmt.setMeta.run('compacted', upTo);
      // The newest event is never compacted, but record the revision anyway so
      // a restart can never reuse a revision number.
      this.stmt.setMeta.run('revision', this.revision);
      this.stmt.commit.run();
    } catch (err) {
      this.stmt.rollback.run();
      throw err;
    }
    this.compacted = upTo;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

function toKeyValue(row: Row): KeyValue {
  return { key: row.key, value: row.value, createRevision: row.create_rev, modRevision: row.mod_rev };
}

function toEvent(row: EventRow): StoreEvent {
  return {
    type: row.type as StoreEvent['type'], key: row.key, value: row.value,
    prevValue: row.prev_value ?? undefined, revision: row.rev, createRevision: row.create_rev,
  };
}
