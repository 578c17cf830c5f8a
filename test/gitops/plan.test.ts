// The plan is pure: desired objects by file + live objects -> what to apply
// and what to prune. These tests pin the ownership rules.
import test from 'ava';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';
import { MANAGED_BY_LABEL, plan, SOURCE_ANNOTATION, SOURCE_ROOT_ANNOTATION, type LiveObject } from '../../src/gitops/plan.ts';
import { parseManifestFile, type FileResult } from '../../src/gitops/source.ts';

const ROOT = '/srv/manifests';
const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

const nodeYaml = (name: string, cpu = '2') => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "${cpu}"\n`;
const podYaml = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n`;

function files(entries: Record<string, string>): Map<string, FileResult> {
  return new Map(Object.entries(entries).map(([f, text]) => [f, parseManifestFile(f, text)]));
}

/** A live object as a sync of `root` would have left it (or, with root null, as kcs apply would). */
function live(kind: typeof NODE, name: string, file?: string, root: string | null = ROOT, labelled = true): LiveObject {
  const object: KubeObject = { apiVersion: 'v1', kind: kind.kind, metadata: { name, uid: `uid-${name}`, ...(kind.namespaced ? { namespace: 'default' } : {}) } };
  if (root !== null) {
    object.metadata.annotations = { [SOURCE_ANNOTATION]: file!, [SOURCE_ROOT_ANNOTATION]: root };
    if (labelled) object.metadata.labels = { [MANAGED_BY_LABEL]: 'gitops' };
  }
  return { kind, object };
}

const names = (p: ReturnType<typeof plan>) => ({
  apply: p.apply.map((a) => `${a.desired.kind.singular}/${a.desired.name}${a.live ? '' : '+'}`),
  prune: p.prune.map((x) => `${x.kind.singular}/${x.name}`),
});

test('new objects are created with the ownership label and annotations; nothing is pruned', (t) => {
  const p = plan({ root: ROOT, files: files({ 'nodes.yaml': nodeYaml('a'), 'pods/web.yaml': podYaml('web') }), live: [] });
  t.deepEqual(names(p), { apply: ['node/a+', 'pod/web+'], prune: [] });
  const m = p.apply[1].manifest.metadata;
  t.is(m.labels?.[MANAGED_BY_LABEL], 'gitops');
  t.is(m.annotations?.[SOURCE_ANNOTATION], 'pods/web.yaml');
  t.is(m.annotations?.[SOURCE_ROOT_ANNOTATION], ROOT);
  t.deepEqual(p.errors, []);
});

test('an object whose manifest is gone is pruned only if this directory created it', (t) => {
  const p = plan({
    root: ROOT, files: files({ 'nodes.yaml': nodeYaml('a') }),
    live: [
      live(NODE, 'a', 'nodes.yaml'), live(NODE, 'gone', 'nodes.yaml'), live(POD, 'gone-pod', 'old.yaml'),
      live(NODE, 'applied', undefined, null), // made by kcs apply: no annotations
      live(NODE, 'other', 'x.yaml', '/elsewhere'), // another synced directory's
      live(NODE, 'adopted', 'old.yaml', ROOT, false), // existed before the sync: annotated, never labelled
    ],
  });
  t.deepEqual(names(p), { apply: ['node/a'], prune: ['pod/gone-pod', 'node/gone'] });
});

test('objects of a broken file are neither pruned nor lost: the last good objects are applied', (t) => {
  const good = plan({ root: ROOT, files: files({ 'nodes.yaml': `${nodeYaml('a')}---\n${nodeYaml('b')}` }), live: [] });
  const broken = files({ 'nodes.yaml': `${nodeYaml('a')}---\nkind: [\n` });
  // With memory of the last good read (watch mode): both objects are still desired.
  const withMemory = plan({ root: ROOT, files: broken, lastGood: good.good, live: [live(NODE, 'a', 'nodes.yaml'), live(NODE, 'b', 'nodes.yaml')] });
  t.deepEqual(names(withMemory), { apply: ['node/a', 'node/b'], prune: [] });
  t.deepEqual(withMemory.kept, ['nodes.yaml']);
  t.is(withMemory.errors.length, 1);
  t.false(withMemory.good.has('nodes.yaml'));
  // Without it (a fresh sync): nothing from that file is applied, and nothing from it pruned.
  const fresh = plan({ root: ROOT, files: broken, live: [live(NODE, 'a', 'nodes.yaml'), live(NODE, 'b', 'nodes.yaml')] });
  t.deepEqual(names(fresh), { apply: [], prune: [] });
});

test('a renamed file configures its objects in place (matched by kind and name, not by file)', (t) => {
  const p = plan({ root: ROOT, files: files({ 'renamed.yaml': nodeYaml('a') }), live: [live(NODE, 'a', 'nodes.yaml')] });
  t.deepEqual(names(p), { apply: ['node/a'], prune: [] });
  t.is(p.apply[0].manifest.metadata.annotations?.[SOURCE_ANNOTATION], 'renamed.yaml');
});

test('an object existing before the sync is configured without the label that would let the sync delete it', (t) => {
  const p = plan({ root: ROOT, files: files({ 'nodes.yaml': nodeYaml('a') }), live: [live(NODE, 'a', undefined, null)] });
  t.is(p.apply[0].manifest.metadata.labels?.[MANAGED_BY_LABEL], undefined);
  t.is(p.apply[0].manifest.metadata.annotations?.[SOURCE_ANNOTATION], 'nodes.yaml');
});

test('an object declared twice: the first file wins and the second is reported', (t) => {
  const p = plan({ root: ROOT, files: files({ 'a.yaml': nodeYaml('x', '1'), 'b.yaml': `${nodeYaml('y')}---\n${nodeYaml('x', '2')}` }), live: [] });
  t.deepEqual(names(p).apply, ['node/x+', 'node/y+']);
  t.is((p.apply[0].manifest.spec!.capacity as { cpu: string }).cpu, '1');
  t.deepEqual(p.errors.map((e) => [e.file, e.line]), [['b.yaml', 9]]);
  t.regex(p.errors[0].reason, /node\/x is also declared in a\.yaml/);
});

test('an object another directory created is left alone and reported', (t) => {
  const p = plan({ root: ROOT, files: files({ 'a.yaml': nodeYaml('x') }), live: [live(NODE, 'x', 'x.yaml', '/elsewhere')] });
  t.deepEqual(names(p), { apply: [], prune: [] });
  t.regex(p.errors[0].reason, /another directory \(\/elsewhere\)/);
});

test('a user-written managed-by label does not make an adopted object prunable', (t) => {
  const p = plan({ root: ROOT, files: files({ 'a.yaml': nodeYaml('x').replace('  name: x\n', `  name: x\n  labels:\n    ${MANAGED_BY_LABEL}: gitops\n`) }), live: [live(NODE, 'x', undefined, null)] });
  t.is(p.apply[0].manifest.metadata.labels, undefined);
});

test('a Namespace is applied before what it holds, wherever it is declared, and pruned after it', (t) => {
  const NAMESPACE = kindByName('Namespace')!;
  const teamPod = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: team\nspec:\n  containers:\n  - name: c\n`;
  const p = plan({ root: ROOT, files: files({ 'a-pods.yaml': teamPod, 'z-team.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n' }), live: [] });
  t.deepEqual(names(p), { apply: ['namespace/team+', 'pod/api+'], prune: [] });

  const pruned = plan({ root: ROOT, files: files({}), live: [live(NAMESPACE, 'old', 'ns.yaml'), live(POD, 'p', 'ns.yaml'), live(NODE, 'n', 'ns.yaml')] });
  t.deepEqual(names(pruned).prune, ['pod/p', 'node/n', 'namespace/old']);
});
