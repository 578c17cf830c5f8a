// `kcs down` for a cluster on etcd: its servers may run on other state
// directories, and any of them would start the node containers again, so
// kcs down refuses while any server's API server Lease is unexpired, naming
// them, and goes on once every one has stopped (a stopped server deletes
// its Lease).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { oneLine, runKcs, spawnKcs } from './helpers.ts';

const etcd = sharedEtcd();
const LISTENING = /kcs control plane listening on (https?:\/\/\S+)/;

etcdTest('kcs down refuses while any server of the cluster runs, naming each, and goes on once all have stopped', async (t) => {
  t.timeout(120_000);
  // An etcd of this file's own: no other cluster's Leases in it.
  const store = `etcd://${(await etcd()).endpoint}`;
  const root = mkdtempSync(join(tmpdir(), 'kcs-down-etcd-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dirs = [join(root, 'a'), join(root, 'b')];
  const ups = dirs.map((dir) => spawnKcs(['up', '--port', '0', '--state-dir', dir, '--store', store, '--runtime', 'virtual', '--no-dashboard'], { stateDir: dir }));
  t.teardown(async () => { await Promise.all(ups.map((u) => u.stop('SIGKILL'))); });
  const [urlA, urlB] = await Promise.all(ups.map(async (u) => LISTENING.exec(await u.waitForOutput(LISTENING))![1]!));
  const down = () => runKcs(['down', '--state-dir', dirs[0]!], { stateDir: dirs[0]! });

  const both = await down();
  t.is(both.code, 1);
  const said = oneLine(both.stderr);
  t.regex(said, new RegExp(`a kcs up of this cluster is still running on ${store.replace(/\./g, '\\.')}`));
  t.true(said.includes(urlA!) && said.includes(urlB!), said);

  t.is((await ups[0]!.stop('SIGTERM')).code, 0);
  const one = await down();
  t.is(one.code, 1, 'the other server still runs');
  t.true(oneLine(one.stderr).includes(urlB!) && !oneLine(one.stderr).includes(urlA!), one.stderr);

  t.is((await ups[1]!.stop('SIGTERM')).code, 0);
  const none = await down();
  t.is(none.code, 0, none.stderr);
});
