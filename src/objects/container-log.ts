// A simulated container's log, as pure functions of what the cluster
// recorded about its pod: the Events about the pod (scheduled, moved, node
// failed, restarted, ...) and the status its node's agent reports (when the
// container started, its health, how its last run ended). kcs containers
// print nothing themselves, so their log is their life story.
//
// Why derived rather than kept: the Events are already written (one per
// binding, move and restart), survive the pod's moves (they name the pod's
// uid, which a move keeps) and a node's failure (nothing is kept on the
// node), and cost no extra write: a line per pod start kept apart would be
// another 150,000 writes when 150,000 pods start. The price is that a
// container's start and health, reported in its status, are known for its
// current and previous run only; every restart, move and failure stays in
// the Events.
import type { Condition, ContainerStatus, Pod } from './types.ts';

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

/**
 * An Event's lines: when it first happened and, if it happened again, when
 * it last did; to the microsecond where the Event says (eventTime,
 * series), else to the second.
 */
function eventLines(event: EventRecord): LogLine[] {
  const first = time(event.eventTime) ?? time(event.firstTimestamp) ?? time(event.metadata.creationTimestamp);
  if (first === undefined) return [];
  const text = `${event.reason ?? 'Event'}: ${event.message ?? ''}`.trimEnd();
  const lines = [{ at: first, text }];
  const count = event.count ?? 1;
  const last = time(event.series?.lastObservedTime) ?? time(event.lastTimestamp);
  if (count > 1 && last !== undefined) lines.push({ at: last, text: `${text} (x${count})` });
  return lines;
}

function readyCondition(pod: Pod): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'ContainersReady');
}

/** What the node's agent reports about the container's current and previous run. */
function statusLines(pod: Pod, cs: ContainerStatus): LogLine[] {
  const node = pod.spec.nodeName;
  if (!node) return [];
  const lines: LogLine[] = [];
  const started = (at: number | undefined) => { if (at !== undefined) lines.push({ at, text: `Started: container ${cs.name} started on ${node}` }); };
  const last = cs.lastState?.terminated;
  if (last) {
    started(time(last.startedAt));
    const ended = time(last.finishedAt);
    if (ended !== undefined) {
      const why = [last.reason, last.message].filter(Boolean).join(': ');
      lines.push({ at: ended, text: `Terminated: container ${cs.name} exited with code ${last.exitCode}${why ? ` (${why})` : ''}` });
    }
  }
  const runningSince = time(cs.state?.running?.startedAt);
  started(runningSince);
  // The health check it passed since this run started (a run that fails restarts instead).
  const ready = readyCondition(pod);
  const readyAt = time(ready?.lastTransitionTime);
  if (cs.ready && ready?.status === 'True' && readyAt !== undefined && runningSince !== undefined) {
    lines.push({ at: Math.max(readyAt, runningSince), text: `Healthy: container ${cs.name} passed its health check on ${node}` });
  }
  return lines;
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
  const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
  if (cs) lines.push(...statusLines(pod, cs));
  // Stable: lines of the same moment keep the order they were found in (events in the order written).
  return lines.sort((a, b) => a.at - b.at);
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
