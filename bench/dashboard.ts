// Dashboard benchmark: a cluster of --nodes (1000) virtual nodes and --pods
// (20000) bound pods, spread evenly (policy spread), on one control plane (`bin/kcs up --runtime virtual`, in
// a child process), and the dashboard it serves opened in a real chromium
// (Debian's, through playwright-core; KCS_CHROMIUM names another). Measures:
//   load   --loads (3) fresh page loads: navigation start -> first full
//          render (every node card and every pod chip in the DOM, the
//          watches live), and the page's JS heap then.
//   cordon --probes (100) writes one after another, each cordoning or
//          uncordoning a node (a PATCH): the write sent -> the card's change
//          in the DOM, as a MutationObserver in the page sees it. This is
//          the watch path end to end: API write, watch event through the
//          dashboard's forwarding, the page's next frame.
//   pod    --probes pods created one after another: the POST sent -> the
//          pod's chip on its node's card (the scheduler's binding included).
// Times on both sides are the same machine's clock (Date.now()). Prints a
// table and one JSON line.
//
//   node bench/dashboard.ts [--nodes 1000] [--pods 20000] [--probes 100] [--loads 3] [--clients 50]
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { apiAgent, checkBuild, httpCall, printTable, round, startChildControlPlane, summarize } from './lib.ts';

const { values } = parseArgs({ options: {
  nodes: { type: 'string', default: '1000' }, pods: { type: 'string', default: '20000' },
  probes: { type: 'string', default: '100' }, loads: { type: 'string', default: '3' }, clients: { type: 'string', default: '50' },
} });
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const PROBES = Number(values.probes);
const LOADS = Number(values.loads);
const CLIENTS = Number(values.clients);
const CHROMIUM = process.env.KCS_CHROMIUM ?? '/usr/bin/chromium';

if (!checkBuild()) process.exit(1);
if (!existsSync(CHROMIUM)) {
  console.error(`no chromium at ${CHROMIUM}: install Debian's chromium, or set KCS_CHROMIUM`);
  process.exit(1);
}

const cp = await startChildControlPlane({ args: ['--runtime', 'virtual'], startTimeoutMs: 60_000 });
const agent = apiAgent(cp, CLIENTS);
const call = (method: string, path: string, body?: unknown, type?: string) => httpCall(agent, cp.url, method, path, cp.token, body === undefined ? undefined : JSON.stringify(body), type);
const profile = mkdtempSync(join(tmpdir(), 'kcs-bench-chromium-'));
let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;

async function inParallel(n: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < n) await make(next++);
  }));
}

async function must(p: Promise<{ status: number; body: string }>): Promise<void> {
  const r = await p;
  if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
}

try {
  const dashboardLine = await waitFor(() => /dashboard: +(http:\/\/\S+)/.exec(cp.recentOutput())?.[1], 20_000, 'the dashboard line');
  const url = dashboardLine.replace(/#.*$/, '') + `#token=${encodeURIComponent(cp.token)}`;

  console.log(`creating ${NODES} nodes and ${PODS} pods...`);
  // Spread: about the same number of pods on every node, so every pod's chip is on screen (a card shows 48 before "+N more").
  await must(call('POST', '/apis/kcs.io/v1/schedulerconfigurations', { apiVersion: 'kcs.io/v1', kind: 'SchedulerConfiguration', metadata: { name: 'default' }, spec: { defaultPolicy: 'spread' } }));
  await inParallel(NODES, (i) => must(call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${i}` }, spec: { capacity: { cpu: '64', memory: '256Gi' } } })));
  await inParallel(PODS, (i) => must(call('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}` }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  })));
  await waitFor(async () => {
    const r = await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3D&limit=1');
    return JSON.parse(r.body).items.length === 0 || undefined;
  }, 600_000, 'every pod bound');
  console.log('all pods bound; opening the dashboard');

  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1440, height: 1000 },
    // The bench's in-page probes are code given as text, which the page's CSP (rightly) refuses.
    bypassCSP: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const loads: number[] = [];
  const heaps: number[] = [];
  let page = browser.pages()[0] ?? await browser.newPage();
  for (let i = 0; i < LOADS; i++) {
    if (i > 0) { await page.close(); page = await browser.newPage(); }
    await page.goto(url);
    await page.waitForFunction(`document.querySelector('.app[data-synced="true"]') !== null
      && document.querySelectorAll('[data-node]').length === ${NODES} && document.querySelectorAll('[data-pod]').length === ${PODS}`, undefined, { timeout: 120_000, polling: 50 });
    loads.push(await page.evaluate('performance.now()') as number);
    heaps.push(await page.evaluate('(performance.memory?.usedJSHeapSize ?? NaN) / 2 ** 20') as number);
  }

  // The page records when each card or chip it is told to expect shows up.
  // (In-page code is given as text: it runs in the browser, not here.)
  await page.evaluate(`
    window.seen = {};
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records) {
        const el = r.target;
        if (r.type === 'attributes' && el.matches?.('[data-node]')) window.seen[el.getAttribute('data-node') + ':' + el.classList.contains('cordoned')] ??= now;
        for (const added of r.addedNodes) {
          if (!(added instanceof Element)) continue;
          for (const chip of [added, ...added.querySelectorAll('[data-pod]')]) {
            const key = chip.getAttribute('data-pod');
            if (key) window.seen[key] ??= now;
          }
        }
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
  `);
  const seenAt = (key: string) => waitFor(() => page.evaluate(`window.seen[${JSON.stringify(key)}]`) as Promise<number | undefined>, 30_000, key);
  const forget = (key: string) => page.evaluate(`delete window.seen[${JSON.stringify(key)}]`);

  const cordon: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const node = `n-${(i * 7919) % NODES}`;
    const sent = Date.now();
    await must(call('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable: true } }, 'application/merge-patch+json'));
    cordon.push((await seenAt(`${node}:true`)) - sent);
    await forget(`${node}:true`);
    await must(call('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable: null } }, 'application/merge-patch+json'));
    await seenAt(`${node}:false`);
    await forget(`${node}:false`);
  }
  const pods: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const sent = Date.now();
    await must(call('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `probe-${i}` }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '10m' } } }] } }));
    pods.push((await seenAt(`default/probe-${i}`)) - sent);
  }

  const load = summarize(loads.sort((a, b) => a - b));
  const c = summarize(cordon.sort((a, b) => a - b));
  const p = summarize(pods.sort((a, b) => a - b));
  printTable([
    ['measure', 'n', 'p50 ms', 'p99 ms', 'max ms'],
    ['page load -> first full render', load.n, round(load.p50), round(load.p99), round(load.max)],
    ['node write -> card changed (watch)', c.n, round(c.p50), round(c.p99), round(c.max)],
    ['pod create -> chip on its node', p.n, round(p.p50), round(p.p99), round(p.max)],
  ]);
  console.log(`page JS heap after load: ${round(Math.max(...heaps))} MiB; control plane RSS ${round(cp.memory().rssMiB)} MiB`);
  console.log(JSON.stringify({ bench: 'dashboard', nodes: NODES, pods: PODS, loadMs: load, cordonMs: c, podMs: p, heapMiB: round(Math.max(...heaps)) }));
} finally {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await cp.stop();
}

async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
