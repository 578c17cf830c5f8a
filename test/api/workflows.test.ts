// Workflows (kcs.io/v1) over HTTP: what admission refuses (duplicate names,
// dependencies on jobs not in the list or on the job itself, cycles, named
// in run order), each job's template checked as a Job's with its fields
// named under the job, the status subresource and the columns.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parseDocuments } from '../../src/objects/manifest.ts';
import { topologicalOrder } from '../../src/objects/workflow-graph.ts';
import { withApp, type Client } from './helpers.ts';

const WORKFLOWS = '/apis/kcs.io/v1/namespaces/default/workflows';
const TABLE = { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } };

const jobSpec = () => ({ template: { spec: { restartPolicy: 'Never', containers: [{ name: 'step', image: 'busybox' }] } } });
const step = (name: string, ...dependsOn: string[]) => ({ name, ...(dependsOn.length ? { dependsOn } : {}), template: { spec: jobSpec() } });
const workflow = (name: string, jobs: unknown[]): any => ({ apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name }, spec: { jobs } });
const DIAMOND = [step('prepare'), step('train', 'prepare'), step('test', 'prepare'), step('report', 'train', 'test')];

const causes = (r: { body: any }): Array<{ field: string; reason: string; message: string }> => r.body?.details?.causes ?? [];

async function refused(t: { is(a: unknown, b: unknown, m?: string): void }, api: Client, body: unknown): Promise<{ body: any }> {
  const r = await api.post(WORKFLOWS, body);
  t.is(r.status, 422, r.text);
  t.is((await api.get(`${WORKFLOWS}/${(body as any).metadata.name}`)).status, 404, 'nothing stored');
  return r;
}

test('a diamond workflow is stored as written', withApp, async (t, api) => {
  const r = await api.post(WORKFLOWS, workflow('ml', DIAMOND));
  t.is(r.status, 201, r.text);
  t.deepEqual(r.body.spec.jobs, DIAMOND, 'a job template is not defaulted: its Job is, when it is made');
  t.is(r.body.status, undefined);
  t.deepEqual((await api.get('/apis/kcs.io/v1/workflows')).body.items.map((w: any) => w.metadata.name), ['ml']);
});

test('the example manifest, a diamond, is admitted and runs prepare, then train and test, then report', withApp, async (t, api) => {
  const [example] = parseDocuments(readFileSync(new URL('../../manifests/workflow.yaml', import.meta.url), 'utf8')) as any[];
  const r = await api.post(WORKFLOWS, example);
  t.is(r.status, 201, r.text);
  t.is(r.headers.get('warning'), null, 'every field is one kcs knows');
  t.deepEqual(topologicalOrder(r.body.spec.jobs), ['prepare', 'train', 'test', 'report']);
});

test('a dependency cycle is refused, named in run order on the dependsOn that closes it', withApp, async (t, api) => {
  const r = await refused(t, api, workflow('loop', [step('a', 'c'), step('b', 'a'), step('c', 'b'), step('d')]));
  t.deepEqual(causes(r), [{ reason: 'FieldValueInvalid', field: 'spec.jobs[1].dependsOn', message: 'Invalid value: dependency cycle: b -> c -> a -> b' }]);
  t.regex(r.body.message, /^Workflow "loop" is invalid: spec\.jobs\[1\]\.dependsOn: Invalid value: dependency cycle: b -> c -> a -> b$/);
  const pair = await refused(t, api, workflow('pair', [step('prepare'), step('x', 'prepare', 'y'), step('y', 'x')]));
  t.deepEqual(causes(pair).map((c) => [c.field, c.message]), [['spec.jobs[2].dependsOn', 'Invalid value: dependency cycle: y -> x -> y']]);
});

test('dependencies must name other jobs of the list, each once; names are unique', withApp, async (t, api) => {
  const unknown = await refused(t, api, workflow('w', [step('a'), step('b', 'a', 'ghost')]));
  t.deepEqual(causes(unknown), [{ reason: 'FieldValueNotFound', field: 'spec.jobs[1].dependsOn[1]', message: 'Not found: "ghost"' }]);
  const self = await refused(t, api, workflow('w', [step('a', 'a')]));
  t.deepEqual(causes(self), [{ reason: 'FieldValueInvalid', field: 'spec.jobs[0].dependsOn[0]', message: 'Invalid value: "a": a job may not depend on itself' }]);
  const twice = await refused(t, api, workflow('w', [step('a'), step('b', 'a', 'a')]));
  t.deepEqual(causes(twice).map((c) => [c.field, c.reason]), [['spec.jobs[1].dependsOn[1]', 'FieldValueDuplicate']]);
  const dup = await refused(t, api, workflow('w', [step('a'), step('b'), step('a')]));
  t.deepEqual(causes(dup), [{ reason: 'FieldValueDuplicate', field: 'spec.jobs[2].name', message: 'Duplicate value: "a"' }]);
  const badName = await refused(t, api, workflow('w', [step('Prepare_Data')]));
  t.deepEqual(causes(badName).map((c) => c.field), ['spec.jobs[0].name']);
  const empty = await refused(t, api, workflow('w', []));
  t.deepEqual(causes(empty).map((c) => c.field), ['spec.jobs']);
});

test('each job\'s template is checked as a Job\'s, its fields named under that job', withApp, async (t, api) => {
  const restart = [step('a'), step('b', 'a')];
  delete (restart[1]!.template.spec.template.spec as { restartPolicy?: string }).restartPolicy;
  const r1 = await refused(t, api, workflow('w', restart));
  t.deepEqual(causes(r1).map((c) => c.field), ['spec.jobs[1].template.spec.template.spec.restartPolicy']);
  const container = [step('a')];
  container[0]!.template.spec.template.spec.containers[0]!.name = 'Bad_Name';
  const r2 = await refused(t, api, workflow('w', container));
  t.deepEqual(causes(r2).map((c) => c.field), ['spec.jobs[0].template.spec.template.spec.containers[0].name']);
  const indexed = [{ name: 'a', template: { spec: { ...jobSpec(), completionMode: 'Indexed' } } }];
  const r3 = await refused(t, api, workflow('w', indexed));
  t.deepEqual(causes(r3).map((c) => c.field), ['spec.jobs[0].template.spec.completions']);
  const negative = [{ name: 'a', template: { spec: { ...jobSpec(), parallelism: -1 } } }];
  const r4 = await refused(t, api, workflow('w', negative));
  t.deepEqual(causes(r4).map((c) => [c.field, c.message]), [['spec.jobs[0].template.spec.parallelism', 'Invalid value: -1: must be greater than or equal to 0']]);
  const labels = [{ name: 'a', template: { metadata: { labels: { 'not a key': 'x' } }, spec: jobSpec() } }];
  const r5 = await refused(t, api, workflow('w', labels));
  t.regex(causes(r5)[0]!.field, /^spec\.jobs\[0\]\.template\.metadata\.labels/);
});

test('a workflow\'s status is written through /status and listed as STATUS and JOBS', withApp, async (t, api) => {
  const made = (await api.post(WORKFLOWS, workflow('ml', DIAMOND))).body;
  const fresh = (await api.get(WORKFLOWS, TABLE)).body;
  t.deepEqual(fresh.columnDefinitions.map((c: any) => c.name), ['Name', 'Status', 'Jobs', 'Age']);
  t.deepEqual(fresh.rows[0].cells.slice(0, 3), ['ml', 'Pending', '0/4']);
  const status = {
    phase: 'Running', startTime: '2026-01-01T00:00:00Z',
    jobs: [
      { name: 'prepare', phase: 'Succeeded', jobName: 'ml-prepare' }, { name: 'train', phase: 'Succeeded', jobName: 'ml-train' },
      { name: 'test', phase: 'Running', jobName: 'ml-test' }, { name: 'report', phase: 'Pending' },
    ],
  };
  const written = await api.put(`${WORKFLOWS}/ml/status`, { ...made, status });
  t.is(written.status, 200, written.text);
  t.deepEqual(written.body.status, status);
  t.deepEqual((await api.get(WORKFLOWS, TABLE)).body.rows[0].cells.slice(0, 3), ['ml', 'Running', '2/4']);
  const bad = await api.patch(`${WORKFLOWS}/ml/status`, { status: { phase: 'Done' } });
  t.is(bad.status, 422);
  t.deepEqual(causes(bad).map((c) => c.field), ['status.phase']);
  const skipped = await api.patch(`${WORKFLOWS}/ml/status`, { status: { phase: 'Failed', jobs: [{ name: 'report', phase: 'Skipped', message: 'train failed' }] } });
  t.is(skipped.status, 200, skipped.text);
});
