// The real kubectl reading kcs's OpenAPI: `kubectl explain` (which reads
// /openapi/v3) prints the official fields and kcs's own, and exactly what
// `kcs explain` prints; `kubectl apply` finds in /openapi/v3 that kcs
// validates fields itself, so it never falls back to /openapi/v2, which it
// would ask for in protobuf only.
import test from 'ava';
import { join } from 'node:path';
import { sharedServer } from '../cli/helpers.ts';
import { kubectlFor, kubectlOrSkip } from './kubectl.ts';

const server = sharedServer(test);
const kubectlTest = kubectlOrSkip(test);

const kubectl = () => kubectlFor(join(server().stateDir, 'kubeconfig'));

kubectlTest('kubectl explain shows the official fields of a pod\'s containers and kcs\'s Node capacity, as kcs explain does, line for line', async (t) => {
  const k = kubectl();
  t.teardown(() => k.cleanup());
  for (const path of ['pods.spec.containers', 'pods', 'node.spec.capacity', 'leases.spec', 'pods.spec.dnsPolicy', 'schedulerconfigurations.spec']) {
    const theirs = await k(['explain', path]);
    t.is(theirs.code, 0, `${path}: ${theirs.stderr}`);
    const ours = await server().kcs(['explain', path]);
    t.is(ours.code, 0, ours.stderr);
    t.is(ours.stdout, theirs.stdout, path);
  }
  const containers = await k(['explain', 'pods.spec.containers']);
  t.regex(containers.stdout, /\n {2}livenessProbe\t<Probe>\n/);
  t.regex(containers.stdout, /\n {2}name\t<string> -required-\n/);
  const tree = await k(['explain', 'pods', '--recursive']);
  t.is((await server().kcs(['explain', 'pods', '--recursive'])).stdout, tree.stdout, '--recursive');
});

kubectlTest('kubectl apply validates through the server: a kcs Node applies, and a bad value is refused naming the field', async (t) => {
  const k = kubectl();
  t.teardown(() => k.cleanup());
  const node = (cpu: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: openapi-node\nspec:\n  capacity:\n    cpu: "${cpu}"\n`;
  const created = await k(['apply', '-f', '-'], { stdin: node('2') });
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout.trim(), 'node/openapi-node created');
  const refused = await k(['apply', '-f', '-'], { stdin: node('lots').replace('openapi-node', 'openapi-bad') });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /spec\.capacity\.cpu: Invalid value/);
  t.notRegex(refused.stderr, /content type that the client supports/, 'no fall back to the protobuf-only v2 document');
});
