// The `walk` usage profile: a bounded random walk that is the same for the
// same seed on every machine and after every restart, so a pod's usage does
// not jump when its agent restarts or another reader (the dashboard) asks.

export interface WalkParams {
  min: number;
  max: number;
  /** The largest move of one step, either way. */
  step: number;
  everyMs: number;
  seed: number;
  start: number;
}

const TWO_32 = 2 ** 32;

/** One xor-shift-multiply round: every input bit reaches every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A uniform value in [0, 1) for step `index` of the walk seeded `seed`: a
 * hash rather than a generator's state, so any step is drawn without the
 * ones before it. Both halves of each 53-bit integer are mixed in.
 */
export function unitRandom(seed: number, index: number): number {
  let h = mix(seed >>> 0 ^ 0x9e3779b9);
  h = mix(h ^ Math.floor(seed / TWO_32));
  h = mix(h ^ (index >>> 0));
  h = mix(h ^ Math.floor(index / TWO_32));
  return h / TWO_32;
}

/** Folds x into [min, max] as a ball bouncing between two walls would, however far past a wall it is. */
function reflect(x: number, min: number, max: number): number {
  const width = max - min;
  if (width === 0) return min;
  const period = 2 * width;
  const offset = (((x - min) % period) + period) % period;
  return min + (offset <= width ? offset : period - offset);
}

/**
 * A walk's value at any elapsed time. The value after step n depends on every
 * step before it, so it keeps the last step it reached: a reader asking each
 * second (as the agent does) pays for the steps since its last question only.
 * An earlier time than the one kept starts again from the beginning.
 */
export class Walk {
  private readonly params: WalkParams;
  private reachedStep = 0;
  private reachedValue: number;

  constructor(params: WalkParams) {
    this.params = params;
    this.reachedValue = params.start;
  }

  at(elapsedMs: number): number {
    const { min, max, step, everyMs, seed } = this.params;
    const target = Math.floor(Math.max(0, elapsedMs) / everyMs);
    if (target < this.reachedStep) {
      this.reachedStep = 0;
      this.reachedValue = this.params.start;
    }
    let value = this.reachedValue;
    for (let i = this.reachedStep + 1; i <= target; i++) {
      value = reflect(value + (2 * unitRandom(seed, i) - 1) * step, min, max);
    }
    this.reachedStep = target;
    this.reachedValue = value;
    return value;
  }
}
