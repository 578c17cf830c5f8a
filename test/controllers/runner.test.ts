import test from 'ava';
import { ControllerRunner, TerminalError, type ReconcileResult, type RunnerOptions } from '../../src/controllers/runner.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

/**
 * A runner whose reconcile passes marker keys (`#n`) by and hands the others
 * to `reconcile`. caughtUp() queues a marker and waits for it: with one
 * worker and a FIFO queue, any key queued before it (by a timer the clock
 * fired, say) has been reconciled by then. That is how these tests show a
 * reconcile did NOT happen.
 */
function run(reconcile: (key: string) => Promise<ReconcileResult | void>, opts: RunnerOptions) {
  const markers = new Set<string>();
  let next = 0;
  const runner = new ControllerRunner({
    name: 'x',
    reconcile: async (k) => {
      if (!k.startsWith('#')) return reconcile(k);
      markers.add(k);
    },
  }, opts);
  runner.start();
  return {
    runner,
    async caughtUp(): Promise<void> {
      const marker = `#${next++}`;
      runner.enqueue(marker);
      await eventually(`the runner to reach ${marker}`, () => markers.has(marker));
    },
  };
}

test('reconciles each enqueued key, once per burst of events', async (t) => {
  const seen: string[] = [];
  const { runner, caughtUp } = run(async (k) => { seen.push(k); }, { clock: new FakeClock() });
  runner.enqueue('a'); runner.enqueue('a'); runner.enqueue('b');
  await caughtUp();
  t.deepEqual(seen, ['a', 'b']);
  await runner.stop();
});

test('a failing key is retried with growing delays, then forgotten on success', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const { runner, caughtUp } = run(async () => { calls++; if (calls < 4) throw new Error('runtime down'); }, { clock, backoff: { baseMs: 100, maxMs: 10_000 } });
  // A failure is counted, and its retry timer set, once the worker has handled it.
  const failed = (n: number) => eventually(`failure ${n}`, () => runner.stats.failures === n);
  runner.enqueue('a');
  await failed(1);
  t.is(calls, 1);
  clock.advance(99); await caughtUp();
  t.is(calls, 1, 'not before the first backoff');
  clock.advance(1); await failed(2);
  t.is(calls, 2);
  clock.advance(199); await caughtUp();
  t.is(calls, 2, 'the second backoff is longer');
  clock.advance(1); await failed(3);
  t.is(calls, 3);
  clock.advance(400); await eventually('the fourth call', () => calls === 4);
  await caughtUp(); // the one worker has finished with 'a'
  t.is(runner.queue.failureCount('a'), 0, 'success forgets the failures');
  clock.advance(100_000); await caughtUp();
  t.is(calls, 4, 'nothing more to do');
  await runner.stop();
});

test('a terminal error is not retried', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const { runner, caughtUp } = run(async () => { calls++; throw new TerminalError('invalid spec'); }, { clock });
  runner.enqueue('a');
  await eventually('the failure', () => runner.stats.failures === 1);
  clock.advance(60_000); await caughtUp();
  t.is(calls, 1);
  await runner.stop();
});

test('requeueAfter brings the key back after that long', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const { runner, caughtUp } = run(async () => { calls++; return calls === 1 ? { requeueAfterMs: 1000 } : undefined; }, { clock });
  runner.enqueue('a');
  // The requeue is set as the reconcile is counted.
  await eventually('the first reconcile', () => runner.stats.reconciles === 1);
  clock.advance(999); await caughtUp();
  t.is(calls, 1);
  clock.advance(1); await eventually('the requeued reconcile', () => calls === 2);
  await caughtUp();
  t.is(calls, 2, 'once');
  await runner.stop();
});

test('resync queues every key again on its interval', async (t) => {
  const clock = new FakeClock();
  const seen: string[] = [];
  const { runner, caughtUp } = run(async (k) => { seen.push(k); }, { clock, resyncMs: 5000, resyncKeys: () => ['a', 'b'] });
  await caughtUp();
  t.deepEqual(seen, []);
  clock.advance(5000); await caughtUp();
  t.deepEqual(seen, ['a', 'b']);
  clock.advance(5000); await caughtUp();
  t.deepEqual(seen, ['a', 'b', 'a', 'b']);
  await runner.stop();
});

test('one key is never reconciled by two workers at once', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  let passes = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const { runner, caughtUp } = run(async () => {
    passes++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await gate;
    inFlight--;
  }, { clock: new FakeClock(), workers: 4 });
  runner.enqueue('a');
  await eventually('the first pass under way', () => inFlight === 1);
  runner.enqueue('a'); runner.enqueue('a');
  // Three workers are free: a second 'a' queued ahead of the marker would be
  // handed out, and started, before it.
  await caughtUp();
  t.is(maxInFlight, 1);
  release();
  // Counted: the first marker and both passes. A third pass would have been
  // queued as the second was counted, ahead of the next marker.
  await eventually('both passes counted', () => runner.stats.reconciles >= 3);
  await caughtUp();
  t.is(passes, 2, 'the adds during processing made exactly one more pass');
  t.is(maxInFlight, 1);
  await runner.stop();
});

test('a reconcile that hangs past its deadline fails and frees its key', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const runner = new ControllerRunner({
    name: 'x',
    reconcile: () => { calls++; return calls === 1 ? new Promise<void>(() => {}) : Promise.resolve(); },
  }, { clock, reconcileTimeoutMs: 1000, backoff: { baseMs: 100, maxMs: 1000 } });
  runner.start();
  runner.enqueue('a');
  // The deadline is set as the reconcile starts.
  await eventually('the first call', () => calls === 1);
  clock.advance(1000);
  await eventually('the hung reconcile counted as failed', () => runner.stats.failures === 1);
  t.is(runner.stats.reconciles, 0);
  clock.advance(100);
  await eventually('the key retried after its backoff, not held by the hung call', () => calls === 2);
  t.is(runner.stats.failures, 1);
  await runner.stop();
});
