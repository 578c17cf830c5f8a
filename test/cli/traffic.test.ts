// `kcs traffic` against `kcs up` (virtual nodes: the pods listen in the
// server's process on their 127.64.x.y addresses): requests at a steady rate
// through the Service's cluster IP, balanced round-robin over its three pods,
// and the report that counts them; and what it refuses to send to.
import test from 'ava';
import { oneLine, sharedServer } from './helpers.ts';
import { eventually } from '../support/eventually.ts';

const server = sharedServer(test);

const NS = '/api/v1/namespaces/default';

async function created(res: Promise<{ status: number; body: any }>): Promise<any> {
  const r = await res;
  if (r.status !== 201) throw new Error(`expected 201, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

test('traffic to a Service is answered by each of its pods in turn, and reported', async (t) => {
  const s = server();
  await created(s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'traffic-node' }, spec: { capacity: { cpu: '4', memory: '4Gi' } } }));
  for (const name of ['t-1', 't-2', 't-3']) {
    await created(s.api('POST', `${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 't' } },
      spec: { containers: [{ name: 'app', resources: { requests: { cpu: '10m' } }, ports: [{ containerPort: 18110, name: 'http' }] }] },
    }));
  }
  await created(s.api('POST', `${NS}/services`, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'traffic' },
    spec: { selector: { app: 't' }, ports: [{ port: 18100, targetPort: 'http' }] },
  }));
  await eventually('the EndpointSlice to list 3 ready endpoints', async () => {
    const r = await s.api('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dtraffic');
    const ready = (r.body.items ?? []).flatMap((sl: any) => sl.endpoints ?? []).filter((e: any) => e.conditions?.ready);
    return ready.length === 3;
  });

  const r = await s.kcs(['traffic', 'svc/traffic', '--rps', '30', '--duration', '2s']);
  t.is(r.code, 0, r.stderr);
  // The final report is the last summary line and the per-pod lines after it.
  const summaries = [...r.stdout.matchAll(/^(\d+\.\d) s: (\d+) sent, (\d+) answered, latency p50 (\d+\.\d) ms p99 (\d+\.\d) ms, errors: (.+)$/gm)];
  const last = summaries.at(-1);
  t.truthy(last, r.stdout);
  const [, , sent, answered, p50, p99, errors] = last!;
  t.true(Math.abs(Number(sent) - 60) <= 2, `~60 sent at 30/s for 2 s, got ${sent}`);
  t.is(answered, sent);
  t.is(errors, 'none');
  t.true(Number(p50) > 0 && Number(p99) >= Number(p50), `p50 ${p50} ms, p99 ${p99} ms`);

  const byPod = new Map([...r.stdout.slice(last!.index).matchAll(/^\s+default\/(t-\d)\s+(\d+)\s+\d+\.\d%$/gm)].map((m) => [m[1]!, Number(m[2])]));
  t.deepEqual([...byPod.keys()].sort(), ['t-1', 't-2', 't-3']);
  for (const [pod, n] of byPod) t.true(Math.abs(n - Number(sent) / 3) <= 2, `${pod} served ${n} of ${sent}: round-robin gives each a third`);
});

test('traffic refuses a target that is neither a Service nor a pod, and a pod that does not exist', async (t) => {
  const r = await server().kcs(['traffic', 'deploy/x']);
  t.is(r.code, 1);
  t.regex(oneLine(r.stderr), /deploy\/x: give a Service as svc\/NAME or a pod as pod\/NAME/);
  const missing = await server().kcs(['traffic', 'pod/nowhere']);
  t.is(missing.code, 1);
  t.regex(oneLine(missing.stderr), /pods "nowhere" not found/);
});

test('a pod\'s kcs.io/calls reach the Service\'s pods through its cluster IP, and traffic pod/NAME shows what they met', async (t) => {
  const s = server();
  await created(s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'calls-node' }, spec: { capacity: { cpu: '4', memory: '4Gi' } } }));
  for (const name of ['callee-1', 'callee-2']) {
    await created(s.api('POST', `${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'callee' } },
      spec: { nodeName: 'calls-node', containers: [{ name: 'app', ports: [{ containerPort: 18112, name: 'http' }] }] },
    }));
  }
  await created(s.api('POST', `${NS}/services`, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'callee' }, spec: { selector: { app: 'callee' }, ports: [{ name: 'web', port: 18102, targetPort: 'http' }] },
  }));
  await created(s.api('POST', `${NS}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'caller', annotations: { 'kcs.io/calls': 'callee.default.svc:web 20/s' } },
    spec: { nodeName: 'calls-node', containers: [{ name: 'app' }] },
  }));
  // The endpoints come up while the caller already calls: errors until then are expected, answers after.
  // Reported with the node's usage, each heartbeat: every 10 s for a virtual node of `kcs up`.
  const calls = await eventually('both callees answered the caller', async () => {
    const r = await s.api('GET', '/apis/kcs.io/v1/namespaces/default/podcalls/caller');
    const c = r.body.calls?.[0];
    return r.status === 200 && c?.byPod['default/callee-1'] >= 5 && c?.byPod['default/callee-2'] >= 5 ? r.body : undefined;
  }, 30_000);
  t.is(calls.kind, 'PodCalls');
  t.is(calls.node, 'calls-node');
  const c = calls.calls[0];
  t.is(c.call, 'callee.default.svc:web 20/s');
  t.is(c.answered, c.byPod['default/callee-1'] + c.byPod['default/callee-2'], 'every answer from one of the two');

  const r = await s.kcs(['traffic', 'pod/caller']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^calls of pod default\/caller \(node calls-node\), reported /m);
  t.regex(r.stdout, /^  callee\.default\.svc:web 20\/s: \d+ sent, \d+ answered, latency p50 \d+\.\d ms p99 \d+\.\d ms, errors: /m);
  t.regex(r.stdout, /^    default\/callee-1\s+\d+\s+\d+\.\d%$/m);
  t.regex(r.stdout, /^    default\/callee-2\s+\d+\s+\d+\.\d%$/m);
  const none = await s.kcs(['traffic', 'pod/callee-1']);
  t.is(none.code, 0, none.stderr);
  t.regex(none.stdout, /pod default\/callee-1 reports no calls/);
});

test('traffic refuses a headless Service: it has no cluster IP to send to', async (t) => {
  const s = server();
  await created(s.api('POST', `${NS}/services`, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless' },
    spec: { clusterIP: 'None', selector: { app: 'h' }, ports: [{ port: 18101 }] },
  }));
  const r = await s.kcs(['traffic', 'svc/headless', '--duration', '1s']);
  t.is(r.code, 1);
  t.regex(oneLine(r.stderr), /service headless has no cluster IP \(headless\)/);
});
