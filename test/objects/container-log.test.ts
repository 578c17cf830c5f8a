// The pure making of a container's log from its pod's Events and status.
import test from 'ava';
import { containerLog, formatLine, logTimestamp, type EventRecord } from '../../src/objects/container-log.ts';
import type { Pod } from '../../src/objects/types.ts';

const pod = (status?: Pod['status']): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { nodeName: 'a', containers: [{ name: 'app' }, { name: 'side' }] }, status,
});
const event = (reason: string, extra: Partial<EventRecord> = {}): EventRecord => ({
  metadata: { name: `web.${reason}` }, involvedObject: { uid: 'u1' }, reason, message: `${reason} happened`,
  count: 1, firstTimestamp: '2026-01-01T00:00:05Z', lastTimestamp: '2026-01-01T00:00:05Z', ...extra,
});

test('Events and status interleave by their exact times: an Event\'s eventTime, not its whole-second timestamp', (t) => {
  const running = pod({ containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:05.300Z' } } }] });
  const lines = containerLog(running, 'app', [event('BackOff', { eventTime: '2026-01-01T00:00:05.900000Z' }), event('Scheduled', { eventTime: '2026-01-01T00:00:05.100000Z' })]);
  t.deepEqual(lines.map((l) => l.text), ['Scheduled: Scheduled happened', 'Started: container app started on a', 'BackOff: BackOff happened']);
});

test('an Event about one container is only in its log; one about another pod uid is in none', (t) => {
  const events = [event('BackOff', { involvedObject: { uid: 'u1', fieldPath: 'spec.containers{app}' } }), event('Moved', { involvedObject: { uid: 'other' } })];
  t.is(containerLog(pod(), 'app', events).length, 1);
  t.deepEqual(containerLog(pod(), 'side', events), []);
});

test('an Event that happened again gives a second line when it last did, with its count', (t) => {
  const lines = containerLog(pod(), 'app', [event('BackOff', { count: 3, lastTimestamp: '2026-01-01T00:00:09Z', series: { lastObservedTime: '2026-01-01T00:00:09.250000Z' } })]);
  t.deepEqual(lines, [
    { at: Date.parse('2026-01-01T00:00:05Z'), text: 'BackOff: BackOff happened' },
    { at: Date.parse('2026-01-01T00:00:09.250Z'), text: 'BackOff: BackOff happened (x3)' },
  ]);
});

test('timestamps are the kubelet\'s fixed nine fractional digits', (t) => {
  t.is(logTimestamp(Date.parse('2026-01-01T00:00:05.3Z')), '2026-01-01T00:00:05.300000000Z');
  t.is(formatLine({ at: 0, text: 'x' }, false), 'x\n');
});
