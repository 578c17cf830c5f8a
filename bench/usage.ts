// What usage costs a node agent per heartbeat, for a full node (110 pods,
// two containers each), side by side with what a heartbeat costs without it
// (the Lease renewal every agent already sends):
//   compute   UsageModel over every pod (their kcs.io/usage profiles: a mix
//             of constant, percentage, sine, ramp, spike and random walk)
//   encode    the report as JSON, and its size
//   send      the report POSTed over https with the node's token, parsed,
//             checked and recorded by the API server (same process here)
//   lease     the Lease renewal alone (the heartbeat without usage)
// The agent's clock is a FakeClock moved one heartbeat per report, so every
// report computes a new second of every profile. The control plane runs in
// this process (https, the cluster CA), so send includes the server's side.
//
//   node bench/usage.ts [--pods 110] [--reports 500]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeAgent } from '../src/agent/agent.ts';
import { Client } from '../src/client/http.ts';
import { startControlPlane } from '../src/control-plane.ts';
import { kindByName } from '../src/objects/kinds.ts';
import { FakeClock } from '../src/util/clock.ts';
import { intOpt, msSince, printTable, round, summarize } from './lib.ts';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const PODS = intOpt(opt('pods'), 'pods', 110, 1, 1000);
const REPORTS = intOpt(opt('reports'), 'reports', 500, 10, 100_000);

const PROFILES = [
  '{cpu: 250m, memory: 128Mi}',
  '{cpu: 80%, memory: 60%}',
  '{cpu: sine min=100m max=400m period=60s, memory: ramp from=64Mi to=256Mi over=5m}',
  '{cpu: walk min=50m max=450m step=25m every=1s seed=7, memory: 100Mi}',
  '{cpu: spike base=100m peak=900m at=30s for=10s, sidecar: {cpu: 5m, memory: 16Mi}}',
  undefined, // the default: half of each request
];

const dir = mkdtempSync(join(tmpdir(), 'kcs-bench-usage-'));
const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, tls: true });
try {
  const admin = cp.adminClient();
  await admin.create(kindByName('Node')!, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '64', memory: '256Gi', pods: String(PODS) } } });
  const POD = kindByName('Pod')!;
  for (let i = 0; i < PODS; i++) {
    const usage = PROFILES[i % PROFILES.length];
    await admin.create(POD, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, ...(usage ? { annotations: { 'kcs.io/usage': usage } } : {}) },
      spec: { nodeName: 'n1', containers: [{ name: 'app', resources: { requests: { cpu: '200m', memory: '128Mi' } } }, { name: 'sidecar', resources: { requests: { cpu: '10m', memory: '32Mi' } } }] },
    });
  }
  const clock = new FakeClock();
  const client = new Client({ server: cp.url, token: cp.nodeTokens.tokenFor('n1'), ca: cp.caPem });
  const agent = new NodeAgent({ client, nodeName: 'n1', clock, heartbeatMs: 1000 });
  await agent.start();
  // Until the agent has confirmed every pod Running (reports carry Running pods only).
  while (agent.hostedPods().filter((p) => p.status?.phase === 'Running').length < PODS) await new Promise((r) => setTimeout(r, 20));

  const compute: number[] = [];
  const encode: number[] = [];
  const send: number[] = [];
  const lease: number[] = [];
  let bytes = 0;
  const cpuBefore = process.cpuUsage();
  let reportCpuUs = 0;
  for (let i = 0; i < REPORTS; i++) {
    clock.advance(1000);
    const cpu0 = process.cpuUsage();
    let t = process.hrtime.bigint();
    const report = agent.usageReport();
    compute.push(msSince(t) * 1000);
    t = process.hrtime.bigint();
    bytes = JSON.stringify(report).length;
    encode.push(msSince(t) * 1000);
    t = process.hrtime.bigint();
    await client.reportUsage(report);
    send.push(msSince(t));
    const cpu1 = process.cpuUsage(cpu0);
    reportCpuUs += cpu1.user + cpu1.system;
    t = process.hrtime.bigint();
    await agent.heartbeat();
    lease.push(msSince(t));
  }
  const total = process.cpuUsage(cpuBefore);
  agent.stop();
  client.close();
  const s = { compute: summarize(compute), encode: summarize(encode), send: summarize(send), lease: summarize(lease) };
  console.log(`usage per heartbeat for ${PODS} pods (${PODS * 2} containers), ${REPORTS} reports:`);
  printTable([
    ['step', 'p50', 'p99', 'max'],
    ['compute (µs)', round(s.compute.p50), round(s.compute.p99), round(s.compute.max)],
    ['encode JSON (µs)', round(s.encode.p50), round(s.encode.p99), round(s.encode.max)],
    ['send + server records (ms)', round(s.send.p50), round(s.send.p99), round(s.send.max)],
    ['lease renewal alone (ms)', round(s.lease.p50), round(s.lease.p99), round(s.lease.max)],
  ]);
  const cpuPerReportMs = reportCpuUs / REPORTS / 1000;
  console.log(`report size: ${(bytes / 1024).toFixed(1)} KiB; CPU per report, agent and server together: ${round(cpuPerReportMs)} ms; whole run CPU ${round((total.user + total.system) / 1e6)} s`);
  console.log(JSON.stringify({ bench: 'usage', pods: PODS, reports: REPORTS, bytes, cpuPerReportMs: round(cpuPerReportMs), ...s }));
} finally {
  await cp.close();
  rmSync(dir, { recursive: true, force: true });
}
