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
