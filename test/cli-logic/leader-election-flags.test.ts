// The leader election timings of `kcs up` and `kcs controllers`, as
// kube-controller-manager takes them: Go durations, each above zero, in
// the order an elector needs (the defaults fill what is not given).
import test from 'ava';
import { electionTimings } from '../../src/cli/leader-election-flags.ts';

test('no timing given: the elector\'s defaults, untouched', (t) => {
  t.is(electionTimings({}), undefined);
});

test('timings are Go durations; those not given take the defaults', (t) => {
  t.deepEqual(electionTimings({ 'leader-elect-lease-duration': '15s', 'leader-elect-renew-deadline': '10s', 'leader-elect-retry-period': '2s' }), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  t.deepEqual(electionTimings({ 'leader-elect-lease-duration': '1m' }), { leaseDurationMs: 60_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 });
  t.deepEqual(electionTimings({ 'leader-elect-retry-period': '500ms' }), { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 });
});

test('timings out of order, zero or not durations are refused, naming the flags', (t) => {
  t.throws(() => electionTimings({ 'leader-elect-renew-deadline': '5s' }), { message: /--leader-elect-retry-period < --leader-elect-renew-deadline < --leader-elect-lease-duration \(got 1000 ms, 5000 ms, 4000 ms\)/ });
  t.throws(() => electionTimings({ 'leader-elect-retry-period': '0' }), { message: /--leader-elect-retry-period must be above 0/ });
  t.throws(() => electionTimings({ 'leader-elect-lease-duration': 'soon' }), { message: /invalid duration "soon"/ });
});
