// kcs edit (with editor scripts standing in for a user), kcs diff and kcs wait,
// as a real bin/kcs against a real `kcs up` (virtual nodes).
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { readdirSync, readlinkSync } from 'node:fs';
import { eventually } from '../support/eventually.ts';
import { KCS_BIN, nodeYaml, oneLine, sharedServer, writeFiles } from './helpers.ts';

/** Whether the process has a TCP connection to this port (Linux: /proc shows its sockets and the TCP table). */
function connectedTo(pid: number, port: number): boolean {
  try {
    const inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try { return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]; } catch { return undefined; }
    }).filter(Boolean));
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1).some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[2]?.endsWith(`:${hexPort}`) && inodes.has(cols[9]);
    });
  } catch {
    return false;
  }
}

const server = sharedServer(test);

async function ok(args: string[], opts?: Parameters<ReturnType<typeof server>['kcs']>[1]) {
  const r = await server().kcs(args, opts);
  if (r.code !== 0) throw new Error(`kcs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/**
 * An editor: a shell script that, on its Nth run, copies what it was shown to
 * seen-N.yaml and runs the Nth step (shell, with the file as $1).
 */
function editorScript(steps: string[]): { editor: string; seen(n: number): string; runs(): number } {
  const dir = server().scratchDir();
  const editor = join(dir, 'editor.sh');
  writeFileSync(editor, [
    '#!/bin/sh',
    `n=$(cat '${dir}/count' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${dir}/count'`,
    `cp "$1" '${dir}'/seen-$n.yaml`,
    'case $n in',
    ...steps.map((s, i) => `  ${i + 1}) ${s} ;;`),
    'esac',
  ].join('\n'));
  chmodSync(editor, 0o755);
  return {
    editor,
    seen: (n) => readFileSync(join(dir, `seen-${n}.yaml`), 'utf8'),
    runs: () => (existsSync(join(dir, 'count')) ? Number(readFileSync(join(dir, 'count'), 'utf8')) : 0),
  };
}

async function labelsOf(kind: string, name: string): Promise<Record<string, string>> {
  return JSON.parse((await ok(['get', kind, name, '-o', 'json'])).stdout).metadata.labels ?? {};
}

test('kcs edit opens $KUBE_EDITOR on the object as YAML under kubectl\'s header and updates it with the change', async (t) => {
  await ok(['apply', '-f', '-'], { input: nodeYaml('ed-a', '1', '') });
  const ed = editorScript([`sed -i 's/^  name: ed-a$/  name: ed-a\\n  labels:\\n    edited: "yes"/' "$1"`]);
  const r = await ok(['edit', 'node/ed-a'], { env: { KUBE_EDITOR: ed.editor, EDITOR: 'false' } });
  t.is(r.stdout, 'node/ed-a edited\n');
  t.true(ed.seen(1).startsWith("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"));
  t.regex(ed.seen(1), /^kind: Node$/m);
  t.regex(ed.seen(1), /^  resourceVersion: "\d+"$/m);
  t.is((await labelsOf('node', 'ed-a')).edited, 'yes');
  // $EDITOR when $KUBE_EDITOR is unset; saving unchanged cancels.
  const same = editorScript(['true']);
  const cancelled = await ok(['edit', 'node', 'ed-a'], { env: { KUBE_EDITOR: undefined, EDITOR: same.editor } });
  t.is(cancelled.stdout, 'Edit cancelled, no changes made.\n');
  t.is(same.runs(), 1);
});

test('kcs edit reopens a refused change with the server\'s errors as comments at the top; the fixed file is saved', async (t) => {
  await ok(['apply', '-f', '-'], { input: nodeYaml('ed-b', '1', '') });
  await ok(['label', 'node', 'ed-b', 'tier=one']);
  const ed = editorScript([
    `sed -i 's/^    tier: one$/    tier: "not valid!"/' "$1"`,
    `sed -i 's/^    tier: "not valid!"$/    tier: two/' "$1"`,
  ]);
  const r = await ok(['edit', 'node/ed-b'], { env: { KUBE_EDITOR: ed.editor } });
  t.is(r.stdout, 'node/ed-b edited\n');
  t.is(ed.runs(), 2);
  t.regex(ed.seen(2), /^#\n# nodes "ed-b" was not valid:\n# \* metadata\.labels\.tier: Invalid value: "not valid!": .*\n#\napiVersion: v1$/m);
  t.regex(ed.seen(2), /^    tier: "not valid!"$/m, 'the user\'s text comes back as they left it');
  t.is((await labelsOf('node', 'ed-b')).tier, 'two');
});

test('kcs edit reopens a file that is not YAML; saving it unchanged again cancels with a non-zero exit', async (t) => {
  await ok(['apply', '-f', '-'], { input: nodeYaml('ed-c', '1', '') });
  const ed = editorScript([`printf 'kind: [unclosed\\n' >> "$1"`, 'true']);
  const r = await server().kcs(['edit', 'node/ed-c'], { env: { KUBE_EDITOR: ed.editor } });
  t.is(r.code, 1);
  t.regex(ed.seen(2), /^# The edited file had a syntax error: /m);
  t.regex(oneLine(r.stderr), /Edit cancelled, no valid changes were saved/);
  t.regex(r.stderr, /A copy of your changes has been stored to ".*ed-c\.yaml"/);
});

test('kcs edit whose object changed meanwhile reads it again, says so, and reopens with the change carried over', async (t) => {
  await ok(['apply', '-f', '-'], { input: nodeYaml('ed-d', '1', '') });
  await ok(['label', 'node', 'ed-d', 'mine=before']);
  const s = server();
  const ed = editorScript([
    // Someone else changes the node while the editor is open; the user changes another label.
    `KCS_STATE_DIR='${s.stateDir}' '${KCS_BIN}' label node ed-d theirs=1 >/dev/null && sed -i 's/^    mine: before$/    mine: after/' "$1"`,
    'true',
  ]);
  const r = await ok(['edit', 'node/ed-d'], { env: { KUBE_EDITOR: ed.editor } });
  t.is(r.stdout, 'node/ed-d edited\n');
  t.regex(oneLine(r.stderr), /node\/ed-d was changed on the server while you edited it: read it again/);
  t.regex(ed.seen(2), /^# node\/ed-d was changed on the server while you edited it \(.*the object has been modified/m);
  t.regex(ed.seen(2), /^    mine: after$/m);
  t.regex(ed.seen(2), /^    theirs: "1"$/m);
  t.like(await labelsOf('node', 'ed-d'), { mine: 'after', theirs: '1' });
});

test('kcs diff shows the dry-run apply against the live object as a unified YAML diff, with kubectl\'s exit codes', async (t) => {
  const dir = server().scratchDir();
  const file = join(dir, 'node.yaml');
  writeFiles(dir, { 'node.yaml': nodeYaml('diff-a', '2', '  unschedulable: false\n') });
  const created = await server().kcs(['diff', '-f', file]);
  t.is(created.code, 1, created.stderr);
  t.true(created.stdout.startsWith('diff -u -N LIVE/v1.Node.diff-a MERGED/v1.Node.diff-a\n--- LIVE/v1.Node.diff-a\n+++ MERGED/v1.Node.diff-a\n@@ -0,0 +1,'));
  t.regex(created.stdout, /^\+  name: diff-a$/m);
  t.is((await server().kcs(['get', 'node', 'diff-a'])).code, 1, 'a diff stores nothing');

  await ok(['apply', '-f', file]);
  const none = await server().kcs(['diff', '-f', file]);
  t.is(none.code, 0, none.stderr);
  t.is(none.stdout, '');

  writeFiles(dir, { 'node.yaml': nodeYaml('diff-a', '4', '  unschedulable: false\n') });
  const changed = await server().kcs(['diff', '-f', dir]);
  t.is(changed.code, 1, changed.stderr);
  t.regex(changed.stdout, /^-    cpu: "2"$/m);
  t.regex(changed.stdout, /^\+    cpu: "4"$/m);
  t.notRegex(changed.stdout, /managedFields/);
  t.regex(JSON.parse((await ok(['get', 'node', 'diff-a', '-o', 'json'])).stdout).spec.capacity.cpu, /^2$/, 'still unchanged');

  writeFiles(dir, { 'bad.yaml': 'apiVersion: v1\nkind: Node\nmetadata:\n  name: diff-bad\nspec:\n  capacity:\n    cpu: lots\n' });
  const bad = await server().kcs(['diff', '-f', join(dir, 'bad.yaml')]);
  t.is(bad.code, 2);
  t.regex(oneLine(bad.stderr), /diff-bad.*spec\.capacity\.cpu/);
});

test('kcs wait: a condition met prints "condition met"; one not met in time prints kubectl\'s timeout and exits 1', async (t) => {
  await ok(['create', 'node', 'wait-a', '--cpu', '2']);
  const ready = await ok(['wait', '--for=condition=Ready', 'node/wait-a']);
  t.is(ready.stdout, 'node/wait-a condition met\n');
  await ok(['run', 'wait-pod', '--cpu', '100m', '--label', 'w=1']);
  const phase = await ok(['wait', "--for=jsonpath={.status.phase}=Running", 'pod', 'wait-pod']);
  t.is(phase.stdout, 'pod/wait-pod condition met\n');
  const bySelector = await ok(['wait', '--for=condition=Ready', 'pods', '-l', 'w=1']);
  t.is(bySelector.stdout, 'pod/wait-pod condition met\n');
  const timedOut = await server().kcs(['wait', '--for=condition=Ready=false', 'node/wait-a', '--timeout=1s']);
  t.is(timedOut.code, 1);
  t.is(timedOut.stderr, 'error: timed out waiting for the condition on nodes/wait-a\n');
  const none = await server().kcs(['wait', '--for=condition=Ready', 'pods', '-l', 'w=none']);
  t.is(none.code, 1);
  t.regex(oneLine(none.stderr), /no matching resources found/);
  const missing = await server().kcs(['wait', '--for=condition=Ready', 'pod/wait-nope']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /NotFound.*pods "wait-nope" not found/);
});

test('kcs wait --for=delete follows a watch until the object is gone', async (t) => {
  await ok(['run', 'wait-del', '--cpu', '100m', '--wait=false']);
  const waiting = server().spawn(['wait', '--for=delete', 'pod/wait-del', '--timeout=30s']);
  // Deleted once the waiter has a connection to the server (its list, then its watch, from the list's
  // revision): the deletion comes after the list, so only the watch can report it.
  await eventually('the waiter to connect to the server', () => (connectedTo(waiting.child.pid!, Number(new URL(server().url).port)) ? true : undefined), 20_000);
  await ok(['delete', 'pod', 'wait-del']);
  const r = await waiting.exited;
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'pod/wait-del condition met\n');
});
