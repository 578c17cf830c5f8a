// The real kubectl's --cascade against a real `kcs up`: kubectl sends the
// propagationPolicy in a DeleteOptions body, and waits for the object to go.
// With --cascade=orphan the owner goes once the garbage collector has removed
// it from its dependents, which stay; by default (background) they go too.
import test from 'ava';
import { join } from 'node:path';
import { sharedServer } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { kubectlFor, kubectlOrSkip, type KubectlRunner } from './kubectl.ts';

const server = sharedServer(test);
const kubectlTest = kubectlOrSkip(test);

const podYaml = (name: string, owner?: { name: string; uid: string }) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${owner ? `  ownerReferences: [{apiVersion: v1, kind: Pod, name: ${owner.name}, uid: ${owner.uid}, blockOwnerDeletion: true}]\n` : ''}spec:
  nodeSelector: {suite: kubectl-cascade}
  containers: [{name: app, image: nginx}]
`;

async function run(k: KubectlRunner, args: string[], stdin?: string): Promise<string> {
  const r = await k(args, { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An owner pod and a pod it owns; the owner's uid. */
async function ownerAndDependent(k: KubectlRunner, owner: string, dependent: string): Promise<string> {
  await run(k, ['create', '-f', '-'], podYaml(owner));
  const uid = await run(k, ['get', 'pod', owner, '-o', 'jsonpath={.metadata.uid}']);
  await run(k, ['create', '-f', '-'], podYaml(dependent, { name: owner, uid }));
  return uid;
}

kubectlTest('kubectl delete --cascade=orphan leaves the dependents, no longer owned; the default cascade deletes them', async (t) => {
  const k = kubectlFor(join(server().stateDir, 'kubeconfig'));
  t.teardown(() => k.cleanup());

  await ownerAndDependent(k, 'owner', 'dependent');
  const orphaned = await k(['delete', 'pod', 'owner', '--cascade=orphan', '-v=8']);
  t.is(orphaned.code, 0, orphaned.stderr.slice(-2000));
  t.is(orphaned.stdout, 'pod "owner" deleted\n');
  t.regex(orphaned.stderr, /"Request Body" body=<\n\t\{"propagationPolicy":"Orphan"\}/, 'kubectl sent the policy in a DeleteOptions body');
  t.is((await k(['get', 'pod', 'owner'])).code, 1, 'the owner is gone');
  t.is(await run(k, ['get', 'pod', 'dependent', '-o', 'jsonpath={.metadata.name}/{.metadata.ownerReferences}']), 'dependent/', 'the dependent stays, owned by nothing');

  await ownerAndDependent(k, 'owner2', 'dependent2');
  t.is(await run(k, ['delete', 'pod', 'owner2']), 'pod "owner2" deleted\n');
  await eventually('the dependent of owner2 to be collected', async () => (await k(['get', 'pod', 'dependent2'])).code === 1);
});
