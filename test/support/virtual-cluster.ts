// A control plane with virtual nodes in this process (their pods run and
// listen here) and one 8-CPU node n1: for tests of controllers end to end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlaneOptions } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { VirtualRuntime } from '../../src/runtime/virtual.ts';

export async function virtualCluster(t: ExecutionContext, opts: Partial<ControlPlaneOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-virtual-'));
  const runtime = new VirtualRuntime({ transport: 'in-process' });
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, runtime, heartbeatMs: 500, ...opts });
  t.teardown(async () => { await cp.close(); await runtime.close(); rmSync(dir, { recursive: true, force: true }); });
  const c = cp.adminClient();
  await c.create(kindByName('Node')!, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '8', memory: '8Gi' } } });
  return { cp, c, runtime };
}
