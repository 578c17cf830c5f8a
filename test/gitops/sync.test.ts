// GitOps sync end to end: real files in a temp directory, a real control
// plane on a temp state dir, the sync talking HTTP as `kcs sync` does.
import test from 'ava';
import { GitOpsSync, type SyncReport } from '../../src/gitops/sync.ts';
import { MANAGED_BY_LABEL, SOURCE_ANNOTATION, SOURCE_ROOT_ANNOTATION } from '../../src/gitops/plan.ts';
import type { KubeObject } from '../../src/objects/types.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { eventually } from '../support/eventually.ts';
import { cluster, EVENT, manifestsDir, NODE, nodeYaml, POD, podYaml } from './helpers.ts';

const outcomes = (r: SyncReport) => r.results.map((x) => `${x.ref} ${x.outcome}`).sort();
const cpuOf = (o: KubeObject | undefined) => (o?.spec?.capacity as { cpu?: string } | undefined)?.cpu;

test('adding, changing and removing a file creates, configures and prunes its objects', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const sync = new GitOpsSync({ client: c.client, dir: m.dir });
  m.write({ 'nodes.yaml': nodeYaml('n1'), 'pods/web.yaml': podYaml('web') });
  t.deepEqual(outcomes(await sync.sync()), ['node/n1 created', 'pod/web created']);
  const n1 = await c.get(NODE, 'n1');
  t.is(n1?.metadata.labels?.[MANAGED_BY_LABEL], 'gitops');
  t.is(n1?.metadata.annotations?.[SOURCE_ANNOTATION], 'nodes.yaml');
  t.is((await c.get(POD, 'web'))?.metadata.annotations?.[SOURCE_ANNOTATION], 'pods/web.yaml');

  m.write({ 'nodes.yaml': nodeYaml('n1', '8') });
  t.deepEqual(outcomes(await sync.sync()), ['node/n1 configured', 'pod/web unchanged']);
  const changed = await c.get(NODE, 'n1');
  t.is(cpuOf(changed), '8');
  t.is(changed?.metadata.uid, n1?.metadata.uid);

  m.remove('pods/web.yaml');
  t.deepEqual(outcomes(await sync.sync()), ['node/n1 unchanged', 'pod/web pruned']);
  t.is(await c.get(POD, 'web'), undefined);
  t.deepEqual(outcomes(await sync.sync()), ['node/n1 unchanged']);
});

test('a multi-document file losing one document prunes that object only', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const sync = new GitOpsSync({ client: c.client, dir: m.dir });
  m.write({ 'all.yaml': [nodeYaml('a'), nodeYaml('b'), podYaml('p')].join('---\n') });
  await sync.sync();
  t.deepEqual(await c.names(NODE), ['a', 'b']);
  const a = await c.get(NODE, 'a');
  m.write({ 'all.yaml': [nodeYaml('a'), podYaml('p')].join('---\n') });
  t.deepEqual(outcomes(await sync.sync()), ['node/a unchanged', 'node/b pruned', 'pod/p unchanged']);
  t.deepEqual(await c.names(NODE), ['a']);
  t.is((await c.get(NODE, 'a'))?.metadata.resourceVersion, a?.metadata.resourceVersion, 'the other objects were not rewritten');
});

test('a renamed file re-annotates its objects in place: nothing is deleted or recreated', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const sync = new GitOpsSync({ client: c.client, dir: m.dir });
  m.write({ 'old.yaml': `${nodeYaml('n1')}---\n${podYaml('p1')}` });
  await sync.sync();
  const before = [await c.get(NODE, 'n1'), await c.get(POD, 'p1')];
  m.rename('old.yaml', 'sub/new.yaml');
  const report = await sync.sync();
  t.deepEqual(outcomes(report), ['node/n1 configured', 'pod/p1 configured']);
  const after = [await c.get(NODE, 'n1'), await c.get(POD, 'p1')];
  t.deepEqual(after.map((o) => o?.metadata.uid), before.map((o) => o?.metadata.uid), 'same objects (same uid)');
  t.deepEqual(after.map((o) => o?.metadata.annotations?.[SOURCE_ANNOTATION]), ['sub/new.yaml', 'sub/new.yaml']);
});

test('a broken file is reported with file, line and reason (log and Warning event), keeps its objects, and the others still apply; fixed, it applies', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const logs: string[] = [];
  const sync = new GitOpsSync({ client: c.client, dir: m.dir, log: (l) => logs.push(l) });
  m.write({ 'nodes.yaml': `${nodeYaml('a')}---\n${nodeYaml('b')}`, 'other.yaml': nodeYaml('o') });
  await sync.sync();

  // Break nodes.yaml (b's capacity is no quantity; a is also "changed") and change other.yaml.
  m.write({ 'nodes.yaml': `${nodeYaml('a', '4')}---\n${nodeYaml('b', 'many')}`, 'other.yaml': nodeYaml('o', '3') });
  const broken = await sync.sync();
  t.deepEqual(broken.kept, ['nodes.yaml']);
  t.deepEqual(broken.errors.map((e) => [e.file, e.line]), [['nodes.yaml', 16]]);
  t.regex(broken.errors[0].reason, /Node "b" is invalid: spec\.capacity\.cpu/);
  t.is(cpuOf(await c.get(NODE, 'o')), '3', 'the other file applied');
  t.is(cpuOf(await c.get(NODE, 'a')), '2', 'last good a kept: nothing half-applied from the broken file');
  t.deepEqual(await c.names(NODE), ['a', 'b', 'o']);
  t.true(logs.some((l) => l.startsWith('error: nodes.yaml line 16: Node "b" is invalid')), logs.join('\n'));
  const events = (await c.client.list(EVENT, 'default', { fieldSelector: 'involvedObject.kind=ManifestFile,involvedObject.name=nodes.yaml' })).items as Array<KubeObject & { reason: string; type: string; message: string }>;
  t.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'SyncFailed']]);
  t.regex(events[0].message, /^nodes\.yaml line 16: Node "b" is invalid/);

  // Still broken: the last good objects are restored if deleted meanwhile, and the problem is not reported again.
  await c.client.delete(NODE, undefined, 'b');
  const again = await sync.sync();
  t.truthy(again.results.find((r) => r.ref === 'node/b' && r.outcome === 'created'));
  t.is((await c.client.list(EVENT, 'default', { fieldSelector: 'involvedObject.kind=ManifestFile' })).items.length, 1);

  m.write({ 'nodes.yaml': `${nodeYaml('a', '4')}` });
  const fixed = await sync.sync();
  t.deepEqual(fixed.errors, []);
  t.deepEqual(outcomes(fixed), ['node/a configured', 'node/b pruned', 'node/o unchanged']);
  const after = (await c.client.list(EVENT, 'default', { fieldSelector: 'involvedObject.kind=ManifestFile,involvedObject.name=nodes.yaml' })).items as Array<KubeObject & { reason: string }>;
  t.deepEqual(after.map((e) => e.reason).sort(), ['SyncFailed', 'Synced']);
});

test('a file that fails to read on a fresh sync (no memory of it) keeps all its objects: nothing of it is pruned', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  m.write({ 'nodes.yaml': `${nodeYaml('a')}---\n${nodeYaml('b')}` });
  await new GitOpsSync({ client: c.client, dir: m.dir }).sync();
  m.write({ 'nodes.yaml': 'apiVersion: v1\nkind: Node\nmetadata: {name: a\n' });
  const r = await new GitOpsSync({ client: c.client, dir: m.dir }).sync();
  t.deepEqual(r.kept, ['nodes.yaml']);
  t.deepEqual(r.results, []);
  t.deepEqual(await c.names(NODE), ['a', 'b']);
});

test('objects the sync did not create are never pruned, even once declared in the directory', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const sync = new GitOpsSync({ client: c.client, dir: m.dir });
  // Made by kcs apply or anything else, before the sync.
  await c.client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'hand-made' }, spec: { capacity: { cpu: '1' } } });
  await c.client.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'adopted' }, spec: { capacity: { cpu: '1' } } });
  m.write({ 'a.yaml': nodeYaml('adopted', '2') });
  t.deepEqual(outcomes(await sync.sync()), ['node/adopted configured']);
  const adopted = await c.get(NODE, 'adopted');
  t.is(cpuOf(adopted), '2');
  t.is(adopted?.metadata.annotations?.[SOURCE_ANNOTATION], 'a.yaml');
  t.is(adopted?.metadata.labels?.[MANAGED_BY_LABEL], undefined);
  m.remove('a.yaml');
  t.deepEqual(outcomes(await sync.sync()), []);
  t.deepEqual(await c.names(NODE), ['adopted', 'hand-made']);
});

test("two synced directories never prune each other's objects", async (t) => {
  const c = await cluster(t);
  const one = manifestsDir(t);
  const two = manifestsDir(t);
  one.write({ 'x.yaml': nodeYaml('one-a') });
  two.write({ 'x.yaml': nodeYaml('two-a') });
  const s1 = new GitOpsSync({ client: c.client, dir: one.dir });
  const s2 = new GitOpsSync({ client: c.client, dir: two.dir });
  await s1.sync();
  await s2.sync();
  await s1.sync();
  t.deepEqual(await c.names(NODE), ['one-a', 'two-a']);
  t.is((await c.get(NODE, 'two-a'))?.metadata.annotations?.[SOURCE_ROOT_ANNOTATION], s2.root);
  // The same object declared in both: the second directory leaves it alone and says so.
  two.write({ 'y.yaml': nodeYaml('one-a', '7') });
  const r = await s2.sync();
  t.regex(r.errors[0]?.reason ?? '', /created by the sync of another directory/);
  t.is(cpuOf(await c.get(NODE, 'one-a')), '2');
});

test('a dry run prints what would be created, configured and pruned, and changes nothing', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  m.write({ 'a.yaml': `${nodeYaml('keep')}---\n${nodeYaml('change')}---\n${nodeYaml('drop')}` });
  await new GitOpsSync({ client: c.client, dir: m.dir }).sync();
  const before = await c.client.list(NODE);
  m.write({ 'a.yaml': `${nodeYaml('keep')}---\n${nodeYaml('change', '6')}`, 'b.yaml': nodeYaml('new') });
  const dry = await new GitOpsSync({ client: c.client, dir: m.dir, dryRun: true }).sync();
  t.true(dry.dryRun);
  t.deepEqual(outcomes(dry), ['node/change configured', 'node/drop pruned', 'node/keep unchanged', 'node/new created']);
  const after = await c.client.list(NODE);
  t.is(after.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing was written');
});

test('a Namespace and the pods in it sync in one go; pruned, the namespace goes after its pods, and the system namespaces are never touched', async (t) => {
  const c = await cluster(t);
  const m = manifestsDir(t);
  const sync = new GitOpsSync({ client: c.client, dir: m.dir });
  const inTeam = (name: string) => podYaml(name).replace(`name: ${name}\n`, `name: ${name}\n  namespace: team\n`);
  // Many pods in the namespace, so they run in parallel; the namespace declared last.
  m.write({ 'a-pods.yaml': Array.from({ length: 20 }, (_, i) => inTeam(`p${i}`)).join('---\n'), 'z-namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n' });
  const first = await sync.sync();
  t.deepEqual(first.results.filter((r) => r.outcome !== 'created'), []);
  t.is(first.results[0]!.ref, 'namespace/team');
  t.is((await c.client.list(POD, 'team')).items.length, 20);
  t.deepEqual(outcomes(await sync.sync()).filter((o) => !o.endsWith('unchanged')), [], 'a second sync changes nothing');

  m.remove('a-pods.yaml');
  m.remove('z-namespace.yaml');
  const pruned = await sync.sync();
  t.is(pruned.results.at(-1)!.ref, 'namespace/team', 'the namespace last');
  t.true(pruned.results.every((r) => r.outcome === 'pruned'));
  // Terminating until the namespace controller has finalized it.
  await eventually('namespace team to be gone', async () => (await c.names(kindByName('Namespace')!)).join() === 'default,kube-node-lease,kube-public,kube-system');
});
