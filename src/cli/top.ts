// The tables of `kcs top nodes|pods`, as `kubectl top` draws them, from the
// metrics.k8s.io objects the API serves: CPU in millicores, memory in MiB,
// a node's share of its allocatable, sorted by --sort-by (largest first).
// With history, a sparkline of the node's CPU over the last minutes.
import { parseBytes, parseMilliCpu } from '../objects/quantity.ts';
import { nodeCapacity } from '../objects/requests.ts';
import type { Node } from '../objects/types.ts';

export interface Usage { cpu: string; memory: string }
export interface NodeMetrics { metadata: { name: string }; usage: Usage }
export interface PodMetrics { metadata: { name: string; namespace: string }; containers: Array<{ name: string; usage: Usage }> }
export interface UsageHistory { metadata: { name: string }; samples: Array<{ timestamp: string; usage: Usage }> }

export type SortBy = 'cpu' | 'memory' | undefined;
export const SORT_KEYS = ['cpu', 'memory'] as const;

const cores = (milli: number) => `${Math.round(milli)}m`;
const mebibytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)}Mi`;
const percent = (used: number, of: number) => (of > 0 ? `${Math.round((used / of) * 100)}%` : '<unknown>');

interface Figures { milliCpu: number; memory: number }
const figures = (u: Usage): Figures => ({ milliCpu: parseMilliCpu(u.cpu), memory: parseBytes(u.memory) });

function sorted<T>(rows: Array<{ figures: Figures; row: T }>, sortBy: SortBy): T[] {
  if (sortBy === 'cpu') rows.sort((a, b) => b.figures.milliCpu - a.figures.milliCpu);
  if (sortBy === 'memory') rows.sort((a, b) => b.figures.memory - a.figures.memory);
  return rows.map((r) => r.row);
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** The values as one character each, scaled to max (the node's CPU capacity). */
export function sparkline(values: number[], max: number, width = 24): string {
  return values.slice(-width).map((v) => SPARKS[Math.min(SPARKS.length - 1, Math.max(0, Math.round((v / (max || 1)) * (SPARKS.length - 1))))]).join('');
}

/** kubectl's node table; nodes that reported nothing yet are listed as <unknown>, as kubectl does. */
export function nodeTable(nodes: Node[], metrics: NodeMetrics[], opts: { sortBy?: SortBy; history?: UsageHistory[] } = {}): { headers: string[]; rows: string[][] } {
  const byName = new Map(metrics.map((m) => [m.metadata.name, m]));
  const history = new Map((opts.history ?? []).map((h) => [h.metadata.name, h]));
  const headers = ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)', ...(opts.history ? ['CPU HISTORY'] : [])];
  const measured: Array<{ figures: Figures; row: string[] }> = [];
  const missing: string[][] = [];
  for (const node of nodes) {
    const name = node.metadata.name!;
    const m = byName.get(name);
    const capacity = nodeCapacity(node);
    const spark = opts.history ? [sparkline((history.get(name)?.samples ?? []).map((s) => parseMilliCpu(s.usage.cpu)), capacity.milliCpu)] : [];
    if (!m) {
      missing.push([name, '<unknown>', '<unknown>', '<unknown>', '<unknown>', ...spark]);
      continue;
    }
    const f = figures(m.usage);
    measured.push({ figures: f, row: [name, cores(f.milliCpu), percent(f.milliCpu, capacity.milliCpu), mebibytes(f.memory), percent(f.memory, capacity.memory), ...spark] });
  }
  return { headers, rows: [...sorted(measured, opts.sortBy), ...missing] };
}

/** kubectl's pod table: per pod, or per container with containers. */
export function podTable(metrics: PodMetrics[], opts: { sortBy?: SortBy; allNamespaces?: boolean; containers?: boolean } = {}): { headers: string[]; rows: string[][] } {
  const ns = (m: PodMetrics) => (opts.allNamespaces ? [m.metadata.namespace] : []);
  const headers = [...(opts.allNamespaces ? ['NAMESPACE'] : []), ...(opts.containers ? ['POD', 'NAME'] : ['NAME']), 'CPU(cores)', 'MEMORY(bytes)'];
  const rows: Array<{ figures: Figures; row: string[] }> = [];
  for (const m of metrics) {
    if (opts.containers) {
      for (const c of m.containers) {
        const f = figures(c.usage);
        rows.push({ figures: f, row: [...ns(m), m.metadata.name, c.name, cores(f.milliCpu), mebibytes(f.memory)] });
      }
      continue;
    }
    const f = m.containers.reduce((sum, c) => {
      const x = figures(c.usage);
      return { milliCpu: sum.milliCpu + x.milliCpu, memory: sum.memory + x.memory };
    }, { milliCpu: 0, memory: 0 });
    rows.push({ figures: f, row: [...ns(m), m.metadata.name, cores(f.milliCpu), mebibytes(f.memory)] });
  }
  return { headers, rows: sorted(rows, opts.sortBy) };
}
