// Protobuf request bodies through the real HTTP app, as kubectl's typed
// clients send them: a Namespace, a Pod, an Event, a Lease, a Node update, a
// Binding, an Eviction and DeleteOptions are read and stored exactly as their
// JSON would be; kcs.io kinds refuse protobuf with 415; the body limit holds.
import test from 'ava';
import {
  createAll, namespace, node, NODES, pod, podPath, PODS, withApp, withAppOptions, type TestApi,
} from './helpers.ts';
import { protobufBody, sendProtobuf } from '../support/protobuf.ts';

const NAMESPACES = '/api/v1/namespaces';
const SUCCESS = { apiVersion: 'v1', kind: 'Status', status: 'Success', code: 201 };

/** What the server decides for itself, set aside to compare a protobuf write with a JSON one. */
function written(obj: any): any {
  const { name, uid, resourceVersion, creationTimestamp, managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata: { ...metadata, managedFields: managedFields?.map(({ time, ...m }: any) => m) } };
}

// 2026-03-01T12:30:45Z
const SECONDS = 1772368245;

/** One pod, in both encodings. */
const podJson = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web', tier: 'front' } },
  spec: {
    containers: [{
      name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 8080 }],
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
    }],
    terminationGracePeriodSeconds: 0,
  },
});
const podProto = (name: string) => ({
  // Written as Go writes them: every non-pointer string, even empty; the time the client put there.
  metadata: { name, generateName: '', namespace: '', labels: { app: 'web', tier: 'front' }, creationTimestamp: { seconds: SECONDS } },
  spec: {
    containers: [{
      name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 8080, name: '', protocol: '' }],
      resources: { requests: { cpu: { string: '250m' }, memory: { string: '64Mi' } }, limits: { cpu: { string: '1' }, memory: { string: '128Mi' } } },
      readinessProbe: { handler: { httpGet: { path: '/ready', port: { type: 0, intVal: 8080 } } }, periodSeconds: 5, initialDelaySeconds: 0 },
      stdin: false,
    }],
    terminationGracePeriodSeconds: 0, hostNetwork: false, restartPolicy: '',
  },
  status: {},
});

const POD = { apiVersion: 'v1', kind: 'Pod' };

test('kubectl create namespace\'s protobuf Namespace is created, stored as its JSON twin is', withApp, async (t, api) => {
  const r = await sendProtobuf(api, 'POST', NAMESPACES, protobufBody({ apiVersion: 'v1', kind: 'Namespace' }, { metadata: { name: 'team', namespace: '' }, spec: {}, status: { phase: '' } }));
  t.is(r.status, 201, r.text);
  t.is(r.body.metadata.name, 'team');
  const twin = await api.post(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'twin' }, spec: {}, status: {} });
  t.is(twin.status, 201, twin.text);
  const stored = (await api.get(`${NAMESPACES}/team`)).body;
  t.is(stored.status.phase, 'Active');
  t.deepEqual(written({ ...stored, metadata: { ...stored.metadata, labels: {} } }), written({ ...twin.body, metadata: { ...twin.body.metadata, labels: {} } }));
});

test('a protobuf Pod with containers, quantities, labels and a probe is stored as the same pod sent in JSON', withApp, async (t, api) => {
  const r = await sendProtobuf(api, 'POST', PODS, protobufBody(POD, podProto('web')));
  t.is(r.status, 201, r.text);
  const json = await api.post(PODS, podJson('web-json'));
  t.is(json.status, 201, json.text);
  const stored = (await api.get(podPath('web'))).body;
  t.deepEqual(stored.metadata.labels, { app: 'web', tier: 'front' });
  t.deepEqual(stored.spec.containers[0].resources, { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } });
  t.deepEqual(stored.spec.containers[0].readinessProbe, { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 });
  t.is(stored.spec.terminationGracePeriodSeconds, 0, 'a pointer field set to zero stays set');
  t.false('hostNetwork' in stored.spec, 'a zero non-pointer field is unset');
  t.deepEqual(written(stored), written((await api.get(podPath('web-json'))).body));
});

test('a protobuf Event keeps its Time (seconds) and MicroTime (microseconds)', withApp, async (t, api) => {
  const event = {
    metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Scheduled', message: 'placed', type: 'Normal',
    firstTimestamp: { seconds: SECONDS, nanos: 500_000_000 }, lastTimestamp: { seconds: SECONDS + 60 }, count: 2,
    eventTime: { seconds: SECONDS, nanos: 123_456_000 }, reportingComponent: 'test', reportingInstance: 'one', action: 'Bind',
  };
  const r = await sendProtobuf(api, 'POST', '/api/v1/namespaces/default/events', protobufBody({ apiVersion: 'v1', kind: 'Event' }, event));
  t.is(r.status, 201, r.text);
  const stored = (await api.get('/api/v1/namespaces/default/events/e1')).body;
  t.like(stored, { firstTimestamp: '2026-03-01T12:30:45Z', lastTimestamp: '2026-03-01T12:31:45Z', eventTime: '2026-03-01T12:30:45.123456Z', count: 2, reason: 'Scheduled' });
});

test('a protobuf Lease is created', withApp, async (t, api) => {
  const lease = await sendProtobuf(api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', protobufBody(
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
    { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: { seconds: SECONDS, nanos: 250_000 }, leaseTransitions: 0 } },
  ));
  t.is(lease.status, 201, lease.text);
  t.like(lease.body.spec, { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-03-01T12:30:45.000250Z', leaseTransitions: 0 });
});

// Kubernetes' NodeSpec has no capacity (kcs's spec.capacity is its own), so a
// protobuf Node is sized the way a kubelet or KWOK sizes one: in its status.
test('a protobuf Node sized in its status is created, and a protobuf update replaces it', withApp, async (t, api) => {
  const nodeProto = (extra: object) => ({
    metadata: { name: 'n1', ...extra }, spec: {},
    status: { capacity: { cpu: { string: '4' }, memory: { string: '8Gi' } }, allocatable: { cpu: { string: '4' }, memory: { string: '8Gi' } } },
  });
  const created = await sendProtobuf(api, 'POST', NODES, protobufBody({ apiVersion: 'v1', kind: 'Node' }, nodeProto({})));
  t.is(created.status, 201, created.text);
  t.deepEqual(created.body.spec.capacity, { cpu: '4', memory: '8Gi' });
  const put = await sendProtobuf(api, 'PUT', `${NODES}/n1`, protobufBody({ apiVersion: 'v1', kind: 'Node' }, {
    ...nodeProto({ resourceVersion: created.body.metadata.resourceVersion, labels: { zone: 'a' } }),
    spec: { unschedulable: true, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
  }));
  t.is(put.status, 200, put.text);
  t.like((await api.get(`${NODES}/n1`)).body, { metadata: { labels: { zone: 'a' } }, spec: { unschedulable: true, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }], capacity: { cpu: '4' } } });
});

test('a protobuf Binding binds the pod to its node', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')], [PODS, pod('web')]]);
  const r = await sendProtobuf(api, 'POST', `${podPath('web')}/binding`, protobufBody({ apiVersion: 'v1', kind: 'Binding' }, { metadata: { name: 'web' }, target: { kind: 'Node', name: 'n1' } }));
  t.is(r.status, 201, r.text);
  t.is((await api.get(podPath('web'))).body.spec.nodeName, 'n1');
});

test('a protobuf Eviction (policy/v1 and v1beta1) deletes the pod; its dryRun keeps it', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('a')], [PODS, pod('b')], [PODS, pod('c')]]);
  const evict = (name: string, apiVersion = 'policy/v1', deleteOptions?: object) =>
    sendProtobuf(api, 'POST', `${podPath(name)}/eviction`, protobufBody({ apiVersion, kind: 'Eviction' }, { metadata: { name, namespace: 'default' }, ...(deleteOptions ? { deleteOptions } : {}) }));
  const dry = await evict('a', 'policy/v1', { dryRun: ['All'] });
  t.like(dry.body, SUCCESS);
  t.is((await api.get(podPath('a'))).status, 200, 'a dry run deletes nothing');
  t.like((await evict('a')).body, SUCCESS);
  t.like((await evict('b', 'policy/v1beta1')).body, SUCCESS);
  t.is((await api.get(podPath('a'))).status, 404);
  t.is((await api.get(podPath('b'))).status, 404);
  const wrong = await evict('c', 'policy/v1', { preconditions: { uid: 'not-its-uid' } });
  t.is(wrong.status, 409, wrong.text);
  t.is((await api.get(podPath('c'))).status, 200);
});

test('protobuf DeleteOptions: preconditions and dryRun are honoured, then the delete goes through', withApp, async (t, api) => {
  const [web] = await createAll(t, api, [[PODS, pod('web')]]);
  const del = (options: Record<string, unknown>, apiVersion = 'v1') => sendProtobuf(api, 'DELETE', podPath('web'), protobufBody({ apiVersion, kind: 'DeleteOptions' }, options));
  const stale = await del({ preconditions: { uid: 'another-uid', resourceVersion: '' } });
  t.is(stale.status, 409, stale.text);
  const dry = await del({ dryRun: ['All'], gracePeriodSeconds: 0 }, 'meta.k8s.io/v1');
  t.is(dry.status, 200, dry.text);
  t.is((await api.get(podPath('web'))).body.metadata.resourceVersion, web.metadata.resourceVersion, 'the dry run wrote nothing');
  const gone = await del({ gracePeriodSeconds: 0, preconditions: { uid: web.metadata.uid } });
  t.is(gone.status, 200, gone.text);
  t.is((await api.get(podPath('web'))).status, 404);
});

test('a protobuf DeleteOptions for a deletecollection of nodes, in the nodes\' own group version', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1')], [NODES, node('n2')]]);
  const r = await sendProtobuf(api, 'DELETE', NODES, protobufBody({ apiVersion: 'v1', kind: 'DeleteOptions' }, { dryRun: ['All'] }));
  t.is(r.status, 200, r.text);
  t.is((await api.get(NODES)).body.items.length, 2, 'dryRun from the protobuf body kept them');
});

async function refusedProtobuf(t: import('ava').ExecutionContext, api: TestApi, method: string, path: string, body: Uint8Array): Promise<void> {
  const r = await sendProtobuf(api, method, path, body);
  t.is(r.status, 415, r.text);
  t.like(r.body, { kind: 'Status', reason: 'UnsupportedMediaType' });
  t.regex(r.body.message, /accepted media types include: application\/json, application\/yaml \(got "application\/vnd\.kubernetes\.protobuf"\)$/);
}

test('kcs.io kinds have no protobuf in Kubernetes: a protobuf body there is 415, read or not', withApp, async (t, api) => {
  const any = protobufBody({ apiVersion: 'v1', kind: 'Namespace' }, namespace('x'));
  await refusedProtobuf(t, api, 'POST', '/apis/kcs.io/v1/schedulerconfigurations', any);
  await refusedProtobuf(t, api, 'PUT', '/apis/kcs.io/v1/schedulerconfigurations/default', any);
  await refusedProtobuf(t, api, 'DELETE', '/apis/kcs.io/v1/schedulerconfigurations/default', protobufBody({ apiVersion: 'v1', kind: 'DeleteOptions' }, {}));
  await refusedProtobuf(t, api, 'POST', '/apis/kcs.io/v1/commits', any);
  t.is((await api.get(`${NAMESPACES}/x`)).status, 404);
});

test('where protobuf is read, a 415 for another type lists it among the accepted types', withApp, async (t, api) => {
  const r = await api.post(PODS, 'name: web', { type: 'text/plain' });
  t.is(r.status, 415);
  t.regex(r.body.message, /accepted media types include: application\/json, application\/yaml, application\/vnd\.kubernetes\.protobuf/);
});

test('a protobuf body above the body limit is 413, and one within it is read', withAppOptions({ bodyLimit: 1024 }), async (t, api) => {
  const big = protobufBody(POD, { metadata: { name: 'big', annotations: { pad: 'x'.repeat(2048) } }, spec: podProto('big').spec });
  const r = await sendProtobuf(api, 'POST', PODS, big);
  t.is(r.status, 413, r.text);
  t.is(r.body.reason, 'RequestEntityTooLarge');
  t.is((await api.get(podPath('big'))).status, 404);
  t.is((await sendProtobuf(api, 'POST', PODS, protobufBody(POD, podProto('small')))).status, 201);
});
