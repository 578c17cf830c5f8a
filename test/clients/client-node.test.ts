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
