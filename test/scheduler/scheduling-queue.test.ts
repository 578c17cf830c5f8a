// The scheduling queue's order: higher priority first, first in first out
// among equals, and the work queue's rules (one entry per key, a key added
// while it is worked on comes back after) unchanged by it.
import test from 'ava';
import { WorkQueue } from '../../src/controllers/queue.ts';
import { PriorityKeys } from '../../src/scheduler/scheduling-queue.ts';
import { FakeClock } from '../../src/util/clock.ts';

const PRIORITY: Record<string, number> = { low: -5, zero: 0, mid: 100, high: 1000, 'high-2': 1000 };
const order = () => new PriorityKeys((key) => PRIORITY[key.split('#')[0]!] ?? 0);

function drain(keys: PriorityKeys): string[] {
  const out: string[] = [];
  for (let k = keys.shift(); k !== undefined; k = keys.shift()) out.push(k);
  return out;
}

test('higher priority first; equal priority in the order queued', (t) => {
  const keys = order();
  for (const k of ['zero#1', 'mid#1', 'low#1', 'high#1', 'zero#2', 'high#2', 'mid#2']) keys.push(k);
  t.is(keys.length, 7);
  t.deepEqual(drain(keys), ['high#1', 'high#2', 'mid#1', 'mid#2', 'zero#1', 'zero#2', 'low#1']);
  t.is(keys.length, 0);
  t.is(keys.shift(), undefined);
});

test('a key queued later with higher priority overtakes the ones waiting', (t) => {
  const keys = order();
  keys.push('zero#1');
  keys.push('zero#2');
  t.is(keys.shift(), 'zero#1');
  keys.push('high#1');
  t.deepEqual(drain(keys), ['high#1', 'zero#2']);
});

test('100,000 keys of mixed priority come out in order', (t) => {
  const keys = order();
  const names = ['low', 'zero', 'mid', 'high'];
  for (let i = 0; i < 100_000; i++) keys.push(`${names[(i * 7) % 4]}#${i}`);
  const out = drain(keys);
  const rank = (k: string) => -PRIORITY[k.split('#')[0]!]!;
  const seq = (k: string) => Number(k.split('#')[1]);
  t.true(out.every((k, i) => i === 0 || rank(out[i - 1]!) < rank(k) || (rank(out[i - 1]!) === rank(k) && seq(out[i - 1]!) < seq(k))));
});

test('the work queue keeps its rules over the priority order: one entry per key, a key added while worked on comes back after', async (t) => {
  const queue = new WorkQueue(new FakeClock(), undefined, undefined, order());
  queue.add('zero#1');
  queue.add('mid#1');
  queue.add('mid#1');
  t.is(queue.length, 2);
  t.is(await queue.get(), 'mid#1');
  queue.add('mid#1'); // while processing: marked, not queued
  queue.add('high#1');
  t.is(await queue.get(), 'high#1');
  queue.done('mid#1');
  t.is(await queue.get(), 'mid#1', 'back after it was done, ahead of the lower one');
  t.is(await queue.get(), 'zero#1');
  queue.shutdown();
  t.is(queue.length, 0);
});
