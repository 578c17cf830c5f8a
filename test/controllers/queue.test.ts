import test from 'ava';
import { WorkQueue } from '../../src/controllers/queue.ts';
import { FakeClock } from '../../src/util/clock.ts';

test('a key added many times is queued once', async (t) => {
  const q = new WorkQueue(new FakeClock());
  q.add('a'); q.add('a'); q.add('b'); q.add('a');
  t.is(q.length, 2);
  t.is(await q.get(), 'a');
  t.is(await q.get(), 'b');
});

test('a key added while it is processed comes back once, after done', async (t) => {
  const q = new WorkQueue(new FakeClock());
  q.add('a');
  const key = await q.get();
  q.add('a'); q.add('a');
  t.is(q.length, 0, 'not handed to a second worker meanwhile');
  q.done(key!);
  t.is(q.length, 1);
  t.is(await q.get(), 'a');
});

test('failures back off exponentially per key, capped, until forgotten', (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock, { baseMs: 100, maxMs: 1000 });
  t.deepEqual([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('a')), [100, 200, 400, 800, 1000, 1000]);
  q.forget('a');
  t.is(q.addRateLimited('a'), 100);
  t.is(q.addRateLimited('b'), 100, 'keys back off independently');
});

test('addAfter waits for the clock, and an earlier delay wins', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock);
  q.addAfter('a', 500);
  q.addAfter('a', 2000);
  clock.advance(499);
  t.is(q.length, 0);
  clock.advance(1);
  t.is(q.length, 1);
  t.is(await q.get(), 'a');
  clock.advance(5000);
  t.is(q.length, 0, 'the later delay was dropped');
});

test('a waiting get is answered by the next add, and by undefined on shutdown', async (t) => {
  const q = new WorkQueue(new FakeClock());
  const waiting = q.get();
  q.add('x');
  t.is(await waiting, 'x');
  const idle = q.get();
  q.shutdown();
  t.is(await idle, undefined);
});
