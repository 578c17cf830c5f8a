// `kcs apply --server-side` as a real bin/kcs process against a real `kcs up`:
// it prints what kubectl prints, records its field manager, fails on a field
// another manager owns (with kubectl's advice), and takes it with
// --force-conflicts. Each test uses its own namespace.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { sharedServer } from './helpers.ts';

const server = sharedServer(test, ['ssa1', 'ssa2', 'ssa3']);

function podManifest(namespace: string, image: string, labels = '    app: web\n'): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: ${namespace}\n  labels:\n${labels}spec:\n  containers:\n  - name: app\n    image: ${image}\n    resources:\n      requests:\n        cpu: 100m\n`;
}

test('kcs apply --server-side creates, prints serverside-applied, and records the kcs field manager', async (t) => {
  const s = server();
  const file = join(s.scratchDir(), 'pod.yaml');
  writeFileSync(file, podManifest('ssa1', 'app:1', '    app: web\n    tier: front\n'));
  const first = await s.kcs(['apply', '--server-side', '-f', file]);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout, 'pod/web serverside-applied\n');
  t.is(JSON.parse((await s.kcs(['get', 'pod', 'web', '-n', 'ssa1', '-o', 'json'])).stdout).metadata.managedFields, undefined, 'hidden by default, as kubectl hides them');
  const pod = JSON.parse((await s.kcs(['get', 'pod', 'web', '-n', 'ssa1', '-o', 'json', '--show-managed-fields'])).stdout);
  const mine = pod.metadata.managedFields.find((e: any) => e.manager === 'kcs');
  t.like(mine, { operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' });
  t.truthy(mine.fieldsV1['f:spec']['f:containers']['k:{"name":"app"}']['f:image']);

  // Applied again without the label: the server removes it.
  writeFileSync(file, podManifest('ssa1', 'app:1'));
  const again = await s.kcs(['apply', '--server-side', '-f', file]);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, 'pod/web serverside-applied\n');
  t.deepEqual(JSON.parse((await s.kcs(['get', 'pod', 'web', '-n', 'ssa1', '-o', 'json'])).stdout).metadata.labels, { app: 'web' });
});

test('kcs apply --server-side fails on another manager\'s field, and --force-conflicts takes it', async (t) => {
  const s = server();
  const file = join(s.scratchDir(), 'pod.yaml');
  writeFileSync(file, podManifest('ssa2', 'app:1'));
  t.is((await s.kcs(['apply', '--server-side', '--field-manager', 'ci', '-f', file])).code, 0);
  writeFileSync(file, podManifest('ssa2', 'app:2'));
  const conflict = await s.kcs(['apply', '--server-side', '-f', file]);
  t.is(conflict.code, 1);
  t.regex(conflict.stderr, /Apply failed with 1 conflict: conflict with "ci": \.spec\.containers\[name="app"\]\.image/);
  t.regex(conflict.stderr, /--force-conflicts/);
  const forced = await s.kcs(['apply', '--server-side', '--force-conflicts', '-f', file]);
  t.is(forced.code, 0, forced.stderr);
  t.is(forced.stdout, 'pod/web serverside-applied\n');
  const pod = JSON.parse((await s.kcs(['get', 'pod', 'web', '-n', 'ssa2', '-o', 'json'])).stdout);
  t.is(pod.spec.containers[0].image, 'app:2');
});

test('kcs apply --force-conflicts without --server-side is refused', async (t) => {
  const s = server();
  const file = join(s.scratchDir(), 'pod.yaml');
  writeFileSync(file, podManifest('ssa3', 'app:1'));
  const r = await s.kcs(['apply', '--force-conflicts', '-f', file]);
  t.not(r.code, 0);
  t.regex(r.stderr, /server-side/);
});
