// The real kubectl against a real `kcs up` (TLS, the kubeconfig it wrote, no
// flags): what a user of Kubernetes types, with the output checked.
import test from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTable, sharedServer } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { kubectlFor, kubectlOrSkip, type KubectlRunner } from './kubectl.ts';

const server = sharedServer(test);
const kt = kubectlOrSkip(test);

let runner: KubectlRunner | undefined;
/** kubectl bound to the shared server's kubeconfig (made on first use: the server starts in a hook). */
function kubectl(args: string[], opts?: { stdin?: string; env?: Record<string, string> }) {
  return bound()(args, opts);
}
function bound(): KubectlRunner {
  runner ??= kubectlFor(join(server().stateDir, 'kubeconfig'));
  return runner;
}

/** A field of an object, read with kubectl's own jsonpath. */
async function field(ref: string, jsonpath: string, namespace = 'default'): Promise<string> {
  const r = await kubectl(['get', ref, '-n', namespace, '-o', `jsonpath=${jsonpath}`]);
  if (r.code !== 0) throw new Error(`kubectl get ${ref}: ${r.stderr}`);
  return r.stdout;
}

/** A manifest written where kubectl can read it with -f. */
function manifest(name: string, text: string): string {
  const path = join(server().scratchDir(), name);
  writeFileSync(path, text);
  return path;
}

async function createPod(name: string, extra = '', pinned?: string): Promise<void> {
  const r = await kubectl(['create', '-f', '-'], { stdin: podYaml(name, extra, pinned) });
  if (r.code !== 0) throw new Error(`kubectl create pod ${name}: ${r.stderr}`);
}

/** Waits until the pod is bound and its node reports it running (kubectl wait, as a user would). */
async function podReady(name: string): Promise<void> {
  const r = await kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s']);
  if (r.code !== 0) throw new Error(`kubectl wait pod/${name}: ${r.stderr}`);
}
test.after.always(() => runner?.cleanup());

/**
 * A pod for kc-node: the selector keeps the scheduler off kc-drain, which the
 * drain test empties. `pinned` puts it on a node by name instead.
 */
const podYaml = (name: string, extra = '', pinned?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {suite: kubectl}
spec:
  ${pinned ? `nodeName: ${pinned}` : 'nodeSelector: {suite: kubectl}'}
  containers:
  - name: app
    image: nginx:1.27
    resources: {requests: {cpu: 100m, memory: 64Mi}}
${extra}`;

let nodeMade: Promise<void> | undefined;
function withNode(): Promise<void> {
  nodeMade ??= server().kcs(['create', 'node', 'kc-node', '--cpu', '4', '--memory', '8Gi', '--label', 'suite=kubectl']).then((r) => {
    if (r.code !== 0) throw new Error(r.stderr);
  });
  return nodeMade;
}

kt('kubectl get nodes works with the kubeconfig kcs up wrote, and no flag', async (t) => {
  await withNode();
  const r = await kubectl(['get', 'nodes']);
  t.is(r.code, 0, r.stderr);
  const rows = parseTable(r.stdout);
  t.truthy(rows.find((row) => row.NAME === 'kc-node'), r.stdout);
  t.is(r.stderr, '');
});

kt('kubectl create -f, get -o jsonpath, and delete a pod', async (t) => {
  await withNode();
  const created = await kubectl(['create', '-f', '-'], { stdin: podYaml('kc-create') });
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout.trim(), 'pod/kc-create created');
  const node = await eventually('kc-create bound', async () => {
    const r = await kubectl(['get', 'pod', 'kc-create', '-o', 'jsonpath={.spec.nodeName}']);
    return r.stdout || undefined;
  });
  t.is(node, 'kc-node');
  const deleted = await kubectl(['delete', 'pod', 'kc-create']);
  t.is(deleted.code, 0, deleted.stderr);
  t.is(deleted.stdout.trim(), 'pod "kc-create" deleted');
  const gone = await kubectl(['get', 'pod', 'kc-create']);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /pods "kc-create" not found/);
});

kt('kubectl describe node shows its capacity and conditions', async (t) => {
  await withNode();
  const r = await kubectl(['describe', 'node', 'kc-node']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Name:\s+kc-node$/m);
  t.regex(r.stdout, /Ready\s+True/);
});

kt('kubectl version reads the server version', async (t) => {
  const r = await kubectl(['version', '-o', 'json']);
  t.is(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { serverVersion: { gitVersion: string; major: string } };
  t.regex(v.serverVersion.gitVersion, /^v1\.\d+\.\d+-kcs/);
});

kt('kubectl get pods prints the Table the server built, -o wide its extra columns, -o yaml the object', async (t) => {
  await withNode();
  await createPod('kc-get');
  await podReady('kc-get');
  const plain = parseTable((await kubectl(['get', 'pods', 'kc-get'])).stdout);
  t.deepEqual(Object.keys(plain[0]!), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'CPU', 'MEMORY', 'NODE', 'AGE']);
  t.like(plain[0], { NAME: 'kc-get', READY: '1/1', STATUS: 'Running', NODE: 'kc-node' });
  const wide = parseTable((await kubectl(['get', 'pods', 'kc-get', '-o', 'wide'])).stdout);
  t.true(Object.keys(wide[0]!).length > Object.keys(plain[0]!).length, JSON.stringify(wide[0]));
  const yaml = await kubectl(['get', 'pod', 'kc-get', '-o', 'yaml']);
  t.regex(yaml.stdout, /^kind: Pod$/m);
  t.regex(yaml.stdout, /^ {2}nodeName: kc-node$/m);
});

kt('kubectl describe pod shows where it runs and the events of its life', async (t) => {
  await withNode();
  await createPod('kc-describe');
  await podReady('kc-describe');
  const r = await kubectl(['describe', 'pod', 'kc-describe']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Node:\s+kc-node/m);
  t.regex(r.stdout, /^Status:\s+Running$/m);
  t.regex(r.stdout, /Scheduled\s+.*Successfully assigned default\/kc-describe to kc-node/);
});

kt('kubectl apply (client-side) creates, then configures with a three-way merge, then leaves an unchanged object alone', async (t) => {
  await withNode();
  const file = manifest('kc-apply.yaml', podYaml('kc-apply'));
  const first = await kubectl(['apply', '-f', file]);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout.trim(), 'pod/kc-apply created');
  writeFileSync(file, podYaml('kc-apply').replace('suite: kubectl', 'suite: kubectl, tier: web'));
  const second = await kubectl(['apply', '-f', file]);
  t.is(second.stdout.trim(), 'pod/kc-apply configured', second.stderr);
  t.is(await field('pod/kc-apply', '{.metadata.labels.tier}'), 'web');
  t.regex(await field('pod/kc-apply', '{.metadata.annotations}'), /kubectl\.kubernetes\.io\/last-applied-configuration/);
  const third = await kubectl(['apply', '-f', file]);
  t.is(third.stdout.trim(), 'pod/kc-apply unchanged', third.stderr);
});

kt('kubectl apply --server-side records kubectl as the field manager; another manager conflicts until --force-conflicts', async (t) => {
  await withNode();
  const file = manifest('kc-ssa.yaml', podYaml('kc-ssa'));
  const applied = await kubectl(['apply', '--server-side', '-f', file]);
  t.is(applied.code, 0, applied.stderr);
  t.is(applied.stdout.trim(), 'pod/kc-ssa serverside-applied');
  const managers = await field('pod/kc-ssa', '{.metadata.managedFields[*].manager}');
  t.true(managers.split(' ').includes('kubectl'), managers);

  const other = manifest('kc-ssa-other.yaml', podYaml('kc-ssa').replace('suite: kubectl', 'suite: other'));
  const conflict = await kubectl(['apply', '--server-side', '--field-manager', 'other', '-f', other]);
  t.is(conflict.code, 1);
  t.regex(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl".*\.metadata\.labels\.suite/s);
  t.is(await field('pod/kc-ssa', '{.metadata.labels.suite}'), 'kubectl');

  const forced = await kubectl(['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', other]);
  t.is(forced.code, 0, forced.stderr);
  t.is(await field('pod/kc-ssa', '{.metadata.labels.suite}'), 'other');
});

kt('kubectl diff -f shows what an apply would change, and exits 1; nothing to change exits 0', async (t) => {
  await withNode();
  const file = manifest('kc-diff.yaml', podYaml('kc-diff'));
  t.is((await kubectl(['apply', '-f', file])).code, 0);
  const same = await kubectl(['diff', '-f', file]);
  t.is(same.code, 0, same.stderr);
  t.is(same.stdout, '');
  writeFileSync(file, podYaml('kc-diff').replace('suite: kubectl', 'suite: changed'));
  const changed = await kubectl(['diff', '-f', file]);
  t.is(changed.code, 1, changed.stderr);
  t.regex(changed.stdout, /^-\s+suite: kubectl$/m);
  t.regex(changed.stdout, /^\+\s+suite: changed$/m);
  // diff is a dry run: the live object is as it was.
  t.is(await field('pod/kc-diff', '{.metadata.labels.suite}'), 'kubectl');
});

kt('kubectl edit with KUBE_EDITOR saves what the editor changed', async (t) => {
  await withNode();
  await createPod('kc-edit');
  const editor = join(server().scratchDir(), 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i "s/suite: kubectl/suite: edited/" "$1"\n');
  chmodSync(editor, 0o755);
  const r = await kubectl(['edit', 'pod', 'kc-edit'], { env: { KUBE_EDITOR: editor } });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'pod/kc-edit edited');
  t.is(await field('pod/kc-edit', '{.metadata.labels.suite}'), 'edited');
});

kt('kubectl patch: a strategic merge patch merges containers by name; json and merge patches as asked', async (t) => {
  await withNode();
  await createPod('kc-patch', `  - name: sidecar
    image: busybox:1.36
    resources: {requests: {cpu: 50m, memory: 16Mi}}
`);
  const smp = await kubectl(['patch', 'pod', 'kc-patch', '-p', '{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}']);
  t.is(smp.code, 0, smp.stderr);
  t.is(smp.stdout.trim(), 'pod/kc-patch patched');
  // Both containers are still there, app untouched: the list was merged by name, not replaced.
  t.is(await field('pod/kc-patch', '{.spec.containers[*].name}'), 'app sidecar');
  t.is(await field('pod/kc-patch', '{.spec.containers[*].image}'), 'nginx:1.27 busybox:1.37');
  t.is(await field('pod/kc-patch', '{.spec.containers[1].resources.requests.cpu}'), '50m');

  const json = await kubectl(['patch', 'pod', 'kc-patch', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/patched","value":"json"}]']);
  t.is(json.code, 0, json.stderr);
  const merge = await kubectl(['patch', 'pod', 'kc-patch', '--type=merge', '-p', '{"metadata":{"annotations":{"patched":"merge"}}}']);
  t.is(merge.code, 0, merge.stderr);
  t.is(await field('pod/kc-patch', '{.metadata.labels.patched}/{.metadata.annotations.patched}'), 'json/merge');
  const nothing = await kubectl(['patch', 'pod', 'kc-patch', '-p', '{"metadata":{"labels":{"patched":"json"}}}']);
  t.is(nothing.stdout.trim(), 'pod/kc-patch patched (no change)', nothing.stderr);
});

kt('kubectl label and annotate add, refuse to overwrite without --overwrite, and remove with key-', async (t) => {
  await withNode();
  await createPod('kc-label');
  const labeled = await kubectl(['label', 'pod', 'kc-label', 'tier=front']);
  t.is(labeled.stdout.trim(), 'pod/kc-label labeled', labeled.stderr);
  const clash = await kubectl(['label', 'pod', 'kc-label', 'tier=back']);
  t.is(clash.code, 1);
  t.regex(clash.stderr, /'tier' already has a value \(front\), and --overwrite is false/);
  t.is((await kubectl(['label', 'pod', 'kc-label', 'tier=back', '--overwrite'])).code, 0);
  t.is(await field('pod/kc-label', '{.metadata.labels.tier}'), 'back');
  const selected = await kubectl(['get', 'pods', '-l', 'tier=back', '-o', 'name']);
  t.is(selected.stdout.trim(), 'pod/kc-label');
  t.is((await kubectl(['label', 'pod', 'kc-label', 'tier-'])).stdout.trim(), 'pod/kc-label unlabeled');
  t.is(await field('pod/kc-label', '{.metadata.labels.tier}'), '');

  const annotated = await kubectl(['annotate', 'pod', 'kc-label', 'owner=team-a']);
  t.is(annotated.stdout.trim(), 'pod/kc-label annotated', annotated.stderr);
  t.is(await field('pod/kc-label', '{.metadata.annotations.owner}'), 'team-a');
  t.is((await kubectl(['annotate', 'pod', 'kc-label', 'owner-'])).code, 0);
  t.is(await field('pod/kc-label', '{.metadata.annotations.owner}'), '');
});

kt('kubectl get -w prints the list, then each change as it happens', async (t) => {
  await withNode();
  const watch = bound().start(['get', 'pods', '-l', 'watched=yes', '-w']);
  try {
    await createPod('kc-watch-1', '').then(() => kubectl(['label', 'pod', 'kc-watch-1', 'watched=yes']));
    await watch.waitFor(/^kc-watch-1\s/m);
    await createPod('kc-watch-2');
    await kubectl(['label', 'pod', 'kc-watch-2', 'watched=yes']);
    const out = await watch.waitFor(/^kc-watch-2\s+1\/1\s+Running\s/m);
    t.regex(out, /^NAME\s+READY\s+STATUS/m);
  } finally {
    await watch.stop();
  }
});

kt('kubectl wait --for=condition=Ready returns once the node runs the pod; --for=delete once it is gone', async (t) => {
  await withNode();
  await createPod('kc-wait');
  const ready = await kubectl(['wait', '--for=condition=Ready', 'pod/kc-wait', '--timeout=30s']);
  t.is(ready.code, 0, ready.stderr);
  t.is(ready.stdout.trim(), 'pod/kc-wait condition met');
  t.is(await field('pod/kc-wait', '{.status.phase}'), 'Running');
  const deleting = kubectl(['delete', 'pod', 'kc-wait', '--wait=false']);
  const gone = await kubectl(['wait', '--for=delete', 'pod/kc-wait', '--timeout=30s']);
  t.is((await deleting).code, 0);
  t.is(gone.code, 0, gone.stderr);
});

kt('kubectl cordon, uncordon and drain --force: the node is marked, its bare pods evicted (deleted, as in Kubernetes)', async (t) => {
  const made = await server().kcs(['create', 'node', 'kc-drain', '--cpu', '2', '--memory', '4Gi']);
  t.is(made.code, 0, made.stderr);
  await createPod('kc-drained', '', 'kc-drain');
  await podReady('kc-drained');

  t.is((await kubectl(['cordon', 'kc-drain'])).stdout.trim(), 'node/kc-drain cordoned');
  t.is(await field('node/kc-drain', '{.spec.unschedulable}'), 'true');
  t.regex((await kubectl(['get', 'node', 'kc-drain'])).stdout, /Ready,SchedulingDisabled/);
  t.is((await kubectl(['uncordon', 'kc-drain'])).stdout.trim(), 'node/kc-drain uncordoned');

  // Without --force kubectl refuses to evict a pod no controller would recreate.
  const refused = await kubectl(['drain', 'kc-drain', '--timeout=30s']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /cannot delete Pods that declare no controller.*default\/kc-drained/s);

  const drained = await kubectl(['drain', 'kc-drain', '--force', '--timeout=30s']);
  t.is(drained.code, 0, drained.stderr);
  t.regex(drained.stdout, /^evicting pod default\/kc-drained$/m);
  t.regex(drained.stdout, /^pod\/kc-drained evicted$/m);
  t.regex(drained.stdout, /^node\/kc-drain drained$/m);
  const after = await kubectl(['get', 'pod', 'kc-drained']);
  t.regex(after.stderr, /pods "kc-drained" not found/);
});

kt('kubectl logs prints the simulated container\'s life: scheduled, started, healthy', async (t) => {
  await withNode();
  await createPod('kc-logs');
  await podReady('kc-logs');
  const r = await kubectl(['logs', 'kc-logs']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Successfully assigned default\/kc-logs to kc-node/);
  t.regex(r.stdout, /container app started on kc-node/);
  const tail = await kubectl(['logs', 'kc-logs', '--tail=1']);
  t.is(tail.stdout.trim().split('\n').length, 1, tail.stdout);
  const missing = await kubectl(['logs', 'kc-logs', '-c', 'db']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /container db is not valid for pod kc-logs/);
});

kt('kubectl explain reads the OpenAPI documents: Kubernetes\' fields and kcs\'s own', async (t) => {
  const image = await kubectl(['explain', 'pod.spec.containers.image']);
  t.is(image.code, 0, image.stderr);
  t.regex(image.stdout, /^FIELD:\s+image <string>/m);
  t.regex(image.stdout, /Container image name/);
  const capacity = await kubectl(['explain', 'node.spec.capacity']);
  t.is(capacity.code, 0, capacity.stderr);
  t.regex(capacity.stdout, /^FIELD:\s+capacity/m);
});

kt('kubectl api-resources lists what kcs serves, with short names, scope and kind', async (t) => {
  const r = await kubectl(['api-resources']);
  t.is(r.code, 0, r.stderr);
  const rows = parseTable(r.stdout);
  t.like(rows.find((row) => row.NAME === 'pods'), { SHORTNAMES: 'po', APIVERSION: 'v1', NAMESPACED: 'true', KIND: 'Pod' });
  t.like(rows.find((row) => row.NAME === 'namespaces'), { SHORTNAMES: 'ns', NAMESPACED: 'false', KIND: 'Namespace' });
  t.like(rows.find((row) => row.NAME === 'leases'), { APIVERSION: 'coordination.k8s.io/v1', KIND: 'Lease' });
  const all = await kubectl(['api-resources', '--categories=all', '-o', 'name']);
  t.is(all.stdout.trim(), 'pods\nservices\njobs.batch', 'the category all: pods, Services and Jobs, as in Kubernetes');
});

kt('kubectl create namespace; objects live in it; deleting it removes what it holds', async (t) => {
  await withNode();
  const created = await kubectl(['create', 'namespace', 'kc-team']);
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout.trim(), 'namespace/kc-team created');
  const pod = await kubectl(['create', '-n', 'kc-team', '-f', '-'], { stdin: podYaml('kc-ns-pod') });
  t.is(pod.stdout.trim(), 'pod/kc-ns-pod created', pod.stderr);
  t.is((await kubectl(['get', 'pods', '-n', 'kc-team', '-o', 'name'])).stdout.trim(), 'pod/kc-ns-pod');
  t.is((await kubectl(['get', 'pod', 'kc-ns-pod'])).code, 1, 'not in default');
  const elsewhere = await kubectl(['create', '-n', 'kc-ghost', '-f', '-'], { stdin: podYaml('kc-ghost-pod') });
  t.is(elsewhere.code, 1);
  t.regex(elsewhere.stderr, /namespaces "kc-ghost" not found/);

  const deleted = await kubectl(['delete', 'namespace', 'kc-team', '--timeout=30s']);
  t.is(deleted.code, 0, deleted.stderr);
  t.is(deleted.stdout.trim(), 'namespace "kc-team" deleted');
  t.regex((await kubectl(['get', 'namespace', 'kc-team'])).stderr, /namespaces "kc-team" not found/);
  t.regex((await kubectl(['get', 'pod', 'kc-ns-pod', '-n', 'kc-team'])).stderr, /not found/);
});
