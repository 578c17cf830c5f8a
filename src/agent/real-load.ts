// Real load (--real-load): the agent in a node container burns the CPU its
// pods use, so `docker stats` shows it and the container's CPU quota (its
// node's CPUs) really throttles a node whose pods want more than it has.
// Worker threads spin for their share of every 100 ms and sleep the rest;
// what the container really got, and how often it was throttled, is read
// back from its cgroup each heartbeat and reported as the node's usage.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { UsageSink } from './agent.ts';
import type { NodeUsageReport } from '../api/usage-report.ts';

/** One burner: spins for duty/1000 of each 100 ms slice (duty read from shared memory), sleeps the rest. */
const BURNER = `
const { workerData } = require('node:worker_threads');
const duty = new Int32Array(workerData.duty);
const nap = new Int32Array(new SharedArrayBuffer(4));
const SLICE_MS = 100;
for (;;) {
  const start = performance.now();
  const busyUntil = start + (Atomics.load(duty, 0) / 1000) * SLICE_MS;
  let x = 0;
  while (performance.now() < busyUntil) x = (x * 1103515245 + 12345) | 0;
  const rest = SLICE_MS - (performance.now() - start);
  if (rest > 0) Atomics.wait(nap, 0, 0, rest);
}
`;

/** CPU counters of a cgroup, cumulative. */
export interface CgroupCpu { usageNs: number; periods: number; throttledPeriods: number; throttledNs: number }

function fields(text: string): Map<string, number> {
  return new Map(text.trim().split('\n').map((line) => {
    const [k, v] = line.trim().split(/\s+/);
    return [k!, Number(v)];
  }));
}

/** This process's cgroup's CPU counters: v2 (unified cpu.stat) or v1 (cpuacct and cpu). undefined where neither reads. */
export function readCgroupCpu(root = '/sys/fs/cgroup'): CgroupCpu | undefined {
  const read = (path: string) => { try { return readFileSync(`${root}/${path}`, 'utf8'); } catch { return undefined; } };
  const v2 = read('cpu.stat');
  if (v2 !== undefined && v2.includes('usage_usec')) {
    const f = fields(v2);
    return { usageNs: (f.get('usage_usec') ?? 0) * 1000, periods: f.get('nr_periods') ?? 0, throttledPeriods: f.get('nr_throttled') ?? 0, throttledNs: (f.get('throttled_usec') ?? 0) * 1000 };
  }
  const usage = read('cpuacct/cpuacct.usage') ?? read('cpu,cpuacct/cpuacct.usage');
  const stat = read('cpu/cpu.stat') ?? read('cpu,cpuacct/cpu.stat');
  if (usage === undefined || stat === undefined) return undefined;
  const f = fields(stat);
  return { usageNs: Number(usage.trim()), periods: f.get('nr_periods') ?? 0, throttledPeriods: f.get('nr_throttled') ?? 0, throttledNs: f.get('throttled_time') ?? 0 };
}

/** Most burner threads: more than the host's cores only adds switching. */
const MAX_THREADS = 16;

export class RealLoad implements UsageSink {
  private readonly duty = new Int32Array(new SharedArrayBuffer(4));
  private readonly workers: Worker[] = [];
  private readonly read: () => CgroupCpu | undefined;
  private readonly now: () => number;
  private last?: { at: number; cpu: CgroupCpu };

  constructor(opts: { read?: () => CgroupCpu | undefined; now?: () => number } = {}) {
    this.read = opts.read ?? (() => readCgroupCpu());
    this.now = opts.now ?? (() => performance.now());
  }

  /** Burns demand from now on; answers what the cgroup measured since the last call. */
  apply(demand: { milliCpu: number; memory: number }): NodeUsageReport['node'] {
    const threads = Math.min(MAX_THREADS, Math.ceil(demand.milliCpu / 1000));
    while (this.workers.length < threads) {
      const w = new Worker(BURNER, { eval: true, workerData: { duty: this.duty.buffer } });
      w.unref();
      this.workers.push(w);
    }
    while (this.workers.length > threads) void this.workers.pop()!.terminate();
    Atomics.store(this.duty, 0, threads ? Math.min(1000, Math.round(demand.milliCpu / threads)) : 0);
    const cpu = this.read();
    const at = this.now();
    const last = this.last;
    this.last = cpu && { at, cpu };
    if (!cpu || !last || at <= last.at) return undefined;
    const elapsedNs = (at - last.at) * 1e6;
    return {
      milliCpu: Math.max(0, Math.round(((cpu.usageNs - last.cpu.usageNs) / elapsedNs) * 1000)),
      memory: demand.memory,
      throttling: {
        periods: cpu.periods - last.cpu.periods,
        throttledPeriods: cpu.throttledPeriods - last.cpu.throttledPeriods,
        throttledSeconds: Math.round((cpu.throttledNs - last.cpu.throttledNs) / 1e6) / 1000,
      },
    };
  }

  stop(): void {
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}
