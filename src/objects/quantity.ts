// Kubernetes resource quantities ("2", "500m", "1.5", "256Mi", "1e3"), parsed
// exactly: the digits are kept as a BigInt numerator over a power of ten, so
// "0.1" + "0.2" CPUs is exactly 300 millicores, never 299.99999.

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n,
};
const DECIMAL_EXPONENT: Record<string, number> = {
  n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18,
};

export class QuantityError extends Error {
  override name = 'QuantityError';
}

/** An exact rational value numerator / 10^scale. */
interface Exact { numerator: bigint; scale: number }

function parseExact(input: string | number): Exact {
  const text = typeof input === 'number' ? numberToText(input) : input.trim();
  const m = QUANTITY.exec(text);
  if (!m) throw new QuantityError(`quantity ${shown(input)} must match the regular expression '${QUANTITY.source}'`);
  const [, sign, digits, suffix = ''] = m;
  const [whole, frac = ''] = digits.split('.');
  let numerator = BigInt((whole || '0') + frac);
  let scale = frac.length;
  if (sign === '-') numerator = -numerator;
  if (suffix in BINARY) {
    numerator *= BINARY[suffix];
  } else {
    const exp = suffix in DECIMAL_EXPONENT ? DECIMAL_EXPONENT[suffix] : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 64) throw new QuantityError(`quantity ${shown(input)} has an exponent out of range`);
    scale -= exp;
  }
  return { numerator, scale };
}

/** The input as an error names it, cut short: a hostile value may be huge. */
function shown(input: string | number): string {
  const text = JSON.stringify(input);
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

function numberToText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(`quantity ${n} is not a finite number`);
  return String(n);
}

/** value * 10^shift rounded up to an integer (Kubernetes rounds requests up). */
function scaledCeil({ numerator, scale }: Exact, shift: number): bigint {
  const s = scale - shift;
  if (s <= 0) return numerator * 10n ** BigInt(-s);
  const div = 10n ** BigInt(s);
  const q = numerator / div;
  return numerator % div > 0n ? q + 1n : q;
}

function toSafeNumber(v: bigint, input: string | number, unit: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(`quantity ${shown(input)} is too large (more than ${Number.MAX_SAFE_INTEGER} ${unit})`);
  }
  return Number(v);
}

/**
 * Parsed values by input: the scheduler reads the same few quantities
 * ("500m", "1Gi") thousands of times a second, and parsing them was a
 * quarter of its time. Bounded: cleared when full.
 */
const CACHE_LIMIT = 10_000;
const milliCpuCache = new Map<string | number, number>();
const bytesCache = new Map<string | number, number>();

function cached(cache: Map<string | number, number>, input: string | number, parse: () => number): number {
  const hit = cache.get(input);
  if (hit !== undefined) return hit;
  const value = parse(); // throws for bad input: errors are not cached
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(input, value);
  return value;
}

/** CPU in integer millicores; fractions of a millicore round up, as in Kubernetes. */
export function parseMilliCpu(input: string | number): number {
  return cached(milliCpuCache, input, () => toSafeNumber(scaledCeil(parseExact(input), 3), input, 'millicores'));
}

/** Memory (or any plain count) in integer units; fractions round up. */
export function parseBytes(input: string | number): number {
  return cached(bytesCache, input, () => toSafeNumber(scaledCeil(parseExact(input), 0), input, 'bytes'));
}

/** Whether the text is a syntactically valid quantity. */
export function isQuantity(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try { parseExact(input); return true; } catch { return false; }
}

export function formatMilliCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

const BINARY_UNITS: Array<[string, number]> = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/** The largest binary suffix that divides the byte count exactly, as kubectl prints it. */
export function formatBytes(bytes: number): string {
  for (const [suffix, size] of BINARY_UNITS) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/**
 * Orders two quantities by value, exactly ("1Gi" > "1G" > "999M"); as
 * kubectl's --sort-by does for two fields that both parse as quantities.
 * Throws QuantityError when either is not one.
 */
export function compareQuantities(a: string | number, b: string | number): number {
  const x = parseExact(a);
  const y = parseExact(b);
  // x.n / 10^x.s vs y.n / 10^y.s: bring both over the larger scale.
  const scale = Math.max(x.scale, y.scale);
  const left = x.numerator * 10n ** BigInt(scale - x.scale);
  const right = y.numerator * 10n ** BigInt(scale - y.scale);
  return left < right ? -1 : left > right ? 1 : 0;
}
