// A simulated container's log, as pure functions of what the cluster
// recorded about its pod: the Events about the pod (scheduled, moved, node
// failed, restarted, ...) and the status its node's agent reports (when the
// container started, its health, how its last run ended). kcs containers
// print nothing themselves, so their log is their life story.
//
// Why derived rather than kept: the Events are already written (one per
// binding, move and restart), survive the pod's moves (they name the pod's
// uid, which a move keeps) and a node's failure (nothing is kept on the
// node), and cost no extra write for a pod that just runs: a line per pod
// start kept apart would be another 150,000 writes when 150,000 pods start.
// What a container's status says of its runs (when each started and ended,
// the health check it passed) is read from the status while it is there,
// and kept as Events with the times it happened only when it would drop out:
// at a restart (the status holds two runs; controllers/pod-health.ts) and
// when the pod leaves its node (client/unbind.ts), rare next to starts.
import type { Condition, Pod } from './types.ts';

/** The fields of an Event a log line is made from (core/v1 Event). */
export interface EventRecord {
  metadata: { name?: string; creationTimestamp?: string };
  involvedObject?: { uid?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string };
}

export interface LogLine {
  /** When it happened, in milliseconds since the epoch. */
  at: number;
  text: string;
}

/** Kubernetes' fieldPath for a container: an Event with one is about that container only. */
export function containerFieldPath(container: string): string {
  return `spec.containers{${container}}`;
}

function time(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Within one instant, a health check passed comes last (after the start of the run that passed it). */
function rank(line: LogLine): number {
  return line.text.startsWith('Healthy: ') ? 1 : 0;
}

/** A line reads like the Event it comes from: `Reason: message`. */
function lineText(reason: string, message: string): string {
  return `${reason}: ${message}`.trimEnd();
}

/**
 * An Event's lines: when it first happened and, if it happened again, when
 * it last did; to the microsecond where the Event says (eventTime,
 * series), else to the second.
 */
function eventLines(event: EventRecord): LogLine[] {
  const first = time(event.eventTime) ?? time(event.firstTimestamp) ?? time(event.metadata.creationTimestamp);
  if (first === undefined) return [];
  const text = lineText(event.reason ?? 'Event', event.message ?? '');
  const lines = [{ at: first, text }];
  const count = event.count ?? 1;
  const last = time(event.series?.lastObservedTime) ?? time(event.lastTimestamp);
  if (count > 1 && last !== undefined) lines.push({ at: last, text: `${text} (x${count})` });
  return lines;
}

function readyCondition(pod: Pod): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'ContainersReady');
}

/** Something the node's agent reported about a container, as an Event would say it. */
export interface ReportedHappening {
  at: number;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * What the node's agent reports about the container's current and previous
 * run: when each started, how the previous one ended, the health check the
 * current one passed. The status holds only these two runs, and is cleared
 * when the pod leaves the node: client/unbind.ts keeps them then, as Events
 * with these very reasons, messages and times, so the log reads the same
 * after the move as before it.
 */
export function reportedHappenings(pod: Pod, container: string): ReportedHappening[] {
  const node = pod.spec.nodeName;
  const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
  if (!node || !cs) return [];
  const out: ReportedHappening[] = [];
  const started = (at: number | undefined) => { if (at !== undefined) out.push({ at, type: 'Normal', reason: 'Started', message: `container ${cs.name} started on ${node}` }); };
  const last = cs.lastState?.terminated;
  if (last) {
    started(time(last.startedAt));
    const ended = time(last.finishedAt);
    if (ended !== undefined) {
      const why = [last.reason, last.message].filter(Boolean).join(': ');
      out.push({ at: ended, type: last.exitCode === 0 ? 'Normal' : 'Warning', reason: 'Terminated', message: `container ${cs.name} exited with code ${last.exitCode}${why ? ` (${why})` : ''}` });
    }
  }
  const runningSince = time(cs.state?.running?.startedAt);
  started(runningSince);
  // The health check it passed since this run started (a run that fails restarts instead).
  const ready = readyCondition(pod);
  const readyAt = time(ready?.lastTransitionTime);
  if (cs.ready && ready?.status === 'True' && readyAt !== undefined && runningSince !== undefined) {
    out.push({ at: Math.max(readyAt, runningSince), type: 'Normal', reason: 'Healthy', message: `container ${cs.name} passed its health check on ${node}` });
  }
  return out;
}

/**
 * The log of one container of pod, oldest line first: the Events about the
 * pod (by uid: a pod deleted and made again under the same name starts a
 * new log) that concern the pod as a whole or this container, and what its
 * status says about its runs.
 */
export function containerLog(pod: Pod, container: string, events: Iterable<EventRecord>): LogLine[] {
  const lines: LogLine[] = [];
  const path = containerFieldPath(container);
  for (const event of events) {
    if (event.involvedObject?.uid !== pod.metadata.uid) continue;
    const fieldPath = event.involvedObject?.fieldPath;
    if (fieldPath && fieldPath !== path) continue;
    lines.push(...eventLines(event));
  }
  for (const h of reportedHappenings(pod, container)) lines.push({ at: h.at, text: lineText(h.reason, h.message) });
  // Stable: lines of the same moment keep the order they were found in
  // (events in the order written, then the status), except that a health
  // check passed comes after the start of its run, however each was recorded.
  return lines.sort((a, b) => a.at - b.at || rank(a) - rank(b));
}

/** When the container's previous run ended (what `previous=true` reads up to), if it has one. */
export function previousRunEnd(pod: Pod, container: string): number | undefined {
  const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
  return time(cs?.lastState?.terminated?.finishedAt);
}

/** The key a follower remembers a line by, so it sends each line once. */
export function lineKey(line: LogLine): string {
  return `${line.at} ${line.text}`;
}

/** The kubelet's log timestamp: RFC 3339 with nine fractional digits, in UTC. */
export function logTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function formatLine(line: LogLine, timestamps: boolean): string {
  return (timestamps ? `${logTimestamp(line.at)} ` : '') + line.text + '\n';
}
