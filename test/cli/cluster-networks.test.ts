// Two clusters on one machine: `kcs up --cluster-cidr --service-cluster-ip-range`
// gives the second its own loopback ranges, so both clusters' pods and
// Services answer at once on the same ports (with the defaults, the second
// cluster's first pod and Service would get the first's addresses). Ranges
// kcs cannot use are refused before anything starts, naming the flag.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneLine, runKcs, startServer, type KcsServer } from './helpers.ts';
import { eventually } from '../support/eventually.ts';

const NS = '/api/v1/namespaces/default';
const POD_PORT = 18600;
const SERVICE_PORT = 18601;

/** Which pod answered a request to ip:port. */
function answeredBy(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ip, port, agent: false, timeout: 3000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).pod) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end();
  });
}

/** A node, a pod on it listening on POD_PORT, and a Service over it: the pod's address and the Service's cluster IP. */
async function webOn(s: KcsServer, pod: string): Promise<{ podIP: string; clusterIP: string }> {
  const node = await s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '2', memory: '2Gi' } } });
  if (node.status !== 201) throw new Error(JSON.stringify(node.body));
  await s.api('POST', `${NS}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { app: pod } },
    spec: { nodeName: 'n1', containers: [{ name: 'app', ports: [{ containerPort: POD_PORT, name: 'http' }] }] },
  });
  const svc = await s.api('POST', `${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: pod }, spec: { selector: { app: pod }, ports: [{ port: SERVICE_PORT, targetPort: 'http' }] } });
  if (svc.status !== 201) throw new Error(JSON.stringify(svc.body));
  const podIP = await eventually(`${pod} Ready with an address`, async () => {
    const p = (await s.api('GET', `${NS}/pods/${pod}`)).body;
    return p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') && p.status.podIP as string;
  });
  return { podIP, clusterIP: svc.body.spec.clusterIP };
}

test('two clusters at once on one machine, the second with ranges of its own: each one\'s pod and Service answer on the same ports', async (t) => {
  t.timeout(90_000);
  const [a, b] = await Promise.all([
    startServer(),
    startServer({ args: ['--cluster-cidr', '127.128.0.0/10', '--service-cluster-ip-range', '127.33.0.0/16'] }),
  ]);
  t.teardown(async () => { await Promise.all([a.stop(), b.stop()]); });
  const [inA, inB] = await Promise.all([webOn(a, 'web-a'), webOn(b, 'web-b')]);
  t.is((await b.api('GET', '/api/v1/nodes/n1')).body.spec.podCIDR, '127.128.0.0/24', 'the second cluster\'s first node /24');
  t.regex(inA.podIP, /^127\.64\.0\.\d+$/);
  t.regex(inB.podIP, /^127\.128\.0\.\d+$/);
  t.regex(inA.clusterIP, /^127\.32\.\d+\.\d+$/);
  t.regex(inB.clusterIP, /^127\.33\.\d+\.\d+$/);

  t.is(await answeredBy(inA.podIP, POD_PORT), 'default/web-a');
  t.is(await answeredBy(inB.podIP, POD_PORT), 'default/web-b');
  t.is(await eventually('a\'s Service answering', () => answeredBy(inA.clusterIP, SERVICE_PORT).catch(() => undefined)), 'default/web-a');
  t.is(await eventually('b\'s Service answering', () => answeredBy(inB.clusterIP, SERVICE_PORT).catch(() => undefined)), 'default/web-b');

  // The second cluster's ranges bound what may be asked for, too.
  const node = await b.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' }, spec: { capacity: { cpu: '1' }, podCIDR: '127.64.9.0/24' } });
  t.is(node.status, 422);
  t.like(node.body.details.causes[0], { field: 'spec.podCIDR' });
  t.regex(node.body.message, /must be a \/24 of the pod network 127\.128\.0\.0\/10/);
  const svc = await b.api('POST', `${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fixed' }, spec: { clusterIP: '127.32.0.50', ports: [{ port: 80 }] } });
  t.is(svc.status, 422);
  t.like(svc.body.details.causes[0], { field: 'spec.clusterIP' });
  t.regex(svc.body.message, /The range of valid IPs is 127\.33\.0\.0\/16/);
  t.is((await b.api('GET', '/api/v1/nodes/n2')).status, 404, 'nothing stored');
});

test('kcs up refuses ranges it cannot use, naming the flag, before it makes anything', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kcs-networks-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const stateDir = join(root, 'state');
  const cases: Array<[string[], RegExp]> = [
    [['--cluster-cidr', '10.64.0.0/10'], /--cluster-cidr: the cluster CIDR "10\.64\.0\.0\/10" must lie within 127\.0\.0\.0\/8/],
    [['--cluster-cidr', '127.0.0.0/12'], /--cluster-cidr: .*must not overlap 127\.0\.0\.0\/16/],
    [['--service-cluster-ip-range', '127.64.0.0/16'], /--service-cluster-ip-range: the service cluster IP range 127\.64\.0\.0\/16 overlaps the cluster CIDR 127\.64\.0\.0\/10/],
    [['--service-cluster-ip-range', '127.0.0.0/8'], /--service-cluster-ip-range: .*must be a \/12 to a \/30/],
  ];
  for (const [flags, why] of cases) {
    const r = await runKcs(['up', '--port', '0', '--runtime', 'none', '--state-dir', stateDir, ...flags]);
    t.is(r.code, 2, flags.join(' '));
    t.regex(oneLine(r.stderr), why);
  }
  t.false(existsSync(stateDir), 'no state made');
});
