// Leader failover benchmark: how long a cluster goes without its
// controllers when the control plane leading them goes away. A private etcd
// (tools/etcd-process.ts) and --servers (2) `bin/kcs up --store etcd://...
// --runtime virtual --leader-elect` processes sharing it, each with its own
// port and state dir (they adopt one cluster identity from etcd); a virtual Node `standby`
// (64 CPUs) is created and waited Ready, so a pod has somewhere to go.
//
// Each of --rounds (5) rounds fails the leader twice: SIGKILL (a crash: its
// Lease is left to lapse) and SIGTERM (a clean stop: `kcs up` stops its
// controllers, then releases the Lease). The leader is the process whose
// identity (printed by `kcs up` as "elected as ...") holds the Lease
// kube-system/kcs-controller-manager. Right after the signal a pod is
// POSTed through a surviving server; from the signal, polling that server
// every 25 ms:
//   takeover  the Lease names another of the processes as its holder;
//   bound     the pod has spec.nodeName: the new leader's controllers
//             started (their informers listed) and its scheduler acted.
// Also the age of the Lease's renewTime when the signal was sent: after a
// crash a candidate may take the Lease a lease duration after it last saw
// the record change, and tries every retry period, so takeover falls
// between (lease duration - age) and (lease duration + retry period - age),
// plus what the tries themselves take (each is timed from the end of the
// last). A SIGTERMed leader releases the Lease on its way out, so another
// takes it at its next try; should the release fail (it logs "could not
// release", shown with the round), the others wait out the lease duration
// as after a crash. After each failover a replacement process is started,
// so there are always --servers.
//
// Prints the rounds, p50/max of each measure by signal, and one JSON line.
// Exits non-zero if a failover did not complete within 30 s, a request
// failed, or the time cap passed. Every process is stopped by its PID at
// the end, on failure too, and their temp state dirs removed.
//
//   node bench/leader-failover.ts [--servers 2] [--rounds 5] [--time-limit S]
// Env equivalents: KCS_BENCH_SERVERS, KCS_BENCH_ROUNDS, KCS_BENCH_TIME_LIMIT
// (default 120 + 60 per round, in seconds).
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  CONTROLLER_LEASE_NAME, CONTROLLER_LEASE_NAMESPACE, DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS,
} from '../src/controllers/leader-election.ts';
import { startEtcd, type EtcdProcess } from '../tools/etcd-process.ts';
import {
  checkBuild, Deadline, httpCall, intOpt, msSince, printTable, report, round, roundAll, runMain, startChildControlPlane, summarize, withServerOutput, type ChildControlPlane, type Summary,
} from './lib.ts';

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string' },
    rounds: { type: 'string' },
    'time-limit': { type: 'string' },
  },
});

const SERVERS = intOpt(args.servers, 'servers', 2, 2, 3);
const ROUNDS = intOpt(args.rounds, 'rounds', 5, 1, 50);
const TIME_LIMIT_S = intOpt(args['time-limit'], 'time-limit', 120 + 60 * ROUNDS, 10, 7200);

const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${CONTROLLER_LEASE_NAMESPACE}/leases/${CONTROLLER_LEASE_NAME}`;
const NODE = 'standby';
const POLL_MS = 25;
/** Longest a failover may take before the bench calls it failed. */
const FAILOVER_BUDGET_MS = 30_000;
const SIGNALS = ['SIGKILL', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

const cap = new Deadline(TIME_LIMIT_S * 1000).hardStop(30);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const failures: string[] = [];

interface Server {
  cp: ChildControlPlane;
  agent: Agent;
  /** Its candidate identity, as the Lease's holderIdentity names it. */
  identity: string;
  /** 1, 2, ...: in the order started. */
  n: number;
}

interface LeaderLease { spec?: { holderIdentity?: string; renewTime?: string; leaseTransitions?: number } }
interface Pod { spec?: { nodeName?: string } }
interface Node { status?: { conditions?: Array<{ type: string; status: string }> } }

/** GETs a path through a server: the object, or undefined if it does not exist. */
async function get<T>(s: Server, path: string): Promise<T | undefined> {
  const res = await httpCall(s.agent, s.cp.url, 'GET', path, s.cp.token, undefined, undefined, 5000);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${path} through server ${s.n} -> ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}

async function post(s: Server, path: string, body: string): Promise<void> {
  const res = await httpCall(s.agent, s.cp.url, 'POST', path, s.cp.token, body);
  if (res.status !== 201) throw new Error(`POST ${path} through server ${s.n} -> ${res.status} ${res.body.slice(0, 300)}`);
}

/** Asks `probe` every POLL_MS until it answers, for at most budgetMs (and never past the cap). */
async function poll<T>(what: string, budgetMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = new Deadline(cap.cap(budgetMs));
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (until.expired()) {
      cap.remainingMs();
      throw new Error(`${what}: not within ${round(budgetMs / 1000)} s`);
    }
    await sleep(POLL_MS);
  }
}

let started = 0;

/** One more `kcs up` on the shared etcd; resolves once it listens and has said which identity it elects as. */
async function startServer(etcd: EtcdProcess): Promise<Server> {
  const cp = await startChildControlPlane({ args: ['--runtime', 'virtual', '--no-dashboard', '--store', `etcd://${etcd.endpoint}`, '--leader-elect'], startTimeoutMs: cap.cap(30_000) });
  const n = ++started;
  try {
    const identity = await poll(`server ${n}'s "elected as" line`, 10_000, async () => /elected as (\S+?):/.exec(cp.recentOutput())?.[1]);
    return { cp, agent: new Agent({ keepAlive: true, maxSockets: 4 }), identity, n };
  } catch (err) {
    await cp.stop();
    throw err;
  }
}

async function stopServer(s: Server): Promise<void> {
  s.agent.destroy();
  await s.cp.stop();
}

/** The server holding the controllers' Lease, as `through` reads it, once one of `servers` does. */
async function leaderOf(servers: Server[], through: Server): Promise<Server> {
  return poll('one of the servers holding the Lease', FAILOVER_BUDGET_MS, async () => {
    const holder = (await get<LeaderLease>(through, LEASE_PATH))?.spec?.holderIdentity;
    return servers.find((s) => s.identity === holder);
  });
}

interface Failover {
  round: number;
  signal: Signal;
  /** Which server led, and which took over (numbered in the order started). */
  from: number;
  to?: number;
  /** How old the Lease's last renewal was when the signal was sent. */
  leaseAgeMs: number;
  /**
   * A pod POSTed through the survivor just before the signal: how long its
   * answer took, for comparison. It also warms the survivor up (a server's
   * first pod create pays for what creates load and compile on first use,
   * up to a second), so the POST after the signal measures the failover.
   */
  postBeforeMs?: number;
  /** From the signal: the pod's POST answered; another server holds the Lease; that pod is bound. */
  postedMs?: number;
  takeoverMs?: number;
  boundMs?: number;
  /** From SIGTERM: the old leader has exited (it stops its controllers, then releases the Lease). A SIGKILL is immediate. */
  exitedMs?: number;
  /** What a SIGTERMed leader said if it could not release the Lease (the others then wait out the lease duration). */
  releaseFailed?: string;
  leaseTransitions?: number;
}

/**
 * Signals the leader and measures, through a survivor, until another
 * server holds the Lease and the pod POSTed right after is bound; then
 * replaces the old leader in `servers` with a new process.
 */
async function failover(servers: Server[], etcd: EtcdProcess, round: number, signal: Signal): Promise<Failover> {
  const leader = await leaderOf(servers, servers[0]);
  const survivor = servers.find((s) => s !== leader)!;
  // A clean start for each measure: the standby node Ready as the survivor sees it.
  await poll(`node ${NODE} Ready`, FAILOVER_BUDGET_MS, async () => (await get<Node>(survivor, `/api/v1/nodes/${NODE}`))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') || undefined);
  const podBody = (name: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"10m"}}}]}}`;
  const b0 = process.hrtime.bigint();
  await post(survivor, '/api/v1/namespaces/default/pods', podBody(`before-${signal.toLowerCase()}-${round}`));
  const postBeforeMs = msSince(b0);
  const lease = await get<LeaderLease>(survivor, LEASE_PATH);
  const out: Failover = { round, signal, from: leader.n, leaseAgeMs: Date.now() - Date.parse(lease?.spec?.renewTime ?? ''), postBeforeMs };
  const pod = `after-${signal.toLowerCase()}-${round}`;
  const t0 = process.hrtime.bigint();
  let stopped: Promise<void> | undefined;
  // SIGTERM through stop(), which sends exactly one (a second would end `kcs up` at once, mid-shutdown).
  if (signal === 'SIGTERM') stopped = leader.cp.stop().then(() => { out.exitedMs = msSince(t0); });
  else process.kill(leader.cp.pid, 'SIGKILL');
  await post(survivor, '/api/v1/namespaces/default/pods', podBody(pod));
  out.postedMs = msSince(t0);
  const others = servers.filter((s) => s !== leader);
  await poll(`after ${signal} of server ${leader.n}: takeover and pod ${pod} bound`, FAILOVER_BUDGET_MS, async () => {
    if (out.takeoverMs === undefined) {
      const now = await get<LeaderLease>(survivor, LEASE_PATH);
      const next = others.find((s) => s.identity === now?.spec?.holderIdentity);
      if (next) Object.assign(out, { takeoverMs: msSince(t0), to: next.n, leaseTransitions: now?.spec?.leaseTransitions });
    }
    if (out.boundMs === undefined && (await get<Pod>(survivor, `/api/v1/namespaces/default/pods/${pod}`))?.spec?.nodeName) out.boundMs = msSince(t0);
    return out.takeoverMs !== undefined && out.boundMs !== undefined ? true : undefined;
  });
  await poll(`server ${leader.n} exited`, 15_000, async () => leader.cp.exitStatus());
  await stopped;
  if (signal === 'SIGTERM') out.releaseFailed = leader.cp.recentOutput().split('\n').find((l) => l.includes('could not release'))?.trim();
  await stopServer(leader);
  servers.splice(servers.indexOf(leader), 1, await startServer(etcd));
  return out;
}

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  const loadAtStart = loadavg();
  console.log(`kcs leader failover bench: ${SERVERS} control planes on one etcd, ${ROUNDS} rounds of SIGKILL and SIGTERM of the leader; lease duration ${DEFAULT_LEASE_DURATION_MS} ms, renew deadline ${DEFAULT_RENEW_DEADLINE_MS} ms, retry period ${DEFAULT_RETRY_PERIOD_MS} ms; cap ${TIME_LIMIT_S} s`);
  const runs: Failover[] = [];
  const servers: Server[] = [];
  let etcd: EtcdProcess | undefined;
  try {
    etcd = await startEtcd();
    console.log(`etcd ${etcd.endpoint}, pid ${etcd.pid}`);
    for (let i = 0; i < SERVERS; i++) servers.push(await startServer(etcd));
    for (const s of servers) console.log(`server ${s.n}: pid ${s.cp.pid} at ${s.cp.url.origin}, identity ${s.identity}`);
    await post(servers[0], '/api/v1/nodes', `{"apiVersion":"v1","kind":"Node","metadata":{"name":"${NODE}"},"spec":{"capacity":{"cpu":"64","memory":"256Gi","pods":"110"}}}`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const signal of SIGNALS) {
        const r = await failover(servers, etcd, round, signal);
        runs.push(r);
        console.log(`round ${round} ${signal} of server ${r.from} (Lease renewed ${round2(r.leaseAgeMs)} ms before): server ${r.to} holds the Lease after ${round2(r.takeoverMs)} ms, the pod (POST answered after ${round2(r.postedMs)} ms) bound after ${round2(r.boundMs)} ms${r.exitedMs === undefined ? '' : `; it exited after ${round2(r.exitedMs)} ms`}${r.releaseFailed ? ` (${r.releaseFailed})` : ''}; server ${started} started`);
      }
    }
  } catch (err) {
    failures.push(...cap.failures(err));
    // How each server fared (exited? its last lines), unless it was only the cap.
    if (!cap.passed) for (const s of servers) failures.push((withServerOutput(s.cp, new Error(`server ${s.n}:`)) as Error).message);
  } finally {
    for (const s of servers) await stopServer(s);
    await etcd?.stop();
  }

  const rows: Array<Array<string | number>> = [['round', 'signal', 'from', 'to', 'lease age ms', 'takeover ms', 'bound ms', 'bound - takeover ms', 'POST answered ms', 'POST before ms', 'old leader exited ms']];
  for (const r of runs) rows.push([r.round, r.signal, r.from, r.to ?? '-', r.leaseAgeMs, r.takeoverMs ?? NaN, r.boundMs ?? NaN, (r.boundMs ?? NaN) - (r.takeoverMs ?? NaN), r.postedMs ?? NaN, r.postBeforeMs ?? NaN, r.exitedMs ?? NaN]);
  const bySignal = Object.fromEntries(SIGNALS.map((signal) => {
    const of = runs.filter((r) => r.signal === signal);
    const figures = (pick: (r: Failover) => number | undefined) => summarize(of.map(pick).filter((v): v is number => v !== undefined));
    return [signal, { rounds: of.length, takeoverMs: figures((r) => r.takeoverMs), boundMs: figures((r) => r.boundMs), leaseAgeMs: figures((r) => r.leaseAgeMs) }];
  })) as Record<Signal, { rounds: number; takeoverMs: Summary; boundMs: Summary; leaseAgeMs: Summary }>;
  const summaryRows: Array<Array<string | number>> = [['measure', 'SIGKILL p50', 'SIGKILL max', 'SIGTERM p50', 'SIGTERM max', 'unit']];
  for (const [label, key] of [['signal -> another holds the Lease', 'takeoverMs'], ['signal -> pod POSTed after it bound', 'boundMs'], ['Lease renewal age at the signal', 'leaseAgeMs']] as const) {
    summaryRows.push([label, bySignal.SIGKILL[key].p50, bySignal.SIGKILL[key].max, bySignal.SIGTERM[key].p50, bySignal.SIGTERM[key].max, 'ms']);
  }
  console.log('');
  printTable(rows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isFinite(c) ? '-' : c))));
  console.log('');
  printTable(summaryRows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isFinite(c) ? '-' : c))));
  console.log('');
  console.log(`After a crash a candidate may take the Lease a lease duration (${DEFAULT_LEASE_DURATION_MS} ms) after it saw the last renewal, which it sees at its next try (one every retry period, ${DEFAULT_RETRY_PERIOD_MS} ms, timed from the end of the last try): takeover ~ ${DEFAULT_LEASE_DURATION_MS} - age .. ${DEFAULT_LEASE_DURATION_MS + DEFAULT_RETRY_PERIOD_MS} - age ms, plus the tries' own time. After a clean stop the Lease is released and taken at the next try (<= ${DEFAULT_RETRY_PERIOD_MS} ms after the release). kcs up has no flags for these timings.`);
  console.log(`node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  const s = (x: Summary) => roundAll({ n: x.n, p50: x.p50, max: x.max, min: x.min, mean: x.mean });
  return report({
    bench: 'kcs-leader-failover', node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), servers: SERVERS, rounds: ROUNDS,
    leaseDurationMs: DEFAULT_LEASE_DURATION_MS, renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS, retryPeriodMs: DEFAULT_RETRY_PERIOD_MS,
    sigkill: { takeoverMs: s(bySignal.SIGKILL.takeoverMs), boundMs: s(bySignal.SIGKILL.boundMs), leaseAgeMs: s(bySignal.SIGKILL.leaseAgeMs) },
    sigterm: { takeoverMs: s(bySignal.SIGTERM.takeoverMs), boundMs: s(bySignal.SIGTERM.boundMs), leaseAgeMs: s(bySignal.SIGTERM.leaseAgeMs) },
    runs: runs.map((r) => roundAll(r)),
    failures: failures.length, timedOut: cap.passed,
  }, failures);
}

function round2(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : String(round(v));
}

runMain(main);
