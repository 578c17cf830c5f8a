import test from 'ava';
import { parse } from 'yaml';
import { validateObject, type FieldError, type ValidationResult } from '../../src/objects/validation.ts';
import type { KubeObject } from '../../src/objects/types.ts';

// A Pod as people write them for real clusters: every field here is core/v1.
const REAL_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: web-7f9c6d8b5-x2kqz
  namespace: shop
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/component: frontend
    tier: frontend
    pod-template-hash: 7f9c6d8b5
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "9113"
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Pod"}'
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 30
  serviceAccountName: web
  nodeSelector:
    kubernetes.io/os: linux
    node.kubernetes.io/instance-type: m5.large
  tolerations:
    - key: node.kubernetes.io/not-ready
      operator: Exists
      effect: NoExecute
      tolerationSeconds: 300
    - key: dedicated
      operator: Equal
      value: web
      effect: NoSchedule
  securityContext:
    runAsNonRoot: true
    fsGroup: 101
  initContainers:
    - name: migrate
      image: registry.example.com/shop/migrate:1.4.2
      command: ["/bin/migrate", "--to=latest"]
      resources:
        requests: { cpu: 200m, memory: 64Mi }
  containers:
    - name: nginx
      image: nginx:1.27-alpine
      imagePullPolicy: IfNotPresent
      command: ["nginx"]
      args: ["-g", "daemon off;"]
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      env:
        - name: NGINX_PORT
          value: "8080"
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
      resources:
        requests:
          cpu: 250m
          memory: 128Mi
        limits:
          cpu: "1"
          memory: 256Mi
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        initialDelaySeconds: 10
        periodSeconds: 15
        failureThreshold: 3
      readinessProbe:
        tcpSocket:
          port: 8080
      volumeMounts:
        - name: config
          mountPath: /etc/nginx/conf.d
          readOnly: true
        - name: cache
          mountPath: /var/cache/nginx
    - name: exporter
      image: nginx/nginx-prometheus-exporter:1.3.0
      args: ["--nginx.scrape-uri=http://localhost:8080/stub_status"]
      ports:
        - containerPort: 9113
      resources:
        requests:
          cpu: 0.05
          memory: 32Mi
        limits:
          memory: 64Mi
  volumes:
    - name: config
      configMap:
        name: web-nginx
    - name: cache
      emptyDir:
        sizeLimit: 1Gi
`;

const node = (capacity: unknown, metadata: Record<string, unknown> = { name: 'worker-1' }): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata, spec: { capacity } }) as KubeObject;

const pod = (containers: unknown[], extra: { apiVersion?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): KubeObject =>
  ({ apiVersion: extra.apiVersion ?? 'v1', kind: 'Pod', metadata: extra.metadata ?? { name: 'p' }, spec: { containers, ...extra.spec } }) as KubeObject;

const fields = (r: ValidationResult) => r.errors.map((e) => e.field);

function valid(t: import('ava').ExecutionContext, obj: KubeObject): void {
  const r = validateObject(obj);
  t.deepEqual(r.errors, []);
  t.deepEqual(r.unknownFields, []);
}

test('a realistic Kubernetes Pod manifest is valid, with no unknown fields', (t) => {
  const obj = parse(REAL_POD) as KubeObject;
  t.is((obj.spec as any).containers.length, 2, 'the manifest parsed as intended');
  valid(t, obj);
});

test('a minimal Node is valid, with cpu as a string or a YAML number', (t) => {
  valid(t, node({ cpu: '4', memory: '8Gi' }));
  valid(t, parse('apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  capacity:\n    cpu: 4\n    memory: 8Gi\n') as KubeObject);
  valid(t, node({ cpu: 4 }));
  valid(t, node({ cpu: '500m', memory: '512Mi', pods: '20' }));
  // Names up to 253 characters of DNS subdomain are fine.
  valid(t, node({ cpu: '1' }, { name: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` }));
});

test('Node cpu: negative, zero, garbage, NaN and huge are errors at spec.capacity.cpu', (t) => {
  const cases: Array<[unknown, FieldError['reason'], string]> = [
    ['-1', 'FieldValueInvalid', 'must be greater than or equal to 0'],
    [-1, 'FieldValueInvalid', 'must be greater than or equal to 0'],
    ['0', 'FieldValueInvalid', 'must be greater than 0'],
    [0, 'FieldValueInvalid', 'must be greater than 0'],
    ['0m', 'FieldValueInvalid', 'must be greater than 0'],
    ['abc', 'FieldValueInvalid', 'must match the regular expression'],
    ['NaN', 'FieldValueInvalid', 'must match the regular expression'],
    [NaN, 'FieldValueTypeInvalid', 'must be of type'],
    [Infinity, 'FieldValueTypeInvalid', 'must be of type'],
    ['1e30', 'FieldValueInvalid', 'too large'],
    [1e30, 'FieldValueInvalid', 'too large'],
  ];
  for (const [cpu, reason, message] of cases) {
    const r = validateObject(node({ cpu }));
    t.deepEqual(fields(r), ['spec.capacity.cpu'], `cpu ${String(cpu)}`);
    t.is(r.errors[0]?.reason, reason, `cpu ${String(cpu)}`);
    t.true(r.errors[0]?.message.includes(message), `cpu ${String(cpu)}: ${r.errors[0]?.message}`);
  }
});

test('Node memory may be zero but not negative', (t) => {
  valid(t, node({ cpu: '1', memory: '0' }));
  t.deepEqual(fields(validateObject(node({ cpu: '1', memory: '-1Gi' }))), ['spec.capacity.memory']);
});

test('names must be lowercase RFC 1123 subdomains of at most 253 characters', (t) => {
  for (const name of ['Worker-1', 'worker_1', 'a'.repeat(254), '-worker', 'worker.']) {
    const r = validateObject(node({ cpu: '1' }, { name }));
    t.deepEqual(fields(r), ['metadata.name'], name);
    t.is(r.errors[0].reason, 'FieldValueInvalid');
  }
  t.true(validateObject(node({ cpu: '1' }, { name: 'a'.repeat(254) })).errors[0].message.includes('no more than 253 characters'));
  t.deepEqual(fields(validateObject(pod([{ name: 'c' }], { metadata: { name: 'My_Pod' } }))), ['metadata.name']);
});

test('a missing spec.capacity.cpu is FieldValueRequired', (t) => {
  const r = validateObject(node({ memory: '1Gi' }));
  t.deepEqual(r.errors, [{ reason: 'FieldValueRequired', field: 'spec.capacity.cpu', message: 'Required value' }]);
});

test('a Node sized only in status.capacity (as KWOK and kubelets write it) is valid; one sized nowhere names both fields', (t) => {
  const kwok = parse(`
apiVersion: v1
kind: Node
metadata: { name: kwok-node-0 }
spec:
  taints: [{ key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule }]
status:
  allocatable: { cpu: 32, memory: 256Gi, pods: 110 }
  capacity: { cpu: 32, memory: 256Gi, pods: 110 }
`) as KubeObject;
  t.deepEqual(validateObject(kwok).errors, []);
  t.is((kwok.spec as any).capacity, undefined, 'validation changes nothing');
  const noSpec = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: '2' } } } as KubeObject;
  t.deepEqual(validateObject(noSpec).errors, [], 'no spec at all is fine too');
  const quantity = validateObject({ ...noSpec, status: { capacity: { cpu: 'lots' } } } as KubeObject);
  t.deepEqual(fields(quantity), ['spec.capacity.cpu', 'status.capacity.cpu'], 'the size taken from status is checked as spec.capacity');

  const unsized = validateObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} } as KubeObject);
  t.deepEqual(unsized.errors, [{ reason: 'FieldValueRequired', field: 'spec.capacity', message: "Required value: the machine's size: spec.capacity (cpu, and optionally memory and pods), or status.capacity as a kubelet or KWOK writes it" }]);
  t.deepEqual(fields(validateObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } } as KubeObject)), ['spec.capacity']);
});

test('spec.capacity of the wrong type is FieldValueTypeInvalid', (t) => {
  const r = validateObject(node('4'));
  t.deepEqual(fields(r), ['spec.capacity']);
  t.is(r.errors[0].reason, 'FieldValueTypeInvalid');
});

test('a Pod needs at least one container, and each container a valid name', (t) => {
  const empty = validateObject(pod([]));
  t.deepEqual(fields(empty), ['spec.containers']);
  t.is(empty.errors[0].reason, 'FieldValueRequired');

  const noName = validateObject(pod([{ name: 'a' }, { image: 'nginx' }]));
  t.deepEqual(noName.errors, [{ reason: 'FieldValueRequired', field: 'spec.containers[1].name', message: 'Required value' }]);

  t.deepEqual(fields(validateObject(pod([{ name: 'Bad_Name' }]))), ['spec.containers[0].name']);
  t.deepEqual(fields(validateObject(pod([{ name: 'c' }], { spec: { initContainers: [{ image: 'x' }] } }))), ['spec.initContainers[0].name']);
});

test('a Pod with apiVersion v2 is FieldValueNotSupported at apiVersion', (t) => {
  const r = validateObject(pod([{ name: 'c' }], { apiVersion: 'v2' }));
  t.deepEqual(fields(r), ['apiVersion']);
  t.is(r.errors[0].reason, 'FieldValueNotSupported');
  t.true(r.errors[0].message.includes('"v1"'));
});

test('container requests: invalid quantities and requests above limits name the exact field', (t) => {
  const r1 = validateObject(pod([{ name: 'a', resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }]));
  t.deepEqual(fields(r1), ['spec.containers[0].resources.requests.cpu']);
  t.is(r1.errors[0].reason, 'FieldValueInvalid');
  t.true(r1.errors[0].message.includes('less than or equal to cpu limit'));

  const r2 = validateObject(pod([{ name: 'a' }, { name: 'b', resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } }]));
  t.deepEqual(fields(r2), ['spec.containers[1].resources.requests.memory']);

  // Equal to the limit, written differently, is fine.
  valid(t, pod([{ name: 'a', resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: 1, memory: '1Gi' } } }]));

  t.deepEqual(fields(validateObject(pod([{ name: 'a', resources: { requests: { cpu: '-100m' } } }]))), ['spec.containers[0].resources.requests.cpu']);
  t.deepEqual(fields(validateObject(pod([{ name: 'a', resources: { requests: { cpu: 'abc' } } }]))), ['spec.containers[0].resources.requests.cpu']);
  t.deepEqual(fields(validateObject(pod([{ name: 'a', resources: { limits: { memory: '1e30' } } }]))), ['spec.containers[0].resources.limits.memory']);
  t.deepEqual(fields(validateObject(pod([{ name: 'c' }], { spec: { initContainers: [{ name: 'i', resources: { requests: { cpu: 'abc' } } }] } }))), ['spec.initContainers[0].resources.requests.cpu']);
  // A zero cpu request is allowed on a pod (only node capacity must be positive).
  valid(t, pod([{ name: 'a', resources: { requests: { cpu: '0' } } }]));
});

test('bad label keys and values name the label', (t) => {
  const badKey = validateObject(node({ cpu: '1' }, { name: 'n', labels: { 'bad key!': 'x' } }));
  t.true(fields(badKey).includes('metadata.labels["bad key!"]'), JSON.stringify(fields(badKey)));
  t.true(badKey.errors.every((e) => e.field.startsWith('metadata.labels')));

  const badValue = validateObject(node({ cpu: '1' }, { name: 'n', labels: { app: 'bad value!' } }));
  t.deepEqual(fields(badValue), ['metadata.labels.app']);

  valid(t, node({ cpu: '1' }, { name: 'n', labels: { 'app.kubernetes.io/name': 'web', empty: '' } }));
});

test('unknown top-level and metadata fields are reported as unknown, not as errors', (t) => {
  const obj = { ...node({ cpu: '1' }, { name: 'n', bar: 1 }), foo: 'x' } as KubeObject;
  const r = validateObject(obj);
  t.deepEqual(r.errors, []);
  t.deepEqual([...r.unknownFields].sort(), ['foo', 'metadata.bar']);

  const p = validateObject({ ...pod([{ name: 'c' }], { metadata: { name: 'p', bar: 1 } }), foo: 1 } as KubeObject);
  t.deepEqual(p.errors, []);
  t.deepEqual([...p.unknownFields].sort(), ['foo', 'metadata.bar']);
});

test('other core/v1 fields inside spec and containers are not reported at all', (t) => {
  valid(t, pod([{ name: 'c', stdin: true, workingDir: '/srv' }], { spec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', priority: 0 } }));
  valid(t, { ...node({ cpu: '1' }), spec: { capacity: { cpu: '1' }, configSource: null, externalID: 'x' } } as KubeObject);
});

test('errors and unknown fields are reported together', (t) => {
  const r = validateObject({ ...node({ cpu: '1' }, { name: 'Bad' }), foo: 1 } as KubeObject);
  t.deepEqual(fields(r), ['metadata.name']);
  t.deepEqual(r.unknownFields, ['foo']);
});
