// Pods that call: a running pod's kcs.io/calls are sent at their rate (on
// the agent's injected clock) from the pod's own address to the Service's
// cluster IP and port, and what they meet is counted by serving pod and by
// error; a pod that stops running stops calling. The "cluster IP" here is a
// plain server standing in for the service proxy: what is under test is the
// caller, not the proxy.
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PodCallers } from '../../src/agent/pod-callers.ts';
import type { Service } from '../../src/objects/services.ts';
import type { Pod } from '../../src/objects/types.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { eventually } from '../support/eventually.ts';

const POD_IP = '127.64.200.7';

function caller(name: string, calls: string, phase: NonNullable<Pod['status']>['phase'] = 'Running'): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', uid: `uid-${name}`, annotations: { 'kcs.io/calls': calls } },
    spec: { containers: [{ name: 'app' }] }, status: { phase, podIP: POD_IP },
  };
}

/** A server that answers as a pod behind a Service would, and remembers who called. */
async function upstream(t: import('ava').ExecutionContext) {
  const callers: string[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    callers.push(String(req.socket.remoteAddress));
    res.writeHead(200, { 'x-kcs-pod': `shop/backend-${(n++ % 2) + 1}` });
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as AddressInfo).port, callers };
}

function service(name: string, port: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: '127.0.0.1', ports: [{ name: 'http', port }] } };
}

test('calls go at their rate from the pod\'s address, and each answer is counted by the pod that gave it', async (t) => {
  const { port, callers } = await upstream(t);
  const clock = new FakeClock();
  const looked: string[] = [];
  const callersOf = new PodCallers({ clock, lookup: async (ns, name) => { looked.push(`${ns}/${name}`); return name === 'backend' ? service('backend', port) : undefined; } });
  t.teardown(() => callersOf.stop());
  callersOf.sync([caller('front', 'backend:http 4/s, missing 2/s')]);
  clock.advance(1000);
  await eventually('the second\'s calls answered', () => callersOf.reportsFor('uid-front')[0]!.answered === 4);
  const [backend, missing] = callersOf.reportsFor('uid-front');
  t.like(backend, { call: 'backend:http 4/s', perSecond: 4, sent: 4, answered: 4 });
  t.deepEqual(backend!.errors, {});
  t.deepEqual(backend!.byPod, { 'shop/backend-1': 2, 'shop/backend-2': 2 });
  t.true(backend!.latencyMs!.p99 >= backend!.latencyMs!.p50);
  t.deepEqual(callers, Array(4).fill(POD_IP), 'every request from the pod\'s own address');
  t.like(missing, { sent: 2, answered: 0 });
  t.deepEqual(missing!.errors, { ServiceNotFound: 2 });
  t.deepEqual(missing!.byPod, {});
  t.deepEqual([...new Set(looked)].sort(), ['shop/backend', 'shop/missing'], 'each Service read in the pod\'s namespace');

  clock.advance(2000);
  await eventually('two more seconds of calls answered', () => callersOf.reportsFor('uid-front')[0]!.answered === 12);
  t.is(looked.filter((l) => l === 'shop/backend').length, 1, 'a Service looked up is used for a while, not read on every call');
});

test('a port the Service does not have is an error, and a pod that stops running stops calling', async (t) => {
  const { port } = await upstream(t);
  const clock = new FakeClock();
  const callersOf = new PodCallers({ clock, lookup: async () => service('backend', port) });
  t.teardown(() => callersOf.stop());
  callersOf.sync([caller('front', 'backend:grpc 1/s'), caller('idle', 'backend', 'Pending')]);
  t.is(callersOf.callerCount(), 1, 'only the running pod calls');
  clock.advance(1000);
  await eventually('the call counted', () => callersOf.reportsFor('uid-front')[0]?.sent === 1);
  t.deepEqual(callersOf.reportsFor('uid-front')[0]!.errors, { NoSuchPort: 1 });

  callersOf.sync([caller('front', 'backend:grpc 1/s', 'Succeeded')]);
  t.is(callersOf.callerCount(), 0);
  t.is(clock.pending, 0, 'no timer left behind');
  t.deepEqual(callersOf.reportsFor('uid-front'), []);
});
