// On etcd every write of one commit shares a revision. An informer whose
// watch is cut between two events of such a commit (its API server killed
// mid-stream) must still end up with all of them: resumed from the revision
// of the event it last saw, the server would send only what came after it.
// Real parts: a kcs API server on a real etcd, the HTTP client, and a TCP
// proxy between them that cuts the watch's connection right after the first
// event of the commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Client } from '../../src/client/http.ts';
import { Informer, RevisionsSeen } from '../../src/client/informer.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const POD = kindByName('Pod')!;
const etcd = sharedEtcd();
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

interface CuttingProxy {
  url: string;
  /** The name of the object whose event was the last through before the cut, once cut. */
  cutAfter?: string;
  /** Every watch request line seen (method, path and query). */
  watches: string[];
}

/**
 * Forwards loopback connections to target. The first time a response
 * carries an event of one of the names, it forwards up to the end of that
 * event's line and then drops both sides: what a client sees when its
 * server dies between two events.
 */
async function cuttingProxy(t: ExecutionContext, target: URL, names: string[]): Promise<CuttingProxy> {
  const proxy: CuttingProxy = { url: '', watches: [] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { /* the other side went: the cut, or the test's end */ });
    }
    client.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').split('\r\n')) if (/^GET \S*watch=/.test(line)) proxy.watches.push(line);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const hit = proxy.cutAfter === undefined ? names.map((name) => ({ name, at: text.indexOf(`"name":"${name}"`) })).filter((h) => h.at >= 0).sort((a, b) => a.at - b.at)[0] : undefined;
      if (!hit) {
        client.write(chunk);
        return;
      }
      proxy.cutAfter = hit.name;
      const lineEnd = text.indexOf('\n', hit.at);
      client.write(chunk.subarray(0, lineEnd + 1), () => { client.destroy(); upstream.destroy(); });
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}

etcdTest('an informer whose watch is cut between two events of one commit on etcd resumes from the revision before it, and reports each object once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-informer-resume-'));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${(await etcd()).endpoint}`, host: '127.0.0.1', port: 0, leaderElection: false, tls: false, log: () => {} });
  t.teardown(async () => { await cp.close(); rmSync(dir, { recursive: true, force: true }); });
  const names = ['resume-a', 'resume-b', 'resume-c'];
  const proxy = await cuttingProxy(t, new URL(cp.url), names);
  const direct = new Client({ server: cp.url, token: cp.adminToken });
  const through = new Client({ server: proxy.url, token: cp.adminToken });
  t.teardown(() => { direct.close(); through.close(); });

  const informer = new Informer<KubeObject>(through, POD, { namespace: 'default', relistDelayMs: 50 });
  const added: string[] = [];
  const updated: string[] = [];
  informer.on({ add: (o) => added.push(o.metadata.name!), update: (_p, o) => updated.push(o.metadata.name!) });
  await informer.start();
  t.teardown(() => informer.stop());

  const created = await direct.commit(names.map((name) => ({ verb: 'create' as const, kind: POD, object: pod(name) })));
  const revisions = new Set(created.map((o) => o.metadata.resourceVersion));
  t.is(revisions.size, 1, 'etcd commits the three creates at one revision');
  const [revision] = revisions;

  await eventually('every pod of the commit in the informer', () => names.every((n) => informer.get(`default/${n}`)));
  t.truthy(proxy.cutAfter, 'the watch was cut inside the commit');
  t.is(proxy.watches.length, 2, 'one watch cut, one resumed');
  const resumedFrom = new URLSearchParams(proxy.watches[1]!.split(' ')[1]!.split('?')[1]).get('resourceVersion');
  t.true(Number(resumedFrom) < Number(revision), `resumed from ${resumedFrom}, before the commit's revision ${revision}`);
  t.deepEqual([...added].sort(), names, 'each pod added once, the one seen before the cut included');
  t.deepEqual(updated, [], 'the event sent again is not reported as a change');
  for (const name of names) t.is(informer.get(`default/${name}`)?.metadata.resourceVersion, revision);
});

test('a revision is whole once an event of a later one or a bookmark has come', (t) => {
  const seen = new RevisionsSeen('10');
  seen.saw('11', false);
  t.is(seen.whole, '10', 'more of 11 may come');
  seen.saw('11', false);
  t.is(seen.whole, '10');
  seen.saw('12', false);
  t.is(seen.whole, '11', 'an event of 12: all of 11 was sent');
  seen.saw('15', true);
  t.is(seen.whole, '15', 'a bookmark comes between revisions');
  seen.saw(undefined, false);
  t.is(seen.whole, '15');
  seen.saw('16', false);
  t.is(seen.whole, '15');
});
