// What the controllers' identity may do for batch work, over real HTTP
// against startControlPlane: create pods a Job controls and Jobs a Workflow
// controls (and nothing else of either), write Jobs' and Workflows' status,
// and delete a finished Job whose ttlSecondsAfterFinished asks for it. Each
// refusal is a 403 that writes nothing, and the same request from the admin
// succeeds.
import test, { type ExecutionContext } from 'ava';
import { client, createAll, openControlPlane, pod, podPath, PODS, tempStateDir, type Client, type TestControlPlane } from './helpers.ts';

const JOBS = '/apis/batch/v1/namespaces/default/jobs';
const WORKFLOWS = '/apis/kcs.io/v1/namespaces/default/workflows';
const jobSpec = () => ({ template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } } });
const job = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, ...metadata }, spec: { ...jobSpec(), ...spec } });
const ownedBy = (owner: any, controller = true) => ({ ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller }] });

interface Batch { admin: TestControlPlane; ctl: Client; job: any; workflow: any }

async function batch(t: ExecutionContext): Promise<Batch> {
  const admin = await openControlPlane(t, tempStateDir(t));
  // Suspended: the Job controller, if it runs, starts no pods of its own to get in the way.
  const [made, workflow] = await createAll(t, admin, [
    [JOBS, job('owner', { suspend: true })],
    [WORKFLOWS, { apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'flow' }, spec: { jobs: [{ name: 'a', template: { spec: jobSpec() } }] } }],
  ]);
  return { admin, ctl: client(admin.url, admin.cp.controllerToken), job: made, workflow };
}

async function refusedThenAllowed(t: ExecutionContext, { admin, ctl }: Batch, what: string, send: (c: Client) => Promise<{ status: number; text: string; body: any }>): Promise<void> {
  const before = await admin.cp.store.currentRevision();
  const r = await send(ctl);
  t.is(r.status, 403, `controllers ${what}: ${r.text}`);
  t.regex(r.body?.message ?? '', /User "system:kcs-controller-manager"/, what);
  t.is(await admin.cp.store.currentRevision(), before, `controllers ${what}: nothing written`);
  const control = await send(admin);
  t.true(control.status === 200 || control.status === 201, `the admin may ${what}: ${control.status} ${control.text}`);
}

test('the controllers create the pods a Job controls, and no other pod', async (t) => {
  const b = await batch(t);
  const r = await b.ctl.post(PODS, pod('owner-1', { metadata: ownedBy(b.job) }));
  t.is(r.status, 201, r.text);
  await refusedThenAllowed(t, b, 'create a pod no one owns', (c) => c.post(PODS, pod('loose')));
  await refusedThenAllowed(t, b, 'create a pod a Job owns but does not control', (c) => c.post(PODS, pod('ref', { metadata: ownedBy(b.job, false) })));
  await refusedThenAllowed(t, b, 'create a pod a Workflow controls', (c) => c.post(PODS, pod('wf', { metadata: ownedBy(b.workflow) })));
  const apply = (name: string, metadata: Record<string, unknown>) => (c: Client) => c.request('PATCH', `${podPath(name)}?fieldManager=ctl`, { type: 'application/apply-patch+yaml', body: pod(name, { metadata }) });
  await refusedThenAllowed(t, b, 'create a pod no one owns by server-side apply', apply('applied', {}));
  t.is((await apply('applied-owned', ownedBy(b.job))(b.ctl)).status, 201, 'a pod a Job controls may be applied into being');
  const commit = (name: string, metadata: Record<string, unknown>) => (c: Client) => c.post('/apis/kcs.io/v1/commits', { apiVersion: 'kcs.io/v1', kind: 'Commit', operations: [{ verb: 'create', object: pod(name, { metadata: { namespace: 'default', ...metadata } }) }] });
  await refusedThenAllowed(t, b, 'commit a pod no one owns', commit('committed', {}));
  t.is((await commit('committed-owned', ownedBy(b.job))(b.ctl)).status, 201);
});

test('the controllers create the Jobs a Workflow controls, and write Jobs\' and Workflows\' status, but not their spec', async (t) => {
  const b = await batch(t);
  const r = await b.ctl.post(JOBS, job('flow-a', {}, ownedBy(b.workflow)));
  t.is(r.status, 201, r.text);
  await refusedThenAllowed(t, b, 'create a Job no Workflow controls', (c) => c.post(JOBS, job('loose')));
  const status = await b.ctl.patch(`${JOBS}/owner/status`, { status: { active: 0, conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }] } });
  t.is(status.status, 200, status.text);
  const wfStatus = await b.ctl.patch(`${WORKFLOWS}/flow/status`, { status: { phase: 'Running', jobs: [{ name: 'a', phase: 'Running', jobName: 'flow-a' }] } });
  t.is(wfStatus.status, 200, wfStatus.text);
  await refusedThenAllowed(t, b, 'change a Job\'s spec', (c) => c.patch(`${JOBS}/owner`, { spec: { parallelism: 2 } }));
  await refusedThenAllowed(t, b, 'change a Workflow\'s spec', (c) => c.patch(`${WORKFLOWS}/flow`, { spec: { jobs: [{ name: 'b', template: { spec: jobSpec() } }] } }));
});

test('the controllers delete a finished Job whose ttlSecondsAfterFinished asks for it, and no other', async (t) => {
  const b = await batch(t);
  const finish = async (name: string, spec: Record<string, unknown>, type: string) => {
    const made = (await b.admin.post(JOBS, job(name, spec))).body;
    const r = await b.admin.put(`${JOBS}/${name}/status`, { ...made, status: { conditions: [{ type, status: 'True' }] } });
    t.is(r.status, 200, r.text);
  };
  await finish('expired', { ttlSecondsAfterFinished: 0, suspend: true }, 'Complete');
  t.is((await b.ctl.delete(`${JOBS}/expired`)).status, 200);
  await finish('failed', { ttlSecondsAfterFinished: 60, suspend: true }, 'Failed');
  t.is((await b.ctl.delete(`${JOBS}/failed`)).status, 200);
  await finish('kept', { suspend: true }, 'Complete');
  await refusedThenAllowed(t, b, 'delete a finished Job without a TTL', (c) => c.delete(`${JOBS}/kept`));
  await finish('running', { ttlSecondsAfterFinished: 0, suspend: true }, 'Suspended');
  await refusedThenAllowed(t, b, 'delete an unfinished Job with a TTL', (c) => c.delete(`${JOBS}/running`));
});
