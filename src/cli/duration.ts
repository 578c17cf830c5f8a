// Durations as kubectl reads them (Go's time.ParseDuration): --timeout for
// `kcs wait`, `kcs create node` and `kcs run`, --since for `kcs logs`.

export class DurationError extends Error {
  override name = 'DurationError';
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("30s", "1m30s", "500ms", "0", "-1s") in milliseconds. */
export function parseDuration(text: string): number {
  if (text.trim() === '0') return 0;
  const m = /^([+-]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text.trim());
  if (!m) throw new DurationError(`invalid duration ${JSON.stringify(text)}: use a number with a unit, e.g. 30s, 1m, 500ms`);
  let ms = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(part[1]) * UNITS[part[2]!]!;
  return m[1] === '-' ? -ms : ms;
}
