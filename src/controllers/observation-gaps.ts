// When this process could not observe the world: the stretches its event
// loop was held (a busy machine, a slow disk under a checkpoint, a debugger)
// so that nothing sent to it, such as a node's Lease renewals, was read. A
// timer ticks every tickMs; a tick arriving later than tickMs + toleranceMs
// marks a gap that ended when the tick ran. Before it started, this process
// observed nothing either, so its start counts as the end of a first gap.
//
// A gap still going on counts too: after a stall Node runs every expired
// timer before it reads the sockets, so a check due during the stall may run
// before this tick does, with renewals still unread. The tick being overdue
// right now says so.
import type { Clock, Timer } from '../util/clock.ts';

export const DEFAULT_TICK_MS = 100;

export interface ObservationGapOptions {
  /** How often the loop is probed; cheap at 100 ms. */
  tickMs?: number;
  /** How late a tick may be before it counts as a gap. */
  toleranceMs: number;
}

/**
 * Pure: since when this process has been observing without a gap, as seen
 * at `now`. A tick overdue by more than the tolerance means nothing has been
 * read since the last one: observation starts again only now.
 */
export function observingSince(lastGapEnd: number, lastTick: number, now: number, tickMs: number, toleranceMs: number): number {
  return now - lastTick > tickMs + toleranceMs ? now : lastGapEnd;
}

export class ObservationGaps {
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly toleranceMs: number;
  private lastTick: number;
  private lastGapEnd: number;
  private timer?: Timer;
  private stopped = false;

  /** Starts ticking at once: a monitor that does not tick would see one endless gap. */
  constructor(clock: Clock, opts: ObservationGapOptions) {
    this.clock = clock;
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    this.toleranceMs = opts.toleranceMs;
    this.lastTick = this.lastGapEnd = clock.now().getTime();
    this.schedule();
  }

  /** Since when observation has been unbroken: this monitor's start, or the end of the last gap (now, if one is going on). */
  observingSince(now = this.clock.now().getTime()): number {
    return observingSince(this.lastGapEnd, this.lastTick, now, this.tickMs, this.toleranceMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      const now = this.clock.now().getTime();
      this.lastGapEnd = this.observingSince(now);
      this.lastTick = now;
      this.schedule();
    }, this.tickMs);
  }
}
