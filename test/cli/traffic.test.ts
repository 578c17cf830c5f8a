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
      spec: { containers: [{ name: 'app', resources: { requests: { cpu: '10m' } }, ports: [{ containerPort: 8080, name: 'http' }] }] },
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

test('traffic refuses a target that is not a Service', async (t) => {
  const r = await server().kcs(['traffic', 'pod/x']);
  t.is(r.code, 1);
  t.regex(oneLine(r.stderr), /pod\/x: give a Service as svc\/NAME/);
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
