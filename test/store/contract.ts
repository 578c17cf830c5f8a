// The Store contract: every backend (SQLite, etcd) must pass this suite
// unchanged. It speaks only the Store interface, and a compaction hook each
// backend provides; backend-specific behaviour (history limits, locking) is
// tested in the backend's own file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext, type Implementation } from 'ava';
import {
  ConflictError, KeyExistsError, KeyNotFoundError, RevisionCompactedError,
  type KeyValue, type Store, type StoreEvent, type StoreEventType, type WatchHandle,
} from '../../src/store/store.ts';
import { eventually } from '../support/eventually.ts';

export type OpenStore = (dir: string) => Promise<Store>;

export interface ContractOptions {
  /** Drops the store's history up to revision, as the backend's own compaction does. */
  compact(store: Store, revision: number): Promise<void>;
  /** Declares each test (default: ava's test); a backend that needs a server declares them its way. */
  define?: (title: string, impl: Implementation<[]>) => void;
}

// ---- helpers ---------------------------------------------------------------------

/** A temp dir per test, and every store opened in it closed at teardown. */
export interface Harness {
  dir: string;
  open(): Promise<Store>;
  close(store: Store): Promise<void>;
}

export function harness(t: ExecutionContext, open: OpenStore): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-store-'));
  const live = new Set<Store>();
  t.teardown(async () => {
    for (const s of live) {
      try { await s.close(); } catch { /* already broken: the test has failed anyway */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    async open() {
      const s = await open(dir);
      live.add(s);
      return s;
    },
    async close(store: Store) {
      live.delete(store);
      await store.close();
    },
  };
}

/** Collects a watch's events; waitFor(n) waits until n have arrived. */
export class Collector {
  readonly events: StoreEvent[] = [];
  readonly errors: Error[] = [];
  /** Set by the test when it stops the watch: events after it are a violation. */
  stoppedAt: number | undefined;
  lateEvents = 0;
  handle: WatchHandle | undefined;
  onEventHook: ((e: StoreEvent) => void) | undefined;

  readonly callbacks = {
    onEvent: (e: StoreEvent) => {
      if (this.stoppedAt !== undefined) this.lateEvents++;
      this.events.push(e);
      this.onEventHook?.(e);
    },
    onError: (err: Error) => { this.errors.push(err); },
  };

  async waitFor(count: number): Promise<void> {
    await eventually(() => `${count} watch events (got ${this.events.length})`, () => this.events.length >= count);
  }

  async waitForErrors(count: number): Promise<void> {
    await eventually(() => `${count} watch errors (got ${this.errors.length})`, () => this.errors.length >= count);
  }

  stop(): void {
    this.stoppedAt = this.events.length;
    this.handle?.stop();
  }
}

export async function watchInto(store: Store, prefix: string, fromRevision: number): Promise<Collector> {
  const c = new Collector();
  c.handle = await store.watch(prefix, fromRevision, c.callbacks);
  return c;
}

/**
 * Proves a collector saw nothing beyond `expected` events: writes a sentinel
 * under the watched prefix and checks it arrives as the very next event.
 */
async function assertNoExtraEvents(t: ExecutionContext, store: Store, c: Collector, expected: number, sentinelKey: string): Promise<void> {
  const s = await store.create(sentinelKey, 'sentinel');
  await c.waitFor(expected + 1);
  t.is(c.events.length, expected + 1, 'no events beyond the expected ones');
  t.is(c.events[expected].key, sentinelKey);
  t.is(c.events[expected].revision, s.modRevision);
}

interface Write {
  type: StoreEventType;
  key: string;
  value: string;
  prevValue?: string;
  revision: number;
  createRevision: number;
}

function expectedEvent(w: Write): StoreEvent {
  const e: StoreEvent = { type: w.type, key: w.key, value: w.value, revision: w.revision, createRevision: w.createRevision };
  if (w.prevValue !== undefined) e.prevValue = w.prevValue;
  return e;
}

/** Events normalised so that an absent prevValue and `prevValue: undefined` compare equal. */
function normalise(events: StoreEvent[]): StoreEvent[] {
  return events.map((e) => {
    const out: StoreEvent = { type: e.type, key: e.key, value: e.value, revision: e.revision, createRevision: e.createRevision };
    if (e.prevValue !== undefined) out.prevValue = e.prevValue;
    return out;
  });
}

/** A small deterministic PRNG (mulberry32) so the mixed workloads are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Tracks what the store should hold and performs writes, recording each as the
 * event a watcher must see. Keys in one concurrent batch are distinct, so the
 * writes never conflict with each other.
 */
class Model {
  readonly state = new Map<string, KeyValue>();
  readonly writes: Write[] = [];
  private readonly store: Store;
  private serial = 0;
  constructor(store: Store) { this.store = store; }

  async create(key: string): Promise<KeyValue> {
    const value = JSON.stringify({ key, n: this.serial++ });
    const kv = await this.store.create(key, value);
    this.state.set(key, kv);
    this.writes.push({ type: 'create', key, value, revision: kv.modRevision, createRevision: kv.createRevision });
    return kv;
  }

  async update(key: string): Promise<KeyValue> {
    const prev = this.state.get(key)!;
    const value = JSON.stringify({ key, n: this.serial++ });
    const kv = await this.store.update(key, value, prev.modRevision);
    this.state.set(key, kv);
    this.writes.push({ type: 'update', key, value, prevValue: prev.value, revision: kv.modRevision, createRevision: prev.createRevision });
    return kv;
  }

  async delete(key: string): Promise<KeyValue> {
    const prev = this.state.get(key)!;
    const kv = await this.store.delete(key, prev.modRevision);
    this.state.delete(key);
    this.writes.push({ type: 'delete', key, value: prev.value, prevValue: prev.value, revision: kv.modRevision, createRevision: prev.createRevision });
    return kv;
  }

  /** One write to `key`: create if absent, else update or (sometimes) delete. */
  async touch(key: string, random: () => number): Promise<KeyValue> {
    if (!this.state.has(key)) return this.create(key);
    return random() < 0.3 ? this.delete(key) : this.update(key);
  }

  /** `total` writes over `keys`, in concurrent batches of 1–20 distinct keys. */
  async mixed(keys: string[], total: number, seed: number): Promise<void> {
    const random = rng(seed);
    let done = 0;
    while (done < total) {
      const size = Math.min(total - done, keys.length, 1 + Math.floor(random() * 20));
      const pool = [...keys];
      const batch: string[] = [];
      while (batch.length < size) batch.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
      await Promise.all(batch.map((k) => this.touch(k, random)));
      done += size;
    }
  }

  expectedEvents(prefix = '', after = -Infinity): StoreEvent[] {
    return [...this.writes]
      .filter((w) => w.key.startsWith(prefix) && w.revision > after)
      .sort((a, b) => a.revision - b.revision)
      .map(expectedEvent);
  }
}

function assertContiguous(t: ExecutionContext, events: StoreEvent[], from: number): void {
  events.forEach((e, i) => {
    if (e.revision !== from + 1 + i) t.fail(`event ${i} has revision ${e.revision}, expected ${from + 1 + i}`);
  });
  t.pass();
}

// ---- the contract ----------------------------------------------------------------

export function storeContract(name: string, open: OpenStore, options: ContractOptions): void {
  const define = options.define ?? ((title: string, impl: Implementation<[]>) => test(title, impl));
  const contractTest = (s: string, impl: Implementation<[]>) => define(`${name}: ${s}`, impl);

  contractTest('get of a missing key is undefined; a fresh store lists nothing', async (t) => {
    const store = await harness(t, open).open();
    t.is(await store.get('/registry/pods/default/nope'), undefined);
    const list = await store.list('/registry/');
    t.deepEqual(list.items, []);
    t.is(list.revision, await store.currentRevision());
  });

  contractTest('create returns createRevision = modRevision = the next global revision', async (t) => {
    const store = await harness(t, open).open();
    const r0 = await store.currentRevision();
    const a = await store.create('/registry/pods/default/a', '{"a":1}');
    t.deepEqual(a, { key: '/registry/pods/default/a', value: '{"a":1}', createRevision: r0 + 1, modRevision: r0 + 1 });
    t.is(await store.currentRevision(), r0 + 1);
    const b = await store.create('/registry/nodes/n1', '{"b":1}');
    t.is(b.createRevision, r0 + 2);
    t.is(b.modRevision, r0 + 2);
    t.is(await store.currentRevision(), r0 + 2);
    t.deepEqual(await store.get('/registry/pods/default/a'), a);
    t.deepEqual(await store.get('/registry/nodes/n1'), b);
  });

  contractTest('values are stored verbatim, never parsed or reformatted', async (t) => {
    const store = await harness(t, open).open();
    const odd = '{ "spaced" :  1,\n\t"unicode": "ü€😀\\u0000", "z": [ ] }';
    const big = JSON.stringify({ data: 'x'.repeat(200_000) });
    await store.create('/registry/a', odd);
    await store.create('/registry/b', big);
    t.is((await store.get('/registry/a'))!.value, odd);
    t.is((await store.get('/registry/b'))!.value, big);
    t.deepEqual((await store.list('/registry/')).items.map((i) => i.value), [odd, big]);
  });

  contractTest('update: modRevision advances by one per write, createRevision stays fixed', async (t) => {
    const store = await harness(t, open).open();
    const key = '/registry/pods/default/a';
    const created = await store.create(key, 'v0');
    await store.create('/registry/pods/default/other', 'x'); // a write to another key moves the global revision
    let prev = await store.get(key);
    for (let i = 1; i <= 5; i++) {
      const before = await store.currentRevision();
      const kv = await store.update(key, `v${i}`, prev!.modRevision);
      t.deepEqual(kv, { key, value: `v${i}`, createRevision: created.createRevision, modRevision: before + 1 });
      t.is(await store.currentRevision(), before + 1);
      t.deepEqual(await store.get(key), kv);
      prev = kv;
    }
    t.is(prev!.modRevision, created.modRevision + 6);
  });

  contractTest('list returns only keys under the prefix, sorted, with the revision it was read at', async (t) => {
    const store = await harness(t, open).open();
    const keys = [
      '/registry/pods/default/c',
      '/registry/pods/defaultx/a',
      '/registry/pods/default/a',
      '/registry/nodes/n2',
      '/registry/pods/default/b-1',
      '/registry/pods/default',
      '/registry/pods/default/b',
      '/registry/pods/default/b.1',
      '/registry/pods/default/B',
      '/registry/nodes/n1',
      '/registry/pods/kube-system/a',
      '/registry/podsx/default/a',
      '/other/pods/default/a',
    ];
    for (const k of keys) await store.create(k, `value of ${k}`);
    const rev = await store.currentRevision();

    const ofPrefix = async (prefix: string) => {
      const list = await store.list(prefix);
      t.is(list.revision, rev, `list(${prefix}).revision`);
      for (const item of list.items) {
        t.is(item.value, `value of ${item.key}`);
        t.is(item.modRevision, item.createRevision);
      }
      return list.items.map((i) => i.key);
    };

    t.deepEqual(await ofPrefix('/registry/pods/default/'), [
      '/registry/pods/default/B',
      '/registry/pods/default/a',
      '/registry/pods/default/b',
      '/registry/pods/default/b-1',
      '/registry/pods/default/b.1',
      '/registry/pods/default/c',
    ]);
    t.deepEqual(await ofPrefix('/registry/pods/defaultx/'), ['/registry/pods/defaultx/a']);
    t.deepEqual(await ofPrefix('/registry/nodes/'), ['/registry/nodes/n1', '/registry/nodes/n2']);
    t.deepEqual(await ofPrefix('/registry/pods/'), [
      '/registry/pods/default',
      '/registry/pods/default/B',
      '/registry/pods/default/a',
      '/registry/pods/default/b',
      '/registry/pods/default/b-1',
      '/registry/pods/default/b.1',
      '/registry/pods/default/c',
      '/registry/pods/defaultx/a',
      '/registry/pods/kube-system/a',
    ]);
    // A prefix is a plain string prefix, as in etcd.
    t.deepEqual(await ofPrefix('/registry/pods/default'), [
      '/registry/pods/default',
      '/registry/pods/default/B',
      '/registry/pods/default/a',
      '/registry/pods/default/b',
      '/registry/pods/default/b-1',
      '/registry/pods/default/b.1',
      '/registry/pods/default/c',
      '/registry/pods/defaultx/a',
    ]);
    t.deepEqual(await ofPrefix('/registry/services/'), []);
    t.deepEqual(await ofPrefix('/registry/'), keys.filter((k) => k.startsWith('/registry/')).sort());

    // The list revision follows later writes, and deleted keys leave the list.
    await store.delete('/registry/nodes/n1');
    const after = await store.list('/registry/nodes/');
    t.deepEqual(after.items.map((i) => i.key), ['/registry/nodes/n2']);
    t.is(after.revision, rev + 1);
  });

  contractTest('create on an existing key throws KeyExistsError and changes nothing', async (t) => {
    const store = await harness(t, open).open();
    const kv = await store.create('/registry/a', 'first');
    const rev = await store.currentRevision();
    const err = await t.throwsAsync(store.create('/registry/a', 'second'), { instanceOf: KeyExistsError });
    t.is(err!.key, '/registry/a');
    t.deepEqual(await store.get('/registry/a'), kv);
    t.is(await store.currentRevision(), rev, 'a failed write does not consume a revision');
  });

  contractTest('update with a stale modRevision throws ConflictError and leaves the value', async (t) => {
    const store = await harness(t, open).open();
    const v1 = await store.create('/registry/a', 'v1');
    const v2 = await store.update('/registry/a', 'v2', v1.modRevision);
    const rev = await store.currentRevision();
    const err = await t.throwsAsync(store.update('/registry/a', 'stale', v1.modRevision), { instanceOf: ConflictError });
    t.is(err!.key, '/registry/a');
    t.is(err!.actualModRevision, v2.modRevision);
    // An expected revision in the future is just as wrong.
    await t.throwsAsync(store.update('/registry/a', 'future', v2.modRevision + 100), { instanceOf: ConflictError });
    t.deepEqual(await store.get('/registry/a'), v2);
    t.is(await store.currentRevision(), rev);
  });

  contractTest('update and delete of a missing key throw KeyNotFoundError', async (t) => {
    const store = await harness(t, open).open();
    await store.create('/registry/present', 'x');
    const rev = await store.currentRevision();
    const u = await t.throwsAsync(store.update('/registry/missing', 'v', 1), { instanceOf: KeyNotFoundError });
    t.is(u!.key, '/registry/missing');
    const d = await t.throwsAsync(store.delete('/registry/missing'), { instanceOf: KeyNotFoundError });
    t.is(d!.key, '/registry/missing');
    await t.throwsAsync(store.delete('/registry/missing', 1), { instanceOf: KeyNotFoundError });
    t.is(await store.get('/registry/missing'), undefined);
    t.is(await store.currentRevision(), rev);
  });

  contractTest('delete returns the deleted value, takes one revision, and removes the key', async (t) => {
    const store = await harness(t, open).open();
    const a = await store.create('/registry/a', 'v1');
    const a2 = await store.update('/registry/a', 'v2', a.modRevision);
    const rev = await store.currentRevision();
    const deleted = await store.delete('/registry/a');
    t.is(deleted.key, '/registry/a');
    t.is(deleted.value, 'v2');
    t.is(deleted.createRevision, a.createRevision);
    t.is(deleted.modRevision, rev + 1, 'the delete is a write at the next revision');
    t.is(await store.currentRevision(), rev + 1);
    t.is(await store.get('/registry/a'), undefined);
    t.deepEqual((await store.list('/registry/')).items, []);
    await t.throwsAsync(store.update('/registry/a', 'v3', a2.modRevision), { instanceOf: KeyNotFoundError });

    // Re-creating the key starts a new life: a new createRevision.
    const again = await store.create('/registry/a', 'reborn');
    t.is(again.createRevision, rev + 2);
    t.is(again.modRevision, rev + 2);
  });

  contractTest('delete with an expected revision: mismatch is ConflictError, match deletes', async (t) => {
    const store = await harness(t, open).open();
    const v1 = await store.create('/registry/a', 'v1');
    const v2 = await store.update('/registry/a', 'v2', v1.modRevision);
    const rev = await store.currentRevision();
    const err = await t.throwsAsync(store.delete('/registry/a', v1.modRevision), { instanceOf: ConflictError });
    t.is(err!.actualModRevision, v2.modRevision);
    t.deepEqual(await store.get('/registry/a'), v2);
    t.is(await store.currentRevision(), rev);
    const deleted = await store.delete('/registry/a', v2.modRevision);
    t.is(deleted.value, 'v2');
    t.is(await store.get('/registry/a'), undefined);
  });

  // A txn's ops take one revision each (SQLite) or all one revision (etcd, which commits a Txn at one revision):
  // either way their revisions never decrease in op order, and the next write comes after all of them.
  contractTest('txn applies every op at once, in order; watchers see its ops in that order, before any later write', async (t) => {
    const store = await harness(t, open).open();
    const a = await store.create('/registry/a', 'a1');
    const b = await store.create('/registry/b', 'b1');
    const rev = await store.currentRevision();
    const seen: StoreEvent[] = [];
    const w = await store.watch('/registry/', rev, { onEvent: (e) => seen.push(e) });
    t.teardown(() => w.stop());
    const out = await store.txn([
      { type: 'update', key: '/registry/a', value: 'a2', expectedModRevision: a.modRevision },
      { type: 'create', key: '/registry/c', value: 'c1' },
      { type: 'delete', key: '/registry/b', expectedModRevision: b.modRevision },
    ]);
    const [ra, rc, rb] = out.map((kv) => kv.modRevision);
    t.deepEqual(out.map((kv) => kv.key), ['/registry/a', '/registry/c', '/registry/b']);
    t.true(rev < ra && ra <= rc && rc <= rb, `revisions ${ra}, ${rc}, ${rb} after ${rev}`);
    t.true(rb - rev <= 3, 'at most one revision per op');
    t.deepEqual(out, [
      { key: '/registry/a', value: 'a2', createRevision: a.createRevision, modRevision: ra },
      { key: '/registry/c', value: 'c1', createRevision: rc, modRevision: rc },
      { key: '/registry/b', value: 'b1', createRevision: b.createRevision, modRevision: rb },
    ]);
    t.is(await store.currentRevision(), rb);
    t.deepEqual(await store.get('/registry/a'), out[0]);
    t.deepEqual(await store.get('/registry/c'), out[1]);
    t.is(await store.get('/registry/b'), undefined);
    const later = await store.create('/registry/d', 'd1');
    t.is(later.modRevision, rb + 1);
    await eventually('the txn events and the later write', async () => seen.length === 4);
    t.deepEqual(seen.map((e) => [e.type, e.key, e.revision]), [
      ['update', '/registry/a', ra], ['create', '/registry/c', rc], ['delete', '/registry/b', rb], ['create', '/registry/d', later.modRevision],
    ]);
    t.deepEqual(await store.txn([]), []);
    t.is(await store.currentRevision(), later.modRevision, 'an empty txn writes nothing');
  });

  contractTest('txn with one failing compare writes nothing and throws that failure', async (t) => {
    const store = await harness(t, open).open();
    const a = await store.create('/registry/a', 'a1');
    const b = await store.create('/registry/b', 'b1');
    await store.update('/registry/b', 'b2', b.modRevision);
    const rev = await store.currentRevision();
    const err = await t.throwsAsync(store.txn([
      { type: 'update', key: '/registry/a', value: 'a2', expectedModRevision: a.modRevision },
      { type: 'create', key: '/registry/new', value: 'n' },
      { type: 'update', key: '/registry/b', value: 'stale', expectedModRevision: b.modRevision },
    ]), { instanceOf: ConflictError });
    t.is(err!.key, '/registry/b');
    await t.throwsAsync(store.txn([{ type: 'create', key: '/registry/x', value: 'x' }, { type: 'create', key: '/registry/a', value: 'dup' }]), { instanceOf: KeyExistsError });
    await t.throwsAsync(store.txn([{ type: 'delete', key: '/registry/missing' }]), { instanceOf: KeyNotFoundError });
    t.is(await store.currentRevision(), rev, 'no revision consumed');
    t.is((await store.get('/registry/a'))!.value, 'a1');
    t.is((await store.get('/registry/b'))!.value, 'b2');
    t.is(await store.get('/registry/new'), undefined);
    t.is(await store.get('/registry/x'), undefined);
  });

  contractTest('transactions sent together stand alone: one that fails writes nothing, the others commit, never interleaved', async (t) => {
    const store = await harness(t, open).open();
    const a = await store.create('/registry/a', 'a1');
    await store.create('/registry/zero', '0');
    const start = await store.currentRevision();
    const c = await watchInto(store, '/registry/', start);
    // Sent in one turn: a backend may write them in one group, or (over a network) in any order, but each is
    // its own transaction. None depends on another's outcome, so every order ends the same.
    const results = await Promise.allSettled([
      store.create('/registry/one', '1'),
      store.txn([{ type: 'create', key: '/registry/two', value: '2' }, { type: 'update', key: '/registry/a', value: 'stale', expectedModRevision: a.modRevision - 1 }]),
      store.update('/registry/a', 'a2', a.modRevision),
      store.create('/registry/a', 'again'),
      store.txn([{ type: 'create', key: '/registry/three', value: '3' }, { type: 'delete', key: '/registry/zero' }]),
    ]);
    t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    t.true((results[1] as PromiseRejectedResult).reason instanceof ConflictError);
    t.true((results[3] as PromiseRejectedResult).reason instanceof KeyExistsError);
    t.is(await store.get('/registry/two'), undefined);
    t.is((await store.get('/registry/a'))!.value, 'a2');
    t.is((await store.get('/registry/one'))!.value, '1');
    t.is(await store.get('/registry/zero'), undefined);
    t.is((await store.get('/registry/three'))!.value, '3');
    await eventually('4 events', () => c.events.length === 4);
    const written = results.flatMap((r) => (r.status === 'fulfilled' ? [([] as KeyValue[]).concat(r.value)] : []));
    // Each transaction's events are adjacent, in op order, at the revisions it returned; a later transaction's come after.
    const at = (key: string) => c.events.findIndex((e) => e.key === key);
    t.is(at('/registry/zero'), at('/registry/three') + 1, 'the txn\'s two events are adjacent, in op order');
    t.deepEqual(c.events.map((e) => `${e.type} ${e.key}`).sort(), ['create /registry/one', 'create /registry/three', 'delete /registry/zero', 'update /registry/a']);
    for (const kvs of written) {
      for (const kv of kvs) t.is(c.events.find((e) => e.key === kv.key)!.revision, kv.modRevision);
    }
    for (let i = 1; i < c.events.length; i++) {
      const sameTxn = c.events[i].key === '/registry/zero';
      const [before, after] = [c.events[i - 1].revision, c.events[i].revision];
      t.true(sameTxn ? after >= before : after > before, `event ${i}: revision ${after} after ${before}`);
    }
    t.is(await store.currentRevision(), c.events[3].revision);
  });

  contractTest('two concurrent updates from the same modRevision: exactly one wins', async (t) => {
    const store = await harness(t, open).open();
    for (let round = 0; round < 20; round++) {
      const key = `/registry/race/${round}`;
      const base = await store.create(key, 'base');
      const [a, b] = await Promise.allSettled([
        store.update(key, 'from-a', base.modRevision),
        store.update(key, 'from-b', base.modRevision),
      ]);
      const won = [a, b].filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<KeyValue>[];
      const lost = [a, b].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      t.is(won.length, 1, `round ${round}: one winner`);
      t.is(lost.length, 1, `round ${round}: one loser`);
      t.true(lost[0].reason instanceof ConflictError, `round ${round}: loser got ${lost[0].reason}`);
      t.is((lost[0].reason as ConflictError).actualModRevision, won[0].value.modRevision);
      t.is(won[0].value.modRevision, base.modRevision + 1);
      t.deepEqual(await store.get(key), won[0].value);
    }
    // Same for concurrent deletes and a delete racing an update.
    const k = await store.create('/registry/race/del', 'x');
    const settled = await Promise.allSettled([
      store.delete('/registry/race/del', k.modRevision),
      store.update('/registry/race/del', 'y', k.modRevision),
      store.delete('/registry/race/del', k.modRevision),
    ]);
    t.is(settled.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of settled) {
      if (r.status === 'rejected') t.true(r.reason instanceof ConflictError || r.reason instanceof KeyNotFoundError, String(r.reason));
    }
  });

  contractTest('concurrent CAS increments: 10 workers x 50 increments end at exactly 500', async (t) => {
    const store = await harness(t, open).open();
    const key = '/registry/counter';
    await store.create(key, '0');
    const rev0 = await store.currentRevision();
    let conflicts = 0;
    const worker = async () => {
      for (let i = 0; i < 50; i++) {
        for (;;) {
          const kv = (await store.get(key))!;
          try {
            await store.update(key, String(Number(kv.value) + 1), kv.modRevision);
            break;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            conflicts++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    const final = (await store.get(key))!;
    t.is(final.value, '500');
    t.is(final.modRevision, rev0 + 500, 'each successful increment is one revision; conflicts take none');
    t.is(await store.currentRevision(), rev0 + 500);
    t.log(`${conflicts} conflicts retried`);
  });

  contractTest('watch sees 1,000 mixed writes in order, no gaps, no duplicates', async (t) => {
    const store = await harness(t, open).open();
    const prefix = '/registry/pods/';
    const keys = Array.from({ length: 40 }, (_, i) => `${prefix}ns${i % 3}/p${i}`);
    const start = await store.currentRevision();
    const c = await watchInto(store, prefix, start);
    const model = new Model(store);
    await model.mixed(keys, 1000, 1);
    t.is(model.writes.length, 1000);
    t.true(model.writes.some((w) => w.type === 'create') && model.writes.some((w) => w.type === 'update') && model.writes.some((w) => w.type === 'delete'));

    await c.waitFor(1000);
    assertContiguous(t, c.events, start);
    const expected = model.expectedEvents();
    // The writes' own revisions are contiguous too: every write took exactly one.
    t.deepEqual(expected.map((e) => e.revision), Array.from({ length: 1000 }, (_, i) => start + 1 + i));
    t.deepEqual(normalise(c.events), expected);
    t.deepEqual(c.errors, []);
    await assertNoExtraEvents(t, store, c, 1000, `${prefix}sentinel`);

    // The final state agrees with the model.
    const list = await store.list(prefix);
    t.deepEqual(list.items.filter((i) => !i.key.endsWith('sentinel')), [...model.state.values()].sort((a, b) => (a.key < b.key ? -1 : 1)));
  });

  contractTest('create, update and delete events carry the right type, values and prevValue', async (t) => {
    const store = await harness(t, open).open();
    const c = await watchInto(store, '/registry/', await store.currentRevision());
    const created = await store.create('/registry/a', 'one');
    const updated = await store.update('/registry/a', 'two', created.modRevision);
    const deleted = await store.delete('/registry/a');
    await c.waitFor(3);
    t.deepEqual(normalise(c.events), [
      { type: 'create', key: '/registry/a', value: 'one', revision: created.modRevision, createRevision: created.createRevision },
      { type: 'update', key: '/registry/a', value: 'two', prevValue: 'one', revision: updated.modRevision, createRevision: created.createRevision },
      { type: 'delete', key: '/registry/a', value: 'two', prevValue: 'two', revision: deleted.modRevision, createRevision: created.createRevision },
    ]);
    t.is(c.events[0].prevValue, undefined, 'a create has no prevValue');
  });

  contractTest('watch from an older revision replays history, then continues live', async (t) => {
    const store = await harness(t, open).open();
    const prefix = '/registry/pods/';
    const model = new Model(store);
    const keys = Array.from({ length: 10 }, (_, i) => `${prefix}default/p${i}`);
    await model.mixed(keys, 50, 2); // history from before the watch's start revision: not delivered
    const from = await store.currentRevision();
    const random = rng(3);

    let collector: Promise<Collector> | undefined;
    let writtenWhenWatchStarted = -1;
    for (let i = 0; i < 300; i++) {
      if (i >= 150 && collector === undefined) {
        // Start the watch mid-stream, without waiting for it: writes keep landing
        // while it replays the 150 writes that are already history.
        writtenWhenWatchStarted = i;
        collector = watchInto(store, prefix, from);
      }
      const key = keys[Math.floor(random() * keys.length)];
      if (i % 7 === 0) {
        // A few concurrent pairs on distinct keys.
        const other = keys.find((k) => k !== key)!;
        await Promise.all([model.touch(key, random), model.touch(other, random)]);
        i++;
      } else {
        await model.touch(key, random);
      }
      if (i % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    const c = await collector!;
    const expected = model.expectedEvents(prefix, from);
    t.true(writtenWhenWatchStarted > 0 && expected.length >= 300);
    await c.waitFor(expected.length);
    assertContiguous(t, c.events, from);
    t.deepEqual(normalise(c.events), expected);
    await assertNoExtraEvents(t, store, c, expected.length, `${prefix}sentinel`);

    // A second watch from the same revision after the stream has ended: pure replay.
    const replay = await watchInto(store, prefix, from);
    await replay.waitFor(expected.length + 1);
    t.deepEqual(normalise(replay.events.slice(0, expected.length)), expected);
    t.is(replay.events[expected.length].key, `${prefix}sentinel`);
  });

  contractTest('watch from a revision delivers only events after it', async (t) => {
    const store = await harness(t, open).open();
    const a = await store.create('/registry/a', '1');
    const b = await store.create('/registry/b', '1');
    const a2 = await store.update('/registry/a', '2', a.modRevision);
    const c = await watchInto(store, '/registry/', b.modRevision);
    await c.waitFor(1);
    t.is(c.events[0].revision, a2.modRevision);
    t.is(c.events[0].type, 'update');
    await assertNoExtraEvents(t, store, c, 1, '/registry/z');
  });

  contractTest('watch from a future revision delivers nothing until writes pass it', async (t) => {
    const store = await harness(t, open).open();
    const now = await store.currentRevision();
    const c = await watchInto(store, '/registry/', now + 3);
    await store.create('/registry/a', '1');
    await store.create('/registry/b', '1');
    await store.create('/registry/c', '1');
    const d = await store.create('/registry/d', '1');
    await c.waitFor(1);
    t.deepEqual(c.events.map((e) => e.revision), [d.modRevision]);
    t.is(d.modRevision, now + 4);
  });

  contractTest('the empty prefix lists and watches every key', async (t) => {
    const store = await harness(t, open).open();
    const start = await store.currentRevision();
    await store.create('/registry/a', '1');
    await store.create('/other/b', '2');
    const all = await store.list('');
    t.deepEqual(all.items.map((i) => i.key), ['/other/b', '/registry/a']);
    const c = await watchInto(store, '', start);
    await c.waitFor(2);
    t.deepEqual(c.events.map((e) => e.key), ['/registry/a', '/other/b']);
  });

  contractTest('a watch sees only its prefix', async (t) => {
    const store = await harness(t, open).open();
    const start = await store.currentRevision();
    const pods = await watchInto(store, '/registry/pods/default/', start);
    const nodes = await watchInto(store, '/registry/nodes/', start);
    const model = new Model(store);
    const keys = [
      '/registry/pods/default/a', '/registry/pods/default/b',
      '/registry/pods/defaultx/a', '/registry/pods/default', '/registry/pods/kube-system/a',
      '/registry/nodes/n1', '/registry/nodes/n2', '/registry/nodesx', '/other/nodes/n1',
    ];
    await model.mixed(keys, 200, 4);
    const podEvents = model.expectedEvents('/registry/pods/default/');
    const nodeEvents = model.expectedEvents('/registry/nodes/');
    t.true(podEvents.length > 10 && nodeEvents.length > 10 && podEvents.length + nodeEvents.length < 200);
    await pods.waitFor(podEvents.length);
    await nodes.waitFor(nodeEvents.length);
    t.deepEqual(normalise(pods.events), podEvents);
    t.deepEqual(normalise(nodes.events), nodeEvents);
    await assertNoExtraEvents(t, store, pods, podEvents.length, '/registry/pods/default/zz');
    await assertNoExtraEvents(t, store, nodes, nodeEvents.length, '/registry/nodes/zz');

    // The same holds for replayed history.
    const replay = await watchInto(store, '/registry/nodes/', start);
    await replay.waitFor(nodeEvents.length + 1);
    t.deepEqual(normalise(replay.events.slice(0, nodeEvents.length)), nodeEvents);
    t.true(replay.events.every((e) => e.key.startsWith('/registry/nodes/')));
  });

  contractTest('stop() ends delivery, even mid-batch, and leaves other watches running', async (t) => {
    const store = await harness(t, open).open();
    const start = await store.currentRevision();
    const stopped = await watchInto(store, '/registry/', start);
    const control = await watchInto(store, '/registry/', start);
    // Stop from inside the handler of the third event, while more are queued.
    stopped.onEventHook = () => { if (stopped.events.length === 3) stopped.stop(); };
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`/registry/k${String(i).padStart(2, '0')}`, 'v')));
    await control.waitFor(50);
    // Later writes, seen by the watch that goes on: a lagging delivery to the
    // stopped one would have come by the time they did.
    for (let i = 0; i < 10; i++) await store.create(`/registry/after${i}`, 'v');
    await control.waitFor(60);
    t.is(stopped.events.length, 3);
    t.is(stopped.lateEvents, 0);
    t.deepEqual(stopped.errors, [], 'stopping is not an error');
    stopped.handle!.stop(); // idempotent
    t.is(control.events.length, 60);
    assertContiguous(t, control.events, start);
  });

  contractTest('compacted history: a watch from before it fails with RevisionCompactedError naming the oldest revision a watch can start from', async (t) => {
    const store = await harness(t, open).open();
    const rev0 = await store.currentRevision();
    let kv = await store.create('/registry/counter', '0');
    for (let i = 1; i < 10; i++) kv = await store.update('/registry/counter', String(i), kv.modRevision);
    const compactAt = rev0 + 6;
    await options.compact(store, compactAt);
    const err = await t.throwsAsync(store.watch('/registry/', rev0 + 1, { onEvent: () => {} }), { instanceOf: RevisionCompactedError });
    t.is(err!.requested, rev0 + 1);
    t.true(err!.compacted >= compactAt - 1 && err!.compacted <= compactAt, `compacted ${err!.compacted}, compacted at ${compactAt}`);
    await t.throwsAsync(store.watch('/registry/', err!.compacted - 1, { onEvent: () => {} }), { instanceOf: RevisionCompactedError });
    // From the revision it names, the rest of the history is replayed, then live writes.
    const c = await watchInto(store, '/registry/', err!.compacted);
    const replayed = kv.modRevision - err!.compacted;
    await c.waitFor(replayed);
    assertContiguous(t, c.events, err!.compacted);
    t.is(c.events.at(-1)!.value, '9');
    await assertNoExtraEvents(t, store, c, replayed, '/registry/sentinel');
    // Compaction drops history, not data.
    t.deepEqual(await store.get('/registry/counter'), kv);
  });

  contractTest('restart: data, revisions and history survive close and reopen', async (t) => {
    const h = harness(t, open);
    let store = await h.open();
    const rev0 = await store.currentRevision();
    const model = new Model(store);
    const keys = Array.from({ length: 8 }, (_, i) => `/registry/pods/default/p${i}`);
    await model.mixed(keys, 120, 5);
    await model.create('/registry/nodes/n1');
    await model.create('/registry/nodes/gone');
    await model.update('/registry/nodes/n1');
    await model.delete('/registry/nodes/gone'); // the last write before close is a delete
    const lastRev = await store.currentRevision();
    t.is(lastRev, rev0 + 124);
    const podsBefore = await store.list('/registry/pods/');
    const nodesBefore = await store.list('/registry/nodes/');
    const n1Before = await store.get('/registry/nodes/n1');
    await h.close(store);

    store = await h.open();
    t.is(await store.currentRevision(), lastRev);
    t.deepEqual(await store.list('/registry/pods/'), podsBefore);
    t.deepEqual(await store.list('/registry/nodes/'), nodesBefore);
    t.deepEqual(await store.get('/registry/nodes/n1'), n1Before);
    t.is(await store.get('/registry/nodes/gone'), undefined);
    for (const kv of model.state.values()) t.deepEqual(await store.get(kv.key), kv);

    // Revisions keep counting from where they were: never reused, even though the
    // newest write was a delete whose revision no live key carries.
    const live = await watchInto(store, '/registry/', lastRev);
    const fresh = await store.create('/registry/nodes/gone', 'again');
    t.is(fresh.createRevision, lastRev + 1);
    t.is(fresh.modRevision, lastRev + 1);
    const upd = await store.update('/registry/nodes/n1', 'post-restart', n1Before!.modRevision);
    t.is(upd.modRevision, lastRev + 2);
    t.is(upd.createRevision, n1Before!.createRevision);
    await live.waitFor(2);
    t.deepEqual(live.events.map((e) => e.revision), [lastRev + 1, lastRev + 2]);

    // A watch from before the restart replays the pre-restart history, then the new writes.
    model.writes.push(
      { type: 'create', key: '/registry/nodes/gone', value: 'again', revision: lastRev + 1, createRevision: lastRev + 1 },
      { type: 'update', key: '/registry/nodes/n1', value: 'post-restart', prevValue: n1Before!.value, revision: lastRev + 2, createRevision: n1Before!.createRevision },
    );
    const replay = await watchInto(store, '/registry/', rev0);
    await replay.waitFor(126);
    assertContiguous(t, replay.events, rev0);
    t.deepEqual(normalise(replay.events), model.expectedEvents('/registry/', rev0));
    await assertNoExtraEvents(t, store, replay, 126, '/registry/sentinel');

    // And a second restart keeps all of it.
    const rev = await store.currentRevision();
    await h.close(store);
    store = await h.open();
    t.is(await store.currentRevision(), rev);
    t.is((await store.get('/registry/nodes/n1'))!.value, 'post-restart');
    const next = await store.create('/registry/third', 'x');
    t.is(next.modRevision, rev + 1);
  });
}
