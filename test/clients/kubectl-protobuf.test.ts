// The real kubectl's typed clients against a real `kcs up`: they send
// built-in objects only as protobuf (application/vnd.kubernetes.protobuf),
// with no fall back to JSON. Each test checks kubectl did send protobuf (its
// -v=8 log of the request bodies), what it printed, and what kcs stored.
import test from 'ava';
import { join } from 'node:path';
import { sharedServer } from '../cli/helpers.ts';
import { MAGIC } from '../../src/api/protobuf-body.ts';
import { encodeMessage, messageType } from '../support/protobuf.ts';
import { kubectlFor, kubectlOrSkip } from './kubectl.ts';

const server = sharedServer(test);
const kubectlTest = kubectlOrSkip(test);

const kubectl = () => kubectlFor(join(server().stateDir, 'kubeconfig'));

/**
 * The protobuf bodies kubectl sent, as it logs them at -v=8: a hex dump of
 * each request body, one klog entry each (so lines of concurrent requests
 * never interleave inside one). True when one starts with the "k8s\0" prefix
 * and an envelope whose typeMeta names `apiVersion` `kind`.
 */
function sentProtobuf(stderr: string, apiVersion: string, kind: string): boolean {
  const start = Buffer.concat([MAGIC, encodeMessage(messageType('k8s.io.apimachinery.pkg.runtime.Unknown'), { typeMeta: { apiVersion, kind } })]);
  for (const [, dump] of stderr.matchAll(/"Request Body" body=<\n((?:\t[0-9a-f]{8} .*\n)+)/g)) {
    // "\t00000000  6b 38 73 00 0a 0f 0a 02  76 31 12 09 4e 61 6d 65  |k8s.....v1..Name|"
    const hex = dump!.split('\n').map((line) => /^\t[0-9a-f]{8} ((?: {1,2}[0-9a-f]{2})+)/.exec(line)?.[1] ?? '').join('').replace(/ /g, '');
    if (Buffer.from(hex, 'hex').subarray(0, start.length).equals(start)) return true;
  }
  return false;
}

kubectlTest('kubectl create namespace sends a protobuf Namespace, which kcs creates', async (t) => {
  const k = kubectl();
  t.teardown(() => k.cleanup());
  const r = await k(['create', 'namespace', 'team', '-v=8']);
  t.is(r.code, 0, r.stderr.slice(-2000));
  t.is(r.stdout, 'namespace/team created\n');
  t.true(sentProtobuf(r.stderr, 'v1', 'Namespace'), 'kubectl sent the Namespace as protobuf');
  t.false(sentProtobuf(r.stderr, 'v1', 'Pod'), 'the check tells one kind from another');
  const stored = await server().api('GET', '/api/v1/namespaces/team');
  t.is(stored.status, 200);
  t.like(stored.body, { kind: 'Namespace', metadata: { name: 'team' }, status: { phase: 'Active' } });

  const again = await k(['create', 'namespace', 'team']);
  t.is(again.code, 1);
  t.is(again.stderr, 'Error from server (AlreadyExists): namespaces "team" already exists\n');
});

kubectlTest('kubectl debug node/… sends a protobuf Pod with a hostPath volume and a toleration, stored as Kubernetes would', async (t) => {
  const k = kubectl();
  t.teardown(() => k.cleanup());
  const created = await server().api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'debug-node' }, spec: { capacity: { cpu: '2' } } });
  t.is(created.status, 201);
  const r = await k(['debug', 'node/debug-node', '--image=busybox', '-v=8']);
  t.is(r.code, 0, r.stderr.slice(-2000));
  t.regex(r.stdout, /^Creating debugging pod node-debugger-debug-node-\w+ with container debugger on node debug-node\.\n$/);
  t.true(sentProtobuf(r.stderr, 'v1', 'Pod'), 'kubectl sent the Pod as protobuf');
  const name = /pod (node-debugger-debug-node-\w+)/.exec(r.stdout)![1];
  const pod = (await server().api('GET', `/api/v1/namespaces/default/pods/${name}`)).body;
  t.like(pod.spec, { nodeName: 'debug-node', hostPID: true, hostNetwork: true, restartPolicy: 'Never', tolerations: [{ operator: 'Exists' }] });
  t.deepEqual(pod.spec.volumes, [{ name: 'host-root', hostPath: { path: '/' } }], 'the volume source is inline, as in JSON');
  t.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: 'host-root', mountPath: '/host' }]);
});

kubectlTest('kubectl drain --disable-eviction deletes each pod with protobuf DeleteOptions', async (t) => {
  const k = kubectl();
  t.teardown(() => k.cleanup());
  const api = server().api;
  t.is((await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'drain-node' }, spec: { capacity: { cpu: '2' } } })).status, 201);
  for (const name of ['drained-a', 'drained-b']) {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'drain-node', containers: [{ name: 'app', image: 'nginx' }] } };
    t.is((await api('POST', '/api/v1/namespaces/default/pods', pod)).status, 201);
  }
  const r = await k(['drain', 'drain-node', '--disable-eviction', '--force', '--grace-period=0', '--timeout=30s', '-v=8']);
  t.is(r.code, 0, r.stderr.slice(-2000));
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], 'node/drain-node cordoned');
  t.is(lines.at(-1), 'node/drain-node drained');
  // At -v=8 kubectl also says when each deletion starts; the order of the pods is kubectl's.
  for (const name of ['drained-a', 'drained-b']) t.true(lines.includes(`pod/${name} deleted`), r.stdout);
  t.true(sentProtobuf(r.stderr, 'v1', 'DeleteOptions'), 'kubectl sent the DeleteOptions as protobuf');
  for (const name of ['drained-a', 'drained-b']) t.is((await api('GET', `/api/v1/namespaces/default/pods/${name}`)).status, 404, name);
});
