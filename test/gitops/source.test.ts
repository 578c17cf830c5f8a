// Reading a watched directory: which files count, and how a broken file is
// reported (file, line, reason) instead of half-read.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { fieldSegments, parseManifestFile, SourceReader } from '../../src/gitops/source.ts';

const NODE = (name: string, cpu = '2') => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "${cpu}"\n`;
const POD = (name: string, cpu = '100m') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    resources:\n      requests:\n        cpu: ${cpu}\n`;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-gitops-src-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

test('every object of a multi-document file, with its line, namespace defaulted for pods', (t) => {
  const r = parseManifestFile('all.yaml', `${NODE('n1')}---\n${POD('p1')}`);
  t.falsy(r.error);
  t.deepEqual(r.objects!.map((o) => [o.kind.kind, o.name, o.namespace, o.line, o.index]), [['Node', 'n1', undefined, 1, 0], ['Pod', 'p1', 'default', 9, 1]]);
  t.is(r.objects![1].manifest.metadata.namespace, 'default');
});

test('a YAML syntax error names its line, and the whole file fails', (t) => {
  const r = parseManifestFile('bad.yaml', `${NODE('n1')}---\napiVersion: v1\nkind: Node\nmetadata:\n  name: [oops\n`);
  t.falsy(r.objects);
  t.is(r.error!.file, 'bad.yaml');
  t.is(typeof r.error!.line, 'number');
  t.true(r.error!.line! >= 12, `line ${r.error!.line}`);
  t.regex(r.error!.reason, /^invalid YAML/);
});

test('a schema error names the line of the offending field', (t) => {
  const text = `${NODE('n1')}---\n${POD('p1', 'lots')}`;
  const r = parseManifestFile('pods.yaml', text);
  t.is(r.error!.line, 18);
  t.is(text.split('\n')[17].trim(), 'cpu: lots');
  t.regex(r.error!.reason, /Pod "p1" is invalid: spec\.containers\[0\]\.resources\.requests\.cpu/);
});

test('an unknown kind, a kind kcs writes itself, and a missing name are errors with lines', (t) => {
  const unknown = parseManifestFile('w.yaml', `${NODE('n1')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n`);
  t.is(unknown.error!.line, 10);
  t.regex(unknown.error!.reason, /unknown kind "Deployment"/);
  const event = parseManifestFile('e.yaml', 'apiVersion: v1\nkind: Event\nmetadata:\n  name: e\n');
  t.regex(event.error!.reason, /cannot be synced/);
  const noName = parseManifestFile('n.yaml', 'apiVersion: v1\nkind: Node\nmetadata:\n  labels: {}\nspec: {capacity: {cpu: 1}}\n');
  t.is(noName.error!.line, 3);
  t.regex(noName.error!.reason, /metadata\.name is required/);
});

test('JSON files parse too, and a JSON syntax error names its line', (t) => {
  const ok = parseManifestFile('n.json', JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'j' }, spec: { capacity: { cpu: '1' } } }));
  t.deepEqual(ok.objects!.map((o) => o.name), ['j']);
  const bad = parseManifestFile('b.json', '{\n  "apiVersion": "v1",\n  "kind": "Node",\n}\n');
  t.is(bad.error!.line, 4);
  t.regex(bad.error!.reason, /invalid JSON/);
});

test('a kind: List stands for its items', (t) => {
  const r = parseManifestFile('l.yaml', 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: a}\n  spec: {capacity: {cpu: 1}}\n- apiVersion: v1\n  kind: Node\n  metadata: {name: b}\n  spec: {capacity: {cpu: -1}}\n');
  t.is(r.error!.line, 11);
});

test('field paths split into YAML path segments', (t) => {
  t.deepEqual(fieldSegments('spec.containers[0].resources.requests.cpu'), ['spec', 'containers', 0, 'resources', 'requests', 'cpu']);
  t.deepEqual(fieldSegments('metadata.labels["a/b"]'), ['metadata', 'labels', 'a/b']);
});

test('the reader reads every manifest under the directory, recursively, and nothing kcs apply would skip', (t) => {
  const dir = tempDir(t);
  write(dir, { 'a.yaml': NODE('a'), 'sub/b.yml': NODE('b'), 'a.yaml~': 'x', '#a.yaml#': 'x', '#draft.yaml': 'x', '.git/c.yaml': 'x' });
  t.deepEqual([...new SourceReader(dir).read().keys()], ['a.yaml', 'sub/b.yml']);
});

test('the reader re-parses only files whose text changed', (t) => {
  const dir = tempDir(t);
  write(dir, { 'a.yaml': NODE('a'), 'b.yaml': NODE('b') });
  const reader = new SourceReader(dir);
  const first = reader.read();
  write(dir, { 'b.yaml': NODE('b', '4') });
  const second = reader.read();
  t.is(second.get('a.yaml'), first.get('a.yaml'), 'unchanged file: the same parsed result');
  t.not(second.get('b.yaml'), first.get('b.yaml'));
  t.is(second.get('b.yaml')!.objects![0].manifest.spec!.capacity && (second.get('b.yaml')!.objects![0].manifest.spec!.capacity as { cpu: string }).cpu, '4');
});
