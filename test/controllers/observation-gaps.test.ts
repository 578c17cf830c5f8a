// When the process could not observe: gaps found from a late tick, on an
// injected clock that can stall.
import test from 'ava';
import { ObservationGaps, observingSince } from '../../src/controllers/observation-gaps.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { StallingClock } from './stalling-clock.ts';

const ms = (clock: FakeClock) => clock.now().getTime();

test('a tick overdue by more than the tolerance means observation starts again now', (t) => {
  // Ticks every 100 ms, tolerance 250 ms: overdue past 350 ms since the last tick.
  t.is(observingSince(1000, 5000, 5350, 100, 250), 1000, 'late, but within the tolerance');
  t.is(observingSince(1000, 5000, 5351, 100, 250), 5351, 'a gap going on: nothing read since 5000');
});

test('time passing on a live loop is no gap, however much of it', (t) => {
  const clock = new FakeClock();
  const start = ms(clock);
  const gaps = new ObservationGaps(clock, { toleranceMs: 250 });
  t.teardown(() => gaps.stop());
  t.is(gaps.observingSince(), start, 'its start ends the first gap');
  clock.advance(60_000);
  t.is(gaps.observingSince(), start);
});

test('a stall is a gap that ends when the loop runs again, seen even by a timer that runs before the tick', (t) => {
  const clock = new StallingClock();
  const gaps = new ObservationGaps(clock, { toleranceMs: 250 });
  t.teardown(() => gaps.stop());
  clock.advance(1000);
  // Due before the next tick, so after the stall it runs first, while the gap is still going on.
  let seenByEarlierTimer: number | undefined;
  clock.setTimer(() => { seenByEarlierTimer = gaps.observingSince(); }, 50);
  clock.stall(5000);
  const end = ms(clock);
  t.is(seenByEarlierTimer, end);
  t.is(gaps.observingSince(), end, 'recorded by the late tick');
  clock.advance(10_000);
  t.is(gaps.observingSince(), end, 'and kept once the loop runs on time again');
});

test('a lag within the tolerance is no gap', (t) => {
  const clock = new StallingClock();
  const start = ms(clock);
  const gaps = new ObservationGaps(clock, { toleranceMs: 250 });
  t.teardown(() => gaps.stop());
  clock.stall(300); // the first tick, due at 100, runs at 300: 200 ms late
  clock.advance(1000);
  t.is(gaps.observingSince(), start);
});

test('a stopped monitor leaves no timer behind', (t) => {
  const clock = new FakeClock();
  const gaps = new ObservationGaps(clock, { toleranceMs: 250 });
  clock.advance(1000);
  gaps.stop();
  t.is(clock.pending, 0);
});
