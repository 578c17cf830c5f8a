// Strategic merge patch over HTTP: lists merge by Kubernetes' merge keys
// (containers by name, conditions by type), directives delete and order
// items, and bad patches get a 400 naming the problem with nothing stored.
import test from 'ava';
import { createAll, node, NODES, nodePath, pod, podPath, PODS, withApp } from './helpers.ts';

const SMP = { type: 'application/strategic-merge-patch+json' };

function twoContainers(name: string): any {
  return pod(name, {
    metadata: { labels: { a: '1' } },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
        { name: 'sidecar', image: 'side:1' },
      ],
    },
  });
}

test('a strategic merge patch changes one container\'s image by name and keeps the rest', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, twoContainers('p')]]);
  const r = await api.patch(podPath('p'), { spec: { containers: [{ name: 'sidecar', image: 'side:2' }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec.containers.map((c: any) => [c.name, c.image]), [['app', 'app:1'], ['sidecar', 'side:2']]);
  t.deepEqual(r.body.spec.containers[0].ports, [{ containerPort: 80 }], 'fields the patch does not name are kept');
  t.deepEqual((await api.get(podPath('p'))).body.spec, r.body.spec);
});

test('$patch: delete removes the container with that name', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, twoContainers('p')]]);
  const r = await api.patch(podPath('p'), { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec.containers.map((c: any) => c.name), ['app']);
});

test('a new container is added; env merges by name; $setElementOrder orders the list', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, twoContainers('p')]]);
  const r = await api.patch(podPath('p'), {
    spec: {
      '$setElementOrder/containers': [{ name: 'init' }, { name: 'app' }, { name: 'sidecar' }],
      containers: [{ name: 'init', image: 'init:1' }, { name: 'app', env: [{ name: 'B', value: '2' }] }],
    },
  }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec.containers.map((c: any) => c.name), ['init', 'app', 'sidecar']);
  // As in Kubernetes: without a $setElementOrder for it, an item new to the list goes before the server's.
  t.deepEqual(r.body.spec.containers[1].env, [{ name: 'B', value: '2' }, { name: 'A', value: '1' }]);
});

test('status conditions merge by type on the status subresource', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, pod('p')]]);
  const seed = await api.patch(`${podPath('p')}/status`, { status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] } }, SMP);
  t.is(seed.status, 200, seed.text);
  const r = await api.patch(`${podPath('p')}/status`, { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Started' }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.status.conditions, [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True', reason: 'Started' }]);
});

test('null deletes a label; $deleteFromPrimitiveList removes a finalizer; $retainKeys drops other keys', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1', { metadata: { labels: { a: '1', b: '2' }, finalizers: ['x/one', 'x/two'] } })]]);
  const r = await api.patch(nodePath('n1'), { metadata: { labels: { a: null }, '$deleteFromPrimitiveList/finalizers': ['x/one'] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.metadata.labels, { b: '2' });
  t.deepEqual(r.body.metadata.finalizers, ['x/two']);
  const retained = await api.patch(nodePath('n1'), { metadata: { labels: { $retainKeys: ['c'], c: '3' } } }, SMP);
  t.is(retained.status, 200, retained.text);
  t.deepEqual(retained.body.metadata.labels, { c: '3' });
});

test('a Node\'s taints are replaced whole, as Kubernetes declares them atomic', withApp, async (t, api) => {
  await createAll(t, api, [[NODES, node('n1', { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } })]]);
  const r = await api.patch(nodePath('n1'), { spec: { unschedulable: true, taints: [{ key: 'b', effect: 'NoExecute' }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec.taints, [{ key: 'b', effect: 'NoExecute' }]);
  t.true(r.body.spec.unschedulable);
  t.deepEqual(r.body.spec.capacity, { cpu: '4', memory: '8Gi' }, 'kcs\'s own spec.capacity merges as a plain object');
});

test('dryRun=All answers the patched object and stores nothing', withApp, async (t, api) => {
  await createAll(t, api, [[PODS, twoContainers('p')]]);
  const rev = await api.store.currentRevision();
  const r = await api.patch(`${podPath('p')}?dryRun=All`, { spec: { containers: [{ name: 'app', image: 'app:9' }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.is(r.body.spec.containers[0].image, 'app:9');
  t.is(await api.store.currentRevision(), rev);
  t.is((await api.get(podPath('p'))).body.spec.containers[0].image, 'app:1');
});

for (const [title, patch, code, message] of [
  ['a list instead of an object', [{ name: 'x' }], 400, /must be a JSON object/],
  ['an unknown $patch directive', { spec: { $patch: 'explode' } }, 400, /unknown patch type: explode/],
  ['$patch: merge inside a list', { spec: { containers: [{ $patch: 'merge' }] } }, 400, /merging lists cannot yet be specified/],
  ['a container without its merge key', { spec: { containers: [{ image: 'x' }] } }, 400, /does not contain declared merge key: name/],
  ['$retainKeys that is not a list', { metadata: { labels: { $retainKeys: 'a', a: '1' } } }, 400, /invalid patch format of retainKeys/],
  ['a key outside $retainKeys', { metadata: { labels: { $retainKeys: ['a'], b: '1' } } }, 400, /invalid patch format of retainKeys/],
  ['$setElementOrder that is not a list', { spec: { '$setElementOrder/containers': 'app' } }, 400, /invalid patch format of setElementOrder list/],
  ['a malformed $deleteFromPrimitiveList', { metadata: { $deleteFromPrimitiveList: ['x'] } }, 400, /invalid patch format of primitive list/],
] as const) {
  test(`a strategic merge patch with ${title} is refused with ${code}, and nothing is stored`, withApp, async (t, api) => {
    await createAll(t, api, [[PODS, twoContainers('p')]]);
    const rev = await api.store.currentRevision();
    const r = await api.patch(podPath('p'), patch, SMP);
    t.is(r.status, code, r.text);
    t.like(r.body, { kind: 'Status', status: 'Failure', code });
    t.regex(r.body.message, message);
    t.is(await api.store.currentRevision(), rev);
  });
}

test('a Service\'s ports merge by port number, as kubectl apply expects; a NetworkPolicy\'s rules are replaced whole', withApp, async (t, api) => {
  const SERVICES = '/api/v1/namespaces/default/services';
  const created = await api.post(SERVICES, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9090 }] },
  });
  t.is(created.status, 201, created.text);
  const r = await api.patch(`${SERVICES}/web`, { spec: { ports: [{ port: 9090, targetPort: 9091 }] } }, SMP);
  t.is(r.status, 200, r.text);
  t.deepEqual(r.body.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['http', 80, 8080], ['metrics', 9090, 9091]]);

  const POLICIES = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';
  const from = (app: string) => ({ from: [{ podSelector: { matchLabels: { app } } }] });
  t.is((await api.post(POLICIES, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: { podSelector: {}, ingress: [from('a'), from('b')] } })).status, 201);
  const p = await api.patch(`${POLICIES}/p`, { spec: { ingress: [from('c')] } }, SMP);
  t.is(p.status, 200, p.text);
  t.deepEqual(p.body.spec.ingress, [from('c')], 'rules have no merge key in Kubernetes: the list is replaced');
});
