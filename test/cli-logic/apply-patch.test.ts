import test from 'ava';
import { threeWayMergePatch } from '../../src/client/apply-patch.ts';

test('nothing to change when the live object already has every field the manifest states', (t) => {
  const desired = { spec: { capacity: { cpu: '4' } }, metadata: { name: 'a' } };
  const live = { spec: { capacity: { cpu: '4' }, unschedulable: false }, metadata: { name: 'a', uid: 'x' }, status: { pods: [] } };
  t.is(threeWayMergePatch(desired, desired, live), undefined);
});

test('a changed field is set, untouched siblings are left out of the patch', (t) => {
  const last = { spec: { capacity: { cpu: '4', memory: '8Gi' } } };
  const desired = { spec: { capacity: { cpu: '8', memory: '8Gi' } } };
  const live = { spec: { capacity: { cpu: '4', memory: '8Gi' } } };
  t.deepEqual(threeWayMergePatch(last, desired, live), { spec: { capacity: { cpu: '8' } } });
});

test('a field the last apply set and this manifest dropped is removed', (t) => {
  const last = { metadata: { labels: { a: '1', b: '2' } } };
  const desired = { metadata: { labels: { a: '1' } } };
  const live = { metadata: { labels: { a: '1', b: '2' } } };
  t.deepEqual(threeWayMergePatch(last, desired, live), { metadata: { labels: { b: null } } });
});

test('fields set by someone else (not in the last apply) survive', (t) => {
  const last = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c' }] } };
  const desired = last;
  const live = { metadata: { labels: { a: '1', added: 'by-hand' } }, spec: { containers: [{ name: 'c' }], nodeName: 'node-1' } };
  t.is(threeWayMergePatch(last, desired, live), undefined);
});

test('without a last-applied record nothing is removed, only set', (t) => {
  const desired = { metadata: { labels: { a: '1' } } };
  const live = { metadata: { labels: { a: '0', other: 'x' } } };
  t.deepEqual(threeWayMergePatch(undefined, desired, live), { metadata: { labels: { a: '1' } } });
});

test('arrays are replaced whole when they differ', (t) => {
  const desired = { spec: { containers: [{ name: 'a' }, { name: 'b' }] } };
  const live = { spec: { containers: [{ name: 'a' }] } };
  t.deepEqual(threeWayMergePatch(undefined, desired, live), { spec: { containers: [{ name: 'a' }, { name: 'b' }] } });
});
