// How the server treats fields: unknown ones dropped with a warning (or
// refused when strict), unmodelled pod fields kept verbatim, quantities
// normalised to strings.
import test from 'ava';
import { FRESH_REVISION, node, nodePath, NODES, pod, podPath, PODS, withApp } from './helpers.ts';

test('unknown top-level and metadata fields are dropped with a Warning header naming them', withApp, async (t, api) => {
  const body = node('n1', { metadata: { bogus: 1 } });
  body.extra = { a: 1 };
  const r = await api.post(NODES, body);
  t.is(r.status, 201, r.text);
  const warning = r.headers.get('warning') ?? '';
  t.regex(warning, /^299 - /);
  t.regex(warning, /unknown field \\"extra\\"/);
  t.regex(warning, /unknown field \\"metadata\.bogus\\"/);
  t.false('extra' in r.body);
  t.false('bogus' in r.body.metadata);
  const stored = (await api.get(nodePath('n1'))).body;
  t.false('extra' in stored);
  t.false('bogus' in stored.metadata);
  t.is((await api.post(NODES, node('n2'))).headers.get('warning'), null, 'no warning for a clean body');
});

test('an unknown field whose name is not an identifier is dropped like any other', withApp, async (t, api) => {
  const body = node('n1', { metadata: { 'odd-meta': 1 } });
  body['x-extra'] = 1;
  body['a.b'] = 1;
  const r = await api.post(NODES, body);
  t.is(r.status, 201, r.text);
  t.regex(r.headers.get('warning') ?? '', /x-extra/);
  const stored = (await api.get(nodePath('n1'))).body;
  t.deepEqual(Object.keys(stored).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  t.false('odd-meta' in stored.metadata);
});

test('an unknown field whose name is not Latin-1 gets a warning, not a 500 for a write that happened', withApp, async (t, api) => {
  const r = await api.post(NODES, { ...node('n1'), 名前: 'x' });
  t.is(r.status, 201, r.text);
  t.not(r.headers.get('warning'), null);
  t.is((await api.get(nodePath('n1'))).status, 200);
  api.logs.length = 0; // a 500 here is logged too; the status above already reports it
});

test('a field name with CR LF cannot inject response headers through the Warning header', withApp, async (t, api) => {
  const r = await api.post(NODES, { ...node('n1'), 'x\r\nSet-Cookie: session=stolen': 1 });
  t.is(r.status, 201, r.text);
  t.is(r.headers.get('set-cookie'), null);
  const warning = r.headers.get('warning') ?? '';
  t.false(/[\r\n]/.test(warning));
  t.true(warning.includes('Set-Cookie: session=stolen'), warning);
});

test('with fieldValidation=Strict an unknown field is refused with 422 naming it', withApp, async (t, api) => {
  const body = pod('p', { metadata: { colour: 'red' } });
  const r = await api.post(`${PODS}?fieldValidation=Strict`, body);
  t.is(r.status, 422, r.text);
  t.like(r.body, { kind: 'Status', reason: 'Invalid', code: 422 });
  t.deepEqual(r.body.details.causes.map((c: any) => c.field), ['metadata.colour']);
  t.regex(r.body.message, /metadata\.colour/);
  t.is(await api.store.currentRevision(), FRESH_REVISION);
  t.is((await api.post(`${PODS}?fieldValidation=Ignore`, body)).status, 201);
  t.is((await api.post(`${PODS}?fieldValidation=Loose`, pod('q'))).status, 400);
});

test('pod spec fields kcs does not model are kept verbatim', withApp, async (t, api) => {
  const spec = {
    containers: [{
      name: 'app', image: 'registry.example.com/app@sha256:abc', command: ['/bin/app', '--flag'],
      ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
      env: [{ name: 'MODE', value: 'prod' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      resources: { requests: { cpu: '1', memory: '1Gi', 'example.com/gpu': '1' }, limits: { cpu: '2', 'example.com/gpu': '1' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    }],
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
    restartPolicy: 'Always',
    nodeSelector: { disk: 'ssd' },
  };
  const r = await api.post(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
  t.is(r.status, 201, r.text);
  t.is(r.headers.get('warning'), null);
  // Plus what the Priority admission gives every new pod (no PriorityClass is the global default).
  const admitted = { ...spec, priority: 0, preemptionPolicy: 'PreemptLowerPriority' };
  t.deepEqual(r.body.spec, admitted);
  t.deepEqual((await api.get(podPath('p'))).body.spec, admitted);
});

test('quantities given as numbers are stored as strings', withApp, async (t, api) => {
  const n = await api.post(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: 4, memory: 1073741824, pods: 20 } } });
  t.is(n.status, 201, n.text);
  t.deepEqual(n.body.spec.capacity, { cpu: '4', memory: '1073741824', pods: '20' });
  t.deepEqual((await api.get(nodePath('n1'))).body.spec.capacity, { cpu: '4', memory: '1073741824', pods: '20' });

  const yaml = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n      requests: {cpu: 0.5, memory: 1000}\n      limits: {cpu: 1}\n';
  const p = await api.post(PODS, yaml, { type: 'application/yaml' });
  t.is(p.status, 201, p.text);
  t.deepEqual(p.body.spec.containers[0].resources, { requests: { cpu: '0.5', memory: '1000' }, limits: { cpu: '1' } });
});
