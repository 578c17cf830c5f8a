import test from 'ava';
import { checkInvariants } from '../../src/scheduler/invariants.ts';
import type { Node, Pod } from '../../src/objects/types.ts';

const node = (name: string, cpu: string, pods: string[] = []): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity: { cpu } }, status: { pods } });
const pod = (name: string, uid: string, cpu: string, nodeName?: string, phase?: 'Succeeded'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid },
  spec: { nodeName, containers: [{ name: 'c', resources: { requests: { cpu } } }] }, status: phase ? { phase } : undefined,
});

test('a consistent cluster has no problems', (t) => {
  t.deepEqual(checkInvariants([node('a', '2', ['u1']), node('b', '2')], [pod('p1', 'u1', '2', 'a'), pod('p2', 'u2', '1')]), []);
});

test('each broken invariant is named', (t) => {
  const problems = checkInvariants(
    [node('a', '1', ['u1', 'u3']), node('b', '4', ['u3'])],
    [pod('p1', 'u1', '1', 'a'), pod('p2', 'u2', '1', 'a'), pod('p3', 'u3', '1', 'b'), pod('p4', 'u4', '1', 'gone'), pod('done', 'u5', '8', 'a', 'Succeeded')],
  );
  t.deepEqual(problems, [
    'node a: pods request 2000m CPU of 1000m',
    'pod u3 is listed by 2 nodes: a, b',
    'pod default/p2 is bound to a, which does not list it',
    'pod default/p4 is bound to gone, which does not exist',
  ]);
});
