// The leader election timings `kcs up` and `kcs controllers` take, under
// kube-controller-manager's flag names and Go durations. Unset, the
// elector's short defaults suited to a simulator (4 s, 3 s, 1 s) apply.
import * as Flags from '@oclif/core/flags';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS } from '../controllers/leader-election.ts';
import { DurationError, parseDuration } from './duration.ts';

export const leaderElectionFlags = {
  'leader-elect-lease-duration': Flags.string({ summary: `How long the others wait, after the leader's last renewal they saw, before taking its Lease (default ${DEFAULT_LEASE_DURATION_MS / 1000}s).` }),
  'leader-elect-renew-deadline': Flags.string({ summary: `How long the leader keeps acting without a successful renewal; below the lease duration (default ${DEFAULT_RENEW_DEADLINE_MS / 1000}s).` }),
  'leader-elect-retry-period': Flags.string({ summary: `How often candidates try and the leader renews; below the renew deadline (default ${DEFAULT_RETRY_PERIOD_MS / 1000}s).` }),
};

export interface ElectionTimings {
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

type TimingFlags = { 'leader-elect-lease-duration'?: string; 'leader-elect-renew-deadline'?: string; 'leader-elect-retry-period'?: string };

/**
 * The timings given, checked: positive durations in the order an elector
 * needs (retry period < renew deadline < lease duration, the defaults
 * filling the rest). Undefined when none is given.
 */
export function electionTimings(flags: TimingFlags): ElectionTimings | undefined {
  const read = (name: keyof TimingFlags): number | undefined => {
    const text = flags[name];
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (!(ms > 0)) throw new DurationError(`--${name} must be above 0 (got ${text})`);
    return ms;
  };
  const timings = { leaseDurationMs: read('leader-elect-lease-duration'), renewDeadlineMs: read('leader-elect-renew-deadline'), retryPeriodMs: read('leader-elect-retry-period') };
  if (Object.values(timings).every((v) => v === undefined)) return undefined;
  const lease = timings.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  const renew = timings.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
  const retry = timings.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
  if (!(retry < renew && renew < lease)) {
    throw new DurationError(`leader election needs --leader-elect-retry-period < --leader-elect-renew-deadline < --leader-elect-lease-duration (got ${retry} ms, ${renew} ms, ${lease} ms): a leader must stop before others may take its Lease`);
  }
  return { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry };
}
