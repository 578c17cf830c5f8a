// Every kind of response the API gives, from a real control plane whose
// virtual nodes give nodes and pods real statuses, decodes in a typed
// Kubernetes client: objects, lists, watch events, Status errors, /version,
// discovery and the kcs.io kinds, each checked with test/support/kube-types.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { apiPrefix, KINDS } from '../../src/objects/kinds.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { eventually } from '../support/eventually.ts';
import { typeProblems } from '../support/kube-types.ts';
import { client, watch, type Client } from './helpers.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

test('every object, list, watch event, error, version and discovery document decodes as its official type', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-typed-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 200, log: () => {} });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const api: Client = client(cp.url, cp.adminToken);

  const problems: string[] = [];
  const check = async (what: string, value: unknown, definition?: string) => {
    for (const p of await typeProblems(value, definition)) problems.push(`${what}: ${p}`);
  };
  const ok = async (path: string, init?: Parameters<Client['request']>[2], method = 'GET') => {
    const r = await api.request(method, path, init);
    t.true(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };

  // A cluster with something of every kind: a node whose agent reports, a
  // running pod (container statuses, the scheduling record), events, leases.
  await ok('/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } }, spec: { capacity: { cpu: '4', memory: '8Gi' } } } }, 'POST');
  await ok('/api/v1/namespaces/default/pods', {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '500m', memory: '64Mi' } } }] } },
  }, 'POST');
  await ok('/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge' }, spec: { containers: [{ name: 'app', image: 'x', resources: { requests: { cpu: '64' } } }] } } }, 'POST');
  await eventually('web Running with its container started', async () => {
    const pod = (await api.get('/api/v1/namespaces/default/pods/web')).body;
    return pod.status?.phase === 'Running' && pod.status.containerStatuses?.length === 1;
  });
  await eventually('huge refused by the scheduler', async () => (await api.get('/api/v1/namespaces/default/pods/huge')).body.status?.scheduling);
  await eventually('a node lease', async () => (await api.get('/apis/coordination.k8s.io/v1/leases')).body.items?.length > 0);
  await ok('/apis/kcs.io/v1/schedulerconfigurations', { body: { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'spread' } } }, 'POST');
  await ok('/apis/kcs.io/v1/nodepools', { body: { apiVersion: 'kcs.io/v1', kind: 'NodePool', metadata: { name: 'small' }, spec: { maxNodes: 2, template: { spec: { capacity: { cpu: '1' } } } } } }, 'POST');
  await ok('/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', {
    body: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-allow' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '127.64.0.0/10', except: ['127.64.1.0/24'] } }, { namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] } }], ports: [{ protocol: 'TCP', port: 80, endPort: 90 }, { port: 'http' }] }] } },
  }, 'POST');

  // Batch work: a user PriorityClass beside the system ones, a Job (its selector generated), a Workflow.
  await ok('/apis/scheduling.k8s.io/v1/priorityclasses', { body: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'batch' }, value: 1000, description: 'Batch work' } }, 'POST');
  const jobSpec = { completions: 2, template: { spec: { restartPolicy: 'Never', priorityClassName: 'batch', containers: [{ name: 'work', image: 'busybox' }] } } };
  await ok('/apis/batch/v1/namespaces/default/jobs', { body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'crunch' }, spec: jobSpec } }, 'POST');
  await ok('/apis/kcs.io/v1/namespaces/default/workflows', {
    body: { apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'pipeline' }, spec: { jobs: [{ name: 'prepare', template: { spec: jobSpec } }, { name: 'train', dependsOn: ['prepare'], template: { metadata: { labels: { stage: 'train' } }, spec: jobSpec } }] } },
  }, 'POST');

  // A Service selecting the running pod: the endpoints controller gives it an EndpointSlice and Endpoints.
  await ok('/api/v1/namespaces/default/services', { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { run: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } }, 'POST');
  await eventually('the Service\'s EndpointSlice and Endpoints', async () => (await api.get('/apis/discovery.k8s.io/v1/endpointslices')).body.items?.length > 0
    && (await api.get('/api/v1/namespaces/default/endpoints/web')).status === 200);

  for (const kind of KINDS) {
    const prefix = apiPrefix(kind);
    const list = await ok(`${prefix}/${kind.plural}`);
    t.true(list.items.length > 0, `some ${kind.plural} to check`);
    await check(`list ${kind.plural}`, list);
    for (const item of list.items) {
      const path = `${prefix}${kind.namespaced ? `/namespaces/${item.metadata.namespace}` : ''}/${kind.plural}/${item.metadata.name}`;
      await check(`get ${path}`, await ok(path));
    }
    const page = await ok(`${prefix}/${kind.plural}?limit=1`);
    await check(`page of ${kind.plural}`, page);

    const w = watch(t, api, `${prefix}/${kind.plural}?watch=true&allowWatchBookmarks=true`);
    const events = await w.waitFor(list.items.length);
    for (const e of events) {
      await check(`watch ${kind.plural} event`, e, `${META}.WatchEvent`);
      await check(`watch ${kind.plural} object`, e.object);
    }
    w.close();
  }

  // Writes answer with the object written; a watch sees them as MODIFIED and DELETED.
  const podWatch = watch(t, api, '/api/v1/namespaces/default/pods?watch=true');
  const node = await ok('/api/v1/nodes/n1');
  await check('update', await ok('/api/v1/nodes/n1', { body: { ...node, metadata: { ...node.metadata, labels: { zone: 'b' } } } }, 'PUT'));
  await check('patch', await ok('/api/v1/nodes/n1', { body: { metadata: { labels: { zone: 'c' } } }, type: 'application/merge-patch+json' }, 'PATCH'));
  const status = await ok('/api/v1/nodes/n1/status');
  await check('status', status);
  await check('status update', await ok('/api/v1/nodes/n1/status', { body: { ...status, metadata: { ...status.metadata, resourceVersion: undefined } } }, 'PUT'));
  await ok('/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bind-me' }, spec: { schedulerName: 'elsewhere', containers: [{ name: 'c', image: 'x' }] } } }, 'POST');
  await check('binding', await ok('/api/v1/namespaces/default/pods/bind-me/binding', { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { kind: 'Node', name: 'n1' } } }, 'POST'));
  await check('delete', await ok('/api/v1/namespaces/default/pods/bind-me', undefined, 'DELETE'));
  const seen = await eventually('the watch to see bind-me deleted', () => {
    const i = podWatch.events.findIndex((e) => e.type === 'DELETED' && e.object?.metadata?.name === 'bind-me');
    return i >= 0 ? podWatch.events.slice(0, i + 1) : undefined;
  });
  t.true(seen.some((e) => e.type === 'MODIFIED'), 'the binding was seen');
  for (const e of seen) {
    await check(`watch ${e.type}`, e, `${META}.WatchEvent`);
    await check(`watch ${e.type} object`, e.object);
  }
  podWatch.close();
  const commit = await ok('/apis/kcs.io/v1/commits', {
    body: { apiVersion: 'kcs.io/v1', kind: 'Commit', operations: [{ verb: 'create', object: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'n1' }, reason: 'Test', message: 'hello', type: 'Normal' } }] },
  }, 'POST');
  await check('commit', commit);
  for (const result of commit.results) await check('commit result', result);
  await check('node token', await ok('/api/v1/nodes/n1/token', { body: {} }, 'POST'));

  // Errors are Status objects.
  const failures: Array<[string, string, Parameters<Client['request']>[2]?]> = [
    ['GET', '/api/v1/namespaces/default/pods/missing'],
    ['POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } } }],
    ['POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'Bad_Name' }, spec: { capacity: { cpu: '1' } } } }],
    ['POST', '/api/v1/nodes', { body: '{not json' }],
    ['GET', '/api/v1/nodes', { token: null }],
    ['GET', '/api/v1/nosuchthing'],
    ['PUT', '/api/v1/nodes/n1', { body: { ...node, metadata: { ...node.metadata, resourceVersion: '1' } } }],
    ['PUT', '/api/v1/nodes', { body: node }],
    ['POST', '/api/v1/nodes', { body: 'a: b', type: 'text/plain' }],
    ['GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } }],
  ];
  const codes = new Set<number>();
  for (const [method, path, init] of failures) {
    const r = await api.request(method, path, init);
    codes.add(r.status);
    await check(`${method} ${path} (${r.status})`, r.body);
  }
  t.deepEqual([...codes].sort(), [400, 401, 404, 405, 406, 409, 415, 422], 'one of each error the API gives');

  // Version and discovery.
  await check('/version', (await api.get('/version', { token: null })).body, 'io.k8s.apimachinery.pkg.version.Info');
  await check('/api', await ok('/api'));
  await check('/apis', await ok('/apis'));
  await check('/api/v1', await ok('/api/v1'));
  for (const group of (await ok('/apis')).groups) {
    for (const v of group.versions) await check(`/apis/${v.groupVersion}`, await ok(`/apis/${v.groupVersion}`));
  }

  t.deepEqual(problems, []);
});
