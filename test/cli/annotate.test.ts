// `kcs annotate` as a real bin/kcs process against a real `kcs up` (virtual
// nodes), and pod health as a user sees it: annotate a pod unhealthy, watch
// `kcs get pods` count its restarts. Each test uses its own namespace.
import test from 'ava';
import { MetadataChangeError, metadataPatch, overwriteRefusal, parseChanges } from '../../src/cli/metadata-changes.ts';
import { eventually } from '../support/eventually.ts';
import { oneLine, parseTable, sharedServer } from './helpers.ts';

const server = sharedServer(test, ['ann', 'ann-sel', 'health']);

async function annotations(kind: string, name: string, ns?: string): Promise<Record<string, string> | undefined> {
  const r = await server().kcs(['get', kind, name, '-o', 'json', ...(ns ? ['-n', ns] : [])]);
  return JSON.parse(r.stdout).metadata.annotations;
}

// ---- the rules, without a server ---------------------------------------------------

test('changes parse as kubectl\'s: key=value sets, key- removes, a key both set and removed is refused', (t) => {
  t.deepEqual(parseChanges(['a=1', 'b=', 'c-', 'kcs.io/x=y=z']), { set: { a: '1', b: '', 'kcs.io/x': 'y=z' }, remove: ['c'] });
  t.throws(() => parseChanges(['a=1', 'a-']), { instanceOf: MetadataChangeError, message: /both modify and remove .*: a/ });
  t.throws(() => parseChanges(['=1']), { instanceOf: MetadataChangeError });
  t.throws(() => parseChanges([]), { instanceOf: MetadataChangeError, message: /at least one/ });
  t.deepEqual(metadataPatch('annotations', { set: { a: '1' }, remove: ['c'] }), { metadata: { annotations: { a: '1', c: null } } });
  t.is(overwriteRefusal({ a: '1' }, { set: { a: '1' }, remove: [] }, false), undefined, 'the same value is no change');
  t.is(overwriteRefusal({ a: '1' }, { set: { a: '2' }, remove: [] }, false), "--overwrite is false but found the following declared annotation(s): 'a' already has a value (1)");
  t.is(overwriteRefusal({ a: '1' }, { set: { a: '2' }, remove: [] }, true), undefined);
});

// ---- against a server ---------------------------------------------------------------

test('kcs annotate sets, refuses to change a value without --overwrite, changes it with it, and removes with key-', async (t) => {
  const s = server();
  t.is((await s.kcs(['run', 'web', '-n', 'ann', '--cpu', '100m', '--wait=false'])).code, 0);
  const set = await s.kcs(['annotate', 'pod', 'web', '-n', 'ann', 'owner=team-a', 'note=first']);
  t.is(set.code, 0, set.stderr);
  t.is(set.stdout.trim(), 'pod/web annotated');
  t.like(await annotations('pod', 'web', 'ann'), { owner: 'team-a', note: 'first' });

  const refused = await s.kcs(['annotate', 'pod', 'web', '-n', 'ann', 'note=second']);
  t.is(refused.code, 1);
  t.is(oneLine(refused.stderr), "error: pod/web: --overwrite is false but found the following declared annotation(s): 'note' already has a value (first)");
  t.is((await annotations('pod', 'web', 'ann'))?.note, 'first', 'unchanged');

  const overwritten = await s.kcs(['annotate', 'pods/web', '-n', 'ann', 'note=second', '--overwrite']);
  t.is(overwritten.code, 0, overwritten.stderr);
  t.is((await annotations('pod', 'web', 'ann'))?.note, 'second');

  const removed = await s.kcs(['annotate', 'po', 'web', '-n', 'ann', 'note-', 'owner-']);
  t.is(removed.code, 0, removed.stderr);
  const after = await annotations('pod', 'web', 'ann');
  t.is(after?.note, undefined);
  t.is(after?.owner, undefined);
});

test('kcs annotate works on nodes and on pods chosen by a selector, and fails on what does not exist', async (t) => {
  const s = server();
  t.is((await s.kcs(['create', 'node', 'ann-node', '--cpu', '1'])).code, 0);
  const node = await s.kcs(['annotate', 'node', 'ann-node', 'kcs.io/remediation=off']);
  t.is(node.code, 0, node.stderr);
  t.is(node.stdout.trim(), 'node/ann-node annotated');
  t.is((await annotations('node', 'ann-node'))?.['kcs.io/remediation'], 'off');

  await Promise.all(['a', 'b'].map((n) => s.kcs(['run', n, '-n', 'ann-sel', '--cpu', '100m', '--label', 'tier=web', '--wait=false'])));
  const selected = await s.kcs(['annotate', 'pods', '-n', 'ann-sel', '-l', 'tier=web', 'canary=yes']);
  t.is(selected.code, 0, selected.stderr);
  t.deepEqual(selected.stdout.trim().split('\n').sort(), ['pod/a annotated', 'pod/b annotated']);

  const missing = await s.kcs(['annotate', 'pod', 'nope', '-n', 'ann-sel', 'a=b']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^Error from server \(NotFound\): pods "nope" not found/m);
  const invalid = await s.kcs(['annotate', 'pod', 'a', '-n', 'ann-sel', 'not a key=b']);
  t.is(invalid.code, 1);
  t.regex(oneLine(invalid.stderr), /Invalid/);
});

test('a pod annotated kcs.io/simulate-unhealthy=true shows its restarts in kcs get pods and kcs describe pod, and recovers when the annotation is removed', async (t) => {
  t.timeout(60_000);
  const s = server();
  t.is((await s.kcs(['create', 'node', 'sick-node', '--cpu', '1'])).code, 0);
  t.is((await s.kcs(['run', 'sick', '-n', 'health', '--cpu', '100m', '--wait=false'])).code, 0);
  const rowOf = async () => parseTable((await s.kcs(['get', 'pods', '-n', 'health'])).stdout).find((r) => r.NAME === 'sick');
  const running = await eventually('sick Running', async () => { const r = await rowOf(); return r?.STATUS === 'Running' && r.READY === '1/1' ? r : undefined; }, 20_000);
  t.is(running.RESTARTS, '0');

  // Restarted forever on its node (max-restarts off): this test is about what the CLI shows, not moving.
  const annotate = await s.kcs(['annotate', 'pod', 'sick', '-n', 'health', 'kcs.io/simulate-unhealthy=true', 'kcs.io/max-restarts=off']);
  t.is(annotate.code, 0, annotate.stderr);
  // Default back-off 1 s: the first restart comes at the next heartbeat.
  const failing = await eventually('a restart counted', async () => { const r = await rowOf(); return r && r.RESTARTS !== '0' ? r : undefined; }, 20_000);
  t.regex(failing.RESTARTS, /^[12] \(\d+s ago\)$/);
  t.is(failing.READY, '0/1');
  const describe = await s.kcs(['describe', 'pod', 'sick', '-n', 'health']);
  t.regex(describe.stdout, /Last State: +Terminated\n +Reason: +Error/);
  t.regex(describe.stdout, /Restart Count: +[12]/);
  t.regex(describe.stdout, /BackOff .*Back-off restarting failed container sick in pod sick on /);

  t.is((await s.kcs(['annotate', 'pod', 'sick', '-n', 'health', 'kcs.io/simulate-unhealthy-'])).code, 0);
  const recovered = await eventually('Ready again', async () => { const r = await rowOf(); return r?.READY === '1/1' && r.STATUS === 'Running' ? r : undefined; }, 20_000);
  t.not(recovered.RESTARTS, '0', 'its restarts stay counted');
  t.is(recovered.NODE, running.NODE, 'on the node it was on');
});
