// A protobuf message read into the JSON Kubernetes writes for the same
// object: messages are encoded with protobufjs from the descriptor the server
// uses, decoded, and compared with their JSON form. Covers the special types
// (Time, MicroTime, Quantity, IntOrString, FieldsV1, RawExtension), int64,
// bytes, maps, inline fields, and what "unset" means: a zero non-pointer
// field is left out where Go's JSON omits it, a zero pointer field is kept.
import test from 'ava';
import protobuf from 'protobufjs/light.js';
import { decodeProtobufObject } from '../../src/api/protobuf-body.ts';
import { ProtobufError, toJson } from '../../src/api/protobuf-json.ts';
import { encodeMessage, messageType, protobufBody } from '../support/protobuf.ts';

const CORE = 'k8s.io.api.core.v1';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** Encodes the protobuf-shaped object as `type` and reads it back as JSON. */
function roundTrip(typeName: string, object: Record<string, unknown>): unknown {
  const type = messageType(typeName);
  return toJson(type, type.decode(encodeMessage(type, object)));
}

// 2026-03-01T12:30:45Z
const SECONDS = 1772368245;

test('a pod with containers, quantities, labels, probes and times reads as its JSON form', (t) => {
  const pod = {
    metadata: {
      name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' }, annotations: { note: 'protobuf' },
      creationTimestamp: { seconds: SECONDS, nanos: 999_000_000 }, generation: 3,
    },
    spec: {
      containers: [{
        name: 'app', image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        resources: { requests: { cpu: { string: '250m' }, memory: { string: '64Mi' } }, limits: { cpu: { string: '1' } } },
        livenessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 0, intVal: 8080 } } }, periodSeconds: 5 },
        readinessProbe: { handler: { tcpSocket: { port: { type: 1, strVal: 'http' } } } },
      }],
      volumes: [{ name: 'scratch', volumeSource: { emptyDir: {} } }],
      nodeSelector: { disk: 'ssd' },
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsUser: 0, runAsNonRoot: false },
    },
    status: { startTime: { seconds: SECONDS } },
  };
  t.deepEqual(roundTrip(`${CORE}.Pod`, pod), {
    metadata: {
      name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' }, annotations: { note: 'protobuf' },
      // metav1.Time keeps whole seconds, as Kubernetes reads it.
      creationTimestamp: '2026-03-01T12:30:45Z', generation: 3,
    },
    spec: {
      containers: [{
        name: 'app', image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1' } },
        // The probe's handler is inline in JSON; so is the volume's source.
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
        readinessProbe: { tcpSocket: { port: 'http' } },
      }],
      volumes: [{ name: 'scratch', emptyDir: {} }],
      nodeSelector: { disk: 'ssd' },
      // Pointers in Go: sent means set, so zero and false are kept.
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsUser: 0, runAsNonRoot: false },
    },
    status: { startTime: '2026-03-01T12:30:45Z' },
  });
});

test('zero non-pointer fields, as Go writes them for "unset", are left out where Go\'s JSON omits them', (t) => {
  const json = roundTrip(`${CORE}.Pod`, {
    metadata: { name: 'x', generateName: '', namespace: '', uid: '', generation: 0, creationTimestamp: {} },
    spec: { containers: [{ name: 'app', image: '', stdin: false, tty: false, resources: {} }], hostNetwork: false, restartPolicy: '' },
  });
  t.deepEqual(json, {
    metadata: { name: 'x' },
    // An empty message that was sent stays, as Go writes a struct: {}.
    spec: { containers: [{ name: 'app', resources: {} }] },
  });
});

test('a zero field Go writes even when empty (no omitempty) is kept, as Kubernetes\' JSON has it', (t) => {
  const json = roundTrip(`${CORE}.ContainerStatus`, { name: 'app', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { terminated: { exitCode: 0 } } });
  t.deepEqual(json, { name: 'app', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { terminated: { exitCode: 0 } } });
});

test('fields the sender did not write, and empty lists and maps, are absent', (t) => {
  t.deepEqual(roundTrip(`${CORE}.Pod`, { metadata: { name: 'x', labels: {}, finalizers: [] }, spec: { containers: [] } }), { metadata: { name: 'x' }, spec: {} });
  t.deepEqual(roundTrip(`${CORE}.Namespace`, {}), {});
});

test('MicroTime keeps microseconds; Time drops the fraction; an empty Time or Go\'s zero time is left out', (t) => {
  const event = roundTrip(`${CORE}.Event`, {
    metadata: { name: 'e' }, eventTime: { seconds: SECONDS, nanos: 123_456_789 }, firstTimestamp: { seconds: SECONDS, nanos: 5 },
    lastTimestamp: {}, series: { count: 2, lastObservedTime: { seconds: SECONDS, nanos: 1000 } },
  }) as any;
  t.is(event.eventTime, '2026-03-01T12:30:45.123456Z');
  t.is(event.firstTimestamp, '2026-03-01T12:30:45Z');
  t.false('lastTimestamp' in event);
  t.is(event.series.lastObservedTime, '2026-03-01T12:30:45.000001Z');
  t.deepEqual(roundTrip(`${CORE}.Event`, { eventTime: { seconds: -62135596800 } }), {});
  t.deepEqual(roundTrip(`${CORE}.Event`, { eventTime: { seconds: 0 } }), { eventTime: '1970-01-01T00:00:00.000000Z' });
});

test('a time past the year 9999 is refused, as Go refuses to write it', (t) => {
  const error = t.throws(() => roundTrip(`${CORE}.Pod`, { metadata: { creationTimestamp: { seconds: 253402300800 } } }), { instanceOf: ProtobufError });
  t.regex(error.message, /^metadata\.creationTimestamp: .*years 0 to 9999/);
});

test('int64 fields are JSON numbers', (t) => {
  const json = roundTrip(`${META}.DeleteOptions`, { gracePeriodSeconds: 30, preconditions: { uid: 'u1' }, dryRun: ['All'] }) as any;
  t.deepEqual(json, { gracePeriodSeconds: 30, preconditions: { uid: 'u1' }, dryRun: ['All'] });
  t.is(typeof json.gracePeriodSeconds, 'number');
  t.is((roundTrip(`${CORE}.Pod`, { metadata: { generation: 2 ** 40 } }) as any).metadata.generation, 2 ** 40);
});

test('an empty Quantity is "0", as Go writes its zero Quantity', (t) => {
  t.deepEqual(roundTrip(`${CORE}.ResourceRequirements`, { limits: { cpu: {} } }), { limits: { cpu: '0' } });
});

test('IntOrString is a number or a string by its type; another type is refused', (t) => {
  const port = (p: object) => (roundTrip(`${CORE}.HTTPGetAction`, { port: p }) as any).port;
  t.is(port({ type: 0, intVal: 80 }), 80);
  t.is(port({}), 0);
  t.is(port({ type: 1, strVal: 'web' }), 'web');
  const error = t.throws(() => port({ type: 2 }), { instanceOf: ProtobufError });
  t.regex(error.message, /^port: an IntOrString of type 2/);
});

test('FieldsV1 is the JSON its bytes hold; bytes that are not JSON are refused naming the field', (t) => {
  const fields = { 'f:metadata': { 'f:labels': { 'f:app': {} } } };
  const entry = (raw: string) => ({ metadata: { managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from(raw) }, time: { seconds: SECONDS } }] } });
  t.deepEqual((roundTrip(`${CORE}.Pod`, entry(JSON.stringify(fields))) as any).metadata.managedFields, [
    { manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: fields, time: '2026-03-01T12:30:45Z' },
  ]);
  const error = t.throws(() => roundTrip(`${CORE}.Pod`, entry('{"f:metadata":')), { instanceOf: ProtobufError });
  t.regex(error.message, /^metadata\.managedFields\[0\]\.fieldsV1: invalid JSON/);
  t.throws(() => roundTrip(`${CORE}.Pod`, entry('{"__proto__":{"x":1}}')), { instanceOf: ProtobufError, message: /__proto__/ });
});

/** A message outside the served kinds, to reach a rule no served kind does (RawExtension, bytes). */
function standalone(fields: Record<string, { type: string; id: number; options?: Record<string, unknown> }>) {
  const root = protobuf.Root.fromJSON({
    nested: {
      k8s: { nested: { io: { nested: { apimachinery: { nested: { pkg: { nested: { runtime: { nested: { RawExtension: { fields: { raw: { type: 'bytes', id: 1 } } } } } } } } } } } } },
      test: { nested: { Holder: { fields } } },
    },
  });
  return root.lookupType('test.Holder');
}

test('RawExtension is the JSON its bytes hold; bytes fields are base64, and empty bytes omitempty leaves out', (t) => {
  const type = standalone({
    object: { type: 'k8s.io.apimachinery.pkg.runtime.RawExtension', id: 1, options: { '(go.json)': 'object' } },
    data: { type: 'bytes', id: 2, options: { '(go.json)': 'data,omitempty' } },
    empty: { type: 'bytes', id: 3, options: { '(go.json)': 'empty,omitempty' } },
  });
  const message = type.decode(encodeMessage(type, { object: { raw: Buffer.from('{"kind":"Pod","n":[1,2]}') }, data: Buffer.from([0, 1, 254, 255]), empty: Buffer.alloc(0) }));
  t.deepEqual(toJson(type, message), { object: { kind: 'Pod', n: [1, 2] }, data: 'AAH+/w==' });
});

test('a map key "__proto__" is refused, as in a JSON body', (t) => {
  const error = t.throws(() => roundTrip(`${CORE}.Pod`, { metadata: { name: 'x', labels: { ['__proto__']: 'yes', app: 'web' } } }), { instanceOf: ProtobufError });
  t.regex(error.message, /metadata\.labels: the forbidden key "__proto__"/);
  t.is(({} as any).yes, undefined);
});

test('an ephemeral container\'s common fields are inline, as in Kubernetes\' JSON', (t) => {
  t.deepEqual(roundTrip(`${CORE}.EphemeralContainer`, { ephemeralContainerCommon: { name: 'debug', image: 'busybox', stdin: true }, targetContainerName: 'app' }),
    { name: 'debug', image: 'busybox', stdin: true, targetContainerName: 'app' });
});

// ---- bodies kubectl 1.32 sent to kcs, byte for byte (captured on the server) ----------------

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** `kubectl create namespace team` */
const KUBECTL_NAMESPACE = hex('6b3873000a0f0a02763112094e616d657370616365121c0a140a047465616d12001a0022002a0032003800420012001a020a001a002200');
/** `kubectl debug node/n1 --image=busybox` */
const KUBECTL_DEBUG_POD = hex(`
  6b3873000a090a0276311203506f6412cc010a260a166e6f64652d64656275676765722d6e312d663264646b12001a002200
  2a00320038004200128f010a120a09686f73742d726f6f7412050a030a012f12450a08646562756767657212076275737962
  6f782a0042004a180a09686f73742d726f6f7410001a052f686f7374220032006a007200800100880100900100a201044669
  6c651a054e65766572320042004a0052026e315801600168018201008a01009a0100b2010e0a0012064578697374731a0022
  00c201001a100a001a0022002a0032004a005a0072001a002200`);
/** Each pod deletion of `kubectl drain --disable-eviction --grace-period=0` */
const KUBECTL_DELETE_OPTIONS = hex('6b3873000a130a027631120d44656c6574654f7074696f6e73120208001a002200');

test('kubectl\'s own bodies read as the JSON kubectl would have sent', (t) => {
  t.deepEqual(decodeProtobufObject(KUBECTL_NAMESPACE, [{ apiVersion: 'v1', kind: 'Namespace' }]),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' }, spec: {}, status: {} });
  t.deepEqual(decodeProtobufObject(KUBECTL_DEBUG_POD, [{ apiVersion: 'v1', kind: 'Pod' }]), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'node-debugger-n1-f2ddk' },
    spec: {
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      containers: [{ name: 'debugger', image: 'busybox', resources: {}, volumeMounts: [{ name: 'host-root', mountPath: '/host' }], terminationMessagePolicy: 'File' }],
      restartPolicy: 'Never', nodeName: 'n1', hostNetwork: true, hostPID: true, hostIPC: true, tolerations: [{ operator: 'Exists' }],
    },
    status: {},
  });
  // gracePeriodSeconds is a pointer: kubectl's 0 means "now", and stays.
  t.deepEqual(decodeProtobufObject(KUBECTL_DELETE_OPTIONS, [{ apiVersion: 'v1', kind: 'DeleteOptions' }]), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
});

test('a body built by the test encoder reads the same as the one kubectl sent', (t) => {
  const built = protobufBody({ apiVersion: 'v1', kind: 'Namespace' }, {
    metadata: { name: 'team', generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {} },
    spec: {}, status: { phase: '' },
  }, { contentEncoding: '', contentType: '' });
  t.deepEqual(decodeProtobufObject(built, [{ apiVersion: 'v1', kind: 'Namespace' }]), decodeProtobufObject(KUBECTL_NAMESPACE, [{ apiVersion: 'v1', kind: 'Namespace' }]));
});
