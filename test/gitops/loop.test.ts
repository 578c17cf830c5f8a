// The watch loop's timing rules on a FakeClock: bursts are debounced into
// one sync, a change during a sync causes exactly one more, the resync timer
// keeps an idle directory synced, and a failing API is retried with backoff.
import test from 'ava';
import { SyncLoop } from '../../src/gitops/watch.ts';
import type { SyncReport } from '../../src/gitops/sync.ts';
import { FakeClock } from '../../src/util/clock.ts';

const REPORT: SyncReport = { results: [], errors: [], kept: [], dryRun: false, ms: 0 };
const flush = () => new Promise((r) => setImmediate(r));

function loop(opts: { resyncMs?: number; fail?: () => boolean; block?: () => Promise<void> } = {}) {
  const clock = new FakeClock();
  let runs = 0;
  const l = new SyncLoop({
    clock, debounceMs: 100, resyncMs: opts.resyncMs ?? 10_000,
    run: async () => {
      runs++;
      await opts.block?.();
      if (opts.fail?.()) throw new Error('ECONNREFUSED');
      return REPORT;
    },
  });
  return { clock, l, runs: () => runs };
}

test('a burst of changes becomes one sync, debounceMs after the last', async (t) => {
  const { clock, l, runs } = loop();
  await l.start();
  t.is(runs(), 1);
  for (let i = 0; i < 5; i++) {
    l.changed();
    clock.advance(50);
  }
  await flush();
  t.is(runs(), 1, 'still changing: not synced yet');
  clock.advance(100);
  await l.idle();
  t.is(runs(), 2);
});

test('a burst that never goes quiet still syncs every 10 debounce periods', async (t) => {
  const { clock, l, runs } = loop();
  await l.start();
  for (let i = 0; i < 25; i++) {
    l.changed();
    clock.advance(60);
    await flush();
  }
  t.true(runs() >= 2, `${runs()} syncs`);
});

test('a change during a sync is synced once more after it, not concurrently', async (t) => {
  let release!: () => void;
  let blocking = true;
  const { clock, l, runs } = loop({ block: () => (blocking ? new Promise<void>((r) => { release = r; }) : Promise.resolve()) });
  const first = l.start();
  await flush();
  for (let i = 0; i < 3; i++) {
    l.changed();
    clock.advance(150);
  }
  t.is(runs(), 1, 'no second sync while the first runs');
  blocking = false;
  release();
  await first;
  await l.idle();
  t.is(runs(), 2);
});

test('an idle directory is synced every resyncMs (drift correction)', async (t) => {
  const { clock, l, runs } = loop({ resyncMs: 1000 });
  await l.start();
  clock.advance(999);
  await flush();
  t.is(runs(), 1);
  clock.advance(1);
  await l.idle();
  t.is(runs(), 2);
  clock.advance(1000);
  await l.idle();
  t.is(runs(), 3);
});

test('a failing sync is retried after 0.5, 1, 2 s ..., never later than resyncMs', async (t) => {
  const { clock, l, runs } = loop({ resyncMs: 3000, fail: () => true });
  await l.start();
  const at: number[] = [];
  for (let ms = 0; ms < 10_000; ms += 100) {
    const before = runs();
    clock.advance(100);
    await l.idle();
    if (runs() > before) at.push(ms + 100);
  }
  t.deepEqual(at.slice(0, 5), [500, 1500, 3500, 6500, 9500]);
});

test('stop cancels the timers: nothing runs afterwards', async (t) => {
  const { clock, l, runs } = loop({ resyncMs: 1000 });
  await l.start();
  l.changed();
  await l.stop();
  clock.advance(5000);
  await flush();
  t.is(runs(), 1);
});
