// `kcs sync` and `kcs up --watch` as real bin/kcs processes (the compiled CLI),
// with real manifest directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { eventually } from '../support/eventually.ts';
import { nodeYaml, oneLine, parseTable, podYaml, runKcs, sharedServer, spawnKcs, writeFiles } from '../cli/helpers.ts';

const server = sharedServer(test, ['cli-sync']);

test('kcs sync --dry-run lists what would change; kcs sync applies it; get -o wide and describe show the source', async (t) => {
  const s = server();
  const dir = s.scratchDir();
  writeFiles(dir, { 'nodes.yaml': nodeYaml('cli-sync-n1', '2'), 'pods/web.yaml': podYaml('cli-sync-web', '100m', 'cli-sync') });

  const dry = await s.kcs(['sync', dir, '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.deepEqual(dry.stdout.trim().split('\n').sort(), [
    'node/cli-sync-n1 created (nodes.yaml, dry run)',
    'pod/cli-sync-web created (pods/web.yaml, namespace cli-sync, dry run)',
  ]);
  t.is((await s.kcs(['get', 'node', 'cli-sync-n1'])).code, 1, 'the dry run created nothing');

  const real = await s.kcs(['sync', dir]);
  t.is(real.code, 0, real.stderr);
  t.regex(real.stdout, /^node\/cli-sync-n1 created \(nodes\.yaml\)$/m);
  const wide = await s.kcs(['get', 'node', 'cli-sync-n1', '-o', 'wide']);
  t.is(parseTable(wide.stdout)[0].SOURCE, 'nodes.yaml');
  const pods = await s.kcs(['get', 'pods', '-n', 'cli-sync', '-o', 'wide']);
  t.is(parseTable(pods.stdout)[0].SOURCE, 'pods/web.yaml');
  const describe = await s.kcs(['describe', 'node', 'cli-sync-n1']);
  t.regex(describe.stdout, /kcs\.io\/managed-by=gitops/);
  t.regex(describe.stdout, /kcs\.io\/source=nodes\.yaml/);

  rmSync(join(dir, 'pods'), { recursive: true });
  const dryPrune = await s.kcs(['sync', dir, '--dry-run']);
  t.regex(dryPrune.stdout, /^pod\/cli-sync-web pruned \(pods\/web\.yaml, namespace cli-sync, dry run\)$/m);
  t.regex(dryPrune.stdout, /^node\/cli-sync-n1 unchanged \(nodes\.yaml, dry run\)$/m);
  const prune = await s.kcs(['sync', dir]);
  t.regex(prune.stdout, /^pod\/cli-sync-web pruned/m);
  t.is((await s.kcs(['get', 'pod', 'cli-sync-web', '-n', 'cli-sync'])).code, 1);
});

test('kcs sync names a broken file with its line and reason, exits 1, and still applies the other files', async (t) => {
  const s = server();
  const dir = s.scratchDir();
  writeFiles(dir, { 'good.yaml': nodeYaml('cli-sync-good'), 'bad.yaml': 'apiVersion: v1\nkind: Node\nmetadata:\n  name: cli-sync-bad\nspec:\n  capacity:\n    cpu: lots\n' });
  const r = await s.kcs(['sync', dir]);
  t.is(r.code, 1);
  t.regex(oneLine(r.stderr), /error: bad\.yaml line 7: Node "cli-sync-bad" is invalid: spec\.capacity\.cpu/);
  t.regex(r.stdout, /node\/cli-sync-good created/);
  const events = await s.kcs(['get', 'events']);
  t.regex(events.stdout, /Warning\s+SyncFailed\s+manifestfile\/bad\.yaml\s+bad\.yaml line 7/);
  const missing = await s.kcs(['sync', join(dir, 'nope')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no such directory/);
});

test('kcs up --watch DIR applies the directory, follows changes, and restores a deleted node on resync', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kcs-gitops-up-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'manifests');
  const stateDir = join(root, 'state');
  writeFiles(dir, { 'nodes.yaml': nodeYaml('w1', '2') });
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'virtual', '--watch', dir, '--resync-ms', '500']);
  t.teardown(async () => { await up.stop(); });
  await up.waitForOutput(/^watching: +.*manifests \(resync every 500 ms\)$/m);
  t.regex(up.stdout, /^gitops: node\/w1 created \(nodes\.yaml\)$/m);
  const kcs = (args: string[]) => runKcs(args, { stateDir });
  t.is((await kcs(['get', 'node', 'w1', '-o', 'name'])).stdout.trim(), 'node/w1');

  writeFiles(dir, { 'more.yaml': nodeYaml('w2', '1') });
  await eventually('w2 created', async () => (await kcs(['get', 'node', 'w2', '-o', 'name'])).code === 0, 20_000);
  t.is((await kcs(['delete', 'node', 'w1'])).code, 0);
  await eventually('w1 restored', async () => (await kcs(['get', 'node', 'w1', '-o', 'name'])).code === 0, 20_000);
  const stopped = await up.stop('SIGINT');
  t.is(stopped.code, 0, stopped.stderr);
});

test('kcs sync --watch follows a directory against a running server until stopped', async (t) => {
  const s = server();
  const dir = s.scratchDir();
  writeFiles(dir, { 'a.yaml': nodeYaml('cli-watch-a') });
  const w = s.spawn(['sync', dir, '--watch', '--debounce-ms', '50']);
  t.teardown(async () => { await w.stop(); });
  await w.waitForOutput(/^watching /m);
  t.regex(w.stdout, /^node\/cli-watch-a created \(a\.yaml\)$/m);
  writeFiles(dir, { 'a.yaml': nodeYaml('cli-watch-a', '3') });
  await w.waitForOutput(/^node\/cli-watch-a configured \(a\.yaml\)$/m, 20_000);
  const stopped = await w.stop('SIGINT');
  t.is(stopped.code, 0, stopped.stderr);
  t.regex(stopped.stdout, /^stopped$/m);
});
