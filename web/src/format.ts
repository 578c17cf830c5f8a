// Small words and numbers the page shows.
import { formatBytes, formatMilliCpu } from '../../src/objects/quantity.ts';

export { formatBytes, formatMilliCpu };

/** "4s", "3m", "2h": how long ago, as kubectl shows ages. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

export function clock(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 100)) : 0;
}

const ROUNDED_UNITS: Array<[string, number]> = [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/**
 * Bytes to a glance's precision ("121Mi", "1.5Gi"): what a node uses is
 * measured in KiB and changes every report, so exact figures only flicker.
 */
export function roundedBytes(bytes: number): string {
  for (const [suffix, size] of ROUNDED_UNITS) {
    if (bytes < size) continue;
    const n = bytes / size;
    return `${n >= 10 ? Math.round(n) : Math.round(n * 10) / 10}${suffix}`;
  }
  return String(Math.round(bytes));
}
