// The service proxy over real loopback sockets: a Service's cluster IP and
// port answer through its ready endpoints, round-robin, least-connections
// or random; an endpoint not ready is never used; one that refuses is
// counted and the next one answers; the caller's address reaches the pod.
import test from 'ava';
import { createServer, request, type Server } from 'node:http';
import type { Informer } from '../../src/client/informer.ts';
import { Balancer, ServiceProxy } from '../../src/controllers/service-proxy.ts';
import type { EndpointSlice } from '../../src/objects/endpoint-slices.ts';
import type { Service } from '../../src/objects/services.ts';

/** What the proxy reads of an informer: list and get by namespace/name. */
function informer<T extends Service | EndpointSlice>(items: T[]): Informer<T> {
  const indexes = new Map<string, (obj: T) => string | undefined>();
  return {
    list: () => items, get: (key: string) => items.find((i) => `${i.metadata.namespace}/${i.metadata.name}` === key),
    hasIndex: (name: string) => indexes.has(name), addIndex: (name: string, valueOf: (obj: T) => string | undefined) => indexes.set(name, valueOf),
    byIndex: (name: string, value: string) => items.filter((i) => indexes.get(name)?.(i) === value),
  } as unknown as Informer<T>;
}

/** A pod's listener: answers with its name and who called. */
async function podServer(ip: string, name: string): Promise<Server> {
  const server = createServer((req, res) => res.end(JSON.stringify({ pod: name, client: req.socket.remoteAddress })));
  await new Promise<void>((r) => server.listen(18080, ip, r));
  return server;
}

function get(ip: string, port: number, localAddress?: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ip, port, agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve(JSON.parse(t)));
    });
    r.on('error', reject);
    r.end();
  });
}

const service = (annotations: Record<string, string> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', annotations },
  spec: { clusterIP: '127.32.9.9', ports: [{ name: 'http', port: 18081, protocol: 'TCP', targetPort: 'http' }] },
});
const slice = (endpoints: Array<[string, string, boolean]>): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
  ports: [{ name: 'http', port: 18080, protocol: 'TCP' }],
  addressType: 'IPv4',
  endpoints: endpoints.map(([ip, pod, ready]) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', name: pod, namespace: 'default', uid: pod } })),
});

test('round-robin over the ready endpoints; a not-ready one is never used; a refusing one is skipped and counted; the caller\'s address reaches the pod', async (t) => {
  const servers = await Promise.all([podServer('127.64.200.1', 'a'), podServer('127.64.200.2', 'b'), podServer('127.64.201.1', 'c')]);
  t.teardown(() => { for (const s of servers) s.close(); });
  const slices = [slice([['127.64.200.1', 'a', true], ['127.64.200.2', 'b', true], ['127.64.201.1', 'c', true], ['127.64.201.2', 'unready', false]])];
  const proxy = new ServiceProxy({ services: informer([service()]), slices: informer(slices) });
  proxy.sync();
  t.teardown(() => proxy.stop());
  t.deepEqual(proxy.addresses(), ['127.32.9.9:18081']);
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push((await get('127.32.9.9', 18081)).pod);
  t.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);

  // A pod from another address calls: the pod sees that address, not the proxy's.
  t.is((await get('127.32.9.9', 18081, '127.64.77.7')).client, '127.64.77.7');

  // c stops listening (its node died, the slice not yet updated): skipped, counted.
  await new Promise<void>((r) => servers[2]!.close(() => r()));
  const after: string[] = [];
  for (let i = 0; i < 4; i++) after.push((await get('127.32.9.9', 18081)).pod);
  t.false(after.includes('c'));
  t.true(proxy.stats.refused >= 1);
});

test('least-connections sends a new connection to the endpoint with the fewest open; random follows its source of randomness', (t) => {
  const backends = [{ ip: '127.64.0.1', port: 80 }, { ip: '127.64.0.2', port: 80 }, { ip: '127.64.0.3', port: 80 }];
  const b = new Balancer();
  b.active.set('127.64.0.1:80', 3);
  b.active.set('127.64.0.2:80', 1);
  b.active.set('127.64.0.3:80', 2);
  t.is(b.pick('least-connections', backends)!.ip, '127.64.0.2');
  b.active.set('127.64.0.2:80', 5);
  t.is(b.pick('least-connections', backends)!.ip, '127.64.0.3');
  t.is(b.pick('random', backends, () => 0.99)!.ip, '127.64.0.3');
  t.is(b.pick('random', backends, () => 0)!.ip, '127.64.0.1');
  t.is(b.pick('round-robin', []), undefined, 'no endpoint, no choice');
});

test('a Service gone, or its cluster IP none (headless), is not listened for', (t) => {
  const headless: Service = { ...service(), spec: { ...service().spec, clusterIP: 'None' } };
  const proxy = new ServiceProxy({ services: informer([headless]), slices: informer<EndpointSlice>([]) });
  proxy.sync();
  t.deepEqual(proxy.addresses(), []);
  proxy.stop();
});
