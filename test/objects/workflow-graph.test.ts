// The dependency graph of a Workflow's jobs: the cycle admission names, and
// the order the controller runs the jobs in.
import test from 'ava';
import { describeCycle, findCycle, topologicalOrder, type GraphJob } from '../../src/objects/workflow-graph.ts';

const job = (name: string, ...dependsOn: string[]): GraphJob => ({ name, dependsOn });

const DIAMOND = [job('report', 'train', 'test'), job('train', 'prepare'), job('prepare'), job('test', 'prepare')];

test('a diamond runs its root first, the two branches in list order, and the join last', (t) => {
  t.deepEqual(topologicalOrder(DIAMOND), ['prepare', 'train', 'test', 'report']);
  t.is(findCycle(DIAMOND), undefined);
});

test('independent jobs keep their list order; a job waits for every job it depends on', (t) => {
  t.deepEqual(topologicalOrder([job('c'), job('a'), job('b')]), ['c', 'a', 'b']);
  t.deepEqual(topologicalOrder([job('late', 'slow', 'fast'), job('slow', 'fast'), job('fast')]), ['fast', 'slow', 'late']);
  // A job that becomes ready later still goes before later-listed ready ones.
  t.deepEqual(topologicalOrder([job('x'), job('b', 'x'), job('y')]), ['x', 'b', 'y']);
});

test('a three-job cycle is found and named in run order, from the job whose dependsOn closes it', (t) => {
  // c runs before a, a before b, b before c.
  const jobs = [job('a', 'c'), job('b', 'a'), job('c', 'b')];
  const cycle = findCycle(jobs)!;
  t.deepEqual(cycle, { index: 1, path: ['b', 'c', 'a', 'b'] });
  t.is(describeCycle(cycle), 'dependency cycle: b -> c -> a -> b');
  // Each arrow is a dependsOn of the job it points to.
  for (let i = 0; i + 1 < cycle.path.length; i++) {
    const after = jobs.find((j) => j.name === cycle.path[i + 1])!;
    t.true(after.dependsOn!.includes(cycle.path[i]!), `${cycle.path[i + 1]} depends on ${cycle.path[i]}`);
  }
});

test('a cycle off to the side of sound jobs is found; the sound part alone is not a cycle', (t) => {
  const jobs = [job('prepare'), job('train', 'prepare', 'tune'), job('tune', 'evaluate'), job('evaluate', 'train'), job('report', 'evaluate')];
  const cycle = findCycle(jobs)!;
  t.is(cycle.index, 3, 'evaluate depends on train, which is already on the path');
  t.deepEqual(cycle.path, ['evaluate', 'tune', 'train', 'evaluate']);
  t.is(findCycle(jobs.filter((j) => j.name !== 'evaluate').map((j) => ({ ...j, dependsOn: j.dependsOn?.filter((d) => d !== 'evaluate') }))), undefined);
});

test('two jobs depending on each other are a cycle of two', (t) => {
  t.deepEqual(findCycle([job('a', 'b'), job('b', 'a')]), { index: 1, path: ['b', 'a', 'b'] });
});

test('a job naming itself or a job not in the list is no cycle here (refused on its own)', (t) => {
  t.is(findCycle([job('a', 'a'), job('b', 'a', 'ghost')]), undefined);
  t.deepEqual(topologicalOrder([job('a', 'a'), job('b', 'a', 'ghost')]), ['a', 'b']);
});

test('ordering jobs that form a cycle throws, naming it', (t) => {
  t.throws(() => topologicalOrder([job('a', 'b'), job('b', 'a'), job('c')]), { message: 'dependency cycle: b -> a -> b' });
});

test('a chain of 20,000 jobs is ordered and checked without running out of stack', (t) => {
  const chain = Array.from({ length: 20_000 }, (_, i) => job(`j${i}`, ...(i ? [`j${i - 1}`] : [])));
  const reversed = [...chain].reverse();
  t.is(findCycle(reversed), undefined);
  t.deepEqual(topologicalOrder(reversed), chain.map((j) => j.name));
  const closed = [...reversed.slice(0, -1), job('j0', 'j19999')];
  t.is(findCycle(closed)!.path.length, 20_001);
});
