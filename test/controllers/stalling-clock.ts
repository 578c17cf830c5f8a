// A FakeClock that can also stall, as a blocked event loop does: time jumps
// while nothing runs, then every timer that fell due meanwhile fires late,
// in due order, all seeing the time the stall ended. (FakeClock.advance is
// time passing on a live loop: each timer fires at its own time.)
import { FakeClock, type Timer } from '../../src/util/clock.ts';

export class StallingClock extends FakeClock {
  /** While stalled: the timers that fell due, waiting for the loop to run again. */
  private held?: Array<() => void>;

  override setTimer(fn: () => void, ms: number): Timer {
    return super.setTimer(() => (this.held ? this.held.push(fn) : fn()), ms);
  }

  stall(ms: number): void {
    this.held = [];
    this.advance(ms);
    const late = this.held;
    this.held = undefined;
    for (const fn of late) fn();
  }
}
