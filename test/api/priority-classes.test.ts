// PriorityClasses (scheduling.k8s.io/v1) over HTTP, and the priority a pod
// gets from them when it is created, as Kubernetes' validation, its
// PriorityClass storage and its Priority admission plugin decide: the
// system classes from the start and never deleted, reserved names and the
// user ceiling, immutable value and preemptionPolicy, one global default,
// and a pod's spec.priority resolved from its class (403 for a class that
// does not exist).
import test from 'ava';
import { pod, podPath, PODS, withApp, type Client } from './helpers.ts';

const CLASSES = '/apis/scheduling.k8s.io/v1/priorityclasses';
const classPath = (name: string) => `${CLASSES}/${name}`;
const TABLE = { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } };

function priorityClass(name: string, value: number, extra: Record<string, unknown> = {}): any {
  return { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra };
}

async function create(t: { is(a: unknown, b: unknown, m?: string): void }, api: Client, path: string, body: unknown): Promise<any> {
  const r = await api.post(path, body);
  t.is(r.status, 201, r.text);
  return r.body;
}

const causes = (r: { body: any }): Array<{ field?: string; reason: string; message: string }> => r.body?.details?.causes ?? [];

test('a cluster starts with the two system classes, which cannot be deleted, alone or with the collection', withApp, async (t, api) => {
  const list = (await api.get(CLASSES)).body.items;
  t.deepEqual(list.map((c: any) => [c.metadata.name, c.value, c.preemptionPolicy, c.globalDefault]), [
    ['system-cluster-critical', 2000000000, 'PreemptLowerPriority', undefined],
    ['system-node-critical', 2000001000, 'PreemptLowerPriority', undefined],
  ]);
  const r = await api.delete(classPath('system-node-critical'));
  t.is(r.status, 403);
  t.like(r.body, { kind: 'Status', reason: 'Forbidden', message: 'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted' });
  await create(t, api, CLASSES, priorityClass('batch', 100));
  const all = await api.delete(CLASSES);
  t.is(all.status, 200, all.text);
  t.deepEqual(all.body.items.map((c: any) => c.metadata.name), ['batch'], 'the collection delete takes only the user\'s classes');
  t.deepEqual((await api.get(CLASSES)).body.items.map((c: any) => c.metadata.name), ['system-cluster-critical', 'system-node-critical']);
});

test('a user class may not exceed 1000000000, nor take a system- name', withApp, async (t, api) => {
  const high = await api.post(CLASSES, priorityClass('high', 1_000_000_001));
  t.is(high.status, 422);
  t.deepEqual(causes(high), [{ reason: 'FieldValueForbidden', field: 'value', message: 'Forbidden: maximum allowed value of a user defined priority is 1000000000' }]);
  await create(t, api, CLASSES, priorityClass('highest', 1_000_000_000));
  const reserved = await api.post(CLASSES, priorityClass('system-mine', 10));
  t.is(reserved.status, 422);
  t.is(causes(reserved)[0]!.field, 'metadata.name');
  t.regex(reserved.body.message, /priority class names with 'system-' prefix are reserved for system use only\. error: system-mine is not a known system priority class/);
  const impostor = await api.post(CLASSES, priorityClass('system-node-critical', 5));
  t.is(impostor.status, 422, 'a system name with another value is refused before it could collide');
  t.regex(impostor.body.message, /value of system-node-critical PriorityClass must be 2000001000/);
  const missing = await api.post(CLASSES, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'novalue' } });
  t.is(missing.status, 422);
  t.is(causes(missing)[0]!.field, 'value');
});

test('preemptionPolicy defaults to PreemptLowerPriority; value and preemptionPolicy are immutable, the description is not', withApp, async (t, api) => {
  const made = await create(t, api, CLASSES, priorityClass('batch', 100, { description: 'batch work' }));
  t.is(made.preemptionPolicy, 'PreemptLowerPriority');
  const value = await api.patch(classPath('batch'), { value: 200 });
  t.is(value.status, 422);
  t.deepEqual(causes(value), [{ reason: 'FieldValueForbidden', field: 'value', message: 'Forbidden: may not be changed in an update.' }]);
  const policy = await api.patch(classPath('batch'), { preemptionPolicy: 'Never' });
  t.is(policy.status, 422);
  t.deepEqual(causes(policy).map((c) => c.field), ['preemptionPolicy']);
  t.regex(policy.body.message, /field is immutable/);
  const described = await api.patch(classPath('batch'), { description: 'overnight batch work' });
  t.is(described.status, 200, described.text);
  t.is(described.body.description, 'overnight batch work');
  t.like(await create(t, api, CLASSES, priorityClass('polite', 50, { preemptionPolicy: 'Never' })), { preemptionPolicy: 'Never' });
});

test('only one class is the global default: a second, made or changed into one, is 403 naming globalDefault', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('normal', 10, { globalDefault: true }));
  const second = await api.post(CLASSES, priorityClass('other', 20, { globalDefault: true }));
  t.is(second.status, 403);
  t.is(second.body.message, 'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass normal is the default priority class. Only one default can exist');
  t.deepEqual(causes(second).map((c) => c.field), ['globalDefault']);
  await create(t, api, CLASSES, priorityClass('other', 20));
  const promoted = await api.patch(classPath('other'), { globalDefault: true });
  t.is(promoted.status, 403);
  t.deepEqual(causes(promoted).map((c) => c.field), ['globalDefault']);
  t.is((await api.patch(classPath('normal'), { description: 'the default' })).status, 200, 'the default itself may be updated');
  t.is((await api.patch(classPath('normal'), { globalDefault: false })).status, 200);
  t.is((await api.patch(classPath('other'), { globalDefault: true })).status, 200, 'once there is none, another may be it');
});

test('a pod gets spec.priority and preemptionPolicy from the class it names', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('batch', 100, { preemptionPolicy: 'Never' }));
  const made = await create(t, api, PODS, pod('p', { spec: { priorityClassName: 'batch' } }));
  t.like(made.spec, { priorityClassName: 'batch', priority: 100, preemptionPolicy: 'Never' });
  t.like((await create(t, api, PODS, pod('critical', { spec: { priorityClassName: 'system-node-critical' } }))).spec, { priority: 2000001000, preemptionPolicy: 'PreemptLowerPriority' });
  t.like((await create(t, api, PODS, pod('stated', { spec: { priorityClassName: 'batch', priority: 100, preemptionPolicy: 'Never' } }))).spec, { priority: 100 }, 'stating what the class says is accepted');
});

test('a pod naming no class gets the global default\'s value and name, or 0 when there is none', withApp, async (t, api) => {
  const plain = (await create(t, api, PODS, pod('before'))).spec;
  t.like(plain, { priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
  t.false('priorityClassName' in plain);
  await create(t, api, CLASSES, priorityClass('normal', 10, { globalDefault: true }));
  t.like((await create(t, api, PODS, pod('after'))).spec, { priorityClassName: 'normal', priority: 10, preemptionPolicy: 'PreemptLowerPriority' });
});

test('a pod naming a class that does not exist is 403, in Kubernetes\' words, naming spec.priorityClassName', withApp, async (t, api) => {
  const r = await api.post(PODS, pod('x', { spec: { priorityClassName: 'foo' } }));
  t.is(r.status, 403);
  t.like(r.body, { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods "x" is forbidden: no PriorityClass with name foo was found' });
  t.deepEqual(causes(r).map((c) => c.field), ['spec.priorityClassName']);
  t.is((await api.get(podPath('x'))).status, 404, 'nothing stored');
});

test('a pod stating a priority or preemptionPolicy its class contradicts is 403', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('batch', 100));
  const priority = await api.post(PODS, pod('p', { spec: { priorityClassName: 'batch', priority: 5 } }));
  t.is(priority.status, 403);
  t.is(priority.body.message, 'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 100 from the given PriorityClass name');
  t.deepEqual(causes(priority).map((c) => c.field), ['spec.priority']);
  const noClass = await api.post(PODS, pod('q', { spec: { priority: 7 } }));
  t.is(noClass.status, 403, 'without a class the priority is 0, and 7 contradicts it');
  const policy = await api.post(PODS, pod('r', { spec: { priorityClassName: 'batch', preemptionPolicy: 'Never' } }));
  t.is(policy.status, 403);
  t.deepEqual(causes(policy).map((c) => c.field), ['spec.preemptionPolicy']);
});

test('a pod keeps the priority it was created with; its class may not change', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('batch', 100));
  await create(t, api, CLASSES, priorityClass('urgent', 900));
  const made = await create(t, api, PODS, pod('p', { spec: { priorityClassName: 'batch' } }));
  const { priority: _p, preemptionPolicy: _pp, priorityClassName: _pc, ...bare } = made.spec;
  const put = await api.put(podPath('p'), { ...made, metadata: { ...made.metadata, labels: { tier: 'x' } }, spec: bare });
  t.is(put.status, 200, put.text);
  t.like(put.body.spec, { priorityClassName: 'batch', priority: 100, preemptionPolicy: 'PreemptLowerPriority' }, 'a PUT leaving them out keeps them');
  const sneaked = await api.patch(podPath('p'), { spec: { priority: 5000 } });
  t.is(sneaked.status, 200);
  t.is(sneaked.body.spec.priority, 100, 'the priority stays what admission gave it');
  const moved = await api.patch(podPath('p'), { spec: { priorityClassName: 'urgent' } });
  t.is(moved.status, 422);
  t.deepEqual(causes(moved).map((c) => c.field), ['spec.priorityClassName']);
});

test('a pod created in a commit gets its priority as one created alone', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('batch', 100));
  const commit = (name: string, priorityClassName: string) => ({ apiVersion: 'kcs.io/v1', kind: 'Commit', operations: [{ verb: 'create', object: pod(name, { metadata: { name, namespace: 'default' }, spec: { priorityClassName } }) }] });
  const ok = await api.post('/apis/kcs.io/v1/commits', commit('c1', 'batch'));
  t.is(ok.status, 201, ok.text);
  t.is((await api.get(podPath('c1'))).body.spec.priority, 100);
  const refused = await api.post('/apis/kcs.io/v1/commits', commit('c2', 'nope'));
  t.is(refused.status, 403);
  t.regex(refused.body.message, /no PriorityClass with name nope was found/);
});

test('priority classes list in kubectl\'s columns', withApp, async (t, api) => {
  await create(t, api, CLASSES, priorityClass('normal', 10, { globalDefault: true, preemptionPolicy: 'Never' }));
  const table = (await api.get(CLASSES, TABLE)).body;
  t.deepEqual(table.columnDefinitions.map((c: any) => c.name), ['Name', 'Value', 'Global-Default', 'Age', 'Preemptionpolicy']);
  const rows = table.rows.map((r: any) => [r.cells[0], r.cells[1], r.cells[2], r.cells[4]]);
  t.deepEqual(rows, [
    ['normal', '10', 'true', 'Never'],
    ['system-cluster-critical', '2000000000', 'false', 'PreemptLowerPriority'],
    ['system-node-critical', '2000001000', 'false', 'PreemptLowerPriority'],
  ]);
});
