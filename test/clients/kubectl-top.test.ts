// Resource usage end to end: pods state what they use (kcs.io/usage), their
// nodes' agents report it each heartbeat, and the real kubectl's `top`
// prints it through metrics.k8s.io, as `kcs top` does, with -l, -A and
// --sort-by. Constant profiles, so the figures are exact.
import test from 'ava';
import { join } from 'node:path';
import { parseTable, sharedServer } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { kubectlFor, kubectlOrSkip, type KubectlRunner } from './kubectl.ts';

const server = sharedServer(test, ['team']);
const kt = kubectlOrSkip(test);
let runner: KubectlRunner | undefined;
const kubectl = (args: string[]) => (runner ??= kubectlFor(join(server().stateDir, 'kubeconfig')))(args);
test.after.always(() => runner?.cleanup());

function pod(name: string, namespace: string, usage: string | undefined, labels: Record<string, string>, cpuRequest = '500m') {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace, labels, ...(usage ? { annotations: { 'kcs.io/usage': usage } } : {}) },
    spec: { nodeName: 'top-node', containers: [{ name: 'app', resources: { requests: { cpu: cpuRequest, memory: '256Mi' } } }, { name: 'sidecar' }] },
  };
}

let setUp: Promise<void> | undefined;
/** The node and pods, made once, by the first test that runs (hooks run side by side with the server's). */
const ready = () => (setUp ??= makePods());
async function makePods(): Promise<void> {
  const s = server();
  const node = await s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'top-node', labels: { tier: 'top' } }, spec: { capacity: { cpu: '4', memory: '8Gi' } } });
  if (node.status !== 201) throw new Error(JSON.stringify(node.body));
  const pods = [
    pod('busy', 'default', '{cpu: 300m, memory: 100Mi, sidecar: {cpu: 20m, memory: 10Mi}}', { app: 'busy' }),
    // No annotation: half of each request (250m, 128Mi), and the idle 1m / 4Mi for the sidecar, which requests nothing.
    pod('quiet', 'default', undefined, { app: 'quiet' }),
    pod('other', 'team', '{cpu: 1, memory: 1Gi, sidecar: {cpu: 0, memory: 0}}', { app: 'other' }),
  ];
  for (const p of pods) {
    const r = await s.api('POST', `/api/v1/namespaces/${p.metadata.namespace}/pods`, p);
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
  // Reported by the node's agent once the pods run there.
  await eventually('the three pods\' usage in metrics.k8s.io', async () => {
    const r = await s.api('GET', '/apis/metrics.k8s.io/v1beta1/pods');
    return r.status === 200 && r.body.items.length === 3;
  });
}

test('metrics.k8s.io serves what the agent computed from each pod\'s profile, in metrics-server\'s units', async (t) => {
  await ready();
  const r = await server().api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy');
  t.is(r.status, 200);
  t.like(r.body, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'busy', namespace: 'default', labels: { app: 'busy' } } });
  t.regex(r.body.window, /^[0-9.]+s$/, 'the heartbeat the figures are averaged over');
  t.deepEqual(r.body.containers, [
    { name: 'app', usage: { cpu: '300m', memory: `${100 * 1024}Ki` } },
    { name: 'sidecar', usage: { cpu: '20m', memory: `${10 * 1024}Ki` } },
  ]);
  const node = await server().api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/top-node');
  // 320m + (250m + 1m) + 1000m; 110Mi + (128Mi + 4Mi) + 1Gi
  t.deepEqual(node.body.usage, { cpu: '1571m', memory: `${(110 + 132 + 1024) * 1024}Ki` });
  const selected = await server().api('GET', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dquiet');
  t.deepEqual(selected.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['quiet']);
  const history = await server().api('GET', '/apis/kcs.io/v1/nodeusagehistories/top-node');
  t.is(history.body.samples.at(-1).usage.cpu, '1571m');
});

kt('kubectl top nodes and pods print the reported usage', async (t) => {
  await ready();
  const nodes = await kubectl(['top', 'nodes', '-l', 'tier=top']);
  t.is(nodes.code, 0, nodes.stderr);
  t.like(parseTable(nodes.stdout)[0], { NAME: 'top-node', 'CPU(cores)': '1571m', 'CPU(%)': '39%', 'MEMORY(bytes)': '1266Mi', 'MEMORY(%)': '15%' });
  const pods = await kubectl(['top', 'pods', '-A', '--sort-by=cpu']);
  t.is(pods.code, 0, pods.stderr);
  t.deepEqual(parseTable(pods.stdout).map((r) => [r.NAMESPACE, r.NAME, r['CPU(cores)'], r['MEMORY(bytes)']]), [
    ['team', 'other', '1000m', '1024Mi'],
    ['default', 'busy', '320m', '110Mi'],
    ['default', 'quiet', '251m', '132Mi'],
  ]);
  const containers = await kubectl(['top', 'pod', 'busy', '--containers']);
  t.deepEqual(parseTable(containers.stdout).map((r) => [r.POD, r.NAME, r['CPU(cores)']]), [['busy', 'app', '300m'], ['busy', 'sidecar', '20m']]);
});

test('kcs top nodes and pods print the same, with -l, -A and --sort-by', async (t) => {
  await ready();
  const nodes = await server().kcs(['top', 'nodes', '-l', 'tier=top']);
  t.is(nodes.code, 0, nodes.stderr);
  t.like(parseTable(nodes.stdout)[0], { NAME: 'top-node', 'CPU(cores)': '1571m', 'CPU(%)': '39%', 'MEMORY(bytes)': '1266Mi', 'MEMORY(%)': '15%' });
  const pods = await server().kcs(['top', 'pods', '-A', '--sort-by=memory']);
  t.deepEqual(parseTable(pods.stdout).map((r) => [r.NAMESPACE, r.NAME, r['MEMORY(bytes)']]), [['team', 'other', '1024Mi'], ['default', 'quiet', '132Mi'], ['default', 'busy', '110Mi']]);
  const labelled = await server().kcs(['top', 'pods', '-l', 'app=busy']);
  t.deepEqual(parseTable(labelled.stdout).map((r) => r.NAME), ['busy']);
  const none = await server().kcs(['top', 'pods', '-n', 'kube-system']);
  t.is(none.stdout.trim(), 'No resources found in kube-system namespace.');
});

test('a node may report usage only for itself, and a malformed report is refused naming the field', async (t) => {
  await ready();
  const s = server();
  const report = { apiVersion: 'kcs.io/v1', kind: 'NodeUsageReport', metadata: { name: 'top-node' }, windowSeconds: 1, pods: [] };
  await s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'other-node' }, spec: { capacity: { cpu: '1' } } });
  const token = await s.api('POST', '/api/v1/nodes/other-node/token', {});
  t.is(token.status, 201, JSON.stringify(token.body));
  const asOther = await fetchAs(token.body.status.token, report);
  t.is(asOther.status, 403);
  const bad = await s.api('POST', '/apis/kcs.io/v1/nodeusagereports', { ...report, windowSeconds: -1 });
  t.is(bad.status, 422);
  t.like(bad.body, { kind: 'Status', reason: 'Invalid', details: { causes: [{ field: 'windowSeconds' }] } });
  // The good figures are still there.
  const still = await s.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/top-node');
  t.is(still.body.usage.cpu, '1571m');
});

async function fetchAs(token: string, body: unknown): Promise<{ status: number }> {
  const { requestWithCa } = await import('../support/https-request.ts');
  const res = await requestWithCa(`${server().url}/apis/kcs.io/v1/nodeusagereports`, {
    method: 'POST', ca: server().ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status };
}
