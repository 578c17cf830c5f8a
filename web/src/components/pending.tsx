// Pods that no node has taken, each with the scheduler's reason
// ("0/5 nodes are available: 3 Insufficient cpu, 2 NotReady").
import type { Pod } from '../../../src/objects/types.ts';
import { MOVED_FROM } from '../../../src/objects/unbinding.ts';
import { podKey } from '../cluster.ts';

const SHOWN = 100;

export function pendingReason(p: Pod): string {
  const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
  if (c?.status === 'False') return c.message ?? c.reason ?? 'Unschedulable';
  const from = p.metadata.annotations?.[MOVED_FROM];
  if (from) return `moved off ${from}: waiting for a node`;
  return 'waiting for the scheduler';
}

export function PendingLane({ pods, selected, onSelectPod }: { pods: Pod[]; selected?: string; onSelectPod(key: string): void }) {
  return (
    <section class="panel pending" aria-labelledby="pending-title">
      <h2 id="pending-title">Pending <span class="count">{pods.length}</span></h2>
      {pods.length === 0 ? <p class="muted">No pod is waiting for a node.</p> : (
        <ul class="pending-list">
          {pods.slice(0, SHOWN).map((p) => {
            const key = podKey(p);
            return (
              <li key={key}>
                <button type="button" class={`pending-pod${selected === key ? ' selected' : ''}`} data-pending-pod={key} onClick={() => onSelectPod(key)} aria-pressed={selected === key}>
                  <span class="pending-name">{key}</span>
                  <span class="pending-reason">{pendingReason(p)}</span>
                </button>
              </li>
            );
          })}
          {pods.length > SHOWN && <li class="muted">and {pods.length - SHOWN} more</li>}
        </ul>
      )}
    </section>
  );
}
