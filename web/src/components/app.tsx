// The dashboard: the header with the cluster's numbers and the demo's
// actions, the node cards, the pending lane, the selected pod's decision,
// the event stream and the failover timeline.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { POLICY_NAMES } from '../../../src/scheduler/plugins/policies.ts';
import type { Node } from '../../../src/objects/types.ts';
import { deleteNode, deletePod, drain, failNode, setCordoned, setPolicy, setUnhealthy } from '../actions.ts';
import { readiness, type Cluster } from '../cluster.ts';
import { AddNodeDialog, ApplyDialog, RunPodDialog } from './dialogs.tsx';
import { EventStream } from './events.tsx';
import { NodeCard, type NodeAction } from './node-card.tsx';
import { PendingLane } from './pending.tsx';
import { PodPanel } from './pod-panel.tsx';
import { Timeline } from './timeline.tsx';

const byName = new Intl.Collator(undefined, { numeric: true });
type Open = 'node' | 'pod' | 'apply' | undefined;

function useCluster(cluster: Cluster): number {
  const [version, setVersion] = useState(cluster.version);
  useEffect(() => cluster.subscribe(() => setVersion(cluster.version)), [cluster]);
  return version;
}

export function App({ cluster, onSignOut }: { cluster: Cluster; onSignOut(): void }) {
  const version = useCluster(cluster);
  const [selected, setSelected] = useState<string>();
  const [open, setOpen] = useState<Open>();
  const [notice, setNotice] = useState<{ text: string; error?: boolean }>();
  const [filter, setFilter] = useState('');
  const [stateFilter, setStateFilter] = useState('');

  const say = useCallback((text: string) => setNotice({ text }), []);
  const fail = useCallback((err: unknown) => setNotice({ text: (err as Error).message, error: true }), []);
  const run = useCallback((p: Promise<unknown>, done: string) => { p.then(() => say(done), fail); }, [say, fail]);

  const onSelectPod = useCallback((key: string) => setSelected((s) => (s === key ? undefined : key)), []);
  const onAction = useCallback((node: Node, action: NodeAction) => {
    const name = node.metadata.name!;
    switch (action) {
      case 'cordon': return run(setCordoned(name, true), `node/${name} cordoned`);
      case 'uncordon': return run(setCordoned(name, false), `node/${name} uncordoned`);
      case 'drain': return drain(name, cluster.podsOn(name)).then((n) => say(`node/${name} drained: ${n} pod(s) sent back to Pending`), fail);
      case 'fail': return run(failNode(name), `node/${name}: failure requested; it is declared failed when its grace runs out`);
      case 'delete': return run(deleteNode(name), `node/${name} deleted`);
    }
  }, [cluster, run, say, fail]);

  const nodes = useMemo(() => [...cluster.nodes.values()].sort((a, b) => byName.compare(a.metadata.name!, b.metadata.name!)), [version]);
  const needle = filter.trim().toLowerCase();
  const shownNodes = nodes.filter((n) => (!needle || n.metadata.name!.toLowerCase().includes(needle))
    && (!stateFilter || (stateFilter === 'cordoned' ? n.spec.unschedulable === true : readiness(n) === stateFilter)));
  const ready = nodes.filter((n) => readiness(n) === 'Ready').length;
  const pending = cluster.pending();
  const pod = selected ? cluster.pods.get(selected) : undefined;
  const [ns, podName] = selected?.split('/') ?? [];
  const conn = cluster.connection;

  return (
    <div class="app" data-synced={cluster.synced ? 'true' : 'false'}>
      <header class="top">
        <h1>kcs</h1>
        <p class="stats" aria-live="off">
          <span><strong>{ready}</strong>/{nodes.length} nodes Ready</span>
          <span><strong>{cluster.pods.size - pending.length}</strong> pods placed</span>
          <span><strong>{pending.length}</strong> pending</span>
        </p>
        <label class="policy">Default policy
          <select value={cluster.policy ?? 'first-fit'} onChange={(e) => { const p = (e.target as HTMLSelectElement).value; run(setPolicy(p), `default policy: ${p}`); }}>
            {POLICY_NAMES.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
        <nav class="actions" aria-label="cluster actions">
          <button type="button" class="primary" onClick={() => setOpen('node')}>Add node</button>
          <button type="button" onClick={() => setOpen('pod')}>Run pod</button>
          <button type="button" onClick={() => setOpen('apply')}>Apply YAML</button>
          <button type="button" onClick={onSignOut}>Sign out</button>
        </nav>
        <span class={`conn conn-${conn.state}`} role="status">{conn.state === 'live' ? 'live' : conn.state === 'connecting' ? 'connecting…' : `reconnecting: ${conn.message}`}</span>
      </header>
      <p class={`notice${notice?.error ? ' error' : ''}`} role="status" aria-live="polite">{notice?.text ?? ''}</p>
      <main class="layout">
        <section class="nodes" aria-labelledby="nodes-title">
          <div class="section-head">
            <h2 id="nodes-title">Nodes <span class="count">{shownNodes.length}</span></h2>
            <div class="filters">
              <label>Find <input type="search" value={filter} placeholder="node name" onInput={(e) => setFilter((e.target as HTMLInputElement).value)} /></label>
              <label>Show
                <select value={stateFilter} onChange={(e) => setStateFilter((e.target as HTMLSelectElement).value)}>
                  <option value="">all</option><option value="Ready">Ready</option><option value="NotReady">NotReady</option>
                  <option value="Unknown">Unknown</option><option value="cordoned">cordoned</option>
                </select>
              </label>
            </div>
          </div>
          {nodes.length === 0 && cluster.synced && <p class="muted">No nodes yet: add one.</p>}
          <div class="node-grid">
            {shownNodes.map((n) => (
              <NodeCard key={n.metadata.name} node={n} pods={cluster.podsOn(n.metadata.name!)} lease={cluster.leases.get(n.metadata.name!)}
                usage={cluster.usage.get(n.metadata.name!)} cpuRecent={cluster.cpuRecent.get(n.metadata.name!)}
                selected={selected} onSelectPod={onSelectPod} onAction={onAction} />
            ))}
          </div>
        </section>
        <aside class="side">
          {pod && (
            <PodPanel pod={pod} events={cluster.eventsAbout('Pod', ns, podName!)} onClose={() => setSelected(undefined)}
              onDelete={() => { run(deletePod(pod), `pod/${podName} deleted`); setSelected(undefined); }}
              onUnhealthy={(v) => run(setUnhealthy(pod, v), `pod/${podName} marked ${v ? 'unhealthy' : 'healthy'}`)} />
          )}
          <PendingLane pods={pending} selected={selected} onSelectPod={onSelectPod} />
          <EventStream events={cluster.events} />
        </aside>
      </main>
      <Timeline history={cluster.history} heartbeats={cluster.heartbeats} pods={cluster.pods} nodeNames={nodes.map((n) => n.metadata.name!)} />
      {open === 'node' && <AddNodeDialog index={nodes.length + 1} onClose={() => setOpen(undefined)} onDone={say} />}
      {open === 'pod' && <RunPodDialog index={cluster.pods.size + 1} onClose={() => setOpen(undefined)} onDone={say} />}
      {open === 'apply' && <ApplyDialog onClose={() => setOpen(undefined)} onDone={say} />}
    </div>
  );
}
