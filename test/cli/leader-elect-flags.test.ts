// `kcs up --leader-elect-*` against a real etcd: the timings reach the
// controllers' Lease; timings an elector cannot keep are refused before
// anything starts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestWithCa } from '../support/https-request.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { oneLine, runKcs, spawnKcs } from './helpers.ts';

const etcd = sharedEtcd();
const LISTENING = /kcs control plane listening on (https?:\/\/\S+)/;

etcdTest('kcs up --leader-elect-lease-duration 6s ... writes its Lease with that duration', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kcs-elect-flags-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--store', `etcd://${(await etcd()).endpoint}`, '--runtime', 'virtual', '--no-dashboard',
    '--leader-elect-lease-duration', '6s', '--leader-elect-renew-deadline', '4s', '--leader-elect-retry-period', '2s'], { stateDir });
  t.teardown(() => up.stop());
  const url = LISTENING.exec(await up.waitForOutput(LISTENING))![1]!;
  const lease = await requestWithCa(`${url}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kcs-controller-manager`, {
    ca: readFileSync(join(stateDir, 'pki', 'ca.crt'), 'utf8'),
    headers: { authorization: `Bearer ${readFileSync(join(stateDir, 'admin.token'), 'utf8').trim()}` },
  });
  t.is(lease.status, 200, lease.text);
  t.is(JSON.parse(lease.text).spec.leaseDurationSeconds, 6);
});

etcdTest('kcs up with a renew deadline past the lease duration is refused, naming the flags', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kcs-elect-flags-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const refused = await runKcs(['up', '--port', '0', '--state-dir', stateDir, '--store', `etcd://${(await etcd()).endpoint}`, '--runtime', 'virtual', '--leader-elect-renew-deadline', '5s'], { stateDir });
  t.is(refused.code, 2);
  t.regex(oneLine(refused.stderr), /--leader-elect-retry-period < --leader-elect-renew-deadline < --leader-elect-lease-duration \(got 1000 ms, 5000 ms, 4000 ms\)/);
});
