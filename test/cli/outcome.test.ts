// The user is told the outcome: `kcs create node` waits for the machine and
// its first heartbeat, `kcs run` for the pod to run on a node (or says why
// no node fits), and `kcs logs` prints what happened to a container, all
// against a real `kcs up` (virtual nodes); plus the timeouts, against a
// `kcs up --runtime none` that never starts a node or a scheduler.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { oneLine, sharedServer, spawnKcs, runKcs } from './helpers.ts';

const server = sharedServer(test, ['outcome', 'logs']);

test('kcs run waits until the pod runs on a node and prints the node and the pod\'s UID', async (t) => {
  const s = server();
  t.is((await s.kcs(['create', 'node', 'runner', '--cpu', '4'])).code, 0);
  const run = await s.kcs(['run', 'web', '-n', 'outcome', '--cpu', '500m']);
  t.is(run.code, 0, run.stderr);
  const m = /^pod\/web created\npod\/web running on (\S+) in \d+(\.\d)?s \(uid ([0-9a-f-]+)\)\n$/.exec(run.stdout);
  t.truthy(m, run.stdout);
  const pod = (await s.api('GET', '/api/v1/namespaces/outcome/pods/web')).body;
  t.is(m![1], pod.spec.nodeName);
  t.is(m![3], pod.metadata.uid);
  t.is(pod.status.phase, 'Running', 'its node confirmed it before kcs run said so');
});

test('kcs run with no node that fits prints the scheduler\'s reason and exits 1; the pod stays Pending', async (t) => {
  const s = server();
  t.is((await s.kcs(['create', 'node', 'small', '--cpu', '1'])).code, 0);
  const run = await s.kcs(['run', 'huge', '-n', 'outcome', '--cpu', '500']);
  t.is(run.code, 1, run.stdout);
  t.is(run.stdout, 'pod/huge created\n');
  t.regex(oneLine(run.stderr), /^error: pod\/huge cannot be scheduled: 0\/\d+ nodes are available: \d+ Insufficient cpu[,.]/);
  const pod = (await s.api('GET', '/api/v1/namespaces/outcome/pods/huge')).body;
  t.is(pod.status.phase, 'Pending');
});

test('kcs logs prints the container\'s log; --tail, --timestamps, -c and -f as kubectl has them', async (t) => {
  const s = server();
  t.is((await s.kcs(['create', 'node', 'logger', '--cpu', '4'])).code, 0);
  t.is((await s.kcs(['run', 'chatty', '-n', 'logs', '--cpu', '100m'])).code, 0);
  const logs = await s.kcs(['logs', 'chatty', '-n', 'logs']);
  t.is(logs.code, 0, logs.stderr);
  const lines = logs.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^Scheduled: Successfully assigned logs\/chatty to \S+ \(policy first-fit\)$/);
  t.regex(lines[1]!, /^Started: container chatty started on \S+$/);

  const tail = await s.kcs(['logs', 'chatty', '-n', 'logs', '--tail', '1', '--timestamps']);
  t.regex(tail.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S.*\n$/);
  t.is(tail.stdout.split(' ').slice(1).join(' '), lines.at(-1) + '\n');

  const wrong = await s.kcs(['logs', 'chatty', '-n', 'logs', '-c', 'nope']);
  t.is(wrong.code, 1);
  t.is(oneLine(wrong.stderr), 'Error from server (BadRequest): container nope is not valid for pod chatty');

  const follow = s.spawn(['logs', 'chatty', '-n', 'logs', '-f']);
  await follow.waitForOutput(/^Started: /m);
  t.is((await s.kcs(['annotate', 'pod', 'chatty', '-n', 'logs', 'kcs.io/simulate-unhealthy=true'])).code, 0);
  await follow.waitForOutput(/^Terminated: container chatty exited with code 1/m);
  t.is((await s.kcs(['delete', 'pod', 'chatty', '-n', 'logs'])).code, 0);
  const ended = await follow.exited;
  t.is(ended.code, 0, 'kcs logs -f ends with the pod');
});

test('without a node runtime, kcs create node and kcs run say what they waited for and exit 1 at --timeout; --wait=false returns at once', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kcs-outcome-'));
  const stateDir = join(root, 'state');
  const up = spawnKcs(['up', '--port', '0', '--state-dir', stateDir, '--runtime', 'none']);
  t.teardown(async () => { await up.stop(); rmSync(root, { recursive: true, force: true }); });
  await up.waitForOutput(/listening on/);
  const kcs = (args: string[]) => runKcs(args, { stateDir });

  const node = await kcs(['create', 'node', 'idle', '--cpu', '1', '--timeout', '1s']);
  t.is(node.code, 1);
  t.is(node.stdout, 'node/idle created\n');
  t.regex(oneLine(node.stderr), /^error: node\/idle did not come up within 1\.0s: no node controller has made its machine/);

  const run = await kcs(['run', 'waiting', '--cpu', '1', '--timeout', '1s']);
  t.is(run.code, 1);
  t.regex(oneLine(run.stderr), /^error: pod\/waiting was not running within 1\.0s: no scheduler has bound it/);

  const quick = await kcs(['run', 'quick', '--cpu', '1', '--wait=false']);
  t.is(quick.code, 0, quick.stderr);
  t.is(quick.stdout, 'pod/quick created\n');
  const bad = await kcs(['run', 'bad', '--cpu', '1', '--timeout', 'soon']);
  t.is(bad.code, 1, bad.stderr);
  t.regex(oneLine(bad.stderr), /invalid duration "soon"/);
});
