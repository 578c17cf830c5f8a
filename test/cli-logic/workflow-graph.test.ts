// `kcs get workflow` draws the graph: steps in dependency order, indented by
// depth, each with what it waits for and its state.
import test from 'ava';
import { drawWorkflow } from '../../src/cli/printers/workflow-graph.ts';
import type { Workflow } from '../../src/objects/workflow-status.ts';

const t0 = { template: { spec: { template: { spec: { containers: [{ name: 'app' }] } } } } };

test('a diamond is drawn root first, the middles under it, the last under both, each with its state', (t) => {
  const wf: Workflow = {
    apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'ml' },
    spec: { jobs: [{ name: 'report', dependsOn: ['train', 'test'], ...t0 }, { name: 'train', dependsOn: ['prepare'], ...t0 }, { name: 'test', dependsOn: ['prepare'], ...t0 }, { name: 'prepare', ...t0 }] },
    status: { phase: 'Running', jobs: [
      { name: 'report', phase: 'Pending', message: 'waiting for train' },
      { name: 'train', phase: 'Running', jobName: 'ml-train' },
      { name: 'test', phase: 'Succeeded', jobName: 'ml-test' },
      { name: 'prepare', phase: 'Succeeded', jobName: 'ml-prepare' },
    ] },
  };
  t.is(drawWorkflow(wf), [
    'workflow ml: Running, 2/4 jobs succeeded',
    'STEP           STATE       AFTER         DETAIL',
    '✔ prepare      Succeeded                 job ml-prepare',
    '  ● train      Running     prepare       job ml-train',
    '  ✔ test       Succeeded   prepare       job ml-test',
    '    ○ report   Pending     train, test   waiting for train',
  ].join('\n'));
});

test('a Workflow with no status yet draws every step Pending', (t) => {
  const wf: Workflow = { apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'w' }, spec: { jobs: [{ name: 'a', ...t0 }, { name: 'b', dependsOn: ['a'], ...t0 }] } };
  t.is(drawWorkflow(wf), ['workflow w: Pending, 0/2 jobs succeeded', 'STEP    STATE     AFTER   DETAIL', '○ a     Pending', '  ○ b   Pending   a'].join('\n'));
});
