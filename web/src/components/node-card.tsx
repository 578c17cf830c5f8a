// One node as a card: its state, what is asked of it against what it has,
// what it uses now and has used over the last minutes, its last heartbeat
// ticking, and its pods as chips. Memoised: a card renders again only when
// its node, its pods, its lease or its use changed.
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import { nodeCapacity, podRequests } from '../../../src/objects/requests.ts';
import type { Node, Pod } from '../../../src/objects/types.ts';
import { CPU_RECENT_MS, readiness, podKey, type CpuSample, type Lease, type NodeUsage } from '../cluster.ts';
import { formatBytes, formatMilliCpu, percent, roundedBytes } from '../format.ts';
import { Since } from './since.tsx';

/** Chips shown before "+N more": a node with hundreds of pods stays one card tall. */
const CHIPS_SHOWN = 48;

export type NodeAction = 'cordon' | 'uncordon' | 'drain' | 'fail' | 'delete';

interface Props {
  node: Node;
  pods: Pod[];
  lease: Lease | undefined;
  /** What the node uses now; undefined while it has not reported lately. */
  usage: NodeUsage | undefined;
  cpuRecent: CpuSample[] | undefined;
  selected: string | undefined;
  onSelectPod(key: string): void;
  onAction(node: Node, action: NodeAction): void;
}

export function podState(p: Pod): string {
  if (p.metadata.deletionTimestamp) return 'terminating';
  const phase = p.status?.phase ?? 'Pending';
  if (phase !== 'Running') return phase.toLowerCase();
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return ready ? 'running' : 'unready';
}

interface BarProps {
  label: string;
  /** Names the used figure for tests and tools. */
  resource: 'cpu' | 'memory';
  requested: number;
  used: number | undefined;
  total: number;
  format(n: number): string;
  formatUsed(n: number): string;
}

/**
 * What the pods request against what the node has (the thick bar: what the
 * scheduler counts), and under it what they use now (the thin one), which
 * may be less or more than they asked for.
 */
function Bar({ label, resource, requested, used, total, format, formatUsed }: BarProps) {
  return (
    <div class="bar-row">
      <span class="bar-label">{label}</span>
      <div class="bars">
        <div class={`bar${requested > total ? ' over' : ''}`} role="meter" aria-label={`${label} requested`} aria-valuemin={0} aria-valuemax={total} aria-valuenow={requested}
          aria-valuetext={`${format(requested)} of ${format(total)} requested`}>
          <div class="bar-fill" style={{ width: `${percent(requested, total)}%` }} />
        </div>
        {used !== undefined && (
          <div class="bar bar-use" role="meter" aria-label={`${label} used`} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used}
            aria-valuetext={`${formatUsed(used)} of ${format(total)} used`}>
            <div class="bar-fill" style={{ width: `${percent(used, total)}%` }} />
          </div>
        )}
      </div>
      <span class="bar-text">
        <span>{format(requested)} / {format(total)}</span>
        {used !== undefined && <span class="used-text" data-testid={`${resource}-used`}>used {formatUsed(used)}</span>}
      </span>
    </div>
  );
}

const SPARK_WIDTH = 100;
const SPARK_HEIGHT = 20;

/** The node's CPU use over the last minutes, on the scale of its capacity (or of its peak, when above). */
function CpuSparkline({ node, samples, capacity }: { node: string; samples: CpuSample[]; capacity: number }) {
  const minutes = CPU_RECENT_MS / 60_000;
  const start = samples.at(-1)!.at - CPU_RECENT_MS;
  const values = samples.map((s) => s.milliCpu);
  const peak = Math.max(...values);
  const low = Math.min(...values);
  const top = Math.max(capacity, peak, 1);
  const x = (at: number) => (((at - start) / CPU_RECENT_MS) * SPARK_WIDTH).toFixed(2);
  // A pixel of room above and below, so the line at 0 or at the top is not cut in half.
  const y = (v: number) => (SPARK_HEIGHT - 1 - (v / top) * (SPARK_HEIGHT - 2)).toFixed(2);
  const line = samples.map((s) => `${x(s.at)},${y(s.milliCpu)}`).join(' ');
  const area = `${x(samples[0]!.at)},${SPARK_HEIGHT} ${line} ${x(samples.at(-1)!.at)},${SPARK_HEIGHT}`;
  return (
    <div class="bar-row spark-row">
      <span class="bar-label">last {minutes}m</span>
      <svg class="spark" viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`} preserveAspectRatio="none" role="img"
        aria-label={`CPU used on ${node} over the last ${minutes} minutes: between ${formatMilliCpu(low)} and ${formatMilliCpu(peak)}`}>
        <polygon class="spark-area" points={area} />
        <polyline class="spark-line" points={line} />
      </svg>
      <span class="bar-text">peak {formatMilliCpu(peak)}</span>
    </div>
  );
}

function NodeCardView({ node, pods, lease, usage, cpuRecent, selected, onSelectPod, onAction }: Props) {
  const [expanded, setExpanded] = useState(false);
  const name = node.metadata.name!;
  const state = readiness(node);
  const cap = nodeCapacity(node);
  let cpu = 0;
  let mem = 0;
  for (const p of pods) {
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const r = podRequests(p);
    cpu += r.milliCpu;
    mem += r.memory;
  }
  const cordoned = node.spec.unschedulable === true;
  const renewed = lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : undefined;
  const shown = expanded ? pods : pods.slice(0, CHIPS_SHOWN);
  const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
  const reason = readyCondition && readyCondition.status !== 'True' ? `Ready=${readyCondition.status}: ${readyCondition.message ?? readyCondition.reason ?? ''}` : undefined;
  return (
    <article class={`node-card state-${state.toLowerCase()}${cordoned ? ' cordoned' : ''}`} data-node={name} aria-label={`node ${name}, ${state}${cordoned ? ', cordoned' : ''}`}>
      <header class="node-head">
        <h3 class="node-name">{name}</h3>
        <span class={`badge badge-${state.toLowerCase()}`} data-testid="node-state">{state}</span>
        {cordoned && <span class="badge badge-cordoned">cordoned</span>}
      </header>
      <div class="node-meta">
        <span>heartbeat <Since t={renewed} label={`last heartbeat of ${name}`} /> ago</span>
        <span>{pods.length} pod{pods.length === 1 ? '' : 's'}</span>
      </div>
      {state !== 'Ready' && reason && <p class="node-reason">{reason}</p>}
      <Bar label="CPU" resource="cpu" requested={cpu} used={usage?.milliCpu} total={cap.milliCpu} format={formatMilliCpu} formatUsed={formatMilliCpu} />
      {cap.memory > 0 && <Bar label="Memory" resource="memory" requested={mem} used={usage?.memory} total={cap.memory} format={formatBytes} formatUsed={roundedBytes} />}
      {cpuRecent && cpuRecent.length > 1 && <CpuSparkline node={name} samples={cpuRecent} capacity={cap.milliCpu} />}
      <ul class="chips" aria-label={`pods on ${name}`}>
        {shown.map((p) => {
          const key = podKey(p);
          return (
            <li key={key}>
              <button type="button" class={`chip chip-${podState(p)}${selected === key ? ' selected' : ''}`} data-pod={key}
                aria-pressed={selected === key} onClick={() => onSelectPod(key)} title={`${key}: ${podState(p)}`}>
                {p.metadata.name}
              </button>
            </li>
          );
        })}
        {pods.length > CHIPS_SHOWN && (
          <li><button type="button" class="chip chip-more" onClick={() => setExpanded(!expanded)}>{expanded ? 'fewer' : `+${pods.length - CHIPS_SHOWN} more`}</button></li>
        )}
      </ul>
      <div class="node-actions" role="group" aria-label={`actions on ${name}`}>
        {cordoned
          ? <button type="button" onClick={() => onAction(node, 'uncordon')}>Uncordon</button>
          : <button type="button" onClick={() => onAction(node, 'cordon')}>Cordon</button>}
        <button type="button" onClick={() => onAction(node, 'drain')}>Drain</button>
        <button type="button" class="danger" onClick={() => onAction(node, 'fail')} disabled={state !== 'Ready'}>Fail</button>
        <button type="button" class="danger" onClick={() => onAction(node, 'delete')}>Delete</button>
      </div>
    </article>
  );
}

export const NodeCard = memo(NodeCardView, (a, b) => a.node === b.node && a.pods === b.pods && a.lease === b.lease
  && a.usage === b.usage && a.cpuRecent === b.cpuRecent
  && (a.selected === b.selected || (!a.pods.some((p) => podKey(p) === a.selected || podKey(p) === b.selected))));
