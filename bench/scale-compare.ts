// bench:scale on two stores side by side: the headline figure of each
// phase from each run's summary (the JSON line it prints), and the ratio.
// Only what both runs measured is shown; the etcd member's own CPU, which
// the control plane's figures leave out, has rows of its own.
import { round } from './lib.ts';

type Figure = number | undefined;

/** The fields of a bench:scale summary compared here. */
export interface ScaleSummary {
  nodes: Array<{ count?: Figure; readyMs?: Figure; postRate?: Figure; cpuSeconds?: Figure; rssMiB?: Figure }>;
  pods?: {
    count?: Figure; nodes: number; createRate?: Figure; allBoundMs?: Figure; allRunningMs?: Figure; bindLatencyMs?: { p99: number }; cpuSecondsPer1000Pods?: Figure; rssMiB?: Figure;
    baseline?: { count?: Figure; createRate?: Figure }; createRateRatio?: Figure;
  };
  steady?: { windowS?: Figure; falseNotReady?: Figure; leaseGapMs?: { p99: number }; cpuPct?: { mean: number }; rssMiB?: { max: number }; cli: Array<{ command: string; medianMs?: Figure }> };
  student?: { count?: Figure; podsPerSec?: Figure; bindLatencyMs?: { p99: number } };
  shutdown?: { stopMs?: Figure };
  /** The etcd member's CPU seconds over each phase (an etcd run only). */
  storeUse?: Array<{ phase: string; cpuSeconds: Figure; peakRssMiB: Figure }>;
}

/** Rows for printTable: measure, unit, then each run's figure and b / a. */
export function compareScaleRuns(a: ScaleSummary, b: ScaleSummary, names: [string, string]): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [['measure', 'unit', names[0], names[1], `${names[1]}/${names[0]}`]];
  const add = (measure: string, unit: string, x: Figure, y: Figure) => {
    if (x === undefined && y === undefined) return;
    const ratio = x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && x !== 0 ? round(y / x) : '-';
    rows.push([measure, unit, fig(x), fig(y), ratio]);
  };
  for (const n of a.nodes) {
    const m = b.nodes.find((o) => o.count === n.count);
    if (!m) continue;
    add(`nodes ${n.count}: first POST -> all Ready`, 'ms', n.readyMs, m.readyMs);
    add('  POST rate', '/s', n.postRate, m.postRate);
    add('  control plane CPU to all Ready', 's', n.cpuSeconds, m.cpuSeconds);
    add('  control plane RSS', 'MiB', n.rssMiB, m.rssMiB);
  }
  if (a.pods && b.pods) {
    const [p, q] = [a.pods, b.pods];
    if (p.baseline && q.baseline) add(`baseline: create rate, ${p.baseline.count} pods, no nodes`, '/s', p.baseline.createRate, q.baseline.createRate);
    add(`pods: create rate, ${p.count} pods on ${p.nodes} nodes`, '/s', p.createRate, q.createRate);
    add('  ratio to the baseline', '', p.createRateRatio, q.createRateRatio);
    add('  first POST -> all bound', 'ms', p.allBoundMs, q.allBoundMs);
    add('  create -> bound per pod p99', 'ms', p.bindLatencyMs?.p99, q.bindLatencyMs?.p99);
    add('  first POST -> all Running', 'ms', p.allRunningMs, q.allRunningMs);
    add('  control plane CPU per 1000 pods', 's', p.cpuSecondsPer1000Pods, q.cpuSecondsPer1000Pods);
    add('  control plane RSS at end', 'MiB', p.rssMiB, q.rssMiB);
  }
  if (a.steady && b.steady) {
    const [s, t] = [a.steady, b.steady];
    add(`steady ${fig(s.windowS)} s: false NotReady`, '', s.falseNotReady, t.falseNotReady);
    add('  lease renewal gap p99', 'ms', s.leaseGapMs?.p99, t.leaseGapMs?.p99);
    add('  control plane CPU mean', '%', s.cpuPct?.mean, t.cpuPct?.mean);
    add('  control plane RSS max', 'MiB', s.rssMiB?.max, t.rssMiB?.max);
    for (const c of s.cli) add(`  ${c.command} (median)`, 'ms', c.medianMs, t.cli.find((d) => d.command === c.command)?.medianMs);
  }
  if (a.student && b.student) {
    add(`student: ${a.student.count} pods, pods/s to all bound`, '/s', a.student.podsPerSec, b.student.podsPerSec);
    add('  create -> bound per pod p99', 'ms', a.student.bindLatencyMs?.p99, b.student.bindLatencyMs?.p99);
  }
  if (a.shutdown && b.shutdown) add('shutdown: SIGTERM under load -> exited', 'ms', a.shutdown.stopMs, b.shutdown.stopMs);
  for (const [i, run] of [a, b].entries()) {
    for (const u of run.storeUse ?? []) {
      const figures: [Figure, Figure] = i === 0 ? [u.cpuSeconds, undefined] : [undefined, u.cpuSeconds];
      add(`${names[i]} member CPU over phase ${u.phase}`, 's', ...figures);
    }
  }
  return rows;
}

function fig(v: Figure): string | number {
  return v === undefined || !Number.isFinite(v) ? '-' : v;
}
