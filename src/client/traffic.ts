// Load on a Service: HTTP GETs at a steady rate to an address, each answer
// counted by the pod that served it (the x-kcs-pod header pod listeners
// set), its latency kept, and errors counted by kind. `kcs traffic` sends
// them from this machine; a node's agent from a pod's address (kcs.io/calls).
import { Agent, request } from 'node:http';

export interface TrafficReport {
  sent: number;
  ok: number;
  errors: Map<string, number>;
  byPod: Map<string, number>;
  latenciesMs: number[];
}

export function newReport(): TrafficReport {
  return { sent: 0, ok: 0, errors: new Map(), byPod: new Map(), latenciesMs: [] };
}

/** Latencies a long-running report keeps: the most recent, enough for a p99. */
const LATENCIES_KEPT = 2000;

/** One GET (from localAddress, where given); what it says goes into the report. */
export function hit(agent: Agent, host: string, port: number, report: TrafficReport, localAddress?: string): Promise<void> {
  report.sent++;
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (why: string) => {
      report.errors.set(why, (report.errors.get(why) ?? 0) + 1);
      resolve();
    };
    const req = request({ host, port, path: '/', agent, timeout: 5_000, ...(localAddress ? { localAddress } : {}) }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
        report.ok++;
        report.latenciesMs.push(performance.now() - started);
        if (report.latenciesMs.length > 2 * LATENCIES_KEPT) report.latenciesMs.splice(0, LATENCIES_KEPT);
        const pod = String(res.headers['x-kcs-pod'] ?? '(unknown)');
        report.byPod.set(pod, (report.byPod.get(pod) ?? 0) + 1);
        resolve();
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    req.end();
  });
}

export function percentileMs(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The report as lines: per pod, then latency and errors. */
export function describeReport(r: TrafficReport, seconds: number): string[] {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const lines = [...r.byPod].sort(([a], [b]) => a.localeCompare(b)).map(([pod, n]) => `  ${pod.padEnd(30)} ${String(n).padStart(7)}  ${((100 * n) / Math.max(1, r.ok)).toFixed(1)}%`);
  const errs = [...r.errors].map(([why, n]) => `${why} ${n}`).join(', ') || 'none';
  return [
    `${seconds.toFixed(1)} s: ${r.sent} sent, ${r.ok} answered, latency p50 ${percentileMs(sorted, 50).toFixed(1)} ms p99 ${percentileMs(sorted, 99).toFixed(1)} ms, errors: ${errs}`,
    ...lines,
  ];
}

/** A pod's calls as `kcs.io/v1 PodCalls` serves them (api/pod-calls-api.ts). */
export interface PodCallsView {
  metadata: { name: string; namespace: string };
  node: string;
  timestamp: string;
  calls: Array<{ call: string; perSecond: number; sent: number; answered: number; errors: Record<string, number>; byPod: Record<string, number>; latencyMs?: { p50: number; p99: number } }>;
}

/** A pod's calls as lines: per call its totals, then the pods that answered. */
export function describeCalls(v: PodCallsView): string[] {
  const lines = [`calls of pod ${v.metadata.namespace}/${v.metadata.name} (node ${v.node}), reported ${v.timestamp}:`];
  for (const c of v.calls) {
    const errs = Object.entries(c.errors).map(([why, n]) => `${why} ${n}`).join(', ') || 'none';
    const latency = c.latencyMs ? `latency p50 ${c.latencyMs.p50.toFixed(1)} ms p99 ${c.latencyMs.p99.toFixed(1)} ms` : 'no answers yet';
    lines.push(`  ${c.call}: ${c.sent} sent, ${c.answered} answered, ${latency}, errors: ${errs}`);
    for (const [pod, n] of Object.entries(c.byPod).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`    ${pod.padEnd(30)} ${String(n).padStart(7)}  ${((100 * n) / Math.max(1, c.answered)).toFixed(1)}%`);
    }
  }
  return lines;
}
