// What the scheduler's cache keeps for preemption: the room of nominated
// pods, held against pods of lower or equal priority only; the room of
// evicted victims, free though the informer and the ledger still show
// them; the lowest priority running; and finished pods holding nothing.
import test from 'ava';
import { podRequests } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { SchedulerCache } from '../../src/scheduler/cache.ts';
import { decide } from '../../src/scheduler/framework.ts';
import { DEFAULT_FILTERS } from '../../src/scheduler/plugins/filters.ts';
import { filtersHoldingNominations } from '../../src/scheduler/plugins/nominated.ts';
import { firstFit } from '../../src/scheduler/plugins/policies.ts';
import type { Reservation } from '../../src/scheduler/ledger.ts';

const node = (name: string, cpu: string, reservations: Reservation[] = []): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } },
  status: { conditions: [{ type: 'Ready', status: 'True' }], reservations },
});
const pod = (name: string, cpu: string, opts: { priority?: number; nodeName?: string; phase?: 'Succeeded' | 'Failed' | 'Running'; nominated?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { priority: opts.priority, nodeName: opts.nodeName, containers: [{ name: 'c', resources: { requests: { cpu } } }] },
  status: { phase: opts.phase ?? 'Pending', ...(opts.nominated ? { nominatedNodeName: opts.nominated } : {}) },
});
const req = (p: Pod) => ({ pod: p, requests: podRequests(p) });
const free = (cache: SchedulerCache, name: string) => {
  const info = cache.snapshot().byName.get(name)!;
  return info.capacity.milliCpu - info.allocated.milliCpu;
};

test('a nominated pod holds its room against pods of lower or equal priority, not against higher ones or itself', (t) => {
  const cache = new SchedulerCache();
  cache.setNode(node('n1', '2'));
  cache.setNode(node('n2', '2'));
  const waiting = pod('waiting', '2', { priority: 100, nominated: 'n1' });
  cache.setPod(waiting);
  const filters = filtersHoldingNominations(cache.nominations);
  const decideFor = (p: Pod) => decide(req(p), cache.snapshot(), filters, firstFit).node;
  t.is(decideFor(pod('lower', '1', { priority: 10 })), 'n2', 'first-fit would take n1, held for the nominated pod');
  t.is(decideFor(pod('peer', '1', { priority: 100 })), 'n2');
  t.is(decideFor(pod('higher', '1', { priority: 1000 })), 'n1');
  t.is(decideFor(waiting), 'n1', 'its own room');
  t.is(decide(req(pod('lower', '1', { priority: 10 })), cache.snapshot(), DEFAULT_FILTERS, firstFit).node, 'n1', 'the plain filters do not see nominations');
  cache.setPod({ ...waiting, spec: { ...waiting.spec, nodeName: 'n1' } });
  t.is(cache.nominations.size, 0, 'bound: the nomination is done with');
});

test('the lowest priority running is known, so a pod of that priority or lower skips the search for victims', (t) => {
  const cache = new SchedulerCache();
  cache.setNode(node('n1', '8'));
  t.is(cache.lowestPriority(), Number.POSITIVE_INFINITY);
  cache.setPod(pod('a', '1', { priority: 100, nodeName: 'n1' }));
  cache.setPod(pod('b', '1', { nodeName: 'n1' }));
  t.is(cache.lowestPriority(), 0, 'no priority counts as 0');
  cache.assume('uid-c', 'n1', { milliCpu: 1000, memory: 0 }, -7);
  t.is(cache.lowestPriority(), -7);
  cache.forget('uid-c');
  cache.removePod(pod('b', '1', { nodeName: 'n1' }));
  t.is(cache.lowestPriority(), 100);
});

test('an evicted victim\'s room is free at once, though its old ledger entry is still there; a new binding of it counts again', (t) => {
  const cache = new SchedulerCache();
  const victim = pod('victim', '2', { priority: 1, nodeName: 'n1', phase: 'Running' });
  const entry: Reservation = { uid: 'uid-victim', pod: 'default/victim', milliCpu: 2000, memory: 0, at: 1000 };
  cache.setNode(node('n1', '2', [entry]));
  cache.setPod(victim);
  t.is(free(cache, 'n1'), 0);
  cache.markEvicted('uid-victim', 'n1');
  t.true(cache.wasEvictedFrom('uid-victim', 'n1'), 'the preemptor\'s next search counts it as leaving');
  t.is(free(cache, 'n1'), 0, 'still counted while the informer shows it bound');
  cache.setPod({ ...victim, spec: { ...victim.spec, nodeName: undefined }, status: { phase: 'Pending' } });
  t.is(free(cache, 'n1'), 2000, 'unbound: its stale ledger entry does not hold the room');
  // Bound again on n1 (by anyone): a fresh entry and a bound pod, counted as ever.
  cache.setNode(node('n1', '2', [{ ...entry, at: 5000 }]));
  t.is(free(cache, 'n1'), 0);
  t.false(cache.wasEvictedFrom('uid-victim', 'n1'));
});

test('finished pods hold nothing in the cache: a node full of them takes new pods', (t) => {
  const cache = new SchedulerCache();
  cache.setNode(node('n1', '2'));
  cache.setPod(pod('a', '1', { nodeName: 'n1', phase: 'Running' }));
  cache.setPod(pod('b', '1', { nodeName: 'n1', phase: 'Running' }));
  t.is(decide(req(pod('new', '1')), cache.snapshot(), DEFAULT_FILTERS, firstFit).node, undefined);
  cache.setPod(pod('a', '1', { nodeName: 'n1', phase: 'Succeeded' }));
  cache.setPod(pod('b', '1', { nodeName: 'n1', phase: 'Failed' }));
  t.is(free(cache, 'n1'), 2000);
  t.is(decide(req(pod('new', '1')), cache.snapshot(), DEFAULT_FILTERS, firstFit).node, 'n1');
});
