// The indexed decision must choose what the full scan chooses: random
// clusters (ties, full nodes, NotReady and cordoned nodes, selectors, nodes
// without a memory limit, several capacity groups), each pod assumed on its
// node before the next is decided, nodes changing and leaving in between.
import test from 'ava';
import { podRequests } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { SchedulerCache } from '../../src/scheduler/cache.ts';
import { decide, decideIndexed } from '../../src/scheduler/framework.ts';
import { DEFAULT_FILTERS } from '../../src/scheduler/plugins/filters.ts';
import { POLICY_NAMES, policyByName } from '../../src/scheduler/plugins/policies.ts';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomNode(rand: () => number, name: string): Node {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const labels = rand() < 0.3 ? { zone: pick(['a', 'b']) } : undefined;
  const memory = pick([undefined, '4Gi', '8Gi']);
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels },
    spec: { capacity: { cpu: pick(['2', '4', '8', '2500m']), ...(memory ? { memory } : {}), pods: pick(['3', '110']) }, unschedulable: rand() < 0.1 || undefined },
    status: { conditions: [{ type: 'Ready', status: rand() < 0.15 ? 'False' : 'True' }] },
  };
}

function randomPod(rand: () => number, i: number, nodeName?: string): Pod {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'default', uid: `uid-${i}` },
    spec: {
      nodeName, nodeSelector: rand() < 0.15 ? { zone: pick(['a', 'b']) } : undefined,
      containers: [{ name: 'c', resources: { requests: { cpu: pick(['0', '100m', '250m', '500m', '1', '2']), memory: pick(['0', '64Mi', '512Mi', '1Gi']) } } }],
    },
  };
}

for (const policyName of POLICY_NAMES) {
  test(`${policyName}: the index chooses what the full scan chooses, on 200 random clusters`, (t) => {
    let compared = 0;
    let indexed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed * 7919);
      const cache = new SchedulerCache();
      const nodeCount = 1 + Math.floor(rand() * 60);
      const names = Array.from({ length: nodeCount }, (_, i) => `n${String(Math.floor(rand() * 1000)).padStart(3, '0')}-${i}`);
      for (const name of names) cache.setNode(randomNode(rand, name));
      let next = 0;
      for (let i = 0; i < nodeCount; i++) if (rand() < 0.5) cache.setPod(randomPod(rand, next++, names[Math.floor(rand() * names.length)]));
      const weights = { cpu: 1 + Math.floor(rand() * 3), memory: Math.floor(rand() * 3) };
      const policy = policyByName(policyName, weights)!;
      for (let step = 0; step < 40; step++) {
        if (rand() < 0.1) cache.setNode(randomNode(rand, names[Math.floor(rand() * names.length)]!)); // changed: readiness, size, labels
        if (rand() < 0.03) cache.removeNode(names[Math.floor(rand() * names.length)]!);
        const pod = randomPod(rand, next++);
        const req = { pod, requests: podRequests(pod) };
        const full = decide(req, cache.snapshot(), DEFAULT_FILTERS, policy);
        const fast = decideIndexed(req, cache.index, DEFAULT_FILTERS, policy);
        compared++;
        if (fast) {
          indexed++;
          t.is(fast.node, full.node, `seed ${seed}, step ${step}: ${policyName} chose ${fast.node}, the full scan ${full.node}`);
          t.true(fast.verdicts.length <= full.verdicts.length);
        } else {
          // binpack leaves pods that request no CPU or no memory to the full scan.
          const passedOn = policyName === 'binpack' && (req.requests.milliCpu === 0 || req.requests.memory === 0);
          if (!passedOn) t.is(full.node, undefined, `seed ${seed}, step ${step}: the index found nothing but ${full.node} fits`);
        }
        if (full.node) cache.assume(pod.metadata.uid!, full.node, req.requests);
      }
    }
    t.true(indexed > compared / 2, `most decisions went through the index (${indexed} of ${compared})`);
  });
}

test('on 2,000 nodes the index examines a handful of nodes, not all of them', (t) => {
  const cache = new SchedulerCache();
  for (let i = 0; i < 2000; i++) {
    cache.setNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n${String(i).padStart(4, '0')}` }, spec: { capacity: { cpu: '4', memory: '8Gi' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  }
  // Fill the first 1,500 nodes: first-fit must skip them without looking at each.
  for (let i = 0; i < 1500; i++) cache.assume(`full-${i}`, `n${String(i).padStart(4, '0')}`, { milliCpu: 4000, memory: 0 });
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'p' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1', memory: '1Gi' } } }] } };
  for (const name of POLICY_NAMES) {
    const d = decideIndexed({ pod, requests: podRequests(pod) }, cache.index, DEFAULT_FILTERS, policyByName(name)!)!;
    t.truthy(d.node, name);
    t.true(d.verdicts.length <= 2, `${name} examined ${d.verdicts.length} nodes`);
  }
  t.is(decideIndexed({ pod, requests: podRequests(pod) }, cache.index, DEFAULT_FILTERS, policyByName('first-fit')!)!.node, 'n1500');
});
