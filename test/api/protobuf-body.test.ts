// The protobuf envelope: the "k8s\0" prefix, runtime.Unknown, and the
// typeMeta that must name a type the endpoint reads. Everything malformed is
// a 400 ApiError (never a crash), saying what is wrong.
import test from 'ava';
import { ApiError } from '../../src/api/errors.ts';
import { decodeProtobufObject } from '../../src/api/protobuf-body.ts';
import { BINDING_BODY_TYPES, deleteOptionsTypes, objectBodyTypes, ROOT_MESSAGES } from '../../src/api/protobuf-kinds.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { envelopeBody, messageType, protobufBody } from '../support/protobuf.ts';

const NAMESPACE = [{ apiVersion: 'v1', kind: 'Namespace' }];
const namespace = (name: string) => ({ metadata: { name } });

function refused(t: import('ava').ExecutionContext, data: Uint8Array, message: RegExp, expected = NAMESPACE): void {
  const error = t.throws(() => decodeProtobufObject(data, expected), { instanceOf: ApiError });
  t.is(error.code, 400);
  t.is(error.reason, 'BadRequest');
  t.regex(error.message, message);
}

test('a well-formed body reads with its typeMeta as apiVersion and kind', (t) => {
  t.deepEqual(decodeProtobufObject(protobufBody(NAMESPACE[0]!, namespace('team')), NAMESPACE), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
});

test('a typeMeta without kind or apiVersion takes the endpoint\'s, as Kubernetes defaults it from the URL', (t) => {
  const raw = messageType('k8s.io.api.core.v1.Namespace').encode({ metadata: { name: 'team' } }).finish();
  t.like(decodeProtobufObject(envelopeBody(raw, {}), NAMESPACE), { apiVersion: 'v1', kind: 'Namespace' });
  t.like(decodeProtobufObject(envelopeBody(raw, { typeMeta: { kind: 'Namespace' } }), NAMESPACE), { apiVersion: 'v1', kind: 'Namespace' });
});

test('an empty body, a bad prefix, or a prefix alone is refused', (t) => {
  refused(t, new Uint8Array(), /the request body is empty/);
  refused(t, Buffer.from('{"kind":"Namespace"}'), /does not appear to be a protobuf message: it must start with the prefix \[107 56 115 0\]/);
  refused(t, Buffer.from('k8s'), /does not appear to be a protobuf message/);
  refused(t, Buffer.from('k8s\0'), /nothing follows the "k8s\\0" prefix/);
});

test('a truncated envelope, a truncated object, and a length past the end are refused', (t) => {
  const whole = protobufBody(NAMESPACE[0]!, namespace('team'));
  refused(t, whole.subarray(0, whole.length - 3), /not a valid protobuf envelope \(runtime\.Unknown\): index out of range/);
  // An envelope whose raw object is cut short: the object's own length runs past its bytes.
  const raw = messageType('k8s.io.api.core.v1.Namespace').encode({ metadata: { name: 'team' } }).finish();
  refused(t, envelopeBody(raw.subarray(0, raw.length - 2), { typeMeta: NAMESPACE[0] }), /not a valid protobuf Namespace: index out of range/);
  // Field 2 (raw), wire type 2, length 2^32 - 1 in a body of a few bytes.
  refused(t, Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), /not a valid protobuf envelope.*index out of range/);
});

test('wire types protobuf does not have, and groups nested past the limit, are refused', (t) => {
  // Field 5 (not the envelope's), wire type 7.
  refused(t, Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x2f]), /not a valid protobuf envelope \(runtime\.Unknown\): invalid wire type 7/);
  // Field 5 opening 100,000 nested groups: skipping them stops at protobufjs's recursion limit, not the stack's.
  refused(t, Buffer.concat([Buffer.from('k8s\0'), Buffer.alloc(100_000, 0x2b)]), /not a valid protobuf envelope \(runtime\.Unknown\): maximum nesting depth exceeded/);
});

test('a body of another kind than the endpoint reads is refused naming both', (t) => {
  refused(t, protobufBody({ apiVersion: 'v1', kind: 'Pod' }, { metadata: { name: 'web' } }), /holds v1 Pod; this endpoint reads v1 Namespace$/);
  refused(t, protobufBody({ apiVersion: 'v1', kind: 'Namespace' }, namespace('x')), /holds v1 Namespace; this endpoint reads v1 Binding$/, [...BINDING_BODY_TYPES]);
});

test('a kind kcs does not read in protobuf is refused saying so', (t) => {
  const raw = messageType('k8s.io.api.core.v1.Namespace').encode({ metadata: { name: 'team' } }).finish();
  refused(t, envelopeBody(raw, { typeMeta: { apiVersion: 'apps/v1', kind: 'Deployment' } }), /holds apps\/v1 Deployment, which kcs does not read in protobuf; this endpoint reads v1 Namespace/);
  refused(t, envelopeBody(raw, { typeMeta: { apiVersion: 'v2', kind: 'Namespace' } }), /holds v2 Namespace, which kcs does not read in protobuf/);
});

test('an envelope with a content encoding, or an object that is not protobuf, is refused', (t) => {
  refused(t, protobufBody(NAMESPACE[0]!, namespace('team'), { contentEncoding: 'gzip' }), /content encoding "gzip" is not supported/);
  refused(t, protobufBody(NAMESPACE[0]!, namespace('team'), { contentType: 'application/json' }), /content type "application\/json" is not supported/);
});

test('an object nested deeper than a JSON body may be is refused', (t) => {
  // FieldsV1 holds JSON: 100 levels of it in a managedFields entry.
  const deep = '{"a":'.repeat(100) + '{}' + '}'.repeat(100);
  const body = protobufBody(NAMESPACE[0]!, { metadata: { name: 'x', managedFields: [{ manager: 'm', fieldsV1: { Raw: Buffer.from(deep) } }] } });
  refused(t, body, /cannot be read: metadata\.managedFields\[0\]\.fieldsV1: .*deeper than 64 levels/);
});

test('what each endpoint reads: the served core kinds and Lease, their DeleteOptions; kcs.io kinds nothing', (t) => {
  for (const name of ['Namespace', 'Node', 'Pod', 'Event', 'Lease']) {
    const kind = kindByName(name)!;
    t.deepEqual(objectBodyTypes(kind), [{ apiVersion: kind.apiVersion, kind: name }]);
    t.deepEqual(deleteOptionsTypes(kind), [{ apiVersion: kind.apiVersion, kind: 'DeleteOptions' }, { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' }]);
  }
  t.deepEqual(objectBodyTypes(kindByName('SchedulerConfiguration')!), []);
  t.deepEqual(deleteOptionsTypes(kindByName('SchedulerConfiguration')!), []);
  // Every message named is in the descriptor.
  for (const name of ROOT_MESSAGES) t.notThrows(() => messageType(name), name);
});
