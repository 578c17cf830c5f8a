// The dashboard end to end, with every part real: `kcs up` with Docker
// nodes, the kcs CLI, `docker kill`, and chromium opening the address kcs up
// printed. Screenshots of each stage go to test-artifacts/dashboard.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { runKcs, spawnKcs } from '../cli/helpers.ts';
import { clusterContainers, docker, dockerOrSkip } from '../docker/helpers.ts';
import { browserOrSkip, openBrowser, screenshot } from './browser.ts';

const browserAndDocker = browserOrSkip(test, dockerOrSkip(test));

/** Long enough for a container node to start, fail and have its pods move. */
const STEP_MS = 30_000;

browserAndDocker('the dashboard shows nodes and pods live, what nodes use, a failed node\'s pods moving, the scheduler\'s decision, and adds a node from the page', async (t) => {
  t.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'kcs-dashboard-e2e-'));
  const stateDir = join(root, 'state');
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'docker']);
  t.teardown(async () => {
    await up.stop();
    const clusterId = readFileSync(join(stateDir, 'cluster-id'), 'utf8').trim();
    for (const c of await clusterContainers(clusterId)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });
  const printed = /dashboard: +(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(await up.waitForOutput(/dashboard: +http\S+/))![1]!;
  const kcs = async (...args: string[]) => {
    const r = await runKcs(args, { stateDir });
    t.is(r.code, 0, `kcs ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  const { page, pageErrors } = await openBrowser(t);
  await page.goto(printed);
  await page.locator('.app[data-synced="true"]').waitFor({ timeout: STEP_MS });
  t.false(page.url().includes('token='), 'the token is taken out of the address bar');
  t.truthy(await page.evaluate(() => sessionStorage.getItem('kcs.token')), 'and kept in the tab\'s session');

  // A node made with the CLI appears, and turns Ready when its container's agent reports.
  await kcs('create', 'node', 'n1', '--cpu', '2', '--memory', '1Gi');
  await kcs('create', 'node', 'n2', '--cpu', '1', '--memory', '1Gi');
  const card = (name: string) => page.locator(`[data-node="${name}"]`);
  await card('n1').locator('[data-testid="node-state"]', { hasText: /^Ready$/ }).waitFor({ timeout: STEP_MS });
  await card('n2').locator('[data-testid="node-state"]', { hasText: /^Ready$/ }).waitFor({ timeout: STEP_MS });

  // A pod run with the CLI shows on its node: only n1 has room for 1.5 CPUs.
  await kcs('run', 'web-1', '--cpu', '1500m');
  await card('n1').locator('[data-pod="default/web-1"]').waitFor({ timeout: STEP_MS });

  // What a node uses shows on its card, as the metrics API serves it: a pod on n2 that says it uses 300m CPU.
  const busy = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: busy\n  annotations:\n    kcs.io/usage: "{cpu: 300m}"\n'
    + 'spec:\n  nodeName: n2\n  containers:\n  - name: busy\n    image: kcs/simulated\n    resources:\n      requests:\n        cpu: 400m\n';
  const applied = await runKcs(['apply', '-f', '-'], { stateDir, input: busy });
  t.is(applied.code, 0, applied.stderr);
  await card('n2').locator('[data-testid="cpu-used"]', { hasText: /^used 300m$/ }).waitFor({ timeout: STEP_MS });
  const n2Metrics = await page.evaluate(async () => (await fetch('/apis/metrics.k8s.io/v1beta1/nodes/n2', { headers: { authorization: `Bearer ${sessionStorage.getItem('kcs.token')}` } })).json() as Promise<{ usage: { cpu: string } }>);
  t.is(n2Metrics.usage.cpu, '300m', 'the card\'s figure is the metrics API\'s');
  await screenshot(page, '1-pod-on-node');

  // The decision panel names the chosen node, and the refused one with its reason.
  await card('n1').locator('[data-pod="default/web-1"]').click();
  const panel = page.locator('[data-pod-panel="default/web-1"]');
  await panel.waitFor({ timeout: STEP_MS });
  t.is(await panel.locator('[data-chosen]').textContent(), 'n1');
  t.regex(await panel.locator('[data-verdict="n2"]').textContent() ?? '', /refused: .*Insufficient cpu/);
  await screenshot(page, '2-decision');

  // A pod that fits nowhere waits in the pending lane, with the scheduler's reason.
  await kcs('run', 'big', '--cpu', '4', '--wait=false');
  const pending = page.locator('[data-pending-pod="default/big"]');
  await pending.waitFor({ timeout: STEP_MS });
  await pending.locator('.pending-reason', { hasText: /0\/2 nodes are available: .*Insufficient cpu/ }).waitFor({ timeout: STEP_MS });

  // An action in the page: Add node creates the Node through the API.
  await page.getByRole('button', { name: 'Add node' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a node' });
  await dialog.getByLabel('Name').fill('n3');
  await dialog.getByLabel('CPU').fill('2');
  await dialog.getByLabel('Memory').fill('1Gi');
  await dialog.getByLabel('Labels').fill('zone=b');
  await dialog.getByRole('button', { name: 'Add node' }).click();
  await card('n3').waitFor({ timeout: STEP_MS });
  const n3 = JSON.parse(await kcs('get', 'node', 'n3', '-o', 'json'));
  t.deepEqual([n3.spec.capacity.cpu, n3.metadata.labels.zone], ['2', 'b'], 'the page created the node it was asked for');
  await card('n3').locator('[data-testid="node-state"]', { hasText: /^Ready$/ }).waitFor({ timeout: STEP_MS });

  // docker kill n1's container: the card turns NotReady and web-1 moves to n3 on screen.
  // Remediation off keeps the dead machine down, so NotReady stays to be seen
  // (restarted, a container node is Ready again within a second).
  await kcs('annotate', 'node', 'n1', 'kcs.io/remediation=off');
  const n1 = JSON.parse(await kcs('get', 'node', 'n1', '-o', 'json'));
  const container = String(n1.status.containerID).replace(/^docker:\/\//, '');
  execFileSync('docker', ['kill', container], { stdio: 'ignore' });
  await card('n1').locator('[data-testid="node-state"]', { hasText: /^NotReady$/ }).waitFor({ timeout: STEP_MS });
  await card('n3').locator('[data-pod="default/web-1"]').waitFor({ timeout: STEP_MS });
  t.is(await card('n1').locator('[data-pod="default/web-1"]').count(), 0, 'the pod left the failed node\'s card');
  // The timeline draws the failure on n1's lane, and the move off it.
  await page.locator('[data-lane="n1"] .mk-failed').first().waitFor({ timeout: STEP_MS });
  await page.locator('[data-lane="n1"] .mk-moved').first().waitFor({ timeout: STEP_MS });
  await screenshot(page, '3-failover');
  t.deepEqual(pageErrors, []);
});
