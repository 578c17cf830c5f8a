// `kcs get workflow` against `kcs up` (virtual nodes in its process): the
// table, then the graph, each step with its state, until all succeeded.
import test from 'ava';
import { sharedServer } from './helpers.ts';
import { eventually } from '../support/eventually.ts';

const server = sharedServer(test);

const step = (name: string, dependsOn: string[] = []) => ({
  name, ...(dependsOn.length ? { dependsOn } : {}),
  template: { spec: { template: { metadata: { annotations: { 'kcs.io/lifetime': '300ms' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', resources: { requests: { cpu: '10m' } } }] } } } },
});

test('kcs get wf NAME prints the row and then the graph, in dependency order, with each step\'s state', async (t) => {
  const s = server();
  const node = await s.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'wf-node' }, spec: { capacity: { cpu: '4', memory: '4Gi' } } });
  t.is(node.status, 201, JSON.stringify(node.body));
  const created = await s.api('POST', '/apis/kcs.io/v1/namespaces/default/workflows', {
    apiVersion: 'kcs.io/v1', kind: 'Workflow', metadata: { name: 'chain' }, spec: { jobs: [step('last', ['middle']), step('first'), step('middle', ['first'])] },
  });
  t.is(created.status, 201, JSON.stringify(created.body));
  const out = await eventually('the Workflow drawn as Succeeded', async () => {
    const r = await s.kcs(['get', 'wf', 'chain']);
    return r.code === 0 && r.stdout.includes('workflow chain: Succeeded') ? r.stdout : undefined;
  }, 30_000);
  const lines = out.split('\n');
  t.regex(lines[0]!, /^NAME\s+STATUS\s+JOBS\s+AGE$/);
  t.regex(lines[1]!, /^chain\s+Succeeded\s+3\/3\s+\S+$/);
  const graph = lines.slice(lines.indexOf('workflow chain: Succeeded, 3/3 jobs succeeded'));
  t.regex(graph[1]!, /^STEP\s+STATE\s+AFTER\s+DETAIL$/);
  t.regex(graph[2]!, /^✔ first\s+Succeeded\s+job chain-first$/);
  t.regex(graph[3]!, /^ {2}✔ middle\s+Succeeded\s+first\s+job chain-middle$/);
  t.regex(graph[4]!, /^ {4}✔ last\s+Succeeded\s+middle\s+job chain-last$/);
  const yaml = await s.kcs(['get', 'wf', 'chain', '-o', 'yaml']);
  t.is(yaml.code, 0, yaml.stderr);
  t.false(/^workflow chain:|^STEP/m.test(yaml.stdout), 'no graph with -o yaml');
});
