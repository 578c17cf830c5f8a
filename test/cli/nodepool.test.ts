// NodePools from the command line against `kcs up` (virtual nodes): applied
// from YAML, grown to their min at once, listed with min/current/desired/
// max, described with their history (the autoscaler's Events), and deleted
// with their nodes (the garbage collector follows the ownerReferences).
import test from 'ava';
import { parseTable, sharedServer } from './helpers.ts';
import { eventually } from '../support/eventually.ts';

const server = sharedServer(test);

const poolYaml = `apiVersion: kcs.io/v1
kind: NodePool
metadata:
  name: small
spec:
  minNodes: 2
  maxNodes: 5
  template:
    metadata:
      labels: {size: small}
    spec:
      capacity: {cpu: "2", memory: 4Gi}
  scaleDown:
    unneededSeconds: 300
`;

test('a NodePool is grown to its min, listed, described with its history, and deleted with its nodes', async (t) => {
  const s = server();
  const applied = await s.kcs(['apply', '-f', '-'], { input: poolYaml });
  t.is(applied.code, 0, applied.stderr);
  t.is(applied.stdout.trim(), 'nodepool/small created');

  const row = await eventually('the pool at its min with both nodes Ready', async () => {
    const r = await s.kcs(['get', 'nodepools']);
    const first = parseTable(r.stdout)[0];
    return first?.CURRENT === '2' && first.READY === '2' ? first : undefined;
  });
  t.like(row, { NAME: 'small', MIN: '2', CURRENT: '2', DESIRED: '2', MAX: '5' });

  const nodes = parseTable((await s.kcs(['get', 'nodes', '-l', 'kcs.io/nodepool=small'])).stdout);
  t.is(nodes.length, 2);
  for (const n of nodes) t.regex(n.NAME!, /^small-[a-z0-9]{5}$/);

  const described = await s.kcs(['describe', 'nodepool', 'small']);
  t.is(described.code, 0, described.stderr);
  t.regex(described.stdout, /^Nodes:\s+min 2, max 5; current 2, ready 2, desired 2$/m);
  t.regex(described.stdout, /^Template:\s+cpu=2, memory=4Gi$/m);
  t.regex(described.stdout, /^Scale down:\s+a node under 50% for 300s, not within 600s of a scale-up$/m);
  t.regex(described.stdout, /^History:\n.*\n\s+Normal\s+ScaledUp\s+.*autoscaler\s+scaled up nodepool\/small from 0 to 2: below its minimum of 2$/m);
  for (const n of nodes) t.true(described.stdout.includes(n.NAME!), `${n.NAME} listed among the pool's nodes`);

  const deleted = await s.kcs(['delete', 'nodepool', 'small']);
  t.is(deleted.code, 0, deleted.stderr);
  await eventually('the pool\'s nodes deleted by the garbage collector', async () => parseTable((await s.kcs(['get', 'nodes', '-l', 'kcs.io/nodepool=small'])).stdout).length === 0);
});
