// API server benchmark: creates, GETs, merge-patches and a full list of pods
// against a control plane running in a child process (`bin/kcs up`), driven
// by concurrent keep-alive clients in this process. Prints a table and one
// JSON line; exits non-zero only if a request failed or the time cap was hit.
//
//   node bench/api.ts [--pods 10000] [--gets 50000] [--updates N] [--concurrency 50]
//                     [--warmup 500] [--time-limit 200] [--cpu-prof DIR] [--transport http|https|both]
//                     [--store sqlite|etcd|etcd-tls|both|a,b,...]
// --store etcd starts a private etcd (Debian's etcd-server, or KCS_ETCD) on
// loopback ports of its own and runs the server with --store etcd://...;
// etcd-tls, one serving only TLS clients with a client certificate; both:
// the same phases on SQLite and on etcd; a list: each beside the first.
// Env equivalents: KCS_BENCH_PODS, KCS_BENCH_GETS, KCS_BENCH_UPDATES,
// KCS_BENCH_CONCURRENCY, KCS_BENCH_WARMUP, KCS_BENCH_TIME_LIMIT, KCS_BENCH_STORE.
import type { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apiAgent, checkBuild, Deadline, httpCall, intOpt, machineCpu, msSince, printTable, round, roundAll, startChildControlPlane, summarize, type ChildControlPlane, type Summary, runMain } from './lib.ts';
import { startStore, storesOpt, type BenchStore, type StoreName } from './stores.ts';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string' },
    gets: { type: 'string' },
    updates: { type: 'string' },
    concurrency: { type: 'string' },
    warmup: { type: 'string' },
    'time-limit': { type: 'string' },
    'cpu-prof': { type: 'string' },
    transport: { type: 'string' },
    store: { type: 'string' },
  },
});

const PODS = intOpt(args.pods, 'pods', 10_000, 1, 1_000_000);
const GETS = intOpt(args.gets, 'gets', 50_000, 1, 5_000_000);
const UPDATES = intOpt(args.updates, 'updates', PODS, 1, 1_000_000);
const CONCURRENCY = intOpt(args.concurrency, 'concurrency', 50, 1, 1000);
const WARMUP = intOpt(args.warmup, 'warmup', 500, 0, 100_000);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 200, 1, 3600);
const LIST_RUNS = 3;
/** `--transport http|https|both` (default both): the same phases against a plain and a TLS server, to show what TLS costs. */
const TRANSPORTS: Transport[] = args.transport === 'http' ? ['http'] : args.transport === 'https' ? ['https'] : ['http', 'https'];
if (args.transport !== undefined && !['http', 'https', 'both'].includes(args.transport)) {
  console.error('--transport must be http, https or both');
  process.exit(2);
}
const STORES = storesOpt(args.store);
const TARGETS = { getsPerSec: 5000, createsPerSec: 2000, writeP99Ms: 20 };

const loadAtStart = loadavg();
const cap = new Deadline(TIME_LIMIT_S * 1000);

/** Deterministic PRNG (mulberry32) so GET order is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req { method: string; path: string; body?: string; contentType?: string }

interface PhaseResult {
  name: string;
  count: number;
  wallMs: number;
  perSec: number;
  latency: Summary;
  failures: number;
  firstFailure?: string;
  serverCpuPct: number;
  /** The kernel's share of it (system time: mostly loopback TCP and SQLite file I/O). */
  serverSysPct: number;
  clientCpuPct: number;
  /** CPU used by everything else on the machine during the phase (noise). */
  otherCpuPct: number;
}

/**
 * Runs one phase. Without a rate the clients are closed-loop (each sends its
 * next request as soon as the last is answered): that finds the saturation
 * throughput, where latency is just Little's law, clients / throughput.
 * With a rate the requests are due at fixed times spread over the clients
 * (open loop), and latency counts from when each was due, so a server that
 * falls behind is charged for the wait (no coordinated omission).
 */
async function runPhase(cp: ChildControlPlane, agent: Agent, name: string, total: number, expect: number, make: (i: number) => Req, rate?: number): Promise<PhaseResult> {
  const lat = new Float64Array(total);
  let next = 0;
  let done = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const cpu0 = cp.cpuSeconds();
  const client0 = process.cpuUsage();
  const machine0 = machineCpu();
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      if (cap.expired()) return;
      const i = next++;
      const r = make(i);
      let s = process.hrtime.bigint();
      if (rate) {
        const due = t0 + BigInt(Math.round((i * 1e9) / rate));
        if (due > s) await new Promise((res) => setTimeout(res, Number(due - s) / 1e6));
        s = due;
      }
      try {
        const res = await httpCall(agent, cp.url, r.method, r.path, cp.token, r.body, r.contentType);
        lat[done++] = msSince(s);
        if (res.status !== expect) {
          failures++;
          firstFailure ??= `${r.method} ${r.path} -> ${res.status} ${res.body.slice(0, 300)}`;
        }
      } catch (err) {
        lat[done++] = msSince(s);
        failures++;
        firstFailure ??= `${r.method} ${r.path} -> ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, total) }, worker));
  const wallMs = msSince(t0);
  const clientCpu = process.cpuUsage(client0);
  const cpu1 = cp.cpuSeconds();
  const serverCpuPct = ((cpu1.total - cpu0.total) / (wallMs / 1000)) * 100;
  const serverSysPct = ((cpu1.system - cpu0.system) / (wallMs / 1000)) * 100;
  const clientCpuPct = ((clientCpu.user + clientCpu.system) / 1000 / wallMs) * 100;
  const machineBusyPct = ((machineCpu().busy - machine0.busy) / (wallMs / 1000)) * 100;
  return {
    name,
    count: done,
    wallMs,
    perSec: done / (wallMs / 1000),
    latency: summarize(lat.subarray(0, done)),
    failures,
    firstFailure,
    serverCpuPct,
    serverSysPct,
    clientCpuPct,
    otherCpuPct: Math.max(0, machineBusyPct - serverCpuPct - clientCpuPct),
  };
}

const podBody = (name: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
});
const PODS_PATH = '/api/v1/namespaces/default/pods';
const podName = (i: number) => `bench-${i}`;

async function main(): Promise<number> {
  const env: Record<string, string> = {};
  let profDir: string | undefined;
  if (args['cpu-prof']) {
    profDir = resolve(args['cpu-prof']);
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim();
  }
  if (!checkBuild()) return 1;
  console.log(`kcs API bench: ${PODS} creates, ${GETS} GETs, ${UPDATES} patches, ${LIST_RUNS} lists; ${CONCURRENCY} clients; warm-up ${WARMUP}; cap ${TIME_LIMIT_S}s; transports: ${TRANSPORTS.join(', ')}; stores: ${STORES.join(', ')}`);
  const results: Array<{ transport: Transport; store: StoreName; summary: BenchSummary }> = [];
  let status = 0;
  for (const name of STORES) {
    const store = await startStore(name);
    try {
      for (const transport of TRANSPORTS) {
        console.log(`\n== ${transport}, ${name}${store.etcd ? ` (etcd ${store.etcd.endpoint}, pid ${store.etcd.pid})` : ''} ==`);
        const run = await runServer(transport, env, profDir, store);
        status ||= run.status;
        results.push({ transport, store: name, summary: run.summary });
      }
    } finally {
      await store.stop();
    }
  }
  for (const other of STORES.slice(1)) {
    // The same phases on each store beside the first, side by side (the first transport's runs).
    const first = STORES[0]!;
    const on = (store: StoreName) => results.find((r) => r.store === store && r.transport === TRANSPORTS[0])!.summary;
    const [a, b] = [on(first), on(other)];
    const rows: Array<Array<string | number>> = [['phase', `${first} req/s`, `${other} req/s`, `${other}/${first}`, `${first} p99 ms`, `${other} p99 ms`]];
    for (const k of ['creates', 'gets', 'patches'] as const) {
      if (a[k] && b[k]) rows.push([k, a[k]!.perSec, b[k]!.perSec, round(b[k]!.perSec / a[k]!.perSec), a[k]!.p99Ms, b[k]!.p99Ms]);
    }
    if (a.list && b.list) rows.push([`list of ${a.list.items} (p50 ms)`, a.list.p50Ms, b.list.p50Ms, round(b.list.p50Ms / a.list.p50Ms), '', '']);
    console.log(`\n${other} against ${first} (${TRANSPORTS[0]}):`);
    printTable(rows);
    console.log(JSON.stringify({ bench: 'kcs-api-stores', transport: TRANSPORTS[0], [first]: a, [other]: b }));
  }
  const plain = results.find((r) => r.transport === 'http' && r.store === STORES[0])?.summary;
  const tls = results.find((r) => r.transport === 'https' && r.store === STORES[0])?.summary;
  if (plain && tls) {
    // What TLS costs, the same phases side by side (target: within 10%).
    // Throughput is shared with this load generator, which pays for TLS too
    // on the same cores; the server's CPU per request is the server's own cost.
    const cpuPerRequestMs = (f: PhaseFigures) => (f.srvCpuPct / 100) * 1000 / f.perSec;
    const rows: Array<Array<string | number>> = [['phase', 'http req/s', 'https req/s', 'https/http', 'http p99 ms', 'https p99 ms', 'srv cpu ms/req http', 'https', 'https/http']];
    const cpuRatios: Record<string, number> = {};
    for (const k of ['creates', 'gets', 'patches'] as const) {
      const a = plain[k];
      const b = tls[k];
      if (!a || !b) continue;
      cpuRatios[k] = round(cpuPerRequestMs(b) / cpuPerRequestMs(a));
      rows.push([k, a.perSec, b.perSec, round(b.perSec / a.perSec), a.p99Ms, b.p99Ms, Math.round(cpuPerRequestMs(a) * 1000) / 1000, Math.round(cpuPerRequestMs(b) * 1000) / 1000, cpuRatios[k]]);
    }
    if (plain.list && tls.list) rows.push([`list of ${plain.list.items}`, '', '', round(plain.list.p50Ms / tls.list.p50Ms), plain.list.p50Ms, tls.list.p50Ms, '', '', '']);
    console.log('\nTLS against plain http (keep-alive connections, as kubectl and the kcs client use them):');
    printTable(rows);
    console.log(JSON.stringify({
      bench: 'kcs-api-tls',
      ratios: Object.fromEntries((['creates', 'gets', 'patches'] as const).filter((k) => plain[k] && tls[k]).map((k) => [k, round(tls[k]!.perSec / plain[k]!.perSec)])),
      serverCpuPerRequestRatios: cpuRatios,
    }));
  }
  return status;
}

type Transport = 'http' | 'https';
interface PhaseFigures { perSec: number; p99Ms: number; srvCpuPct: number; [field: string]: unknown }
/** The run's JSON line; what the TLS comparison reads of it is typed. */
interface BenchSummary { creates?: PhaseFigures; gets?: PhaseFigures; patches?: PhaseFigures; list?: { items: number; p50Ms: number; [field: string]: unknown }; [field: string]: unknown }

async function runServer(transport: Transport, env: Record<string, string>, profDir: string | undefined, store: BenchStore): Promise<{ status: number; summary: BenchSummary }> {
  const storeArgs = store.upArgs;
  // The API server and store alone (--runtime none: no controllers), so the
  // figures are the API's, not those of a scheduler reacting to each pod.
  const cp = await startChildControlPlane({ env, args: ['--runtime', 'none', ...storeArgs], tls: transport === 'https' });
  const agent = apiAgent(cp, CONCURRENCY);
  const phases: PhaseResult[] = [];
  let list: (Summary & { items: number; bytes: number }) | undefined;
  let listFailure: string | undefined;
  let memory: { rssMiB: number; peakRssMiB: number } | undefined;
  try {
    console.log(`server pid ${cp.pid} at ${cp.url.origin}`);

    if (WARMUP > 0) {
      // JIT warm-up, not measured: its own pods (kept, so the list includes them).
      const w = await runPhase(cp, agent, 'warmup-create', WARMUP, 201, (i) => ({ method: 'POST', path: PODS_PATH, body: podBody(`warmup-${i}`) }));
      const wg = await runPhase(cp, agent, 'warmup-get', WARMUP * 2, 200, (i) => ({ method: 'GET', path: `${PODS_PATH}/warmup-${i % WARMUP}` }));
      const wp = await runPhase(cp, agent, 'warmup-patch', WARMUP, 200, (i) => ({
        method: 'PATCH', path: `${PODS_PATH}/warmup-${i}`, contentType: 'application/merge-patch+json', body: JSON.stringify({ metadata: { labels: { warm: 'up' } } }),
      }));
      for (const p of [w, wg, wp]) if (p.failures) phases.push(p);
    }

    phases.push(await runPhase(cp, agent, 'create', PODS, 201, (i) => ({ method: 'POST', path: PODS_PATH, body: podBody(podName(i)) })));
    const created = phases.at(-1)!.count;

    const rand = rng(42);
    phases.push(await runPhase(cp, agent, 'get', GETS, 200, () => ({ method: 'GET', path: `${PODS_PATH}/${podName(Math.floor(rand() * created))}` })));

    phases.push(await runPhase(cp, agent, 'patch', Math.min(UPDATES, created), 200, (i) => ({
      method: 'PATCH', path: `${PODS_PATH}/${podName(i % created)}`, contentType: 'application/merge-patch+json',
      body: JSON.stringify({ metadata: { labels: { bench: `v${i}` } } }),
    })));

    // The same writes at the target rate, from the same 50 clients: the
    // latency a client sees when the server is busy but not saturated.
    phases.push(await runPhase(cp, agent, `create@${TARGETS.createsPerSec}/s`, Math.min(PODS, TARGETS.createsPerSec * 5), 201,
      (i) => ({ method: 'POST', path: PODS_PATH, body: podBody(`paced-${i}`) }), TARGETS.createsPerSec));
    const paced = phases.at(-1)!.count;
    phases.push(await runPhase(cp, agent, `patch@${TARGETS.createsPerSec}/s`, Math.min(UPDATES, created, TARGETS.createsPerSec * 5), 200, (i) => ({
      method: 'PATCH', path: `${PODS_PATH}/${podName(i % created)}`, contentType: 'application/merge-patch+json',
      body: JSON.stringify({ metadata: { labels: { paced: `v${i}` } } }),
    }), TARGETS.createsPerSec));

    const listLat: number[] = [];
    let items = 0;
    let bytes = 0;
    for (let i = 0; i < LIST_RUNS && !cap.expired(); i++) {
      const s = process.hrtime.bigint();
      let res;
      try {
        res = await httpCall(agent, cp.url, 'GET', PODS_PATH, cp.token, undefined, undefined, 60_000);
      } catch (err) {
        listFailure = `GET ${PODS_PATH} -> ${(err as Error).message}`;
        break;
      }
      listLat.push(msSince(s));
      if (res.status !== 200) {
        listFailure = `GET ${PODS_PATH} -> ${res.status} ${res.body.slice(0, 300)}`;
        break;
      }
      bytes = Buffer.byteLength(res.body);
      items = (JSON.parse(res.body) as { items: unknown[] }).items.length;
      if (items !== created + paced + WARMUP) listFailure = `list returned ${items} pods, expected ${created + paced + WARMUP}`;
    }
    list = { ...summarize(listLat), items, bytes };
    memory = cp.memory();
  } finally {
    agent.destroy();
    await cp.stop();
  }

  // ---- report ---------------------------------------------------------------
  const by = (n: string) => phases.find((p) => p.name === n);
  const create = by('create')!;
  const get = by('get');
  const patch = by('patch');
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISS');
  const rows: Array<Array<string | number>> = [['phase', 'count', 'wall s', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'srv cpu%', 'srv sys%', 'gen cpu%', 'other%', 'target']];
  for (const p of phases) {
    let target = '';
    if (p.name === 'create') target = `>=${TARGETS.createsPerSec}/s ${mark(p.perSec >= TARGETS.createsPerSec)} (saturated)`;
    if (p.name === 'get') target = `>=${TARGETS.getsPerSec}/s ${mark(p.perSec >= TARGETS.getsPerSec)} (saturated)`;
    if (p.name.includes('@')) target = `p99<=${TARGETS.writeP99Ms}ms ${mark(p.latency.p99 <= TARGETS.writeP99Ms)}`;
    rows.push([p.name + (p.failures ? ` (${p.failures} FAILED)` : ''), p.count, p.wallMs / 1000, p.perSec, p.latency.p50, p.latency.p90, p.latency.p99, p.latency.max, p.serverCpuPct, p.serverSysPct, p.clientCpuPct, p.otherCpuPct, target]);
  }
  if (list) rows.push([`list (${list.items} pods, ${(list.bytes / 1048576).toFixed(1)} MiB)`, list.n, '', '', list.p50, '', '', list.max, '', '', '', '', 'min ' + round(list.min) + ' ms']);
  console.log('');
  printTable(rows);
  console.log('');
  console.log(`server RSS at end: ${memory ? `${round(memory.rssMiB)} MiB (peak ${round(memory.peakRssMiB)} MiB)` : 'n/a'}; node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
  console.log(`cpu% over each phase, 100% = one core of ${cpus().length}: srv = server process (sys = its kernel time), gen = this load generator, other = rest of the machine (noise if high).`);
  console.log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  if (profDir) console.log(`server CPU profile written to ${profDir}`);

  const summary: BenchSummary = {
    bench: 'kcs-api', transport, store: store.name, node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), concurrency: CONCURRENCY, warmup: WARMUP,
    creates: create && { n: create.count, perSec: round(create.perSec), ...pick(create.latency), srvCpuPct: round(create.serverCpuPct), srvSysPct: round(create.serverSysPct), otherCpuPct: round(create.otherCpuPct) },
    gets: get && { n: get.count, perSec: round(get.perSec), ...pick(get.latency), srvCpuPct: round(get.serverCpuPct), srvSysPct: round(get.serverSysPct), otherCpuPct: round(get.otherCpuPct) },
    pacedCreates: by(`create@${TARGETS.createsPerSec}/s`) && { rate: TARGETS.createsPerSec, ...pick(by(`create@${TARGETS.createsPerSec}/s`)!.latency) },
    pacedPatches: by(`patch@${TARGETS.createsPerSec}/s`) && { rate: TARGETS.createsPerSec, ...pick(by(`patch@${TARGETS.createsPerSec}/s`)!.latency) },
    patches: patch && { n: patch.count, perSec: round(patch.perSec), ...pick(patch.latency), srvCpuPct: round(patch.serverCpuPct), srvSysPct: round(patch.serverSysPct), otherCpuPct: round(patch.otherCpuPct) },
    list: list && { items: list.items, bytes: list.bytes, runs: list.n, p50Ms: round(list.p50), minMs: round(list.min), maxMs: round(list.max) },
    serverRssMiB: memory && round(memory.rssMiB), serverPeakRssMiB: memory && round(memory.peakRssMiB),
    targets: TARGETS,
    failures: phases.reduce((a, p) => a + p.failures, 0) + (listFailure ? 1 : 0), timedOut: cap.passed,
  };
  console.log(JSON.stringify(summary));

  let status = 0;
  for (const p of phases) {
    if (p.failures) {
      console.error(`${p.name}: ${p.failures} of ${p.count} requests failed; first: ${p.firstFailure}`);
      status = 1;
    }
  }
  if (listFailure) {
    console.error(`list: ${listFailure}`);
    status = 1;
  }
  if (cap.passed) {
    console.error(`stopped at ${cap.what}: figures are partial`);
    status = 1;
  }
  return { status, summary };
}

function pick(s: Summary) {
  return roundAll({ p50Ms: s.p50, p90Ms: s.p90, p99Ms: s.p99, maxMs: s.max });
}

runMain(main);
