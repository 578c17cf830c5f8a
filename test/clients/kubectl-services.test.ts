// Services with the real kubectl against `kcs up`: `kubectl create service`
// makes one with a cluster IP from 127.32.0.0/16, `get svc` shows it in
// kubectl's columns, `get endpointslices` lists the slice the endpoints
// controller keeps for it, and `describe svc` pages it.
import test from 'ava';
import { join } from 'node:path';
import { parseTable, sharedServer } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { kubectlFor, kubectlOrSkip, type KubectlRunner } from './kubectl.ts';

const server = sharedServer(test);
const kt = kubectlOrSkip(test);
let runner: KubectlRunner | undefined;
const kubectl = (args: string[]) => (runner ??= kubectlFor(join(server().stateDir, 'kubeconfig')))(args);
test.after.always(() => runner?.cleanup());

kt('kubectl create service clusterip gets a loopback cluster IP; get svc, get endpointslices and describe svc show it', async (t) => {
  const created = await kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /service\/web created/);

  const svc = await kubectl(['get', 'svc', 'web']);
  t.is(svc.code, 0, svc.stderr);
  const [row] = parseTable(svc.stdout);
  t.like(row, { NAME: 'web', TYPE: 'ClusterIP', 'EXTERNAL-IP': '<none>', 'PORT(S)': '80/TCP' });
  t.regex(row!['CLUSTER-IP']!, /^127\.32\.\d{1,3}\.\d{1,3}$/);
  const wide = parseTable((await kubectl(['get', 'svc', 'web', '-o', 'wide'])).stdout);
  t.is(wide[0]!.SELECTOR, 'app=web');

  const slices = await eventually('the Service\'s EndpointSlice', async () => {
    const r = await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
    return r.code === 0 && parseTable(r.stdout).length === 1 ? r : undefined;
  });
  t.deepEqual(slices.stdout.split('\n')[0]!.split(/\s{2,}/).map((h) => h.trim()), ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  const [slice] = parseTable(slices.stdout);
  t.regex(slice!.NAME!, /^web-[a-z0-9]{5}$/);
  t.is(slice!.ADDRESSTYPE, 'IPv4');

  const described = await kubectl(['describe', 'svc', 'web']);
  t.is(described.code, 0, described.stderr);
  t.regex(described.stdout, /^Name:\s+web$/m);
  t.regex(described.stdout, /^Selector:\s+app=web$/m);
  t.regex(described.stdout, new RegExp(`^IP:\\s+${row!['CLUSTER-IP']!.replace(/\./g, '\\.')}$`, 'm'));
  t.regex(described.stdout, /^TargetPort:\s+8080\/TCP$/m);
});
