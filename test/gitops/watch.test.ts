// The directory watcher end to end: chokidar on a real temp directory, a real
// control plane, no manual syncs. Waits poll for the state (eventually).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Client } from '../../src/client/http.ts';
import { GitOpsSync, type SyncReport } from '../../src/gitops/sync.ts';
import { DirectoryWatcher } from '../../src/gitops/watch.ts';
import { SOURCE_ANNOTATION } from '../../src/gitops/plan.ts';
import type { Node } from '../../src/objects/types.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { eventually } from '../support/eventually.ts';
import { cluster, manifestsDir, NODE, nodeYaml, POD, podYaml, type TestCluster } from './helpers.ts';

async function watcher(t: ExecutionContext, client: TestCluster['client'], dir: string, opts: { resyncMs?: number; debounceMs?: number; logs?: string[]; onSynced?: (report: SyncReport) => void } = {}) {
  const sync = new GitOpsSync({ client, dir, log: (l) => opts.logs?.push(l) });
  const w = new DirectoryWatcher({ sync, debounceMs: opts.debounceMs ?? 30, resyncMs: opts.resyncMs ?? 60_000, log: (l) => opts.logs?.push(l), onSynced: opts.onSynced });
  t.teardown(() => w.close());
  await w.start();
  return w;
}

const cpuOf = (o: { spec?: Record<string, unknown> } | undefined) => (o?.spec?.capacity as { cpu?: string } | undefined)?.cpu;

test('the watcher applies what is in the directory at start, then every added, changed and removed file', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  m.write({ 'a.yaml': nodeYaml('a') });
  await watcher(t, c.client, m.dir);
  t.deepEqual(await c.names(NODE), ['a'], 'the first sync is done when start() resolves');

  m.write({ 'b.yaml': podYaml('b') });
  await eventually('pod b created', () => c.get(POD, 'b'));
  m.write({ 'a.yaml': nodeYaml('a', '5') });
  await eventually('node a configured', async () => cpuOf(await c.get(NODE, 'a')) === '5');
  m.remove('b.yaml');
  await eventually('pod b pruned', async () => (await c.get(POD, 'b')) === undefined);
  // Editor droppings and other files are not manifests.
  m.write({ '.a.yaml.swp': 'garbage', 'a.yaml~': 'garbage', 'notes.txt': 'garbage' });
  t.deepEqual(await c.names(NODE), ['a']);
});

test('a burst of 100 files written at once is applied in one sync', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  // What each sync created, in order.
  const created: number[] = [];
  // The default debounce (100 ms), as kcs up --watch and kcs sync --watch use.
  const w = await watcher(t, c.client, m.dir, { debounceMs: 100, onSynced: (r) => created.push(r.results.filter((x) => x.outcome === 'created').length) });
  // Written beside the directory first, then moved in: 100 renames land within milliseconds even on a
  // loaded machine, where 100 writes once took longer than the debounce's longest wait (1 s).
  const staging = mkdtempSync(join(tmpdir(), 'kcs-burst-'));
  t.teardown(() => rmSync(staging, { recursive: true, force: true }));
  const names = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(3, '0')}`);
  for (const n of names) writeFileSync(join(staging, `${n}.yaml`), nodeYaml(n));
  const before = created.length;
  for (const n of names) renameSync(join(staging, `${n}.yaml`), join(m.dir, `${n}.yaml`));
  await eventually('100 nodes', async () => (await c.names(NODE)).length === 100);
  await w.loop.idle();
  const after = created.slice(before);
  t.is(after[0], 100, `one sync applied the whole burst (syncs created ${after.join(', ')})`);
  // A loaded machine may deliver the last file events while that sync runs: one more sync then
  // follows it (a change seen during a sync), and finds nothing left to do.
  t.true(after.length <= 2 && after.slice(1).every((n) => n === 0), `syncs after the burst created ${after.join(', ')}`);
});

test('drift: a managed object deleted or changed out of band is restored on the next resync', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  m.write({ 'a.yaml': `${nodeYaml('a')}---\n${nodeYaml('b')}` });
  await watcher(t, c.client, m.dir, { resyncMs: 300 });
  const a = await c.get(NODE, 'a');
  await c.client.delete(NODE, undefined, 'a');
  await c.client.patch(NODE, undefined, 'b', { spec: { capacity: { cpu: '64' } } });
  const back = await eventually('node a recreated', () => c.get(NODE, 'a'), 5000);
  t.not(back.metadata.uid, a?.metadata.uid);
  await eventually('node b cpu restored', async () => cpuOf(await c.get(NODE, 'b')) === '2', 5000);
});

test('a renamed file keeps its node running: the same machine, no restart', async (t) => {
  const runtime = new VirtualRuntime();
  t.teardown(() => runtime.close());
  const c = await cluster(t, { runtime });
  const m = manifestsDir(t);
  m.write({ 'old.yaml': nodeYaml('n1') });
  await watcher(t, c.client, m.dir);
  const ready = (n: Node | undefined) => n?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && n.status.containerID ? n : undefined;
  const before = await eventually('n1 Ready', async () => ready((await c.get(NODE, 'n1')) as Node | undefined));
  m.rename('old.yaml', 'new.yaml');
  const after = await eventually('n1 re-annotated', async () => {
    const n = (await c.get(NODE, 'n1')) as Node | undefined;
    return n?.metadata.annotations?.[SOURCE_ANNOTATION] === 'new.yaml' ? n : undefined;
  });
  t.is(after.metadata.uid, before.metadata.uid);
  t.is(after.status?.containerID, before.status?.containerID, 'the same machine');
  const machines = await runtime.list();
  t.deepEqual(machines.map((x) => [x.name, x.uid, x.running]), [['n1', before.metadata.uid, true]]);
});

test('the server restarting while files change: the watcher retries and converges when it is back', async (t) => {
  const first = await cluster(t);
  const m = manifestsDir(t);
  m.write({ 'a.yaml': nodeYaml('a'), 'b.yaml': nodeYaml('b') });
  const port = Number(new URL(first.cp.url).port);
  // The watcher's own client: it outlives the first server, as `kcs sync --watch` would.
  const client = new Client({ server: first.cp.url, token: first.cp.adminToken });
  t.teardown(() => client.close());
  const logs: string[] = [];
  const w = await watcher(t, client, m.dir, { resyncMs: 2000, logs });
  t.deepEqual(await first.names(NODE), ['a', 'b']);

  await first.cp.close();
  m.write({ 'a.yaml': nodeYaml('a', '4'), 'c.yaml': nodeYaml('c') });
  m.remove('b.yaml');
  await eventually('a failed sync while the server is down', async () => logs.some((l) => /failed, will retry/.test(l)), 5000);

  const second = await cluster(t, { stateDir: first.stateDir, port });
  await eventually('converged after the restart', async () => {
    const names = await second.names(NODE).catch(() => []);
    return names.join() === 'a,c' && cpuOf(await second.get(NODE, 'a')) === '4';
  }, 10_000);
  await w.close();

  // A one-shot sync after yet another change and restart converges too.
  await second.cp.close();
  m.write({ 'd.yaml': nodeYaml('d') });
  m.remove('c.yaml');
  const third = await cluster(t, { stateDir: first.stateDir });
  const r = await new GitOpsSync({ client: third.client, dir: m.dir }).sync();
  t.deepEqual(r.results.map((x) => `${x.ref} ${x.outcome}`).sort(), ['node/a unchanged', 'node/c pruned', 'node/d created']);
  t.deepEqual(await third.names(NODE), ['a', 'd']);
});
