// managedFields bookkeeping and server-side apply on plain objects: field
// sets in FieldsV1, ownership moving with updates, pruning, conflicts,
// force, the cap on Update managers.
import test from 'ava';
import { schemaOf } from '../../src/objects/field-schema.ts';
import { FieldSet, formatPath } from '../../src/objects/field-set.ts';
import { ApplyConflictError, applyConfiguration, managedFieldsAfterUpdate, MAX_UPDATE_MANAGERS } from '../../src/objects/managed-fields.ts';
import { compare, fieldSetOf, mergeApplied } from '../../src/objects/structured-merge.ts';
import type { KubeObject } from '../../src/objects/types.ts';

const POD = schemaOf({ apiVersion: 'v1', kind: 'Pod' })!;
const ctx = (manager: string, now = '2026-01-01T00:00:00Z') => ({ type: POD, manager, apiVersion: 'v1', force: false, now });

function config(image: string, labels: Record<string, string> = { app: 'web' }, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels }, spec: { containers: [{ name: 'app', image, ...extra }] } };
}

test('FieldsV1 round-trips, and paths print as Kubernetes prints them', (t) => {
  const json = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {} } } } };
  const set = FieldSet.fromJSON(json);
  t.deepEqual(set.toJSON(), json);
  t.deepEqual([...set.paths()].map(formatPath), ['.metadata.labels', '.metadata.labels.app', '.spec.containers[name="app"]', '.spec.containers[name="app"].image']);
  t.is(formatPath(['f:spec', 'f:containers', 'k:{"name":"app"}', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}']), '.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"]');
  t.is(formatPath(['f:metadata', 'f:finalizers', 'v:"a/b"']), '.metadata.finalizers[="a/b"]');
  t.throws(() => FieldSet.fromJSON({ 'x:y': {} }), { message: /unknown path element/ });
});

test('an applied configuration\'s field set has its leaves and list items; port keys take the protocol default', (t) => {
  const set = fieldSetOf(config('a', { app: 'web' }, { ports: [{ containerPort: 80 }] }), POD);
  t.deepEqual(set.toJSON()['f:spec'], {
    'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } },
  });
});

test('compare tells added, modified and removed fields apart', (t) => {
  const { added, modified, removed } = compare(config('a', { app: 'web', old: 'x' }), config('b', { app: 'web', fresh: 'y' }), POD);
  t.deepEqual([...added.paths()].map(formatPath), ['.metadata.labels.fresh']);
  t.deepEqual([...modified.paths()].map(formatPath), ['.spec.containers[name="app"].image']);
  t.deepEqual([...removed.paths()].map(formatPath), ['.metadata.labels.old']);
});

test('an applied list-map merges item by item, keeping items the config does not name', (t) => {
  const live = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } };
  t.deepEqual(mergeApplied(live, { spec: { containers: [{ name: 'b', image: '2' }, { name: 'c', image: '1' }] } }, POD), {
    spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }, { name: 'c', image: '1' }] },
  });
});

test('an update takes the fields it changes from their owners and records the time', (t) => {
  const created = config('a');
  created.metadata.managedFields = managedFieldsAfterUpdate(undefined, created, undefined, ctx('creator'));
  const next = structuredClone(created);
  (next.spec!.containers as any)[0].image = 'b';
  const entries = managedFieldsAfterUpdate(created, next, next.metadata.managedFields, { ...ctx('editor'), now: '2026-01-01T00:01:00Z' })!;
  t.deepEqual(entries.map((e) => [e.manager, e.operation, e.time]), [['creator', 'Update', '2026-01-01T00:00:00Z'], ['editor', 'Update', '2026-01-01T00:01:00Z']]);
  t.deepEqual(entries[1].fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {} } } } });
  t.falsy((entries[0].fieldsV1 as any)['f:spec']['f:containers']['k:{"name":"app"}']['f:image']);
});

test('at most ten Update managers are kept; the oldest fold into ancient-changes', (t) => {
  let obj = config('a', {});
  obj.metadata.managedFields = managedFieldsAfterUpdate(undefined, obj, undefined, ctx('m0', '2026-01-01T00:00:00Z'));
  for (let i = 1; i <= MAX_UPDATE_MANAGERS + 1; i++) {
    const next = structuredClone(obj);
    next.metadata.labels = { ...next.metadata.labels, [`l${i}`]: 'x' };
    next.metadata.managedFields = managedFieldsAfterUpdate(obj, next, next.metadata.managedFields, ctx(`m${i}`, `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`));
    obj = next;
  }
  const managers = obj.metadata.managedFields!.map((e) => e.manager);
  t.is(managers.length, MAX_UPDATE_MANAGERS);
  t.true(managers.includes('ancient-changes'));
  t.false(managers.includes('m0'));
  t.false(managers.includes('m1'));
});

test('apply: creates, prunes what the manager dropped, conflicts with another owner, force takes over', (t) => {
  const first = applyConfiguration(undefined, config('a', { app: 'web', tier: 'x' }), ctx('ci'));
  t.deepEqual(first.metadata.managedFields!.map((e) => [e.manager, e.operation]), [['ci', 'Apply']]);
  const pruned = applyConfiguration(first, config('a'), ctx('ci'));
  t.deepEqual(pruned.metadata.labels, { app: 'web' });

  const err = t.throws(() => applyConfiguration(pruned, config('b'), ctx('cd')), { instanceOf: ApplyConflictError });
  t.deepEqual(err?.conflicts, [{ manager: '"ci"', path: '.spec.containers[name="app"].image' }]);
  t.is(err?.message, 'Apply failed with 1 conflict: conflict with "ci": .spec.containers[name="app"].image');

  const forced = applyConfiguration(pruned, config('b'), { ...ctx('cd'), force: true });
  t.is((forced.spec!.containers as any)[0].image, 'b');
  const ci = forced.metadata.managedFields!.find((e) => e.manager === 'ci')!;
  t.falsy((ci.fieldsV1 as any)['f:spec']['f:containers']['k:{"name":"app"}']['f:image']);
});

test('apply with several conflicts lists them by manager, as Kubernetes does', (t) => {
  const a = applyConfiguration(undefined, config('a', { app: 'web' }), ctx('ci'));
  const err = t.throws(() => applyConfiguration(a, config('b', { app: 'db' }), ctx('cd')), { instanceOf: ApplyConflictError });
  t.is(err?.message, 'Apply failed with 2 conflicts: conflicts with "ci":\n- .metadata.labels.app\n- .spec.containers[name="app"].image');
});

test('the first apply to an untracked object gives what exists to before-first-apply', (t) => {
  const live = { ...config('a'), metadata: { name: 'p', uid: 'u', labels: { app: 'web', hand: 'made' } } } as KubeObject;
  const out = applyConfiguration(live, config('a'), ctx('ci'));
  t.deepEqual(out.metadata.labels, { app: 'web', hand: 'made' });
  t.deepEqual(out.metadata.managedFields!.map((e) => e.manager).sort(), ['before-first-apply', 'ci']);
});

test('moving from client-side apply to server-side apply with kubectl does not conflict on what last-applied states', (t) => {
  const manifest = config('a');
  const live = structuredClone(manifest);
  live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(manifest) };
  live.metadata.managedFields = managedFieldsAfterUpdate(undefined, live, undefined, ctx('kubectl-client-side-apply'));
  const out = applyConfiguration(live, config('b'), ctx('kubectl'));
  t.is((out.spec!.containers as any)[0].image, 'b');
  t.is(JSON.parse(out.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']).spec.containers[0].image, 'b', 'the annotation follows the apply');
  t.throws(() => applyConfiguration(live, config('b'), ctx('other')), { instanceOf: ApplyConflictError });
});
