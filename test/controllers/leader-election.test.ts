// Leader election over a Lease, on an injected clock: the first candidate
// takes an absent Lease at once and renews it; another waits while it is
// renewed; a leader that cannot renew stops before the Lease can lapse for
// the others; a released Lease is taken at once; expiry is judged on the
// candidate's own clock from when it saw the record change. The candidates
// act as the controllers' identity through the cluster's authorizer.
import test, { type ExecutionContext } from 'ava';
import type { KcsClient } from '../../src/client/interface.ts';
import {
  CONTROLLER_LEASE_NAME, CONTROLLER_LEASE_NAMESPACE, DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS,
  LeaderElector, leaseAvailable, runWhileLeading, type LeaderLease,
} from '../../src/controllers/leader-election.ts';
import { HealthController, type Lease as NodeLease } from '../../src/controllers/health.ts';
import { Informer } from '../../src/client/informer.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';
import { registryClients } from '../support/registry-clients.ts';

const LEASE = kindByName('Lease')!;
const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;
const RETRY = DEFAULT_RETRY_PERIOD_MS;

async function apiServer(t: ExecutionContext) {
  const { admin, controllers } = await registryClients(t);
  return { admin, controllers };
}

/** A client whose requests, once cut, never answer: a control plane cut off from the store. */
function cuttable(client: KcsClient): { client: KcsClient; cut: () => void } {
  let cut = false;
  const wrapped = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (cut ? new Promise(() => {}) : value.apply(target, args));
    },
  });
  return { client: wrapped, cut: () => { cut = true; } };
}

interface Candidate {
  elector: LeaderElector;
  /** What its callbacks were called with, in order. */
  calls: string[];
}

function candidate(t: ExecutionContext, identity: string, client: KcsClient, clock: FakeClock): Candidate {
  const calls: string[] = [];
  const elector = new LeaderElector({
    client, identity, clock,
    onStartedLeading: () => { calls.push('started'); },
    onStoppedLeading: () => { calls.push('stopped'); },
  });
  t.teardown(() => { void elector.stop(); });
  return { elector, calls };
}

/** Moves the clock one retry period at a time, letting every candidate's try finish before the next. */
async function pass(clock: FakeClock, ms: number, ...candidates: Candidate[]): Promise<void> {
  for (let passed = 0; passed < ms; passed += RETRY) {
    clock.advance(Math.min(RETRY, ms - passed));
    await Promise.all(candidates.map((c) => c.elector.settled()));
  }
}

const leaseOf = (admin: KcsClient) => admin.get<LeaderLease>(LEASE, CONTROLLER_LEASE_NAMESPACE, CONTROLLER_LEASE_NAME);

test('the defaults keep retry period < renew deadline < lease duration, a retry period apart', (t) => {
  t.true(DEFAULT_RETRY_PERIOD_MS < DEFAULT_RENEW_DEADLINE_MS);
  t.true(DEFAULT_RENEW_DEADLINE_MS + DEFAULT_RETRY_PERIOD_MS <= DEFAULT_LEASE_DURATION_MS);
});

test('a Lease is available when no one holds it, or a lease duration after it was last seen to change', (t) => {
  t.true(leaseAvailable(undefined, 1_000, 4_000, 1_000));
  t.true(leaseAvailable('', 1_000, 4_000, 1_000));
  t.false(leaseAvailable('a', 1_000, 4_000, 4_999));
  t.true(leaseAvailable('a', 1_000, 4_000, 5_000));
});

test('an elector refuses timings where a leader could outlive its Lease', (t) => {
  const clock = new FakeClock();
  const client = {} as KcsClient;
  t.throws(() => new LeaderElector({ client, clock, leaseDurationMs: 3_000, renewDeadlineMs: 3_000, onStartedLeading: () => {}, onStoppedLeading: () => {} }), { message: /renewDeadline < leaseDuration/ });
});

test('the first candidate takes an absent Lease at once, as the controllers, and says so in the Lease', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const a = candidate(t, 'a', controllers, clock);
  await a.elector.start();
  t.true(a.elector.isLeader);
  t.deepEqual(a.calls, ['started']);
  const lease = await leaseOf(admin);
  t.is(lease.apiVersion, 'coordination.k8s.io/v1');
  t.deepEqual(lease.spec, {
    holderIdentity: 'a', leaseDurationSeconds: 4, leaseTransitions: 0,
    acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:00.000000Z',
  });
});

test('the leader renews every retry period and keeps its acquireTime; another candidate waits all along', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const a = candidate(t, 'a', controllers, clock);
  const b = candidate(t, 'b', controllers, clock);
  await a.elector.start();
  await b.elector.start();
  await pass(clock, 3 * DEFAULT_LEASE_DURATION_MS, a, b);
  t.true(a.elector.isLeader);
  t.false(b.elector.isLeader);
  t.deepEqual(b.calls, []);
  const lease = await leaseOf(admin);
  t.is(lease.spec?.holderIdentity, 'a');
  t.is(lease.spec?.acquireTime, '2026-01-01T00:00:00.000000Z');
  t.is(lease.spec?.renewTime, '2026-01-01T00:00:12.000000Z');
  t.is(lease.spec?.leaseTransitions, 0);
});

test('a leader that cannot renew stops at its renew deadline, before the Lease lapses for the others, who then take it', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const line = cuttable(controllers);
  const a = candidate(t, 'a', line.client, clock);
  const b = candidate(t, 'b', controllers, clock);
  await a.elector.start();
  await b.elector.start();
  await pass(clock, 2 * RETRY, a, b); // renewed at 2 s; b saw that at 2 s
  line.cut();
  // a's requests now hang; only b's tries can be waited for.
  let stoppedAt: number | undefined;
  let takenAt: number | undefined;
  for (let elapsed = 0; elapsed < 3 * DEFAULT_LEASE_DURATION_MS && takenAt === undefined; elapsed += 100) {
    clock.advance(100);
    await b.elector.settled();
    await Promise.resolve();
    if (stoppedAt === undefined && !a.elector.isLeader) stoppedAt = clock.now().getTime();
    if (takenAt === undefined && b.elector.isLeader) takenAt = clock.now().getTime();
  }
  const renewedAt = Date.parse('2026-01-01T00:00:02Z');
  t.is(stoppedAt, renewedAt + DEFAULT_RENEW_DEADLINE_MS, 'a stops at its last renewal + renew deadline');
  t.truthy(takenAt);
  t.true(takenAt! >= renewedAt + DEFAULT_LEASE_DURATION_MS, 'b takes it no sooner than a lease duration after it saw the last renewal');
  t.true(takenAt! <= renewedAt + DEFAULT_LEASE_DURATION_MS + RETRY, 'and at its first try after that');
  t.true(stoppedAt! < takenAt!);
  t.deepEqual(a.calls, ['started', 'stopped']);
  t.deepEqual(b.calls, ['started']);
  const lease = await leaseOf(admin);
  t.is(lease.spec?.holderIdentity, 'b');
  t.is(lease.spec?.leaseTransitions, 1);
});

test('a leader that stops releases the Lease after its controllers stopped, and the next candidate takes it at its next try', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const a = candidate(t, 'a', controllers, clock);
  const b = candidate(t, 'b', controllers, clock);
  await a.elector.start();
  await b.elector.start();
  await pass(clock, RETRY, a, b);
  await a.elector.stop();
  t.deepEqual(a.calls, ['started', 'stopped']);
  const released = await leaseOf(admin);
  t.is(released.spec?.holderIdentity, undefined);
  await pass(clock, RETRY, b);
  t.true(b.elector.isLeader, 'taken one retry period later, not a lease duration');
  const lease = await leaseOf(admin);
  t.is(lease.spec?.holderIdentity, 'b');
  t.is(lease.spec?.leaseTransitions, 1);
});

test('a leader stopped while a renewal\'s answer is on its way still releases the Lease that renewal wrote', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  // Updates are written at once; their answers are held back while holding is on.
  let holding = false;
  const held: Array<() => void> = [];
  const slowAnswers = new Proxy(controllers, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'update' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const answer = await value.apply(target, args);
        if (holding) await new Promise<void>((resolve) => held.push(resolve));
        return answer;
      };
    },
  });
  const a = candidate(t, 'a', slowAnswers, clock);
  await a.elector.start();
  t.true(a.elector.isLeader);
  holding = true;
  clock.advance(RETRY);
  // The renewal is written; the elector has not heard so.
  await eventually('the renewal written, its answer held', () => held.length === 1);
  holding = false;
  await a.elector.stop();
  t.is((await leaseOf(admin)).spec?.holderIdentity, undefined, 'released, not left to lapse');
  for (const answer of held) answer();
});

test('leaseTransitions counts each change of holder', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock();
  for (const [i, identity] of ['a', 'b', 'c'].entries()) {
    const c = candidate(t, identity, controllers, clock);
    await c.elector.start();
    t.true(c.elector.isLeader);
    t.is((await leaseOf(admin)).spec?.leaseTransitions, i);
    await c.elector.stop();
  }
});

test('expiry is judged on the candidate\'s own clock from when it saw the record, not from the holder\'s renewTime', async (t) => {
  const { admin, controllers } = await apiServer(t);
  // A holder whose clock is an hour behind, or a record long unchanged: the candidate cannot tell, so it waits a full lease duration.
  await admin.create(LEASE, CONTROLLER_LEASE_NAMESPACE, {
    apiVersion: LEASE.apiVersion, kind: 'Lease', metadata: { name: CONTROLLER_LEASE_NAME },
    spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 4, acquireTime: '2025-12-31T23:00:00.000000Z', renewTime: '2025-12-31T23:00:00.000000Z', leaseTransitions: 5 },
  });
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const b = candidate(t, 'b', controllers, clock);
  await b.elector.start();
  t.false(b.elector.isLeader);
  await pass(clock, DEFAULT_LEASE_DURATION_MS - RETRY, b);
  t.false(b.elector.isLeader, 'not before a lease duration of its own');
  await pass(clock, RETRY, b);
  t.true(b.elector.isLeader);
  t.is((await leaseOf(admin)).spec?.leaseTransitions, 6);
});

test('the controllers may write their Leases in kube-system, and no other Lease', async (t) => {
  const { controllers } = await apiServer(t);
  const lease = (name: string) => ({ apiVersion: LEASE.apiVersion, kind: 'Lease', metadata: { name }, spec: {} });
  const created = await controllers.create<LeaderLease>(LEASE, CONTROLLER_LEASE_NAMESPACE, lease(CONTROLLER_LEASE_NAME));
  await t.notThrowsAsync(controllers.update(LEASE, CONTROLLER_LEASE_NAMESPACE, CONTROLLER_LEASE_NAME, { ...created.body, spec: { holderIdentity: 'x' } }));
  await t.throwsAsync(controllers.create(LEASE, CONTROLLER_LEASE_NAMESPACE, lease('someone-else')), { message: /forbidden/i });
  await t.throwsAsync(controllers.create(LEASE, 'default', lease(CONTROLLER_LEASE_NAME)), { message: /forbidden/i });
  await t.throwsAsync(controllers.delete(LEASE, CONTROLLER_LEASE_NAMESPACE, CONTROLLER_LEASE_NAME), { message: /forbidden/i });
});

test('a leader that cannot start what it leads for gives the Lease up, and tries again at its next try', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock();
  const calls: string[] = [];
  const elector = new LeaderElector({
    client: controllers, identity: 'a', clock,
    onStartedLeading: () => {
      calls.push('started');
      if (calls.length === 1) throw new Error('the runtime does not answer');
    },
    onStoppedLeading: () => { calls.push('stopped'); },
  });
  t.teardown(() => elector.stop());
  await elector.start();
  t.false(elector.isLeader);
  t.is((await leaseOf(admin)).spec?.holderIdentity, undefined, 'released for another candidate');
  clock.advance(RETRY);
  await elector.settled();
  t.true(elector.isLeader);
  t.deepEqual(calls, ['started', 'started']);
  t.is((await leaseOf(admin)).spec?.holderIdentity, 'a');
});

test('a new leader gives a node whose Lease lapsed under the old one a full grace from when it began leading', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock('2026-01-01T00:01:00Z');
  // The old leader went away a minute ago; the node's last renewal is as old.
  await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } });
  await admin.patch(NODE, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  await admin.create(LEASE, 'kube-node-lease', { apiVersion: LEASE.apiVersion, kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', renewTime: '2026-01-01T00:00:00.000000Z' } });
  const nodes = new Informer<Node>(controllers, NODE);
  const leases = new Informer<NodeLease>(controllers, LEASE, { namespace: 'kube-node-lease' });
  const pods = new Informer<Pod>(controllers, POD);
  await Promise.all([nodes.start(), leases.start(), pods.start()]);
  t.teardown(() => { nodes.stop(); leases.stop(); pods.stop(); });
  // As startControllers does on every start of leadership: the health controller is built then.
  const elected = await runWhileLeading(async () => {
    const health = new HealthController({ client: controllers, nodes, leases, pods, graceMs: 3_000, clock });
    return { health, stop: async () => health.stop() };
  }, { client: controllers, identity: 'new', clock });
  t.teardown(() => elected.stop());
  const ready = async () => (await admin.get<Node>(NODE, undefined, 'n1')).status?.conditions?.find((c) => c.type === 'Ready')?.status;

  t.deepEqual(await elected.current!.health.reconcile('n1'), { requeueAfterMs: 3_001 }, 'judged a full grace after it became leader');
  t.is(await ready(), 'True');
  clock.advance(3_001);
  await elected.current!.health.reconcile('n1');
  t.is(await ready(), 'Unknown', 'and failed once that grace passes without a renewal');
});

test('runWhileLeading starts what it runs on leading and stops it on stopping', async (t) => {
  const { admin, controllers } = await apiServer(t);
  const clock = new FakeClock();
  let running = 0;
  const elected = await runWhileLeading(async () => {
    running++;
    return { stop: async () => { running--; } };
  }, { client: controllers, identity: 'a', clock });
  t.is(running, 1);
  t.truthy(elected.current);
  await elected.stop();
  t.is(running, 0);
  t.is(elected.current, undefined);
  t.is((await leaseOf(admin)).spec?.holderIdentity, undefined, 'released');
});
