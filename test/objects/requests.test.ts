import test from 'ava';
import { DEFAULT_MAX_PODS, nodeCapacity, podRequests } from '../../src/objects/requests.ts';
import type { Container, Node, Pod } from '../../src/objects/types.ts';

const pod = (containers: Container[], initContainers?: Container[]): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: initContainers ? { containers, initContainers } : { containers },
});

const c = (name: string, requests?: Record<string, string | number>): Container =>
  requests ? { name, resources: { requests } } : { name };

const node = (capacity: Record<string, string | number>): Node =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { capacity } });

test('podRequests sums the requests of all containers', (t) => {
  // 250m + 0.5 + 100m = 850m; 128Mi + 1Gi + 0 = 134217728 + 1073741824
  t.deepEqual(podRequests(pod([c('a', { cpu: '250m', memory: '128Mi' }), c('b', { cpu: '0.5', memory: '1Gi' }), c('c', { cpu: '100m' })])),
    { milliCpu: 850, memory: 1_207_959_552 });
});

test('podRequests counts containers without requests as zero', (t) => {
  t.deepEqual(podRequests(pod([c('a')])), { milliCpu: 0, memory: 0 });
  t.deepEqual(podRequests(pod([c('a'), c('b', { memory: '64Mi' }), { name: 'x', resources: {} }])), { milliCpu: 0, memory: 67_108_864 });
});

test('podRequests sums exactly: 0.1 + 0.2 cores is 300 millicores', (t) => {
  t.deepEqual(podRequests(pod([c('a', { cpu: '0.1' }), c('b', { cpu: '0.2' })])), { milliCpu: 300, memory: 0 });
});

test('podRequests takes the max of the container sum and each init container, per resource', (t) => {
  // containers: cpu 300m + 200m = 500m, memory 100Mi + 100Mi = 200Mi
  const containers = [c('a', { cpu: '300m', memory: '100Mi' }), c('b', { cpu: '200m', memory: '100Mi' })];
  // init containers run one at a time: the largest one counts, not their sum.
  // cpu: max(500, 400, 700) = 700; memory: max(200Mi, 150Mi, 50Mi) = 200Mi
  const inits = [c('i1', { cpu: '400m', memory: '150Mi' }), c('i2', { cpu: '700m', memory: '50Mi' })];
  t.deepEqual(podRequests(pod(containers, inits)), { milliCpu: 700, memory: 200 * 1_048_576 });

  // An init container bigger in memory only raises memory.
  t.deepEqual(podRequests(pod(containers, [c('i', { memory: '1Gi' })])), { milliCpu: 500, memory: 1_073_741_824 });

  // Init containers smaller than the sum change nothing, even if together they would exceed it.
  t.deepEqual(podRequests(pod(containers, [c('i1', { cpu: '300m' }), c('i2', { cpu: '300m' })])), { milliCpu: 500, memory: 200 * 1_048_576 });

  t.deepEqual(podRequests(pod(containers, [])), { milliCpu: 500, memory: 200 * 1_048_576 });
});

test('podRequests accepts numeric quantities', (t) => {
  t.deepEqual(podRequests(pod([c('a', { cpu: 1, memory: 1024 }), c('b', { cpu: 0.5 })])), { milliCpu: 1500, memory: 1024 });
});

test('nodeCapacity parses cpu and memory and defaults pods to 110', (t) => {
  t.is(DEFAULT_MAX_PODS, 110);
  t.deepEqual(nodeCapacity(node({ cpu: '4', memory: '8Gi' })), { milliCpu: 4000, memory: 8_589_934_592, pods: 110 });
  t.deepEqual(nodeCapacity(node({ cpu: 2 })), { milliCpu: 2000, memory: 0, pods: 110 });
  t.deepEqual(nodeCapacity(node({ cpu: '1500m', memory: '1G', pods: '20' })), { milliCpu: 1500, memory: 1_000_000_000, pods: 20 });
  t.deepEqual(nodeCapacity(node({ cpu: '1', pods: 5 })), { milliCpu: 1000, memory: 0, pods: 5 });
});
