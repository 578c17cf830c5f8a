// Jobs (batch/v1) over HTTP, as Kubernetes admits them: the defaults, the
// selector and pod labels made from the Job's uid, the pod template checked
// as a Pod with restartPolicy OnFailure or Never, a manual selector, what an
// update may not change, the status subresource, and kubectl's columns.
import test from 'ava';
import { FakeClock } from '../../src/util/clock.ts';
import { withApp, withAppOptions, type Client } from './helpers.ts';

const JOBS = '/apis/batch/v1/namespaces/default/jobs';
const jobPath = (name: string) => `${JOBS}/${name}`;
const TABLE = { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } };

/** A Job of one container that runs to its end; `spec` is merged over it. */
function job(name: string, spec: Record<string, unknown> = {}, template: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] }, ...template }, ...spec },
  };
}

async function create(t: { is(a: unknown, b: unknown, m?: string): void }, api: Client, body: unknown): Promise<any> {
  const r = await api.post(JOBS, body);
  t.is(r.status, 201, r.text);
  return r.body;
}

function causes(r: { body: any }): Array<{ field: string; message: string }> {
  return r.body?.details?.causes ?? [];
}

test('a Job gets Kubernetes\' defaults, and a selector and pod labels made from its uid', withApp, async (t, api) => {
  const made = await create(t, api, job('crunch', {}, { metadata: { labels: { app: 'crunch' } } }));
  const uid = made.metadata.uid;
  t.like(made.spec, { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
  t.deepEqual(made.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  t.deepEqual(made.spec.template.metadata.labels, {
    app: 'crunch',
    'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'crunch', 'controller-uid': uid, 'job-name': 'crunch',
  });
  t.deepEqual(made.metadata.labels, { app: 'crunch' }, 'the Job takes its template\'s labels as they were given');
  const bare = await create(t, api, job('bare'));
  t.deepEqual(bare.metadata.labels, bare.spec.template.metadata.labels, 'a Job given no labels at all takes its pods\' generated ones');
  t.is(bare.metadata.labels['job-name'], 'bare');
  t.is(made.status, undefined, 'a new Job has no status');
  t.deepEqual((await api.get(jobPath('crunch'))).body.spec, made.spec, 'stored as answered');
});

test('completions default to 1 only when parallelism is unset too; parallelism always defaults to 1', withApp, async (t, api) => {
  t.like((await create(t, api, job('five', { completions: 5 }))).spec, { completions: 5, parallelism: 1 });
  const pool = (await create(t, api, job('pool', { parallelism: 3 }))).spec;
  t.is(pool.parallelism, 3);
  t.false('completions' in pool, 'a work queue Job keeps no completions');
  t.like((await create(t, api, job('given', { completions: 4, parallelism: 2, backoffLimit: 0, suspend: true }))).spec, { completions: 4, parallelism: 2, backoffLimit: 0, suspend: true });
});

test('the pod template must restart OnFailure or Never: unset or Always is 422 naming spec.template.spec.restartPolicy', withApp, async (t, api) => {
  for (const restartPolicy of [undefined, 'Always']) {
    const body = job('bad');
    body.spec.template.spec.restartPolicy = restartPolicy;
    const r = await api.post(JOBS, body);
    t.is(r.status, 422, r.text);
    t.deepEqual(causes(r), [{ reason: 'FieldValueRequired', field: 'spec.template.spec.restartPolicy', message: 'Required value: valid values: "OnFailure", "Never"' }]);
  }
  const onFailure = job('retry');
  onFailure.spec.template.spec.restartPolicy = 'OnFailure';
  await create(t, api, onFailure);
});

test('the pod template is checked as a Pod, its fields named under spec.template', withApp, async (t, api) => {
  const badName = job('bad');
  badName.spec.template.spec.containers[0].name = 'Work_1';
  const r = await api.post(JOBS, badName);
  t.is(r.status, 422);
  t.is(causes(r)[0]!.field, 'spec.template.spec.containers[0].name');
  const overLimit = job('bad');
  overLimit.spec.template.spec.containers[0].resources = { requests: { cpu: '2' }, limits: { cpu: '1' } };
  const limits = await api.post(JOBS, overLimit);
  t.is(limits.status, 422);
  t.is(causes(limits)[0]!.field, 'spec.template.spec.containers[0].resources.requests.cpu');
  const noContainers = job('bad');
  delete noContainers.spec.template.spec.containers;
  t.is(causes(await api.post(JOBS, noContainers))[0]!.field, 'spec.template.spec.containers');

  const stray = job('stray', {}, { metadata: { labels: { app: 'x' }, colour: 'blue' } });
  const kept = await api.post(JOBS, stray);
  t.is(kept.status, 201, kept.text);
  t.regex(kept.headers.get('warning') ?? '', /unknown field \\"spec\.template\.metadata\.colour\\"/);
  t.false('colour' in kept.body.spec.template.metadata, 'the unknown field is dropped, as from a Pod');
});

test('an Indexed Job needs completions; one whose last pod name is no DNS label is refused', withApp, async (t, api) => {
  const r = await api.post(JOBS, job('indexed', { completionMode: 'Indexed' }));
  t.is(r.status, 422);
  t.deepEqual(causes(r).map((c) => c.field), ['spec.completions']);
  t.regex(r.body.message, /when completion mode is Indexed/);
  t.like((await create(t, api, job('indexed', { completionMode: 'Indexed', completions: 3 }))).spec, { completionMode: 'Indexed', completions: 3, parallelism: 1 });
  const long = await api.post(JOBS, job('x'.repeat(62), { completionMode: 'Indexed', completions: 10 }));
  t.is(long.status, 422);
  t.is(causes(long)[0]!.field, 'metadata.name');
  t.regex(causes(long)[0]!.message, /will not able to create pod with invalid DNS label: x{62}-9/);
});

test('a Job name too long for a label value is refused: its pods carry it as job-name', withApp, async (t, api) => {
  const r = await api.post(JOBS, job('j'.repeat(64)));
  t.is(r.status, 422, r.text);
  t.true(causes(r).some((c) => c.field === 'spec.template.metadata.labels[batch.kubernetes.io/job-name]' && /must be no more than 63 characters/.test(c.message)), JSON.stringify(causes(r)));
});

test('a manual selector is kept as given and must match the template\'s labels; without manualSelector a selector of its own is 422', withApp, async (t, api) => {
  const manual = await create(t, api, job('manual', { manualSelector: true, selector: { matchLabels: { app: 'm' } } }, { metadata: { labels: { app: 'm' } } }));
  t.deepEqual(manual.spec.selector, { matchLabels: { app: 'm' } });
  t.deepEqual(manual.spec.template.metadata.labels, { app: 'm' }, 'no labels are generated');

  const missing = await api.post(JOBS, job('manual2', { manualSelector: true }));
  t.deepEqual(causes(missing).map((c) => c.field), ['spec.selector']);
  const mismatch = await api.post(JOBS, job('manual3', { manualSelector: true, selector: { matchLabels: { app: 'other' } } }, { metadata: { labels: { app: 'm' } } }));
  t.is(mismatch.status, 422);
  t.deepEqual(causes(mismatch).map((c) => c.field), ['spec.template.metadata.labels']);
  t.regex(mismatch.body.message, /`selector` does not match template `labels`/);

  const own = await api.post(JOBS, job('own', { selector: { matchLabels: { app: 'm' } } }, { metadata: { labels: { app: 'm' } } }));
  t.is(own.status, 422);
  t.deepEqual(causes(own).map((c) => c.field), ['spec.selector']);
  t.regex(own.body.message, /`selector` not auto-generated/);
  const wrongUid = await api.post(JOBS, job('uid', {}, { metadata: { labels: { 'controller-uid': 'not-mine' } } }));
  t.is(wrongUid.status, 422);
  t.true(causes(wrongUid).some((c) => c.field === 'spec.template.metadata.labels[controller-uid]'), JSON.stringify(causes(wrongUid)));
});

test('the template, selector, completions and completionMode are immutable: 422 naming the field; parallelism may change', withApp, async (t, api) => {
  const made = await create(t, api, job('fixed', { completions: 3 }));
  const changes: Array<[string, (j: any) => void]> = [
    ['spec.template', (j) => { j.spec.template.spec.containers[0].image = 'alpine'; }],
    ['spec.selector', (j) => { j.spec.selector.matchLabels.extra = 'x'; j.spec.template.metadata.labels.extra = 'x'; }],
    ['spec.completions', (j) => { j.spec.completions = 4; }],
    ['spec.completionMode', (j) => { j.spec.completionMode = 'Indexed'; }],
  ];
  for (const [field, change] of changes) {
    const next = structuredClone(made);
    change(next);
    const r = await api.put(jobPath('fixed'), next);
    t.is(r.status, 422, `${field}: ${r.text}`);
    t.true(causes(r).some((c) => c.field === field && /field is immutable$/.test(c.message)), `${field}: ${JSON.stringify(causes(r))}`);
  }
  const patched = await api.patch(jobPath('fixed'), { spec: { template: { spec: { containers: [{ name: 'work', image: 'alpine' }] } } } });
  t.is(patched.status, 422, 'a merge patch of the template too');

  const scaled = await api.patch(jobPath('fixed'), { spec: { parallelism: 2 } });
  t.is(scaled.status, 200, scaled.text);
  t.is(scaled.body.spec.parallelism, 2);
  t.is(scaled.body.metadata.generation, 2);
  t.deepEqual(scaled.body.spec.selector, made.spec.selector);
});

test('an Indexed Job may change completions only together with parallelism', withApp, async (t, api) => {
  await create(t, api, job('elastic', { completionMode: 'Indexed', completions: 4, parallelism: 4 }));
  const alone = await api.patch(jobPath('elastic'), { spec: { completions: 6 } });
  t.is(alone.status, 422);
  t.regex(alone.body.message, /spec\.completions: Invalid value: 6: can only be modified in tandem with spec\.parallelism/);
  const both = await api.patch(jobPath('elastic'), { spec: { completions: 6, parallelism: 6 } });
  t.is(both.status, 200, both.text);
});

test('a suspended Job that never started may have its pods placed elsewhere first; nothing else of its template changes', withApp, async (t, api) => {
  await create(t, api, job('queued', { suspend: true }));
  const placed = await api.patch(jobPath('queued'), { spec: { template: { metadata: { labels: { queue: 'gpu' } }, spec: { nodeSelector: { pool: 'gpu' } } } } });
  t.is(placed.status, 200, placed.text);
  t.deepEqual(placed.body.spec.template.spec.nodeSelector, { pool: 'gpu' });
  const image = await api.patch(jobPath('queued'), { spec: { template: { spec: { containers: [{ name: 'work', image: 'alpine' }] } } } });
  t.is(image.status, 422, 'the containers stay');

  // Once started (status.startTime), even a suspended Job's template is fixed.
  const current = (await api.get(jobPath('queued'))).body;
  t.is((await api.put(`${jobPath('queued')}/status`, { ...current, status: { startTime: '2026-01-01T00:00:00Z' } })).status, 200);
  const late = await api.patch(jobPath('queued'), { spec: { template: { spec: { nodeSelector: { pool: 'cpu' } } } } });
  t.is(late.status, 422);
  t.true(causes(late).some((c) => c.field === 'spec.template'));
});

test('status is written only through /status, and kept by updates of the Job', withApp, async (t, api) => {
  const made = await create(t, api, job('s', { completions: 2 }));
  const status = { active: 1, succeeded: 1, startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Suspended', status: 'False', reason: 'Resumed' }] };
  const written = await api.put(`${jobPath('s')}/status`, { ...made, status });
  t.is(written.status, 200, written.text);
  t.deepEqual(written.body.status, status);
  const spec = await api.patch(jobPath('s'), { spec: { parallelism: 2 }, status: { succeeded: 9 } });
  t.is(spec.status, 200);
  t.deepEqual(spec.body.status, status, 'the main resource does not write status');
  const bad = await api.patch(`${jobPath('s')}/status`, { status: { failed: -1 } });
  t.is(bad.status, 422);
  t.deepEqual(causes(bad).map((c) => c.field), ['status.failed']);
});

const clock = new FakeClock('2026-01-01T00:00:00Z');

test('jobs list in kubectl\'s columns: STATUS, COMPLETIONS, DURATION from the status, on the API\'s clock', withAppOptions({ clock }), async (t, api) => {
  await create(t, api, job('done', { completions: 2 }));
  await create(t, api, job('pool', { parallelism: 3 }));
  await create(t, api, job('held', { suspend: true }));
  const setStatus = async (name: string, status: unknown) => {
    const current = (await api.get(jobPath(name))).body;
    t.is((await api.put(`${jobPath(name)}/status`, { ...current, status })).status, 200);
  };
  await setStatus('done', {
    succeeded: 2, startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:02:05Z',
    conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }],
  });
  await setStatus('pool', { active: 3, startTime: '2026-01-01T00:00:00Z' });
  await setStatus('held', { conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }] });
  clock.advance(90_000);

  const table = (await api.get(JOBS, TABLE)).body;
  t.deepEqual(table.columnDefinitions.map((c: any) => [c.name, c.priority]), [
    ['Name', 0], ['Status', 0], ['Completions', 0], ['Duration', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1],
  ]);
  const rows = Object.fromEntries(table.rows.map((r: any) => [r.cells[0], r.cells.slice(1, 5)]));
  t.deepEqual(rows.done, ['Complete', '2/2', '2m5s', '90s']);
  t.deepEqual(rows.pool, ['Running', '0/1 of 3', '90s', '90s']);
  t.deepEqual(rows.held, ['Suspended', '0/1', '', '90s']);
  const wide = table.rows.find((r: any) => r.cells[0] === 'done').cells.slice(5);
  t.deepEqual(wide.slice(0, 2), ['work', 'busybox']);
  t.regex(wide[2], /^batch\.kubernetes\.io\/controller-uid=[0-9a-f-]{36}$/);
});
