import test from 'ava';
import { applyMergePatch } from '../../src/objects/merge-patch.ts';

test('RFC 7386 examples: set, remove with null, replace arrays, recurse into objects', (t) => {
  t.deepEqual(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  t.deepEqual(applyMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  t.deepEqual(applyMergePatch({ a: 'b' }, { a: null }), {});
  t.deepEqual(applyMergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' });
  t.deepEqual(applyMergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' });
  t.deepEqual(applyMergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
  t.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  t.deepEqual(applyMergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
  t.deepEqual(applyMergePatch({ a: 'foo' }, 'bar'), 'bar');
  t.deepEqual(applyMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
});

test('the target is not mutated', (t) => {
  const target = { a: { b: 1 } };
  applyMergePatch(target, { a: { b: 2 } });
  t.deepEqual(target, { a: { b: 1 } });
});
