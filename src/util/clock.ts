// Time as a dependency: every timer-driven part of kcs takes a Clock, so
// tests move time as data instead of sleeping.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Kubernetes timestamps are RFC 3339 in UTC with whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
