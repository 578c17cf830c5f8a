// A Store whose writes are timed into kcs_store_write_duration_seconds: from
// the call to its commit, which for a group-committing backend includes the
// wait for the group's commit, the latency every writer sees. Reads and
// watches pass straight through. Any backend can be wrapped.
import type { Metrics } from '../util/metrics.ts';
import type { KeyValue, Store } from './store.ts';

export function timeWrites(store: Store, metrics: Metrics): Store {
  const timed = <T extends KeyValue | KeyValue[]>(operation: 'create' | 'update' | 'delete' | 'txn', write: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    return write().finally(() => metrics.storeWrite(operation, (performance.now() - started) / 1000));
  };
  return {
    shared: store.shared,
    get: (key) => store.get(key),
    list: (prefix) => store.list(prefix),
    watch: (prefix, fromRevision, callbacks) => store.watch(prefix, fromRevision, callbacks),
    currentRevision: () => store.currentRevision(),
    close: () => store.close(),
    create: (key, value) => timed('create', () => store.create(key, value)),
    update: (key, value, expected) => timed('update', () => store.update(key, value, expected)),
    delete: (key, expected) => timed('delete', () => store.delete(key, expected)),
    txn: (ops) => timed('txn', () => store.txn(ops)),
  };
}
