// The etcd3 client (and gRPC under it) is loaded by the first etcd store
// opened, not before: a control plane on the default SQLite store never
// pays for it. Alone in its file, so nothing else in this test process has
// loaded it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { StoreError } from '../../src/store/store.ts';

const require = createRequire(import.meta.url);
const etcd3Loaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/etcd3/'));

test('etcd3 is loaded by the first etcd store, not by a control plane on SQLite', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-lazy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, log: () => {} });
  await cp.close();
  t.false(etcd3Loaded(), 'not loaded for SQLite');
  // Nothing listens on port 1: the open fails, but only after loading the client to try.
  await t.throwsAsync(startControlPlane({ stateDir: dir, store: 'etcd://127.0.0.1:1', host: '127.0.0.1', port: 0, log: () => {} }), { instanceOf: StoreError });
  t.true(etcd3Loaded(), 'loaded to open an etcd store');
});
