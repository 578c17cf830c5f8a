import test from 'ava';
import { ControllerRunner, TerminalError } from '../../src/controllers/runner.ts';
import { FakeClock } from '../../src/util/clock.ts';

/** Lets queued microtasks and promise callbacks run. */
const settle = async () => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };

test('reconciles each enqueued key, once per burst of events', async (t) => {
  const seen: string[] = [];
  const runner = new ControllerRunner({ name: 'x', reconcile: async (k) => { seen.push(k); } }, { clock: new FakeClock() });
  runner.start();
  runner.enqueue('a'); runner.enqueue('a'); runner.enqueue('b');
  await settle();
  t.deepEqual(seen, ['a', 'b']);
  await runner.stop();
});

test('a failing key is retried with growing delays, then forgotten on success', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const runner = new ControllerRunner({
    name: 'x',
    reconcile: async () => { calls++; if (calls < 4) throw new Error('runtime down'); },
  }, { clock, backoff: { baseMs: 100, maxMs: 10_000 } });
  runner.start();
  runner.enqueue('a');
  await settle();
  t.is(calls, 1);
  clock.advance(99); await settle();
  t.is(calls, 1, 'not before the first backoff');
  clock.advance(1); await settle();
  t.is(calls, 2);
  clock.advance(199); await settle();
  t.is(calls, 2, 'the second backoff is longer');
  clock.advance(1); await settle();
  t.is(calls, 3);
  clock.advance(400); await settle();
  t.is(calls, 4);
  t.is(runner.queue.failureCount('a'), 0, 'success forgets the failures');
  clock.advance(100_000); await settle();
  t.is(calls, 4, 'nothing more to do');
  await runner.stop();
});

test('a terminal error is not retried', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const runner = new ControllerRunner({ name: 'x', reconcile: async () => { calls++; throw new TerminalError('invalid spec'); } }, { clock });
  runner.start();
  runner.enqueue('a');
  await settle();
  clock.advance(60_000); await settle();
  t.is(calls, 1);
  await runner.stop();
});

test('requeueAfter brings the key back after that long', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const runner = new ControllerRunner({ name: 'x', reconcile: async () => { calls++; return calls === 1 ? { requeueAfterMs: 1000 } : undefined; } }, { clock });
  runner.start();
  runner.enqueue('a');
  await settle();
  clock.advance(999); await settle();
  t.is(calls, 1);
  clock.advance(1); await settle();
  t.is(calls, 2);
  await runner.stop();
});

test('resync queues every key again on its interval', async (t) => {
  const clock = new FakeClock();
  const seen: string[] = [];
  const runner = new ControllerRunner({ name: 'x', reconcile: async (k) => { seen.push(k); } }, { clock, resyncMs: 5000, resyncKeys: () => ['a', 'b'] });
  runner.start();
  await settle();
  t.deepEqual(seen, []);
  clock.advance(5000); await settle();
  t.deepEqual(seen, ['a', 'b']);
  clock.advance(5000); await settle();
  t.deepEqual(seen, ['a', 'b', 'a', 'b']);
  await runner.stop();
});

test('one key is never reconciled by two workers at once', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const runner = new ControllerRunner({
    name: 'x',
    reconcile: async () => { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); await gate; inFlight--; },
  }, { clock: new FakeClock(), workers: 4 });
  runner.start();
  runner.enqueue('a');
  await settle();
  runner.enqueue('a'); runner.enqueue('a');
  await settle();
  release();
  await settle();
  t.is(maxInFlight, 1);
  t.is(runner.stats.reconciles, 2, 'the adds during processing made exactly one more pass');
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
  await settle();
  t.is(calls, 1);
  clock.advance(1000); await settle();
  t.is(runner.stats.failures, 1, 'the hung reconcile counted as failed');
  clock.advance(100); await settle();
  t.is(calls, 2, 'the key was retried after its backoff, not held by the hung call');
  await runner.stop();
});
