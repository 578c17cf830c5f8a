// The parsed form of a cached object: frozen, and field sets in
// managedFields shared between objects that own the same fields.
import test from 'ava';
import { CachedObject, encodeObject } from '../../src/cache/cached-object.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';

const POD = kindByName('Pod')!;

function pod(name: string, time: string, fields: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', managedFields: [{ manager: 'kcs', operation: 'Update', apiVersion: 'v1', time, fieldsType: 'FieldsV1', fieldsV1: fields }] },
    spec: { containers: [{ name: 'app', image: 'nginx' }] },
  };
}

const cached = (obj: KubeObject, revision: number) => new CachedObject(`/registry/pods/default/${obj.metadata.name}`, POD, encodeObject(obj), revision);

test('objects owning the same fields share one frozen field set; their own entries, times and JSON are kept', (t) => {
  const fields = { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } };
  const a = cached(pod('a', '2026-12-03T00:00:00Z', fields), 10);
  const b = cached(pod('b', '2026-12-03T00:00:01Z', structuredClone(fields)), 11);
  const other = cached(pod('c', '2026-12-03T00:00:02Z', { 'f:metadata': { 'f:labels': {} } }), 12);
  const [ea, eb, ec] = [a, b, other].map((c) => c.object().metadata.managedFields![0]!);
  t.is(ea.fieldsV1, eb.fieldsV1, 'one parsed field set for both');
  t.not(ea.fieldsV1, ec.fieldsV1);
  t.not(ea, eb, 'each keeps its own entry');
  t.is(eb.time, '2026-12-03T00:00:01Z');
  t.true(Object.isFrozen(ea.fieldsV1) && Object.isFrozen((ea.fieldsV1 as any)['f:spec']));
  t.deepEqual(ea.fieldsV1, fields);
  t.deepEqual(JSON.parse(b.json()), { ...pod('b', '2026-12-03T00:00:01Z', fields), metadata: { ...pod('b', '2026-12-03T00:00:01Z', fields).metadata, resourceVersion: '11' } });
});
