// A real Prometheus scraping a real `kcs up`: over https, trusting the
// cluster CA, with the metrics reader's token file as `kcs up` printed it,
// every second; the answer read back through Prometheus' query API. The
// exposition also passes `promtool check metrics` (Prometheus' own lint).
// Without Debian's prometheus package the test is skipped, or fails when
// KCS_REQUIRE_PROMETHEUS=1 (CI), as the browser and Docker tests do.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext, type Implementation } from 'ava';
import { closedPort, runKcs, spawnKcs } from '../cli/helpers.ts';
import { eventually } from '../support/eventually.ts';
import { requestWithCa } from '../support/https-request.ts';

const PROMETHEUS = process.env.KCS_PROMETHEUS ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.KCS_PROMTOOL ?? '/usr/bin/promtool';
const available = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
const required = process.env.KCS_REQUIRE_PROMETHEUS === '1';

/** The whole wait, from starting Prometheus to its answer: scrapes come every second. */
const DEADLINE_MS = 60_000;

function prometheusOrSkip(title: string, impl: Implementation<[]>): void {
  if (available) test(title, impl);
  else if (required) test(title, (t) => t.fail(`KCS_REQUIRE_PROMETHEUS=1 but there is no prometheus and promtool at ${PROMETHEUS}, ${PROMTOOL} (install Debian's prometheus, or set KCS_PROMETHEUS and KCS_PROMTOOL)`));
  else test.skip(title, impl);
}

/** Starts Prometheus on a free loopback port; stopped by its PID (SIGTERM, then SIGKILL) at teardown. */
async function startPrometheus(t: ExecutionContext, dir: string, config: string): Promise<{ url: string; output: () => string }> {
  const port = await closedPort();
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn(PROMETHEUS, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL'); }, 10_000);
    await exited;
    clearTimeout(timer);
  });
  return { url: `http://127.0.0.1:${port}`, output: () => output };
}

interface QueryResult { metric: Record<string, string>; value: [number, string] }

async function query(prometheus: string, promql: string): Promise<QueryResult[]> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res?.ok) return [];
  const body = await res.json() as { status: string; data: { resultType: string; result: QueryResult[] } };
  return body.status === 'success' ? body.data.result : [];
}

prometheusOrSkip('Prometheus scrapes kcs over TLS with the metrics token, and its exposition passes promtool', async (t) => {
  t.timeout(DEADLINE_MS + 60_000);
  const root = mkdtempSync(join(tmpdir(), 'kcs-prometheus-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const stateDir = join(root, 'state');
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'virtual', '--heartbeat-ms', '500', '--no-dashboard']);
  t.teardown(() => up.stop().then(() => undefined));
  const printed = await up.waitForOutput(/metrics: +https:\S+\/metrics \(token for Prometheus: \S+\)/);
  const [, metricsUrl, tokenFile] = /metrics: +(https:\S+\/metrics) \(token for Prometheus: (\S+)\)/.exec(printed)!;
  t.is(tokenFile, join(stateDir, 'metrics.token'));
  const token = readFileSync(tokenFile!, 'utf8').trim();
  t.false(up.stdout.includes(token), 'kcs up says where the token is, not what it is');
  const ca = readFileSync(join(stateDir, 'pki', 'ca.crt'), 'utf8');

  const created = await runKcs(['create', 'node', 'n1', '--cpu', '2', '--memory', '1Gi'], { stateDir });
  t.is(created.code, 0, created.stderr);

  // Prometheus' own lint of what kcs serves: names, types, help texts.
  const scraped = await requestWithCa(metricsUrl!, { ca, headers: { authorization: `Bearer ${token}` } });
  t.is(scraped.status, 200);
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scraped.text, encoding: 'utf8' });
  t.is(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
  t.is(`${lint.stdout}${lint.stderr}`.trim(), '', 'no problems');

  const { host } = new URL(metricsUrl!);
  const promDir = join(root, 'prometheus');
  mkdirSync(promDir);
  const prometheus = await startPrometheus(t, promDir, [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: kcs',
    '    scheme: https',
    '    metrics_path: /metrics',
    '    tls_config:',
    `      ca_file: ${JSON.stringify(join(stateDir, 'pki', 'ca.crt'))}`,
    '    authorization:',
    `      credentials_file: ${JSON.stringify(tokenFile)}`,
    '    static_configs:',
    `      - targets: [${JSON.stringify(host)}]`,
    '',
  ].join('\n'));

  const ready = await eventually(() => `Prometheus to report kcs_nodes{condition="Ready"} = 1\n${prometheus.output()}`, async () => {
    const [sample] = await query(prometheus.url, 'kcs_nodes{job="kcs",condition="Ready"}');
    return sample?.value[1] === '1' ? sample : undefined;
  }, DEADLINE_MS);
  t.is(ready.metric.instance, host);
  const [upSample] = await query(prometheus.url, 'up{job="kcs"}');
  t.is(upSample?.value[1], '1', 'the target is up: TLS and the token were accepted');
  const posted = await query(prometheus.url, 'apiserver_request_total{job="kcs",verb="POST",resource="nodes",code="201"}');
  t.is(posted[0]?.value[1], '1', 'the node kcs create node made');
});
