// CLI latency benchmark: wall time of whole `bin/kcs` invocations (process
// start-up included) against a control plane in a child process holding 100
// nodes, side by side with kubectl against the same server (TLS, as `kcs up`
// serves by default, through the kubeconfig it wrote). Each command runs 2
// times unmeasured, then 20 times sequentially.
//
//   node bench/cli.ts [--runs 20] [--nodes 100]
// Env equivalents: KCS_BENCH_CLI_RUNS, KCS_BENCH_CLI_NODES; KCS_KUBECTL names
// the kubectl to time (default: kubectl on PATH; skipped with a note if none).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { apiAgent, checkBuild, httpCall, KCS_BIN, machineCpu, selfAndChildrenCpu, msSince, printTable, round, roundAll, ROOT, startChildControlPlane, summarize, type Summary, runMain } from './lib.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string' }, nodes: { type: 'string' } } });
const RUNS = Number(args.runs ?? process.env.KCS_BENCH_CLI_RUNS ?? 20);
const NODES = Number(args.nodes ?? process.env.KCS_BENCH_CLI_NODES ?? 100);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 500 || !Number.isInteger(NODES) || NODES < 0 || NODES > 10_000) {
  console.error('--runs must be 1..500 and --nodes 0..10000');
  process.exit(2);
}
const WARMUP_RUNS = 2;
const RUN_TIMEOUT_MS = 30_000;
const TARGET_GET_NODES_MEDIAN_MS = 250;

interface Timing { label: string; stats?: Summary; error?: string; otherCpuPct?: number }

/** Runs argv WARMUP_RUNS + RUNS times; every run must exit 0 and pass `check`. */
function time(label: string, cmd: string, argv: string[], env: NodeJS.ProcessEnv, serverCpu: () => number, check: (stdout: string) => string | undefined): Timing {
  const samples: number[] = [];
  let m0 = machineCpu();
  let own0 = selfAndChildrenCpu() + serverCpu();
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < WARMUP_RUNS + RUNS; i++) {
    if (i === WARMUP_RUNS) {
      m0 = machineCpu();
      own0 = selfAndChildrenCpu() + serverCpu();
      t0 = process.hrtime.bigint();
    }
    const s = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    const ms = msSince(s);
    if (r.error || r.status !== 0) {
      return { label, error: `${cmd} ${argv.join(' ')}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`} ${(r.stderr ?? '').trim().slice(0, 300)}` };
    }
    const problem = check(r.stdout);
    if (problem) return { label, error: `${cmd} ${argv.join(' ')}: ${problem}` };
    if (i >= WARMUP_RUNS) samples.push(ms);
  }
  // CPU the rest of the machine used meanwhile, in % of one core: high means noisy figures.
  const other = machineCpu().busy - m0.busy - (selfAndChildrenCpu() + serverCpu() - own0);
  return { label, stats: summarize(samples), otherCpuPct: Math.max(0, (other / (msSince(t0) / 1000)) * 100) };
}

async function main(): Promise<number> {
  if (!checkBuild()) return 1;
  console.log(`kcs CLI bench: ${NODES} nodes; each command ${WARMUP_RUNS} warm-up + ${RUNS} timed runs, sequential`);
  const loadAtStart = loadavg();
  // Virtual nodes: the bench times the CLI, and Docker nodes would both load
  // the machine during the runs and outlive the bench's temporary state.
  const cp = await startChildControlPlane({ tls: true, args: ['--runtime', 'virtual'] });
  const results: Timing[] = [];
  let failed = false;
  try {
    const agent = apiAgent(cp, 10);
    const creates = await Promise.all(Array.from({ length: NODES }, (_, i) => httpCall(agent, cp.url, 'POST', '/api/v1/nodes', cp.token, JSON.stringify({
      apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${String(i).padStart(3, '0')}` }, spec: { capacity: { cpu: '4', memory: '8Gi' } },
    }))));
    agent.destroy();
    const bad = creates.filter((r) => r.status !== 201);
    if (bad.length) throw new Error(`${bad.length} node creates failed; first: ${bad[0].status} ${bad[0].body.slice(0, 300)}`);

    // The environment a user would have: only KCS_STATE_DIR pointing at the state.
    const env: NodeJS.ProcessEnv = { ...process.env, KCS_STATE_DIR: cp.stateDir };
    for (const k of ['KCS_CONFIG', 'KCS_SERVER', 'KCS_TOKEN', 'KUBECONFIG', 'NODE_OPTIONS']) delete env[k];
    const nodeLines = (out: string) => {
      const n = out.split('\n').filter((l) => l.startsWith('node-')).length;
      return n === NODES ? undefined : `expected ${NODES} node rows, got ${n}`;
    };

    const srv = () => cp.cpuSeconds().total;
    results.push(time('kcs get nodes', KCS_BIN, ['get', 'nodes'], env, srv, nodeLines));
    const kubectl = process.env.KCS_KUBECTL || 'kubectl';
    if (spawnSync(kubectl, ['version', '--client'], { encoding: 'utf8' }).status === 0) {
      // A fresh discovery cache per run would time discovery, not the get: kubectl keeps one, as a user's does.
      const kubeEnv = { ...env, KUBECONFIG: join(cp.stateDir, 'kubeconfig'), HOME: cp.stateDir };
      results.push(time('kubectl get nodes', kubectl, ['get', 'nodes'], kubeEnv, srv, nodeLines));
    } else {
      console.log(`(no ${kubectl} to time: set KCS_KUBECTL)`);
    }
    results.push(time('kcs version --client', KCS_BIN, ['version', '--client'], env, srv, (o) => (o.includes('Client Version') ? undefined : 'no "Client Version" line')));
    results.push(time('node -e 0 (bare node floor)', join(ROOT, 'node_modules', 'node', 'bin', 'node'), ['-e', '0'], env, srv, () => undefined));
  } finally {
    await cp.stop();
  }

  const rows: Array<Array<string | number>> = [['command', 'runs', 'median ms', 'p90 ms', 'min ms', 'max ms', 'other%', 'target']];
  for (const r of results) {
    const target = r.label === 'kcs get nodes' && r.stats ? `median <= ${TARGET_GET_NODES_MEDIAN_MS} ms ${r.stats.p50 <= TARGET_GET_NODES_MEDIAN_MS ? 'ok' : 'MISS'}` : '';
    if (r.stats) rows.push([r.label, r.stats.n, r.stats.p50, r.stats.p90, r.stats.min, r.stats.max, r.otherCpuPct ?? '', target]);
    else rows.push([r.label, 'FAILED', '', '', '', '', '', '']);
  }
  console.log('');
  printTable(rows);
  console.log('');
  console.log(`node ${process.version}; ${cpus().length} CPUs; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; NODE_COMPILE_CACHE as bin/kcs sets it (warm after the warm-up runs)`);
  console.log('other% = CPU used by the rest of the machine during the timed runs (100% = one core): high means noisy figures.');
  const json: Record<string, unknown> = { bench: 'kcs-cli', node: process.version, cpus: cpus().length, loadAvg1m: round(loadAtStart[0]), nodes: NODES, runs: RUNS };
  for (const r of results) {
    json[r.label] = r.stats ? roundAll({ medianMs: r.stats.p50, p90Ms: r.stats.p90, minMs: r.stats.min, maxMs: r.stats.max, otherCpuPct: r.otherCpuPct ?? NaN }) : { error: r.error };
  }
  json.targets = { getNodesMedianMs: TARGET_GET_NODES_MEDIAN_MS };
  console.log(JSON.stringify(json));
  for (const r of results) {
    if (!r.error) continue;
    console.error(r.error);
    failed = true;
  }
  return failed ? 1 : 0;
}

runMain(main);
