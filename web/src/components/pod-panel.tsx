// One pod: where it is, and the scheduling decision behind it: every node's
// filter result and score under the policy used, the node chosen, and the
// pod's events.
import type { Pod } from '../../../src/objects/types.ts';
import type { KubeEvent } from '../cluster.ts';
import { EventList } from './events.tsx';
import { podState } from './node-card.tsx';
import { pendingReason } from './pending.tsx';

interface SchedulingRecord {
  policy: string;
  node?: string;
  nodes: Array<{ name: string; fits: boolean; reasons?: string[]; score?: number }>;
  omitted?: number;
}

export function PodPanel({ pod, events, onClose, onDelete, onUnhealthy }: {
  pod: Pod; events: KubeEvent[]; onClose(): void; onDelete(): void; onUnhealthy(value: boolean): void;
}) {
  const record = pod.status?.scheduling as SchedulingRecord | undefined;
  const unhealthy = pod.metadata.annotations?.['kcs.io/simulate-unhealthy'] === 'true';
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  return (
    <section class="panel pod-panel" aria-labelledby="pod-title" data-pod-panel={key}>
      <header class="panel-head">
        <h2 id="pod-title">Pod {key}</h2>
        <button type="button" class="close" onClick={onClose} aria-label="close the pod panel">×</button>
      </header>
      <dl class="facts">
        <dt>State</dt><dd>{podState(pod)}</dd>
        <dt>Node</dt><dd>{pod.spec.nodeName ?? `none (${pendingReason(pod)})`}</dd>
        {record && <><dt>Policy</dt><dd>{record.policy}</dd></>}
        {unhealthy && <><dt>Health</dt><dd>fails its health check (simulated)</dd></>}
      </dl>
      <div class="node-actions" role="group" aria-label={`actions on pod ${key}`}>
        <button type="button" onClick={() => onUnhealthy(!unhealthy)}>{unhealthy ? 'Mark healthy' : 'Mark unhealthy'}</button>
        <button type="button" class="danger" onClick={onDelete}>Delete</button>
      </div>
      <h3>Scheduling decision</h3>
      {!record ? <p class="muted">No decision recorded yet (bound by a client, or not yet scheduled).</p> : (
        <table class="decision" data-testid="decision">
          <caption>
            {record.node ? <>Chose <strong data-chosen={record.node}>{record.node}</strong> under {record.policy}</> : <>No node fits under {record.policy}</>}
            {record.omitted ? `; ${record.omitted} more node(s) not shown` : ''}
          </caption>
          <thead><tr><th scope="col">Node</th><th scope="col">Filters</th><th scope="col">Score</th></tr></thead>
          <tbody>
            {record.nodes.map((n) => (
              <tr key={n.name} class={n.name === record.node ? 'chosen' : n.fits ? 'fits' : 'refused'} data-verdict={n.name}>
                <th scope="row">{n.name}{n.name === record.node ? ' (chosen)' : ''}</th>
                <td>{n.fits ? 'fits' : `refused: ${(n.reasons ?? []).join('; ')}`}</td>
                <td>{n.score ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Events</h3>
      <EventList events={events} empty="No events about this pod yet." />
    </section>
  );
}
