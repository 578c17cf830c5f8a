// `kcs traffic`'s load: HTTP GETs at a steady rate to an address, each
// answer counted by the pod that served it (the x-kcs-pod header pod
// listeners set), its latency kept, and errors counted by kind.
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

/** One GET; what it says goes into the report. */
export function hit(agent: Agent, host: string, port: number, report: TrafficReport): Promise<void> {
  report.sent++;
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (why: string) => {
      report.errors.set(why, (report.errors.get(why) ?? 0) + 1);
      resolve();
    };
    const req = request({ host, port, path: '/', agent, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
        report.ok++;
        report.latenciesMs.push(performance.now() - started);
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
