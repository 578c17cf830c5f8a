// Network policy semantics against a table of cases in the style of
// Kubernetes' network policy conformance tests: pods a, b in
// namespaces x and y, and a in z, each serving two ports; for every case
// the policies are applied and what should reach what is written out by
// hand, from Kubernetes' rules, as a truth table. Three answers must all
// equal it: `kcs netpol matrix` run as a real CLI process, real HTTP
// requests from each pod's address to each pod's address (the destination
// pod's own listener asks the API), and requests through each pod's own
// Service (the service proxy decides, and the pod's listener after it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import test from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { parseDocuments } from '../../src/objects/manifest.ts';
import type { Pod } from '../../src/objects/types.ts';
import type { Service } from '../../src/objects/services.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';
import { systemClock, type Clock, type Timer } from '../../src/util/clock.ts';
import { runKcs } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';

const K = (kind: string) => kindByName(kind)!;

const NAMESPACES = ['x', 'y', 'z'];
const PODS = ['x/a', 'x/b', 'y/a', 'y/b', 'z/a'];
/** Every pod's two container ports, named serve-80 and serve-81. */
const PORTS = [18480, 18481] as const;
type Port = (typeof PORTS)[number];
/** Each pod has a Service of its own (its namespace, its name) with this port, to its serve-80. */
const SERVICE_PORT = 18482;
/** How long a pod's listener keeps a verdict of the API (src/agent/pod-servers.ts). */
const VERDICT_KEPT_MS = 1_000;
/** Once the policies are in place, how long real traffic may take to follow them (the proxy learns them through a watch). */
const TRAFFIC_DEADLINE_MS = 10_000;

// ---- truth tables ---------------------------------------------------------------

/**
 * A reachability table as `kcs netpol matrix -A` prints it: rows from,
 * columns to; "." reachable, "X" blocked. In the tables written here "-"
 * marks a pod connecting to itself, which Kubernetes leaves to the network
 * plugin: there real traffic must only agree with what the CLI says.
 */
type Table = Map<string, string>;
const cell = (from: string, to: string) => `${from} -> ${to}`;

function parseMatrix(text: string): Table {
  const [header, ...rows] = text.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const table: Table = new Map();
  for (const [from, ...marks] of rows) {
    if (!from) break; // the blank line before the legend
    marks.forEach((mark, i) => table.set(cell(from, header![i + 1]!), mark));
  }
  return table;
}

/** A hand-written table, which must name every pod in order, both ways. */
function expected(text: string): Table {
  const table = parseMatrix(text);
  for (const from of PODS) for (const to of PODS) {
    const mark = table.get(cell(from, to));
    const proper = from === to ? mark === '-' : mark === '.' || mark === 'X';
    if (!proper) throw new Error(`the expected table has no proper mark for ${cell(from, to)}: ${text}`);
  }
  return table;
}

/** The cells where got differs from want, one readable line each; `-` cells are left out. */
function mismatches(want: Table, got: Table, label: (cell: string) => string): string[] {
  const out: string[] = [];
  for (const [key, mark] of want) {
    if (mark === '-') continue;
    const seen = got.get(key) ?? 'nothing';
    if (seen !== mark) out.push(`${label(key)}: expected ${mark}, got ${seen}`);
  }
  return out;
}

// ---- the cases ---------------------------------------------------------------------

interface Case { title: string; policies: string; expect: Record<Port, string> }
const onBothPorts = (table: string): Record<Port, string> => ({ 18480: table, 18481: table });

const policy = (namespace: string, name: string, spec: string) => `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${spec}
`;

const CASES: Case[] = [
  {
    title: 'no policies: every pod reaches every pod',
    policies: '',
    expect: onBothPorts(`
      -    x/a x/b y/a y/b z/a
      x/a  -   .   .   .   .
      x/b  .   -   .   .   .
      y/a  .   .   -   .   .
      y/b  .   .   .   -   .
      z/a  .   .   .   .   -`),
  },
  {
    title: 'default deny ingress in x: nothing reaches x, x reaches out',
    policies: policy('x', 'default-deny-ingress', '{podSelector: {}, policyTypes: [Ingress]}'),
    expect: onBothPorts(`
      -    x/a x/b y/a y/b z/a
      x/a  -   X   .   .   .
      x/b  X   -   .   .   .
      y/a  X   X   -   .   .
      y/b  X   X   .   -   .
      z/a  X   X   .   .   -`),
  },
  {
    title: 'allow from namespace y: x/a takes only y\'s pods, x/b is not selected',
    policies: policy('x', 'a-from-y', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]}'),
    expect: onBothPorts(`
      -    x/a x/b y/a y/b z/a
      x/a  -   .   .   .   .
      x/b  X   -   .   .   .
      y/a  .   .   -   .   .
      y/b  .   .   .   -   .
      z/a  X   .   .   .   -`),
  },
  {
    title: 'a port range with endPort: x takes 18470-18480 (its end included) from anyone, not 18481',
    policies: policy('x', 'range', '{podSelector: {}, ingress: [{ports: [{protocol: TCP, port: 18470, endPort: 18480}]}]}'),
    expect: {
      18480: `
        -    x/a x/b y/a y/b z/a
        x/a  -   .   .   .   .
        x/b  .   -   .   .   .
        y/a  .   .   -   .   .
        y/b  .   .   .   -   .
        z/a  .   .   .   .   -`,
      18481: `
        -    x/a x/b y/a y/b z/a
        x/a  -   X   .   .   .
        x/b  X   -   .   .   .
        y/a  X   X   -   .   .
        y/b  X   X   .   -   .
        z/a  X   X   .   .   -`,
    },
  },
  {
    // y/a may send only to x/b, and x/b takes only y/a and only on 18480:
    // y/a -> x/a is its egress denied, y/a -> x/b:18481 x/b's ingress.
    title: 'egress plus ingress: a connection needs the source\'s egress and the destination\'s ingress',
    policies: policy('y', 'a-to-x-b', '{podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: b}}}]}]}')
      + policy('x', 'b-from-y-a', '{podSelector: {matchLabels: {pod: b}}, policyTypes: [Ingress], ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: a}}}], ports: [{port: 18480}]}]}'),
    expect: {
      18480: `
        -    x/a x/b y/a y/b z/a
        x/a  -   X   .   .   .
        x/b  .   -   .   .   .
        y/a  X   .   -   X   X
        y/b  .   X   .   -   .
        z/a  .   X   .   .   -`,
      18481: `
        -    x/a x/b y/a y/b z/a
        x/a  -   X   .   .   .
        x/b  .   -   .   .   .
        y/a  X   X   -   X   X
        y/b  .   X   .   -   .
        z/a  .   X   .   .   -`,
    },
  },
  {
    // A podSelector alone picks pods of the policy's namespace: x/b, not y/b.
    title: 'policies add up: deny-all plus two allows for x/a, each on its own port',
    policies: policy('x', 'default-deny-ingress', '{podSelector: {}, policyTypes: [Ingress]}')
      + policy('x', 'a-from-b-on-18480', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}], ports: [{port: 18480}]}]}')
      + policy('x', 'a-from-z-on-18481', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}], ports: [{port: 18481}]}]}'),
    expect: {
      18480: `
        -    x/a x/b y/a y/b z/a
        x/a  -   X   .   .   .
        x/b  .   -   .   .   .
        y/a  X   X   -   .   .
        y/b  X   X   .   -   .
        z/a  X   X   .   .   -`,
      18481: `
        -    x/a x/b y/a y/b z/a
        x/a  -   X   .   .   .
        x/b  X   -   .   .   .
        y/a  X   X   -   .   .
        y/b  X   X   .   -   .
        z/a  .   X   .   .   -`,
    },
  },
  {
    // A named port is the destination's container port of that name, in
    // egress rules too: y sends only to serve-80 (18480), x/a takes only
    // serve-81 (18481), so nothing of y reaches x/a at all.
    title: 'named ports: x/a takes only serve-81, y sends only to serve-80',
    policies: policy('x', 'a-on-serve-81', '{podSelector: {matchLabels: {pod: a}}, ingress: [{ports: [{port: serve-81}]}]}')
      + policy('y', 'egress-on-serve-80', '{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: serve-80}]}]}'),
    expect: {
      18480: `
        -    x/a x/b y/a y/b z/a
        x/a  -   .   .   .   .
        x/b  X   -   .   .   .
        y/a  X   .   -   .   .
        y/b  X   .   .   -   .
        z/a  X   .   .   .   -`,
      18481: `
        -    x/a x/b y/a y/b z/a
        x/a  -   .   .   .   .
        x/b  .   -   .   .   .
        y/a  X   X   -   X   X
        y/b  X   X   X   -   X
        z/a  .   .   .   .   -`,
    },
  },
];

// ---- the cluster ------------------------------------------------------------------------

/**
 * The nodes' clock: real time, which a test may move ahead. Moving it past
 * a verdict's lifetime makes every pod listener ask the API again, so the
 * next requests answer for the new policies, not for the last case's.
 */
class MovableClock implements Clock {
  private ahead = 0;
  now(): Date { return new Date(Date.now() + this.ahead); }
  setTimer(fn: () => void, ms: number): Timer { return systemClock.setTimer(fn, ms); }
  skip(ms: number): void { this.ahead += ms; }
}

interface Cluster { cp: ControlPlane; runtime: VirtualRuntime; stateDir: string; clock: MovableClock; podIps: Map<string, string>; serviceIps: Map<string, string> }
let cluster: Cluster | undefined;

test.after.always(async () => {
  if (!cluster) return;
  await cluster.cp.close();
  await cluster.runtime.close();
  rmSync(cluster.stateDir, { recursive: true, force: true });
});

test.before(async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kcs-netpol-conformance-'));
  const clock = new MovableClock();
  const runtime = new VirtualRuntime({ transport: 'in-process', clock });
  const cp = await startControlPlane({ stateDir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500, log: () => {} });
  cluster = { cp, runtime, stateDir, clock, podIps: new Map(), serviceIps: new Map() };
  const c = cp.adminClient();
  await c.create(K('Node'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '8' } } });
  for (const ns of NAMESPACES) await c.create(K('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } });
  const { podIps, serviceIps } = cluster;
  for (const key of PODS) {
    const [ns, name] = key.split('/') as [string, string];
    await c.create(K('Pod'), ns, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { pod: name } },
      spec: { containers: [{ name: 'server', ports: [{ name: 'serve-80', containerPort: 18480 }, { name: 'serve-81', containerPort: 18481 }] }] },
    });
    const svc = (await c.create<Service>(K('Service'), ns, {
      apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { pod: name }, ports: [{ port: SERVICE_PORT, targetPort: 'serve-80' }] },
    })).body;
    serviceIps.set(key, svc.spec.clusterIP!);
  }
  for (const key of PODS) {
    const [ns, name] = key.split('/') as [string, string];
    podIps.set(key, await eventually(`${key} to have an address`, async () => (await c.get<Pod>(K('Pod'), ns, name)).status?.podIP));
  }
});

/** Replaces every policy with the case's. */
async function applyPolicies({ cp }: Cluster, manifests: string): Promise<void> {
  const c = cp.adminClient();
  for (const ns of NAMESPACES) await c.deleteCollection(K('NetworkPolicy'), ns);
  for (const doc of parseDocuments(manifests).filter(Boolean) as Array<{ metadata: { namespace: string } }>) {
    await c.create(K('NetworkPolicy'), doc.metadata.namespace, doc);
  }
}

/** `kcs netpol matrix -A --port N`, a real CLI process against this control plane. */
async function cliMatrix({ cp, stateDir }: Cluster, port: Port): Promise<Table> {
  const r = await runKcs(['netpol', 'matrix', '-A', '--port', String(port)], { stateDir, env: { KCS_SERVER: cp.url, KCS_TOKEN: cp.adminToken } });
  if (r.code !== 0) throw new Error(`kcs netpol matrix --port ${port} exited ${r.code}: ${r.stderr}`);
  return parseMatrix(r.stdout);
}

/**
 * One real request from the pod at `from`: "." when the pod `to` answered
 * it with 200, "X" when the connection was cut off (as kcs enforces a
 * denial), anything else in words (nothing listening, a timeout, another pod).
 */
function attempt(ip: string, port: number, from: string, to: string): Promise<string> {
  return new Promise((resolve) => {
    const r = request({ host: ip, port, localAddress: from, agent: false, timeout: 3_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const servedBy = res.headers['x-kcs-pod'];
        resolve(res.statusCode === 200 && servedBy === to ? '.' : `? (HTTP ${res.statusCode} from ${String(servedBy)})`);
      });
    });
    r.on('timeout', () => r.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    // Cut off: reset, or closed before the request was all written (the proxy refuses at once).
    r.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'X' : `? (${err.code ?? err.message})`));
    r.end();
  });
}

/** Real traffic between every pair of pods: direct on each port, and through the destination's Service. */
async function trafficTables({ podIps, serviceIps }: Cluster): Promise<{ direct: Record<Port, Table>; viaService: Table }> {
  const direct = { 18480: new Map(), 18481: new Map() } as Record<Port, Table>;
  const viaService: Table = new Map();
  const pairs = PODS.flatMap((from) => PODS.map((to) => [from, to] as const));
  await Promise.all(pairs.flatMap(([from, to]) => [
    ...PORTS.map(async (port) => { direct[port].set(cell(from, to), await attempt(podIps.get(to)!, port, podIps.get(from)!, to)); }),
    (async () => { viaService.set(cell(from, to), await attempt(serviceIps.get(to)!, SERVICE_PORT, podIps.get(from)!, to)); })(),
  ]));
  return { direct, viaService };
}

for (const c of CASES) {
  test.serial(`${c.title} (kcs netpol matrix, direct requests and Services agree with the table)`, async (t) => {
    const world = cluster!;
    await applyPolicies(world, c.policies);
    world.clock.skip(VERDICT_KEPT_MS);

    const want = { 18480: expected(c.expect[18480]), 18481: expected(c.expect[18481]) };
    const [cli18480, cli18481] = await Promise.all(PORTS.map((port) => cliMatrix(world, port)));
    const cli = { 18480: cli18480!, 18481: cli18481! };
    for (const port of PORTS) {
      t.deepEqual(mismatches(want[port], cli[port], (k) => `${k} port ${port}`), [], `kcs netpol matrix --port ${port}`);
    }

    // Where the table leaves a pod to itself, real traffic must do what the CLI says.
    const wantOfTraffic = (port: Port): Table => new Map([...want[port]].map(([k, mark]) => [k, mark === '-' ? cli[port].get(k) ?? '?' : mark]));
    const labels = {
      18480: (k: string) => `${k} port 18480`,
      18481: (k: string) => `${k} port 18481`,
      service: (k: string) => `${k.replace(/-> /, '-> Service ')} port ${SERVICE_PORT} (to serve-80)`,
    };
    // The pod's listener would refuse what the proxy wrongly let through:
    // the proxy's own count shows that it was the one to refuse.
    const proxy = world.cp.controllers!.serviceProxy;
    let differing: string[] = [];
    await eventually(() => `real traffic to match the table; cells that differ:\n  ${differing.join('\n  ')}`, async () => {
      const deniedBefore = proxy.stats.denied;
      const got = await trafficTables(world);
      const deniedByProxy = proxy.stats.denied - deniedBefore;
      const cutOff = [...got.viaService.values()].filter((mark) => mark === 'X').length;
      differing = [
        ...PORTS.flatMap((port) => mismatches(wantOfTraffic(port), got.direct[port], labels[port])),
        ...mismatches(wantOfTraffic(18480), got.viaService, labels.service),
        ...(deniedByProxy === cutOff ? [] : [`the service proxy refused ${deniedByProxy} of the ${cutOff} connections to Services cut off`]),
      ];
      return differing.length === 0;
    }, TRAFFIC_DEADLINE_MS);
    t.deepEqual(differing, [], 'real traffic');
  });
}
