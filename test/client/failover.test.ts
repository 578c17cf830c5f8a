// A client given several API servers of one cluster (two kcs servers on one
// etcd, sharing their identity) keeps working when one goes away: a server
// that refuses connections is passed over at once, a read cut off midway is
// sent again to the next, and a watch that ends with its server is asked
// again of the next one.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Client, ConnectionError } from '../../src/client/http.ts';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { WatchEvent } from '../../src/objects/types.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const NAMESPACE = kindByName('Namespace')!;
const etcd = sharedEtcd();

/** A server on the shared etcd, closed once: by the test, or when it ends. */
async function server(t: ExecutionContext): Promise<{ cp: ControlPlane; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-client-failover-'));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, leaderElection: false, log: () => {} });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= cp.close());
  t.teardown(async () => { await close(); rmSync(dir, { recursive: true, force: true }); });
  return { cp, close };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

etcdTest('a server that refuses connections is passed over, for reads and writes alike', async (t) => {
  const b = await server(t);
  const gone = `http://127.0.0.1:${await closedPort()}`;
  const client = new Client({ server: `${gone}, ${b.cp.url}/`, token: b.cp.adminToken });
  t.teardown(() => client.close());
  t.is(client.server, `${gone},${b.cp.url}`, 'it keeps every server it was given, to hand on');
  await client.create(NAMESPACE, undefined, ns('through-b'));
  t.is((await client.get(NAMESPACE, undefined, 'through-b')).metadata.name, 'through-b');
});

etcdTest('when the server in use goes away, the next request goes to the other, and a watch asked again follows', async (t) => {
  const a = await server(t);
  const b = await server(t);
  t.is(a.cp.adminToken, b.cp.adminToken, 'one identity: one token for both');
  const client = new Client({ server: `${a.cp.url},${b.cp.url}`, token: a.cp.adminToken });
  t.teardown(() => client.close());

  await client.create(NAMESPACE, undefined, ns('before'));
  const seen: WatchEvent[] = [];
  const first = client.watch(NAMESPACE, undefined, { resourceVersion: '0' }, (e) => seen.push(e));
  await a.close();
  // The watch ends with its server: an informer would ask again, as here.
  await first.done.catch(() => {});
  const list = await client.list(NAMESPACE);
  t.true(list.items.some((n) => n.metadata.name === 'before'), 'the read went to the other server');
  const second = client.watch(NAMESPACE, undefined, { resourceVersion: list.metadata.resourceVersion }, (e) => seen.push(e));
  t.teardown(() => second.stop());
  await client.create(NAMESPACE, undefined, ns('after'));
  await eventually('the watch asked again of the other server sees the write', () => seen.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'after'));
  t.pass();
});

test('with every server gone, the error names the connection', async (t) => {
  const client = new Client({ server: `http://127.0.0.1:${await closedPort()},http://127.0.0.1:${await closedPort()}` });
  t.teardown(() => client.close());
  await t.throwsAsync(client.list(NAMESPACE), { instanceOf: ConnectionError });
});

test('servers mixing http and https are refused', (t) => {
  t.throws(() => new Client({ server: 'http://127.0.0.1:1,https://127.0.0.1:2' }), { message: /mix http and https/ });
});
