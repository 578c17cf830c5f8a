// One node as a card: its state, what is asked of it against what it has,
// its last heartbeat ticking, and its pods as chips. Memoised: a card
// renders again only when its node, its pods or its lease changed.
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import { nodeCapacity, podRequests } from '../../../src/objects/requests.ts';
import type { Node, Pod } from '../../../src/objects/types.ts';
import { readiness, podKey, type Lease } from '../cluster.ts';
import { formatBytes, formatMilliCpu, percent } from '../format.ts';
import { Since } from './since.tsx';

/** Chips shown before "+N more": a node with hundreds of pods stays one card tall. */
const CHIPS_SHOWN = 48;

export type NodeAction = 'cordon' | 'uncordon' | 'drain' | 'fail' | 'delete';

interface Props {
  node: Node;
  pods: Pod[];
  lease: Lease | undefined;
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

function Bar({ label, used, total, format }: { label: string; used: number; total: number; format(n: number): string }) {
  const pct = percent(used, total);
  return (
    <div class="bar-row">
      <span class="bar-label">{label}</span>
      <div class={`bar${used > total ? ' over' : ''}`} role="meter" aria-label={`${label} requested`} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used}
        aria-valuetext={`${format(used)} of ${format(total)} requested`}>
        <div class="bar-fill" style={{ width: `${pct}%` }} />
      </div>
      <span class="bar-text">{format(used)} / {format(total)}</span>
    </div>
  );
}

function NodeCardView({ node, pods, lease, selected, onSelectPod, onAction }: Props) {
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
      <Bar label="CPU" used={cpu} total={cap.milliCpu} format={formatMilliCpu} />
      {cap.memory > 0 && <Bar label="Memory" used={mem} total={cap.memory} format={formatBytes} />}
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
  && (a.selected === b.selected || (!a.pods.some((p) => podKey(p) === a.selected || podKey(p) === b.selected))));
