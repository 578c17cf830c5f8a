// The official JavaScript client (@kubernetes/client-node, current major)
// against a real `kcs up`, unchanged: it loads the kubeconfig kcs wrote
// (TLS with the cluster CA, a bearer token), lists, watches, runs an
// informer, creates, patches (strategic merge and server-side apply) and
// deletes, decoding every answer with its own typed models.
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { join } from 'node:path';
import { sharedServer } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';

const server = sharedServer(test);

function clients() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(join(server().stateDir, 'kubeconfig'));
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}

const podBody = (name: string, labels: Record<string, string> = {}): k8s.V1Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '100m' } } }] },
});

/** One node for the pods to bind to, made once (ava runs before-hooks concurrently, so not in one). */
let nodeMade: Promise<void> | undefined;
function withNode(): Promise<void> {
  nodeMade ??= server().kcs(['create', 'node', 'cn-node', '--cpu', '4', '--memory', '4Gi']).then((r) => {
    if (r.code !== 0) throw new Error(r.stderr);
  });
  return nodeMade;
}

test('the client loads the kubeconfig kcs up wrote: https with the cluster CA, and the token', async (t) => {
  await withNode();
  const { kc, core } = clients();
  t.regex(kc.getCurrentCluster()?.server ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
  t.truthy(kc.getCurrentCluster()?.caData, 'certificate-authority-data');
  const nodes = await core.listNode();
  t.true(nodes.items.some((n) => n.metadata?.name === 'cn-node'));
  const version = await kc.makeApiClient(k8s.VersionApi).getCode();
  t.regex(version.gitVersion, /^v1\.\d+\.\d+/);
});

test('create, read, list by label and delete a pod; the read decodes the scheduler\'s status', async (t) => {
  await withNode();
  const { core } = clients();
  const created = await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-crud', { suite: 'client-node' }) });
  t.truthy(created.metadata?.uid);
  const bound = await eventually('cn-crud scheduled', async () => {
    const p = await core.readNamespacedPod({ name: 'cn-crud', namespace: 'default' });
    return p.spec?.nodeName ? p : undefined;
  });
  t.is(bound.spec?.nodeName, 'cn-node');
  t.is(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  const listed = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'suite=client-node' });
  t.deepEqual(listed.items.map((p) => p.metadata?.name), ['cn-crud']);
  await core.deleteNamespacedPod({ name: 'cn-crud', namespace: 'default' });
  const err = await t.throwsAsync(core.readNamespacedPod({ name: 'cn-crud', namespace: 'default' }));
  t.is((err as { code?: number }).code, 404);
});

test('a watch streams ADDED, MODIFIED and DELETED for a pod as it is created, bound and deleted', async (t) => {
  await withNode();
  const { kc, core } = clients();
  const seen: string[] = [];
  const watch = new k8s.Watch(kc);
  const controller = await watch.watch('/api/v1/namespaces/default/pods', { fieldSelector: 'metadata.name=cn-watched' },
    (type: string, obj: k8s.V1Pod) => seen.push(`${type} ${obj.metadata?.name} ${obj.spec?.nodeName ?? '-'}`), () => {});
  t.teardown(() => controller.abort());
  await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-watched') });
  await eventually('bound, seen by the watch', () => seen.some((s) => s.startsWith('MODIFIED cn-watched cn-node')));
  await core.deleteNamespacedPod({ name: 'cn-watched', namespace: 'default' });
  await eventually('deletion seen', () => seen.some((s) => s.startsWith('DELETED cn-watched')));
  t.is(seen[0], 'ADDED cn-watched -');
});

test('an informer lists, then follows adds, updates and deletes', async (t) => {
  await withNode();
  const { kc, core } = clients();
  await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-inf-1', { suite: 'informer' }) });
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods',
    () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'suite=informer' }), 'suite=informer');
  const log: string[] = [];
  informer.on('add', (p: k8s.V1Pod) => log.push(`add ${p.metadata?.name}`));
  informer.on('update', (p: k8s.V1Pod) => log.push(`update ${p.metadata?.name}`));
  informer.on('delete', (p: k8s.V1Pod) => log.push(`delete ${p.metadata?.name}`));
  await informer.start();
  t.teardown(() => informer.stop());
  await eventually('the listed pod added', () => log.includes('add cn-inf-1'));
  await core.createNamespacedPod({ namespace: 'default', body: podBody('cn-inf-2', { suite: 'informer' }) });
  await eventually('the new pod added', () => log.includes('add cn-inf-2'));
  await eventually('an update (binding)', () => log.some((l) => l.startsWith('update ')));
  await core.deleteNamespacedPod({ name: 'cn-inf-1', namespace: 'default' });
  await eventually('the deleted pod', () => log.includes('delete cn-inf-1'));
  t.deepEqual(informer.list('default').map((p) => p.metadata?.name).sort(), ['cn-inf-2']);
});

/** The Status a refused call carried: client-node v2 throws an ApiException whose body is the response's text. */
function statusOf(err: unknown): k8s.V1Status {
  if (!(err instanceof k8s.ApiException) || typeof err.body !== 'string') throw new Error(`not an ApiException with a body: ${String(err)}`);
  return JSON.parse(err.body);
}

test('a strategic merge patch merges containers by name: one image changes, the other container stays, a label is added; the delete answers with the pod', async (t) => {
  const { core } = clients();
  const body: k8s.V1Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cn-smp', labels: { suite: 'smp' } },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '100m' } } },
        { name: 'sidecar', image: 'busybox:1.36', resources: { requests: { cpu: '50m' } } },
      ],
    },
  };
  await core.createNamespacedPod({ namespace: 'default', body });
  // Only the sidecar, by its merge key (name). A JSON merge patch would
  // replace the whole list with it, and app would be gone.
  const patch = { metadata: { labels: { tier: 'web' } }, spec: { containers: [{ name: 'sidecar', image: 'busybox:1.37' }] } };
  const patched = await core.patchNamespacedPod({ name: 'cn-smp', namespace: 'default', body: patch },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
  const stored = await core.readNamespacedPod({ name: 'cn-smp', namespace: 'default' });
  for (const [what, pod] of [['the patch\'s answer', patched], ['the pod read back', stored]] as const) {
    t.deepEqual(pod.metadata?.labels, { suite: 'smp', tier: 'web' }, what);
    t.deepEqual(pod.spec?.containers.map((c) => [c.name, c.image, c.resources?.requests?.cpu]),
      [['app', 'nginx:1.27', '100m'], ['sidecar', 'busybox:1.37', '50m']], what);
  }
  // The delete answers with the pod it deleted, decoded as one.
  const deleted = await core.deleteNamespacedPod({ name: 'cn-smp', namespace: 'default' });
  t.is(deleted.metadata?.uid, stored.metadata?.uid);
});

test('server-side apply: creates with the manager\'s Apply entry, a second manager\'s change of an owned field is a 409 conflict, force=true takes the field over', async (t) => {
  const { core } = clients();
  const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
  const config = (image: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cn-ssa', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image }] },
  });
  const entryOf = (pod: k8s.V1Pod, manager: string) => pod.metadata?.managedFields?.find((e) => e.manager === manager);

  const created = await core.patchNamespacedPod({ name: 'cn-ssa', namespace: 'default', body: config('nginx:1.27'), fieldManager: 'cn-ci' }, apply);
  t.is(created.spec?.containers[0]?.image, 'nginx:1.27');
  const ci = entryOf(created, 'cn-ci');
  t.like(ci, { operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' });
  t.deepEqual(ci?.fieldsV1, {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
  });

  // Another manager applies a different image: the field is cn-ci's. (An
  // Apply owner is named alone; an Update owner would be "using v1" too.)
  const err = await t.throwsAsync(core.patchNamespacedPod({ name: 'cn-ssa', namespace: 'default', body: config('nginx:1.28'), fieldManager: 'cn-deployer' }, apply));
  t.like(statusOf(err), {
    code: 409, reason: 'Conflict',
    message: 'Apply failed with 1 conflict: conflict with "cn-ci": .spec.containers[name="app"].image',
  });
  t.is((await core.readNamespacedPod({ name: 'cn-ssa', namespace: 'default' })).spec?.containers[0]?.image, 'nginx:1.27', 'the refused apply changed nothing');

  const forced = await core.patchNamespacedPod({ name: 'cn-ssa', namespace: 'default', body: config('nginx:1.28'), fieldManager: 'cn-deployer', force: true }, apply);
  t.is(forced.spec?.containers[0]?.image, 'nginx:1.28');
  // Both applied the label with the same value: they share it. The image,
  // taken by force, is cn-deployer's alone now.
  const fields = (image: boolean) => ({
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, ...(image ? { 'f:image': {} } : {}), 'f:name': {} } } },
  });
  t.like(entryOf(forced, 'cn-deployer'), { operation: 'Apply', apiVersion: 'v1' });
  t.deepEqual(entryOf(forced, 'cn-deployer')?.fieldsV1, fields(true));
  t.deepEqual(entryOf(forced, 'cn-ci')?.fieldsV1, fields(false));
  const read = await core.readNamespacedPod({ name: 'cn-ssa', namespace: 'default' });
  t.is(read.spec?.containers[0]?.image, 'nginx:1.28');
  // As stored (the scheduler may have bound the pod since: its entry is not compared).
  const appliers = (pod: k8s.V1Pod) => pod.metadata?.managedFields?.filter((e) => e.manager?.startsWith('cn-'));
  t.deepEqual(appliers(read), appliers(forced));
});
