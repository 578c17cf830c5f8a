// The kcs.io/calls annotation: which Services a pod calls, on which port, at
// what rate; and the one clear error admission gives for what does not parse.
import test from 'ava';
import { callsErrors, parseCalls, podCalls, CALLS_FIELD, MAX_CALLS } from '../../src/objects/pod-calls.ts';
import type { Pod } from '../../src/objects/types.ts';

const pod = (calls: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', annotations: { 'kcs.io/calls': calls } }, spec: { containers: [{ name: 'app' }] } });

test('a Service by name, in another namespace, by DNS name, with a port and a rate', (t) => {
  const { calls, errors } = parseCalls('backend, payments.shop:8080 5/s\naudit.ops.svc:http 30/m, db.data.svc.cluster.local 0.5/s');
  t.deepEqual(errors, []);
  t.deepEqual(calls, [
    { text: 'backend', service: 'backend', perSecond: 1 },
    { text: 'payments.shop:8080 5/s', service: 'payments', namespace: 'shop', port: 8080, perSecond: 5 },
    { text: 'audit.ops.svc:http 30/m', service: 'audit', namespace: 'ops', port: 'http', perSecond: 0.5 },
    { text: 'db.data.svc.cluster.local 0.5/s', service: 'db', namespace: 'data', perSecond: 0.5 },
  ]);
});

test('every problem is named, and a pod whose annotation does not parse calls nothing', (t) => {
  const { errors } = parseCalls('Backend, a.b.c, web:0, web:Not_A_Name, web 5, web 500/s, web 1/s extra');
  t.deepEqual(errors, [
    '"Backend" is not a Service name (a DNS-1035 label)',
    '"a.b.c": a Service is NAME or NAME.NAMESPACE (optionally .svc or .svc.cluster.local)',
    'port 0 is not between 1 and 65535',
    '"Not_A_Name" is not a port number or name',
    '"5": a rate is N/s or N/m (for example 5/s, 30/m)',
    'rate 500/s: must be above 0 and at most 100/s',
    '"web 1/s extra": expected TARGET [RATE]',
  ]);
  t.deepEqual(podCalls(pod('web, Backend')), []);
  t.deepEqual(parseCalls(' , ').errors, ['lists no Service to call']);
  t.regex(parseCalls(Array.from({ length: MAX_CALLS + 1 }, (_, i) => `s${i}`).join(',')).errors[0]!, /lists 11 calls; at most 10/);
});

test('admission gets one FieldValueInvalid on the annotation, listing the problems', (t) => {
  t.deepEqual(callsErrors(pod('web')), []);
  const [error, ...more] = callsErrors(pod('web 0/s'));
  t.deepEqual(more, []);
  t.is(error!.field, CALLS_FIELD);
  t.is(error!.reason, 'FieldValueInvalid');
  t.is(error!.message, 'Invalid value: "web 0/s": rate 0/s: must be above 0 and at most 100/s');
});
