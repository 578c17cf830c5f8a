// Strategic merge patch on plain objects, against the merge metadata derived
// from the Kubernetes API types: the cases Kubernetes' own rules decide.
import test from 'ava';
import { schemaOf } from '../../src/objects/field-schema.ts';
import { applyStrategicMergePatch, PatchError } from '../../src/objects/strategic-merge-patch.ts';

const POD = schemaOf({ apiVersion: 'v1', kind: 'Pod' })!;
const NODE = schemaOf({ apiVersion: 'v1', kind: 'Node' })!;

function pod(): any {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1' }, finalizers: ['x', 'y'] },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', ports: [{ containerPort: 80 }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'v', mountPath: '/data' }] },
        { name: 'side', image: 'side:1' },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 't1', operator: 'Exists' }],
    },
    status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] },
  };
}

const patch = (p: Record<string, unknown>, target = pod(), type = POD) => applyStrategicMergePatch(target, p, type) as any;

test('the merge metadata carries Kubernetes\' keys: containers by name, ports by containerPort, mounts by mountPath, conditions by type', (t) => {
  const spec = POD.field('spec')!;
  const containers = spec.kind === 'struct' ? spec.field('containers') : undefined;
  t.like(containers, { kind: 'list', mergeKey: 'name', listType: 'map', keys: ['name'], patchStrategies: ['merge'] });
  const container = containers?.kind === 'list' ? containers.elem : undefined;
  t.like(container?.kind === 'struct' ? container.field('ports') : undefined, { mergeKey: 'containerPort', keys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } });
  t.like(container?.kind === 'struct' ? container.field('volumeMounts') : undefined, { mergeKey: 'mountPath' });
  const status = POD.field('status')!;
  t.like(status.kind === 'struct' ? status.field('conditions') : undefined, { mergeKey: 'type', patchStrategies: ['merge'] });
  t.like(status.kind === 'struct' ? status.field('containerStatuses') : undefined, { listType: 'atomic', patchStrategies: [] });
  t.like(spec.kind === 'struct' ? spec.field('volumes') : undefined, { mergeKey: 'name', patchStrategies: ['merge', 'retainKeys'] });
  t.like(spec.kind === 'struct' ? spec.field('tolerations') : undefined, { listType: 'atomic', patchStrategies: [] });
  t.is(schemaOf({ apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration' }), undefined, 'kcs.io kinds have no built-in schema');
});

test('a container is patched by name, its ports by containerPort and env by name', (t) => {
  const out = patch({ spec: { containers: [{ name: 'app', image: 'app:2', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '2' }] }] } });
  t.deepEqual(out.spec.containers[0], {
    name: 'app', image: 'app:2', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }],
    env: [{ name: 'A', value: '2' }], volumeMounts: [{ name: 'v', mountPath: '/data' }],
  });
  t.is(out.spec.containers[1].image, 'side:1');
});

test('$patch: delete removes a list item by key; $patch: replace replaces the list or an object', (t) => {
  t.deepEqual(patch({ spec: { containers: [{ name: 'side', $patch: 'delete' }] } }).spec.containers.map((c: any) => c.name), ['app']);
  t.deepEqual(patch({ spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }] } }).spec.containers, [{ name: 'only', image: 'o' }]);
  t.deepEqual(patch({ metadata: { labels: { $patch: 'replace', b: '2' } } }).metadata.labels, { b: '2' });
  t.deepEqual(patch({ metadata: { labels: { $patch: 'delete' } } }).metadata.labels, {});
});

test('lists without a merge strategy are replaced; scalar lists with one merge as a set', (t) => {
  t.deepEqual(patch({ spec: { tolerations: [{ key: 't2', operator: 'Exists' }] } }).spec.tolerations, [{ key: 't2', operator: 'Exists' }]);
  t.deepEqual(patch({ metadata: { finalizers: ['z', 'x'] } }).metadata.finalizers, ['z', 'x', 'y']);
  t.deepEqual(patch({ metadata: { '$deleteFromPrimitiveList/finalizers': ['y'] } }).metadata.finalizers, ['x']);
});

test('conditions merge by type', (t) => {
  const out = patch({ status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  t.deepEqual(out.status.conditions, [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }]);
});

test('null deletes a field; nulls inside a new value are dropped', (t) => {
  const out = patch({ metadata: { labels: { a: null, b: '2' }, annotations: { x: 'y', gone: null } } });
  t.deepEqual(out.metadata.labels, { b: '2' });
  t.deepEqual(out.metadata.annotations, { x: 'y' });
});

test('$setElementOrder puts the merged list in the stated order', (t) => {
  const out = patch({ spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'new' }, { name: 'app' }], containers: [{ name: 'new', image: 'n' }] } });
  t.deepEqual(out.spec.containers.map((c: any) => c.name), ['side', 'new', 'app']);
  t.false('$setElementOrder/containers' in out.spec);
});

test('$retainKeys keeps only the listed keys of an object (a volume changing its source)', (t) => {
  const out = patch({ spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } });
  t.deepEqual(out.spec.volumes, [{ name: 'v', hostPath: { path: '/x' } }]);
});

test('kcs\'s own fields merge as plain objects: a Node\'s spec.capacity', (t) => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { capacity: { cpu: '4', memory: '8Gi' }, taints: [{ key: 'a', effect: 'NoSchedule' }] }, status: { pods: ['u1', 'u2'] } };
  const out = patch({ spec: { capacity: { cpu: '8' }, taints: [{ key: 'b', effect: 'NoSchedule' }] }, status: { pods: ['u3'] } }, node, NODE);
  t.deepEqual(out.spec, { capacity: { cpu: '8', memory: '8Gi' }, taints: [{ key: 'b', effect: 'NoSchedule' }] });
  t.deepEqual(out.status.pods, ['u3'], 'an untyped list is replaced');
});

test('malformed patches throw PatchError with the status code Kubernetes answers', (t) => {
  const cases: Array<[Record<string, unknown>, number, RegExp]> = [
    [{ spec: { $patch: 'nope' } }, 400, /unknown patch type: nope/],
    [{ spec: { containers: [{ image: 'x' }] } }, 400, /does not contain declared merge key: name/],
    [{ spec: { containers: [{ $patch: 'merge' }] } }, 400, /merging lists cannot yet be specified/],
    [{ spec: { containers: [[1]] } }, 422, /lists of lists are not supported/],
    [{ spec: { containers: [{ name: 'a' }, 'b'] } }, 400, /list element types are not identical/],
    [{ metadata: { labels: { $retainKeys: ['a'], b: '1' } } }, 400, /invalid patch format of retainKeys/],
    [{ spec: { '$setElementOrder/containers': [{ name: 'side' }], containers: [{ name: 'app' }] } }, 400, /doesn't match \$setElementOrder list/],
  ];
  for (const [p, code, message] of cases) {
    const err = t.throws(() => patch(p), { instanceOf: PatchError, message }, JSON.stringify(p));
    t.is(err?.code as number | undefined, code);
  }
});
