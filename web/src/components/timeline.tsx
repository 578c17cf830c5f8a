// The failover timeline, drawn from what the server kept (so a page opened
// after a failure still shows it): per node, its heartbeats, the moment it
// was killed, the moment it was declared failed, each pod that moved off it
// and when that pod ran again elsewhere, and the node's restart.
import { useEffect, useState } from 'preact/hooks';
import type { Pod } from '../../../src/objects/types.ts';
import { eventTime, type KubeEvent } from '../cluster.ts';
import { clock } from '../format.ts';

const WINDOWS = [{ label: '2 min', ms: 120_000 }, { label: '5 min', ms: 300_000 }, { label: '15 min', ms: 900_000 }];
const MAX_LANES = 16;
const LANE = 34;
const LEFT = 130;
const WIDTH = 1000;

interface Mark { t: number; kind: 'killed' | 'failed' | 'restarted' | 'started' | 'moved' | 'running'; text: string; until?: number }

const KINDS: Record<string, Mark['kind']> = {
  NodeFailureRequested: 'killed', NodeNotReady: 'failed', MachineRestarted: 'restarted', MachineStarted: 'started',
};

const LEGEND: Array<[Mark['kind'] | 'heartbeat', string]> = [
  ['heartbeat', 'heartbeat'], ['killed', 'killed'], ['failed', 'declared failed'], ['moved', 'pod moved off'], ['running', 'pod running again'], ['restarted', 'machine restarted'], ['started', 'machine started'],
];

/** When a moved pod ran again: its container's start on the node it went to. */
function runningAgain(pod: Pod | undefined, to: string): number | undefined {
  if (!pod || pod.spec.nodeName !== to) return undefined;
  const started = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt;
  return started ? Date.parse(started) : undefined;
}

export function laneMarks(history: KubeEvent[], pods: Map<string, Pod>): Map<string, Mark[]> {
  const lanes = new Map<string, Mark[]>();
  const add = (node: string, m: Mark) => { let l = lanes.get(node); if (!l) lanes.set(node, (l = [])); l.push(m); };
  for (const e of history) {
    const t = eventTime(e);
    const kind = KINDS[e.reason ?? ''];
    if (kind && e.involvedObject.kind === 'Node') add(e.involvedObject.name!, { t, kind, text: e.message ?? e.reason! });
    if (e.reason === 'Moved') {
      const m = /moved from (\S+) to (\S+)/.exec(e.message ?? '');
      if (!m) continue;
      const pod = pods.get(`${e.involvedObject.namespace}/${e.involvedObject.name}`);
      const until = runningAgain(pod, m[2]!);
      add(m[1]!, { t, kind: 'moved', text: `${e.involvedObject.name} moved to ${m[2]}`, until });
      if (until) add(m[1]!, { t: until, kind: 'running', text: `${e.involvedObject.name} running on ${m[2]} ${((until - t) / 1000).toFixed(1)} s after the move` });
    }
  }
  return lanes;
}

function Marker({ m, x, y }: { m: Mark; x: number; y: number }) {
  const title = <title>{`${clock(m.t)} ${m.text}`}</title>;
  switch (m.kind) {
    case 'killed': return <g class="mk-killed">{title}<path d={`M${x - 5},${y - 5}L${x + 5},${y + 5}M${x + 5},${y - 5}L${x - 5},${y + 5}`} /></g>;
    case 'failed': return <g class="mk-failed">{title}<path d={`M${x},${y - 8}L${x + 8},${y}L${x},${y + 8}L${x - 8},${y}Z`} /></g>;
    case 'restarted':
    case 'started': return <g class={`mk-${m.kind}`}>{title}<path d={`M${x - 6},${y + 6}L${x},${y - 7}L${x + 6},${y + 6}Z`} /></g>;
    case 'moved': return <g class="mk-moved">{title}<circle cx={x} cy={y} r={4} /></g>;
    case 'running': return <g class="mk-running">{title}<circle cx={x} cy={y} r={4} /></g>;
  }
}

export function Timeline({ history, heartbeats, pods, nodeNames }: { history: KubeEvent[]; heartbeats: Map<string, number[]>; pods: Map<string, Pod>; nodeNames: string[] }) {
  const [windowMs, setWindowMs] = useState(WINDOWS[0]!.ms);
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  const start = now - windowMs;
  const marks = laneMarks(history, pods);
  // Nodes with something to show first (a failure, a move), then the rest while there is room.
  const eventful = [...marks.entries()].filter(([, ms]) => ms.some((m) => m.t >= start && m.kind !== 'started')).map(([n]) => n);
  const lanes = [...new Set([...eventful.sort(), ...nodeNames])].slice(0, MAX_LANES);
  const x = (t: number) => LEFT + ((t - start) / windowMs) * (WIDTH - LEFT - 10);
  const height = 28 + lanes.length * LANE;
  const listed = lanes.flatMap((n) => (marks.get(n) ?? []).filter((m) => m.t >= start).map((m) => ({ node: n, ...m }))).sort((a, b) => a.t - b.t);
  const ticks = Array.from({ length: 6 }, (_, i) => start + (i * windowMs) / 5);
  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <header class="panel-head">
        <h2 id="timeline-title">Failover timeline</h2>
        <label>Window
          <select value={windowMs} onChange={(e) => setWindowMs(Number((e.target as HTMLSelectElement).value))}>
            {WINDOWS.map((w) => <option key={w.ms} value={w.ms}>{w.label}</option>)}
          </select>
        </label>
      </header>
      <ul class="legend" aria-hidden="true">{LEGEND.map(([k, text]) => <li key={k}><span class={`swatch sw-${k}`} />{text}</li>)}</ul>
      {lanes.length === 0 ? <p class="muted">No nodes yet.</p> : (
        <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby="timeline-title" class="timeline-plot" data-lanes={lanes.join(',')}>
          {ticks.map((t) => (
            <g key={t} class="axis">
              <line x1={x(t)} x2={x(t)} y1={0} y2={height - 18} />
              <text x={x(t)} y={height - 4} text-anchor="middle">{clock(t)}</text>
            </g>
          ))}
          {lanes.map((node, i) => {
            const y = 14 + i * LANE;
            const lane = (marks.get(node) ?? []).filter((m) => m.t >= start);
            return (
              <g key={node} class="lane" data-lane={node}>
                <text x={LEFT - 8} y={y + 4} text-anchor="end" class="lane-name">{node}</text>
                <line x1={LEFT} x2={WIDTH - 10} y1={y} y2={y} class="lane-line" />
                {(heartbeats.get(node) ?? []).filter((t) => t >= start).map((t) => <line key={t} class="hb" x1={x(t)} x2={x(t)} y1={y - 6} y2={y + 6} />)}
                {lane.filter((m) => m.kind === 'moved' && m.until).map((m, j) => <line key={`mv${j}`} class="move-span" x1={x(m.t)} x2={x(m.until!)} y1={y + 9} y2={y + 9} />)}
                {lane.map((m, j) => <Marker key={j} m={m} x={x(m.t)} y={m.kind === 'moved' || m.kind === 'running' ? y + 9 : y} />)}
              </g>
            );
          })}
        </svg>
      )}
      <details>
        <summary>The timeline as a list ({listed.length})</summary>
        <ol class="timeline-list">{listed.map((m, i) => <li key={i}><time>{clock(m.t)}</time> {m.node}: {m.text}</li>)}</ol>
      </details>
    </section>
  );
}
