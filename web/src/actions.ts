// What the page's buttons do: each one ordinary API request (or a few), made
// as any client would make it, under the page's own token. Errors come back
// as the API's Status message, for the page to show.
import { parseAllDocuments } from 'yaml';
import { apiPrefix, kindByName, KINDS, type KindInfo } from '../../src/objects/kinds.ts';
import { FAIL_NODE } from '../../src/objects/node-failure.ts';
import { SIMULATE_UNHEALTHY } from '../../src/objects/pod-health.ts';
import { unbound } from '../../src/objects/unbinding.ts';
import type { KubeObject, Node, Pod } from '../../src/objects/types.ts';
import { api, ApiError } from './api.ts';

/** Who the page's writes are recorded under (managedFields), as kubectl's are under "kubectl". */
export const FIELD_MANAGER = 'kcs-dashboard';
const MERGE = 'application/merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

const NODE = kindByName('Node')!;
const POD = kindByName('Pod')!;

function path(kind: KindInfo, namespace: string | undefined, name?: string): string {
  const ns = kind.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `${apiPrefix(kind)}${ns}/${kind.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** "a=b, c=d" as labels; a clear error for anything else. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ApiError(400, `labels: "${part}" is not key=value`);
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return labels;
}

export async function createNode(opts: { name: string; cpu: string; memory: string; labels: string }): Promise<Node> {
  const labels = parseLabels(opts.labels);
  return api<Node>('POST', `${path(NODE, undefined)}?fieldManager=${FIELD_MANAGER}`, { body: {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: opts.name, ...(Object.keys(labels).length ? { labels } : {}) },
    spec: { capacity: { cpu: opts.cpu, ...(opts.memory ? { memory: opts.memory } : {}) } },
  } });
}

export async function runPod(opts: { name: string; namespace: string; cpu: string; memory: string; image: string }): Promise<Pod> {
  const requests = { ...(opts.cpu ? { cpu: opts.cpu } : {}), ...(opts.memory ? { memory: opts.memory } : {}) };
  return api<Pod>('POST', `${path(POD, opts.namespace)}?fieldManager=${FIELD_MANAGER}`, { body: {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: opts.name, namespace: opts.namespace, labels: { run: opts.name } },
    spec: { containers: [{ name: opts.name, image: opts.image || 'kcs/simulated', ...(Object.keys(requests).length ? { resources: { requests } } : {}) }] },
  } });
}

export async function deleteNode(name: string): Promise<void> {
  await api('DELETE', path(NODE, undefined, name));
}

export async function deletePod(pod: Pod): Promise<void> {
  await api('DELETE', path(POD, pod.metadata.namespace, pod.metadata.name));
}

export async function setCordoned(node: string, cordoned: boolean): Promise<void> {
  await api('PATCH', `${path(NODE, undefined, node)}?fieldManager=${FIELD_MANAGER}`, { body: { spec: { unschedulable: cordoned || null } }, contentType: MERGE });
}

/** Kills the node's machine, through the node controller (the annotation `kcs fail node` sets). */
export async function failNode(node: string): Promise<void> {
  await api('PATCH', `${path(NODE, undefined, node)}?fieldManager=${FIELD_MANAGER}`, { body: { metadata: { annotations: { [FAIL_NODE]: new Date().toISOString() } } }, contentType: MERGE });
}

export async function setUnhealthy(pod: Pod, unhealthy: boolean): Promise<void> {
  await api('PATCH', `${path(POD, pod.metadata.namespace, pod.metadata.name)}?fieldManager=${FIELD_MANAGER}`, {
    body: { metadata: { annotations: { [SIMULATE_UNHEALTHY]: unhealthy ? 'true' : null } } }, contentType: MERGE,
  });
}

/** The scheduler follows the SchedulerConfiguration named default: applied, so it is made if missing. */
export async function setPolicy(policy: string): Promise<void> {
  const kind = kindByName('SchedulerConfiguration')!;
  await api('PATCH', `${path(kind, undefined, 'default')}?fieldManager=${FIELD_MANAGER}&force=true`, {
    body: { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name: 'default' }, spec: { defaultPolicy: policy } }, contentType: APPLY,
  });
}

/**
 * As `kcs drain`: cordon, then send each pod on the node back to Pending (an
 * unbinding, in one commit), for the scheduler to place elsewhere; pods keep
 * their names and uids. Returns how many moved.
 */
export async function drain(node: string, pods: Pod[]): Promise<number> {
  await setCordoned(node, true);
  const moving = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  if (!moving.length) return 0;
  const because = `${node} was drained`;
  const operations = moving.map((p) => ({ verb: 'update', subresource: 'unbinding', object: unbound(p, because) }));
  await api('POST', '/apis/kcs.io/v1/commits', { body: { apiVersion: 'kcs.io/v1', kind: 'Commit', operations } });
  return moving.length;
}

export interface Applied { ok: boolean; what: string; message: string }

/**
 * Pasted YAML, one or more documents, each applied server-side (as `kubectl
 * apply --server-side`): created if missing, else updated. Each document's
 * outcome is reported; one refused does not stop the others.
 */
export async function applyYaml(text: string): Promise<Applied[]> {
  const docs = parseAllDocuments(text);
  const out: Applied[] = [];
  for (const doc of docs) {
    if (doc.errors.length) {
      out.push({ ok: false, what: 'YAML', message: doc.errors[0]!.message });
      continue;
    }
    const obj = doc.toJS() as KubeObject | null;
    if (!obj) continue;
    const kind = KINDS.find((k) => k.kind === obj.kind && k.apiVersion === obj.apiVersion);
    const what = `${String(obj.kind ?? '?').toLowerCase()}/${obj.metadata?.name ?? '?'}`;
    if (!kind) {
      out.push({ ok: false, what, message: `no kind ${JSON.stringify(obj.kind)} in version ${JSON.stringify(obj.apiVersion)}` });
      continue;
    }
    if (!obj.metadata?.name) {
      out.push({ ok: false, what, message: 'metadata.name: Required value: name is required' });
      continue;
    }
    try {
      await api('PATCH', `${path(kind, obj.metadata.namespace, obj.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`, { body: obj, contentType: APPLY });
      out.push({ ok: true, what, message: 'applied' });
    } catch (err) {
      out.push({ ok: false, what, message: (err as Error).message });
    }
  }
  return out;
}
