// Services benchmark: what the service proxy costs per request, and how soon
// traffic stops going to a failed node's pods.
//
// 1  Proxy cost. One `bin/kcs up --runtime virtual` child: two virtual nodes
//    and 3 pods (service time 0) with containerPort 8080, all in the child's
//    process, as are the service proxy and the pods' HTTP listeners. A
//    Service (port 80 -> 8080, round-robin) selects them. This process sends
//    --requests (5000) GETs at --concurrency (20) at once, in four passes:
//      direct      to the pods' podIP:8080, spread evenly over the three
//      proxied     to the Service's clusterIP:80 (the proxy picks the pod)
//    each once with a new connection per request (keep-alive off: every
//    request is a connection through the proxy, its cost per connection) and
//    once with keep-alive (the proxy is then a byte copier on long-lived
//    connections, each pinned to one pod). Each pass is run --rounds (2)
//    times, direct and proxied taking turns to go first, each run after
//    --warmup (500) unmeasured requests on fresh connections. Reported per pass: requests per second,
//    latency p50/p99 (from request to the end of the answer), errors, and the
//    CPU of the kcs up process (proxy and pods both) per request; the proxy's
//    added latency is proxied p50 - direct p50. Client, proxy and pods share
//    one machine, and the proxy and the pods one event loop.
//
// 2  Endpoint update after a node failure. A `bin/kcs up --runtime docker`
//    child (virtual nodes if no Docker daemon answers; the output says which)
//    with heartbeats every 1000 ms and a 3000 ms grace: node `victim` holds
//    two of the Service's pods, node `spare` the third. Watches follow the
//    nodes and the Service's EndpointSlices; this process sends a GET to the
//    cluster IP every 5 ms (new connection each, 1 s timeout). t0 is taken
//    just before the failure request (the Node annotation kcs.io/fail-
//    requested, what `kcs fail node` sends; the node controller kills the
//    machine). From t0:
//      machine dead   the victim's pod addresses can be listened on again
//                     (nothing of the victim holds them any more)
//      detected       the victim's Ready condition no longer True (watch)
//      endpoints      no EndpointSlice lists a victim pod as ready (watch)
//      last dead hit  the last connection the proxy sent to a victim address
//      clean from     the end of the first request, sent after that, that
//                     succeeded: from then on no request touches a dead pod
//    A dead pod's address refuses connections (nothing listens there) and
//    the proxy then quietly tries the next endpoint, so in kcs clients do not
//    see those attempts. To see them, this process listens on the victim's
//    pod addresses as soon as they are free and counts the connections that
//    still arrive; each is closed at once, so the request behind it fails,
//    as it would where a dead node's addresses drop packets instead. The
//    probe's failed requests are reported too.
//
// Prints the machine (CPUs, node version), a table per part and one JSON
// line. Exits non-zero if a step fails or a pass has errors. Child processes,
// temp state dirs and the Docker containers of the cluster are removed on
// every exit, Ctrl-C included.
//
//   node bench/services.ts [--requests 5000] [--concurrency 20] [--warmup 500] [--rounds 2]
//                          [--runtime docker|virtual] [--time-limit S]
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import {
  apiAgent, checkBuild, cleanupOnExit, Deadline, httpCall, intOpt, msSince, printTable, removeClusterContainersSync, report, round, roundAll, runImageBuild, runMain,
  startChildControlPlane, summarize, watchStream, withServerOutput, type ChildControlPlane, type Summary,
} from './lib.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    runtime: { type: 'string' },
    'time-limit': { type: 'string' },
  },
});
const REQUESTS = intOpt(args.requests, 'requests', 5000, 100, 1_000_000);
const CONCURRENCY = intOpt(args.concurrency, 'concurrency', 20, 1, 1000);
const WARMUP = intOpt(args.warmup, 'warmup', 500, 0, 100_000);
const ROUNDS = intOpt(args.rounds, 'rounds', 2, 1, 20);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 300, 30, 3600);
if (args.runtime !== undefined && args.runtime !== 'docker' && args.runtime !== 'virtual') {
  console.error(`--runtime must be docker or virtual (got ${args.runtime})`);
  process.exit(2);
}

const SERVICE = 'bench';
const POD_PORT = 8080;
const SERVICE_PORT = 80;
const HEARTBEAT_MS = 1000;
const GRACE_MS = 3000;
const PROBE_EVERY_MS = 5;
const PROBE_TIMEOUT_MS = 1000;
/** How long the probe goes on after the endpoints are updated: any dead hit later would show. */
const PROBE_AFTER_UPDATE_MS = 1500;

const startedAt = process.hrtime.bigint();
const cap = new Deadline(TIME_LIMIT_S * 1000).hardStop(30);
const live = cleanupOnExit();
const failures: string[] = [];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the cluster ---------------------------------------------------------------------

interface Api { call(method: string, path: string, body?: unknown): Promise<any>; close(): void }

function apiOf(cp: ChildControlPlane): Api {
  const agent = apiAgent(cp, 8);
  return {
    async call(method, path, body) {
      const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      const r = await httpCall(agent, cp.url, method, path, cp.token, body === undefined ? undefined : JSON.stringify(body), type);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body);
    },
    close: () => agent.destroy(),
  };
}

/** Polls until check() returns something, or fails after ms. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = new Deadline(cap.cap(ms), what);
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (deadline.expired()) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const isReady = (o: { status?: { conditions?: Array<{ type: string; status: string }> } }) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

interface Endpoint { addresses: string[]; nodeName?: string; conditions?: { ready?: boolean }; targetRef?: { name?: string } }

/** Two nodes, three pods (two on the first node), a Service over them; resolves when the Service has three ready endpoints. */
async function setUp(api: Api, nodes: [string, string], startMs: number): Promise<{ clusterIP: string; endpoints: Endpoint[] }> {
  for (const name of nodes) {
    await api.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu: '2', memory: '1Gi', pods: '20' } } });
  }
  await until('both nodes Ready', startMs, async () => ((await api.call('GET', '/api/v1/nodes')).items.filter(isReady).length === 2 ? true : undefined));
  for (const [i, node] of [nodes[0], nodes[0], nodes[1]].entries()) {
    await api.call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i + 1}`, labels: { app: SERVICE }, annotations: { 'kcs.io/service-time': '0ms' } },
      spec: { nodeName: node, containers: [{ name: 'app', resources: { requests: { cpu: '10m' } }, ports: [{ containerPort: POD_PORT, name: 'http' }] }] },
    });
  }
  const svc = await api.call('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: SERVICE },
    spec: { selector: { app: SERVICE }, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http' }] },
  });
  const endpoints = await until('3 ready endpoints', 60_000, async () => {
    const eps = readyEndpoints((await api.call('GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${SERVICE}`)).items);
    return eps.length === 3 ? eps : undefined;
  });
  // The proxy learns of the endpoints from its own watch: wait until it answers.
  await until('the cluster IP to answer', 10_000, async () => ((await get(new Agent({ keepAlive: false }), svc.spec.clusterIP, SERVICE_PORT)).ok ? true : undefined));
  return { clusterIP: svc.spec.clusterIP, endpoints };
}

function readyEndpoints(slices: Array<{ endpoints?: Endpoint[] }>): Endpoint[] {
  return slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false);
}

// ---- the client ---------------------------------------------------------------------

interface Answer { ok: boolean; why?: string; node?: string; ms: number }

function get(agent: Agent, host: string, port: number, timeoutMs = 5000): Promise<Answer> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request({ agent, host, port, path: '/', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, why: res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`, node: String(res.headers['x-kcs-node'] ?? ''), ms: msSince(t0) }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, why: err.code ?? err.message, ms: msSince(t0) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, why: err.code ?? err.message, ms: msSince(t0) }));
    req.end();
  });
}

interface Pass { name: string; keepAlive: boolean; rps: number; latency: Summary; errors: number; serverCpuUsPerRequest: number }

/** `count` GETs, `CONCURRENCY` at once; target(i) is where request i goes. */
async function load(agent: Agent, count: number, target: (i: number) => { host: string; port: number }): Promise<{ ms: number; latencies: number[]; errors: Map<string, number> }> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const { host, port } = target(next++);
      const a = await get(agent, host, port);
      if (a.ok) latencies.push(a.ms);
      else errors.set(a.why!, (errors.get(a.why!) ?? 0) + 1);
    }
  }));
  return { ms: msSince(t0), latencies, errors };
}

interface Sample { ms: number; latencies: number[]; errors: Map<string, number>; cpuS: number }

/** One measured run of `REQUESTS` over a fresh pool of connections, after `WARMUP` unmeasured ones. */
async function measure(cp: ChildControlPlane, keepAlive: boolean, target: (i: number) => { host: string; port: number }): Promise<Sample> {
  const agent = new Agent({ keepAlive, maxSockets: CONCURRENCY });
  try {
    await load(agent, WARMUP, target);
    cap.remainingMs();
    const cpu0 = cp.cpuSeconds().total;
    const r = await cap.race(load(agent, REQUESTS, target));
    return { ...r, cpuS: cp.cpuSeconds().total - cpu0 };
  } finally {
    agent.destroy();
  }
}

function passOf(name: string, keepAlive: boolean, samples: Sample[]): Pass {
  const errors = new Map<string, number>();
  for (const s of samples) for (const [k, v] of s.errors) errors.set(k, (errors.get(k) ?? 0) + v);
  const count = [...errors.values()].reduce((a, b) => a + b, 0);
  if (count) failures.push(`${name}: ${count} errors (${[...errors].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  const n = REQUESTS * samples.length;
  return {
    name, keepAlive, errors: count,
    rps: (n / samples.reduce((a, s) => a + s.ms, 0)) * 1000,
    latency: summarize(samples.flatMap((s) => s.latencies)),
    serverCpuUsPerRequest: (samples.reduce((a, s) => a + s.cpuS, 0) * 1e6) / n,
  };
}

async function proxyCost(): Promise<Pass[]> {
  const cp = await startChildControlPlane({ args: ['--runtime', 'virtual', '--no-dashboard'] });
  live.pids.add(cp.pid);
  const api = apiOf(cp);
  try {
    const { clusterIP, endpoints } = await setUp(api, ['node-a', 'node-b'], 20_000);
    const pods = endpoints.map((e) => e.addresses[0]!);
    const targets = {
      direct: (i: number) => ({ host: pods[i % pods.length]!, port: POD_PORT }),
      proxied: () => ({ host: clusterIP, port: SERVICE_PORT }),
    };
    const passes: Pass[] = [];
    for (const keepAlive of [false, true]) {
      // Rounds alternate which goes first, so drift in the machine's load falls on both alike.
      const samples = { direct: [] as Sample[], proxied: [] as Sample[] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const name of r % 2 ? ['proxied', 'direct'] as const : ['direct', 'proxied'] as const) samples[name].push(await measure(cp, keepAlive, targets[name]));
      }
      passes.push(passOf('direct', keepAlive, samples.direct), passOf('proxied', keepAlive, samples.proxied));
    }
    return passes;
  } catch (err) {
    throw withServerOutput(cp, err);
  } finally {
    api.close();
    await cp.stop();
    live.pids.delete(cp.pid);
  }
}

// ---- a node failure ----------------------------------------------------------------

interface FailureResult {
  runtime: string; deadMs: number; detectedMs: number; endpointsMs: number; lastDeadHitMs: number; cleanFromMs: number;
  deadHits: number; probes: number; probeErrors: number; probeErrorsAfterUpdate: number;
}

/**
 * Listens on addr as soon as it is free (its owner gone): resolves with the
 * server, each connection to it recorded in hits (then closed).
 */
async function tombstone(ip: string, port: number, hits: bigint[], give: Deadline): Promise<Server> {
  for (;;) {
    const server = createServer((socket) => {
      hits.push(process.hrtime.bigint());
      socket.destroy();
    });
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(port, ip, () => resolve(undefined));
    });
    if (!err) return server;
    server.close();
    if (err.code !== 'EADDRINUSE') throw err;
    if (give.expired()) throw new Error(`${ip}:${port} still in use: the victim's pods did not go`);
    await sleep(2);
  }
}

async function nodeFailure(runtime: 'docker' | 'virtual'): Promise<FailureResult> {
  const cp = await startChildControlPlane({
    args: ['--runtime', runtime, '--no-dashboard', '--heartbeat-ms', String(HEARTBEAT_MS), '--node-grace-ms', String(GRACE_MS)], startTimeoutMs: 60_000,
  });
  live.pids.add(cp.pid);
  const clusterId = readFileSync(join(cp.stateDir, 'cluster-id'), 'utf8').trim();
  if (runtime === 'docker') live.clusters.add(clusterId);
  const api = apiOf(cp);
  let t0: bigint | undefined;
  let detected: bigint | undefined;
  let updated: bigint | undefined;
  const nodes = watchStream(cp.url, '/api/v1/nodes?watch=true', cp.token, (e) => {
    if (t0 !== undefined && detected === undefined && e.object.metadata.name === 'victim' && !isReady(e.object)) detected = process.hrtime.bigint();
  });
  const slices = new Map<string, Endpoint[]>();
  const sliceWatch = watchStream(cp.url, `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=true&labelSelector=kubernetes.io%2Fservice-name%3D${SERVICE}`, cp.token, (e) => {
    if (e.type === 'DELETED') slices.delete(e.object.metadata.name);
    else slices.set(e.object.metadata.name, e.object.endpoints ?? []);
    const onVictim = readyEndpoints([...slices.values()].map((endpoints) => ({ endpoints }))).filter((ep) => ep.nodeName === 'victim');
    if (t0 !== undefined && updated === undefined && onVictim.length === 0) updated = process.hrtime.bigint();
  });
  const tombstones: Server[] = [];
  try {
    await Promise.all([nodes.started, sliceWatch.started]);
    const { clusterIP, endpoints } = await setUp(api, ['victim', 'spare'], 60_000);
    const victimAddrs = endpoints.filter((e) => e.nodeName === 'victim').map((e) => e.addresses[0]!);
    if (victimAddrs.length !== 2) throw new Error(`expected 2 endpoints on victim, found ${JSON.stringify(endpoints)}`);

    // The probe: a GET every PROBE_EVERY_MS, from before the failure until after the update.
    const probeAgent = new Agent({ keepAlive: false });
    const probes: Array<{ sent: bigint; done?: bigint; answer?: Answer }> = [];
    let probing = true;
    const inFlight = new Set<Promise<void>>();
    const prober = (async () => {
      for (let next = process.hrtime.bigint(); probing; next += BigInt(PROBE_EVERY_MS * 1e6)) {
        const wait = Number(next - process.hrtime.bigint()) / 1e6;
        if (wait > 0) await sleep(wait);
        const p = { sent: process.hrtime.bigint() } as (typeof probes)[number];
        probes.push(p);
        const f = get(probeAgent, clusterIP, SERVICE_PORT, PROBE_TIMEOUT_MS).then((a) => {
          p.answer = a;
          p.done = process.hrtime.bigint();
        });
        inFlight.add(f);
        void f.finally(() => inFlight.delete(f));
      }
    })();
    await sleep(500);

    const hits: bigint[] = [];
    const freed: bigint[] = [];
    t0 = process.hrtime.bigint();
    await api.call('PATCH', '/api/v1/nodes/victim', { metadata: { annotations: { 'kcs.io/fail-requested': new Date().toISOString() } } });
    const give = new Deadline(cap.cap(30_000), 'the victim\'s pods going');
    await Promise.all(victimAddrs.map(async (ip) => {
      tombstones.push(await tombstone(ip, POD_PORT, hits, give));
      freed.push(process.hrtime.bigint());
    }));
    await until('the victim\'s endpoints to turn not ready', 30_000, async () => updated);
    await sleep(PROBE_AFTER_UPDATE_MS);
    probing = false;
    await prober;
    await Promise.all(inFlight);
    probeAgent.destroy();
    if (detected === undefined) throw new Error('the endpoints were updated, but the victim was never seen not Ready');

    const since = (t: bigint) => Number(t - t0!) / 1e6;
    const lastHit = hits.length ? hits.reduce((a, b) => (a > b ? a : b)) : undefined;
    const after = probes.filter((p) => p.sent > t0!);
    const clean = after.find((p) => (lastHit === undefined || p.sent > lastHit) && p.answer?.ok);
    if (!clean?.done) throw new Error('no request succeeded after the last one that reached a dead address');
    return {
      runtime,
      deadMs: since(freed.reduce((a, b) => (a > b ? a : b))),
      detectedMs: since(detected),
      endpointsMs: since(updated!),
      lastDeadHitMs: lastHit === undefined ? NaN : since(lastHit),
      cleanFromMs: since(clean.done),
      deadHits: hits.length,
      probes: after.length,
      probeErrors: after.filter((p) => !p.answer?.ok).length,
      probeErrorsAfterUpdate: after.filter((p) => p.sent > updated! && !p.answer?.ok).length,
    };
  } catch (err) {
    throw withServerOutput(cp, err);
  } finally {
    for (const t of tombstones) t.close();
    nodes.close();
    sliceWatch.close();
    api.close();
    await cp.stop();
    live.pids.delete(cp.pid);
    if (runtime === 'docker') {
      removeClusterContainersSync(clusterId);
      live.clusters.delete(clusterId);
    }
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await new Docker().ping();
    return true;
  } catch {
    return false;
  }
}

// ---- main ----------------------------------------------------------------------------

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  const loadAtStart = loadavg();
  const failureRuntime = (args.runtime as 'docker' | 'virtual' | undefined) ?? ((await dockerAnswers()) ? 'docker' : 'virtual');
  console.log(`kcs services bench: ${REQUESTS} requests per pass (+${WARMUP} warm-up), ${CONCURRENCY} at once, 3 pods (service time 0) on 2 virtual nodes; node failure with ${failureRuntime} nodes; cap ${TIME_LIMIT_S}s`);
  let passes: Pass[] = [];
  let failure: FailureResult | undefined;
  try {
    passes = await proxyCost();
    if (failureRuntime === 'docker') {
      console.log('building the node image (bin/kcs image build)...');
      const img = await runImageBuild(cap, live.children);
      console.log(`  ${img.output.split('\n').at(-1)} (${round(img.ms / 1000)} s)`);
    }
    failure = await nodeFailure(failureRuntime);
  } catch (err) {
    failures.push(...cap.failures(err));
  }

  console.log('');
  if (passes.length) {
    console.log(`proxy cost: ${REQUESTS} GETs per pass, ${CONCURRENCY} at once, from this process to 3 pods on virtual nodes (pods and proxy in the kcs up process)`);
    printTable([
      ['pass', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU us/req'],
      ...passes.map((p) => [p.name, p.keepAlive ? 'keep-alive' : 'new per request', p.rps, p.latency.p50, p.latency.p99, p.errors, p.serverCpuUsPerRequest]),
    ]);
    for (const keepAlive of [false, true]) {
      const d = passes.find((p) => p.name === 'direct' && p.keepAlive === keepAlive);
      const x = passes.find((p) => p.name === 'proxied' && p.keepAlive === keepAlive);
      if (d && x) console.log(`proxy adds (${keepAlive ? 'keep-alive' : 'new connection per request'}): p50 +${round(x.latency.p50 - d.latency.p50)} ms, p99 +${round(x.latency.p99 - d.latency.p99)} ms, throughput ${round((100 * x.rps) / d.rps)}% of direct`);
    }
  }
  if (failure) {
    console.log('');
    console.log(`node failure (${failure.runtime} nodes, heartbeat ${HEARTBEAT_MS} ms, grace ${GRACE_MS} ms): ms from the failure request`);
    printTable([
      ['machine dead', 'detected (NotReady)', 'endpoints updated', 'last dead hit', 'clean from', 'dead hits', 'probe errors', 'errors after update'],
      [failure.deadMs, failure.detectedMs, failure.endpointsMs, Number.isNaN(failure.lastDeadHitMs) ? 'none' : failure.lastDeadHitMs, failure.cleanFromMs, failure.deadHits, `${failure.probeErrors}/${failure.probes}`, failure.probeErrorsAfterUpdate],
    ]);
    console.log('endpoints updated - detected = what the endpoints controller and the watch add to the detection; dead hits = connections the proxy still sent to the victim\'s pod addresses (closed by this bench, so each failed a probe).');
  }
  console.log(`node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; total ${round(msSince(startedAt) / 1000)} s`);

  const json = {
    bench: 'kcs-services', node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]!),
    requests: REQUESTS, concurrency: CONCURRENCY, warmup: WARMUP,
    passes: passes.map((p) => ({ name: p.name, keepAlive: p.keepAlive, rps: round(p.rps), latencyMs: roundAll({ p50: p.latency.p50, p99: p.latency.p99, max: p.latency.max }), errors: p.errors, serverCpuUsPerRequest: round(p.serverCpuUsPerRequest) })),
    nodeFailure: failure && roundAll({ ...failure, heartbeatMs: HEARTBEAT_MS, graceMs: GRACE_MS }),
    failures: failures.length, timedOut: cap.passed,
  };
  return report(json, failures);
}

runMain(main);
