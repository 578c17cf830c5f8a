// One usage profile: the text a pod's usage annotation gives a resource
// ("250m", "80%", "sine min=100m max=400m period=60s"), parsed into
// arguments, resolved against a container's request, and made a curve: the
// usage (millicores or bytes) at each elapsed time since the pod started.
import { isQuantity, parseBytes, parseMilliCpu } from './quantity.ts';
import { Walk } from './usage-walk.ts';

export type UsageResource = 'cpu' | 'memory';

/** An amount as written: an absolute quantity, or a share of the container's request. */
export type Amount =
  | { text: string; of: 'absolute'; value: number }
  | { text: string; of: 'request'; percent: number };

export interface Profile {
  kind: ProfileKind;
  amounts: Record<string, Amount>;
  durationsMs: Record<string, number>;
  seed?: number;
}

/** Usage at an elapsed time since the pod started, in millicores or bytes. */
export type Curve = (elapsedMs: number) => number;

export class ProfileError extends Error {
  override name = 'ProfileError';
}

// ---- the kinds --------------------------------------------------------------------

type ArgType = 'amount' | 'duration' | 'seed';
interface ArgSpec { type: ArgType; optional?: boolean; mayBeZero?: boolean }

interface KindSpec {
  args: Record<string, ArgSpec>;
  /** Pairs of amounts where the first may not exceed the second. */
  ordered?: Array<[string, string]>;
  curve(values: Record<string, number>, durationsMs: Record<string, number>, seed: number): Curve;
}

const amount: ArgSpec = { type: 'amount' };
const duration: ArgSpec = { type: 'duration' };

/** Walk steps finer than this add nothing the once-a-second reader sees, and cost a step each. */
export const MIN_WALK_STEP_MS = 100;
export const DEFAULT_WALK_SEED = 1;

const KINDS = {
  constant: {
    args: { value: amount },
    curve: ({ value }) => () => value,
  },
  ramp: {
    args: { from: amount, to: amount, over: duration },
    curve: ({ from, to }, { over }) => (t) => from + (to - from) * Math.min(t / over, 1),
  },
  sine: {
    args: { min: amount, max: amount, period: duration },
    ordered: [['min', 'max']],
    curve: ({ min, max }, { period }) => (t) => min + ((max - min) * (1 - Math.cos((2 * Math.PI * t) / period))) / 2,
  },
  walk: {
    args: { min: amount, max: amount, step: amount, every: duration, seed: { type: 'seed', optional: true }, start: { type: 'amount', optional: true } },
    ordered: [['min', 'max'], ['min', 'start'], ['start', 'max']],
    curve: ({ min, max, step, start }, { every }, seed) => {
      const walk = new Walk({ min, max, step, everyMs: every, seed, start: start ?? (min + max) / 2 });
      return (t) => walk.at(t);
    },
  },
  spike: {
    args: { base: amount, peak: amount, at: { type: 'duration', mayBeZero: true }, for: duration },
    curve: ({ base, peak }, { at, for: length }) => (t) => (t >= at && t < at + length ? peak : base),
  },
} satisfies Record<string, KindSpec>;

export type ProfileKind = keyof typeof KINDS;
const KIND_NAMES = Object.keys(KINDS) as ProfileKind[];

function isKind(word: string): word is ProfileKind {
  return Object.hasOwn(KINDS, word);
}

// ---- parsing ----------------------------------------------------------------------

const PERCENT = /^(\d+(?:\.\d*)?|\.\d+)%$/;
const DURATION = /^(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const EXAMPLE: Record<UsageResource, string> = { cpu: '100m', memory: '64Mi' };

/** `500ms`, `30s`, `5m`, `1h`; a unit is required, since a bare number could mean seconds or milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * DURATION_UNIT_MS[m[2]] : undefined;
}

/** A quantity of the resource (`250m`, `1.5`, `200Mi`) or a percentage of the request (`80%`). */
export function parseAmount(text: string | number, resource: UsageResource): Amount {
  const shown = String(text);
  const percent = typeof text === 'string' ? PERCENT.exec(text) : null;
  if (percent) return { text: shown, of: 'request', percent: Number(percent[1]) };
  const parse = resource === 'cpu' ? parseMilliCpu : parseBytes;
  try {
    return { text: shown, of: 'absolute', value: parse(text) };
  } catch (err) {
    // A quantity out of range says so; for text of the wrong form the parser's reason is its regular expression.
    if (isQuantity(text)) throw new ProfileError((err as Error).message);
    throw new ProfileError(`"${shown}" is neither a quantity (such as ${EXAMPLE[resource]}) nor a percentage of the request (such as 80%)`);
  }
}

/** A profile's text: a bare amount (a constant), or a kind word then `key=value` arguments separated by spaces. */
export function parseProfile(input: string | number, resource: UsageResource): Profile {
  if (typeof input === 'number') return constant(parseAmount(input, resource));
  const [first, ...rest] = input.trim().split(/\s+/);
  if (!first) throw new ProfileError(`is empty; expected a quantity (such as ${EXAMPLE[resource]}), a percentage (such as 80%) or a profile (${KIND_NAMES.join(', ')})`);
  if (isKind(first)) return parseArgs(first, rest, resource);
  if (rest.length === 0 && !/^[a-z]+$/i.test(first)) return constant(parseAmount(first, resource));
  throw new ProfileError(`unknown profile "${first}"; expected a quantity, a percentage or one of ${KIND_NAMES.join(', ')}`);
}

function constant(value: Amount): Profile {
  return { kind: 'constant', amounts: { value }, durationsMs: {} };
}

function parseArgs(kind: ProfileKind, words: string[], resource: UsageResource): Profile {
  const specs: Record<string, ArgSpec> = KINDS[kind].args;
  const profile: Profile = { kind, amounts: {}, durationsMs: {} };
  const seen = new Set<string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new ProfileError(`${kind}: "${word}" is not key=value`);
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) throw new ProfileError(`${kind} has no argument "${key}" (it takes ${Object.keys(specs).join(', ')})`);
    if (seen.has(key)) throw new ProfileError(`${kind}: ${key} is given twice`);
    seen.add(key);
    if (spec.type === 'amount') profile.amounts[key] = parseArgAmount(kind, key, value, resource);
    else if (spec.type === 'duration') profile.durationsMs[key] = parseArgDuration(kind, key, value, spec);
    else profile.seed = parseSeed(kind, value);
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (!seen.has(key) && !spec.optional) throw new ProfileError(`${kind} needs ${key} (${describe(spec, resource)})`);
  }
  if (kind === 'walk' && profile.durationsMs.every < MIN_WALK_STEP_MS) {
    throw new ProfileError(`walk: every must be at least ${MIN_WALK_STEP_MS}ms`);
  }
  checkOrder(profile, (key) => written(profile.amounts[key], 'absolute'));
  checkOrder(profile, (key) => written(profile.amounts[key], 'request'));
  return profile;
}

/** The number an amount was written with, if it is of that sort. */
function written(a: Amount | undefined, of: Amount['of']): number | undefined {
  if (a?.of !== of) return undefined;
  return a.of === 'absolute' ? a.value : a.percent;
}

function describe(spec: ArgSpec, resource: UsageResource): string {
  if (spec.type === 'amount') return `a quantity such as ${EXAMPLE[resource]} or a percentage such as 80%`;
  if (spec.type === 'duration') return 'a duration such as 60s';
  return 'a whole number';
}

function parseArgAmount(kind: ProfileKind, key: string, value: string, resource: UsageResource): Amount {
  try {
    return parseAmount(value, resource);
  } catch (err) {
    throw new ProfileError(`${kind}: ${key}: ${(err as Error).message}`);
  }
}

function parseArgDuration(kind: ProfileKind, key: string, value: string, spec: ArgSpec): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new ProfileError(`${kind}: ${key}="${value}" is not a duration (a number and ms, s, m or h, such as 60s)`);
  if (ms === 0 && !spec.mayBeZero) throw new ProfileError(`${kind}: ${key} must be longer than 0s`);
  return ms;
}

function parseSeed(kind: ProfileKind, value: string): number {
  const seed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(seed)) throw new ProfileError(`${kind}: seed="${value}" is not a whole number (0 to ${Number.MAX_SAFE_INTEGER})`);
  return seed;
}

/**
 * Checks min <= max (and the like) for the pairs `valueOf` can compare. At
 * parse time that is both absolute or both shares of the request; a mixed
 * pair is compared once resolved against a container's request.
 */
function checkOrder(profile: Profile, valueOf: (key: string) => number | undefined): void {
  const ordered: Array<[string, string]> = (KINDS[profile.kind] as KindSpec).ordered ?? [];
  for (const [low, high] of ordered) {
    const x = valueOf(low);
    const y = valueOf(high);
    if (x !== undefined && y !== undefined && x > y) {
      throw new ProfileError(`${profile.kind}: ${low}=${profile.amounts[low].text} is above ${high}=${profile.amounts[high].text}`);
    }
  }
}

// ---- resolving and evaluating -------------------------------------------------------

/**
 * The profile's curve for a container requesting `request` (millicores or
 * bytes, 0 when it requests none). Throws ProfileError for a percentage with
 * no request to take it of, or a mixed pair out of order.
 */
export function profileCurve(profile: Profile, request: number, resource: UsageResource): Curve {
  const values: Record<string, number> = {};
  for (const [key, a] of Object.entries(profile.amounts)) {
    if (a.of === 'absolute') {
      values[key] = a.value;
    } else if (request > 0) {
      values[key] = (request * a.percent) / 100;
    } else {
      const what = profile.kind === 'constant' ? a.text : `${profile.kind}: ${key}=${a.text}`;
      throw new ProfileError(`${what} is a share of the ${resource} request, and the container requests no ${resource}`);
    }
  }
  checkOrder(profile, (key) => values[key]);
  const curve = (KINDS[profile.kind] as KindSpec).curve(values, profile.durationsMs, profile.seed ?? DEFAULT_WALK_SEED);
  return (elapsedMs) => Math.max(0, curve(Math.max(0, elapsedMs)));
}
