// Controllers in their own process: over HTTP with the admin token, asking
// the server for each agent's token (POST /api/v1/nodes/{name}/token).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startControlPlane } from '../../src/control-plane.ts';
import { Client } from '../../src/client/http.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { Node } from '../../src/objects/types.ts';
import { selectRuntime } from '../../src/runtime/select.ts';
import { eventually } from '../support/eventually.ts';
import { requestWithCa } from '../support/https-request.ts';

const NODE = kindByName('Node')!;

test('controllers running against a remote API over TLS make its Nodes Ready, their agents trusting the cluster CA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-remote-'));
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  t.regex(cp.url, /^https:/);
  const admin = new Client({ server: cp.url, token: cp.adminToken, ca: cp.caPem });
  // What kcs controllers builds: virtual agents over HTTP.
  const { runtime } = await selectRuntime('virtual', { clusterId: 'remote', log: () => {}, virtualTransport: 'http' });
  if (!runtime) throw new Error('no runtime');
  const controllers = await startControllers({
    client: admin, runtime, server: cp.url, ca: cp.caPem, heartbeatMs: 500,
    tokenFor: async (name) => (await admin.request<{ status: { token: string } }>('POST', `/api/v1/nodes/${name}/token`, {})).body.status.token,
  });
  t.teardown(async () => {
    await controllers.stop();
    await runtime.close();
    admin.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await admin.create(NODE, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'r1' }, spec: { capacity: { cpu: '2' } } });
  const node = await eventually('r1 Ready, with a machine', async () => {
    const n = await admin.get<Node>(NODE, undefined, 'r1');
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n.status.containerID ? n : undefined;
  });
  t.regex(node.status?.containerID ?? '', /^virtual:\/\/r1\//);
  const version = JSON.parse((await requestWithCa(`${cp.url}/version`, { ca: cp.caPem })).text) as { clusterId?: string };
  t.regex(version.clusterId ?? '', /^[0-9a-f]{8}$/, 'the id kcs controllers labels containers with');
});

test('only an admin may request a node token, and only for a Node that exists', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-remote-'));
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(async () => { await cp.close(); rmSync(dir, { recursive: true, force: true }); });
  const post = (token: string, name: string) => fetch(`${cp.url}/api/v1/nodes/${name}/token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  t.is((await post(cp.adminToken, 'missing')).status, 404);
  await fetch(`${cp.url}/api/v1/nodes`, { method: 'POST', headers: { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } }) });
  const ok = await post(cp.adminToken, 'n1');
  t.is(ok.status, 201);
  const token = ((await ok.json()) as { status: { token: string } }).status.token;
  t.is(token, cp.nodeTokens.tokenFor('n1'));
  t.is((await post(token, 'n1')).status, 403, 'a node may not mint tokens, even its own');
});
