// /openapi/v2 and /openapi/v3 as kubectl and typed clients read them.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { KINDS } from '../../src/objects/kinds.ts';
import { kindDefinition } from '../../src/api/openapi-definitions.ts';
import { generate, OUTPUT, render } from '../../tools/openapi-definitions.ts';
import { withApp } from './helpers.ts';

const PROTOBUF_V2 = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** Every $ref in a document, with where it points. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) if (k === '$ref') out.push(v as string); else refs(v, out);
  }
  return out;
}

test('/openapi/v2 and /openapi/v3 need a token', withApp, async (t, api) => {
  t.is((await api.get('/openapi/v2', { token: null })).status, 401);
  t.is((await api.get('/openapi/v3', { token: null })).status, 401);
});

test('v2 carries the official definition of every served kind and its list, with its group-version-kind', withApp, async (t, api) => {
  const r = await api.get('/openapi/v2');
  t.is(r.status, 200);
  t.regex(r.headers.get('content-type')!, /^application\/json/);
  t.is(r.body.swagger, '2.0');
  const defs = r.body.definitions;
  for (const kind of KINDS) {
    for (const [name, k] of [[kindDefinition(kind), kind.kind], [kindDefinition(kind, true), kind.listKind]]) {
      t.truthy(defs[name!], `definition ${name}`);
      t.deepEqual(defs[name!]['x-kubernetes-group-version-kind'], [{ group: kind.group, kind: k, version: kind.version }], name);
    }
  }
  t.deepEqual(defs['io.k8s.apimachinery.pkg.apis.meta.v1.Status']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Status', version: 'v1' }]);
  for (const ref of refs(defs)) t.truthy(defs[ref.slice('#/definitions/'.length)], `${ref} resolves`);
});

test('the definitions are Kubernetes\' own: real fields, required fields, formats, and the list and patch extensions', withApp, async (t, api) => {
  const defs = (await api.get('/openapi/v2')).body.definitions;
  const podSpec = defs['io.k8s.api.core.v1.PodSpec'];
  t.deepEqual(podSpec.required, ['containers']);
  t.like(podSpec.properties.containers, {
    type: 'array', items: { $ref: '#/definitions/io.k8s.api.core.v1.Container' },
    'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
  });
  t.regex(podSpec.properties.containers.description, /List of containers belonging to the pod/);
  const container = defs['io.k8s.api.core.v1.Container'];
  t.truthy(container.properties.livenessProbe && container.properties.env && container.properties.ports, 'fields kcs does not simulate are described too');
  t.deepEqual(container.properties.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  t.deepEqual(defs['io.k8s.api.core.v1.ContainerStatus'].properties.restartCount, { description: defs['io.k8s.api.core.v1.ContainerStatus'].properties.restartCount.description, type: 'integer', format: 'int32' });
  t.true(defs['io.k8s.api.core.v1.ContainerStatus'].required.includes('imageID'));
  t.is(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.creationTimestamp.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  t.like(defs['io.k8s.apimachinery.pkg.apis.meta.v1.Time'], { type: 'string', format: 'date-time' });
  t.like(defs['io.k8s.api.core.v1.NodeStatus'].properties.conditions, { 'x-kubernetes-patch-merge-key': 'type' });
  t.false('required' in defs['io.k8s.api.core.v1.Pod'], 'apiVersion and kind are not required of a body, as in Kubernetes');
});

test('kcs\'s own fields are published beside Kubernetes\' and the kcs.io kinds come from schemas/', withApp, async (t, api) => {
  const defs = (await api.get('/openapi/v2')).body.definitions;
  t.like(defs['io.k8s.api.core.v1.NodeSpec'].properties.capacity, { type: 'object', additionalProperties: { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' } });
  t.regex(defs['io.k8s.api.core.v1.NodeSpec'].properties.capacity.description, /^kcs: /);
  for (const field of ['pods', 'allocated', 'containerID', 'reservations']) t.truthy(defs['io.k8s.api.core.v1.NodeStatus'].properties[field], `NodeStatus.${field}`);
  t.truthy(defs['io.k8s.api.core.v1.NodeStatus'].properties.capacity, 'Kubernetes\' own capacity is still there');
  t.truthy(defs['io.k8s.api.core.v1.PodStatus'].properties.scheduling.properties.nodes);
  const config = defs['io.kcs.v1.SchedulerConfiguration'];
  t.deepEqual(config.properties.spec.properties.defaultPolicy.enum, ['first-fit', 'best-fit', 'worst-fit', 'spread', 'binpack']);
  t.is(config.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  t.deepEqual(defs['io.kcs.v1.Commit']['x-kubernetes-group-version-kind'], [{ group: 'kcs.io', kind: 'Commit', version: 'v1' }]);
  t.truthy(defs['io.kcs.v1.Commit'].properties.operations.items.properties.verb);
  // A Workflow's jobs hold Kubernetes' own JobSpec, whose status conditions carry Kubernetes' markers.
  const workflowJob = defs['io.kcs.v1.Workflow'].properties.spec.properties.jobs.items;
  t.is(workflowJob.properties.template.properties.spec.$ref, '#/definitions/io.k8s.api.batch.v1.JobSpec');
  t.deepEqual(workflowJob.required, ['name', 'template']);
  t.like(defs['io.k8s.api.batch.v1.JobStatus'].properties.conditions, { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' });
  t.like(defs['io.k8s.api.scheduling.v1.PriorityClass'].properties.value, { type: 'integer', format: 'int32' });
});

test('v2 asked for in protobuf only is 406 NotAcceptable; with JSON among the types, JSON', withApp, async (t, api) => {
  const refused = await api.get('/openapi/v2', { headers: { accept: PROTOBUF_V2 } });
  t.is(refused.status, 406);
  t.like(refused.body, { kind: 'Status', reason: 'NotAcceptable', code: 406 });
  const json = await api.get('/openapi/v2', { headers: { accept: `${PROTOBUF_V2}, application/json;q=0.9` } });
  t.is(json.status, 200);
  t.is(json.body.swagger, '2.0');
  t.is((await api.get('/openapi/v2', { headers: { accept: '*/*' } })).status, 200);
});

test('documents carry an ETag, and a request that names it is answered 304', withApp, async (t, api) => {
  const first = await api.get('/openapi/v2');
  const etag = first.headers.get('etag');
  t.truthy(etag);
  const again = await api.get('/openapi/v2', { headers: { 'if-none-match': etag! } });
  t.is(again.status, 304);
  t.is(again.text, '');
});

test('the v3 index names a document for each group-version, by hash, and each resolves to OpenAPI 3 with its kinds', withApp, async (t, api) => {
  const index = await api.get('/openapi/v3');
  t.is(index.status, 200);
  const groupVersions = [...new Set(KINDS.map((k) => (k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`)))].sort();
  t.deepEqual(Object.keys(index.body.paths).sort(), groupVersions);
  for (const [path, { serverRelativeURL }] of Object.entries(index.body.paths as Record<string, { serverRelativeURL: string }>)) {
    t.regex(serverRelativeURL, new RegExp(`^/openapi/v3/${path.replace(/\./g, '\\.')}\\?hash=[0-9A-F]{128}$`));
    const doc = await api.get(serverRelativeURL);
    t.is(doc.status, 200, serverRelativeURL);
    t.is(doc.headers.get('cache-control'), 'public, immutable');
    t.is(doc.body.openapi, '3.0.0');
    const schemas = doc.body.components.schemas;
    for (const kind of KINDS.filter((k) => (k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`) === path)) {
      t.deepEqual(schemas[kindDefinition(kind)]['x-kubernetes-group-version-kind'], [{ group: kind.group, kind: kind.kind, version: kind.version }]);
      t.truthy(schemas[kindDefinition(kind, true)]);
    }
    for (const ref of refs(doc.body)) t.truthy(schemas[ref.slice('#/components/schemas/'.length)], `${path}: ${ref} resolves`);
  }
  t.is((await api.get('/openapi/v3/apis/nosuch.io/v1')).status, 404);
});

test('v3 describes a reference with a description as allOf, and each PATCH names its kind and takes fieldValidation (kubectl then leaves validation to the server)', withApp, async (t, api) => {
  const doc = (await api.get('/openapi/v3/api/v1')).body;
  const pod = doc.components.schemas['io.k8s.api.core.v1.Pod'];
  t.deepEqual(pod.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
  t.regex(pod.properties.spec.description, /Specification of the desired behavior of the pod/);
  const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
  t.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
  t.true(patch.parameters.some((p: { name: string }) => p.name === 'fieldValidation'));
  t.truthy(doc.paths['/api/v1/nodes/{name}/status'].patch);
  t.truthy(doc.components.schemas['io.k8s.api.core.v1.NodeSpec'].properties.capacity, 'kcs fields in v3 too');
});

test('schemas/openapi/kubernetes.json is what the generator makes from the installed kubernetes-models', async (t) => {
  t.is(readFileSync(OUTPUT, 'utf8'), render(await generate()), 'run npm run generate:openapi');
});
