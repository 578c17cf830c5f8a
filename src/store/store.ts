// The Store: a key-value store with etcd's revision model. One global revision
// counts every write; each key remembers the revision that created it and the
// one that last modified it. resourceVersion on the wire is modRevision.
// Every backend (SQLite, etcd) passes test/store/contract.ts.

export interface KeyValue {
  key: string;
  /** The object as JSON text; the store never parses it. */
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at: watch from here to miss nothing. */
  revision: number;
}

export type StoreEventType = 'create' | 'update' | 'delete';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  /** The new value; for a delete, the value that was deleted. */
  value: string;
  /** The value before this write (update and delete). */
  prevValue?: string;
  /** The revision of this write. */
  revision: number;
  createRevision: number;
}

export interface WatchHandle {
  stop(): void;
}

export interface WatchCallbacks {
  onEvent(event: StoreEvent): void;
  /** The watch ended from the store's side (closed store, lost connection). */
  onError?(err: Error): void;
}

export interface Store {
  /**
   * Whether other API servers may write this store too (etcd; the SQLite
   * file has one owner): what a server hands out at admission is then
   * claimed in the store, not only in its memory (api/allocation-claims.ts).
   */
  readonly shared?: boolean;
  get(key: string): Promise<KeyValue | undefined>;
  list(prefix: string): Promise<ListResult>;
  /** Throws KeyExistsError if the key exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Compare-and-swap: throws ConflictError unless the key's modRevision is expectedModRevision; KeyNotFoundError if absent. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Deletes, optionally only at expectedModRevision; returns the deleted value. */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Delivers, in revision order and without gaps, every event under prefix
   * with a revision greater than fromRevision, then every later one.
   * Throws RevisionCompactedError when fromRevision is older than the history kept.
   */
  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Promise<WatchHandle>;
  /**
   * Applies every op or none (etcd's Txn with a compare per key): a create
   * fails on an existing key, an update or delete on a modRevision other
   * than the one expected. The first failure is thrown as for the single
   * op, and nothing is written. Ops are applied in order, each at a
   * revision no lower than the one before: SQLite gives each op the next
   * revision, etcd commits the whole txn at one. Either way no other write
   * lands between them, and watchers see them in op order, before any
   * later write. (etcd also refuses a txn that writes one key twice.)
   */
  txn(ops: TxnOp[]): Promise<KeyValue[]>;
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}

export type TxnOp =
  | { type: 'create'; key: string; value: string }
  | { type: 'update'; key: string; value: string; expectedModRevision: number }
  | { type: 'delete'; key: string; expectedModRevision?: number };

export class StoreError extends Error {
  override name = 'StoreError';
}

/** The store did not answer (etcd down or hung): the API says 503 ServiceUnavailable, and nothing was written. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
}

export class KeyExistsError extends StoreError {
  override name = 'KeyExistsError';
  readonly key: string;
  constructor(key: string) {
    super(`key ${key} already exists`);
    this.key = key;
  }
}

export class KeyNotFoundError extends StoreError {
  override name = 'KeyNotFoundError';
  readonly key: string;
  constructor(key: string) {
    super(`key ${key} not found`);
    this.key = key;
  }
}

export class ConflictError extends StoreError {
  override name = 'ConflictError';
  readonly key: string;
  readonly actualModRevision: number;
  constructor(key: string, expected: number, actual: number) {
    super(`key ${key} was modified at revision ${actual}, not ${expected}`);
    this.key = key;
    this.actualModRevision = actual;
  }
}

export class RevisionCompactedError extends StoreError {
  override name = 'RevisionCompactedError';
  readonly requested: number;
  readonly compacted: number;
  constructor(requested: number, compacted: number) {
    super(`revision ${requested} is older than the oldest kept revision ${compacted}`);
    this.requested = requested;
    this.compacted = compacted;
  }
}

/** The smallest key greater than every key that starts with prefix (etcd's range end). */
export function prefixEnd(prefix: string): string {
  // Keys are ASCII paths, so for the empty prefix any non-ASCII bound is above all of them.
  if (prefix === '') return '\uffff';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
