// Which files of a directory are manifests: one rule for `kcs apply -f DIR`
// and `kcs sync DIR`.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { isIgnoredFile, listManifestFiles, readManifests } from '../../src/client/manifests.ts';

const NODE = (name: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "1"\n`;

/** A temp directory holding the files (relative path -> text), removed after the test. */
function directory(t: ExecutionContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-manifests-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('only .yaml, .yml and .json files count; dotfiles, dot-directories and editor files do not', (t) => {
  const dir = directory(t, {
    'a.yaml': NODE('a'), 'b.YML': NODE('b'), 'sub/c.json': '{}', 'sub/deeper/d.yml': NODE('d'),
    '.hidden.yaml': 'x', '.git/config.yaml': 'x', 'a.yaml~': 'x', '.a.yaml.swp': 'x', '#a.yaml#': 'x', '#draft.yaml': 'x', 'notes.txt': 'x', '4913': 'x',
  });
  symlinkSync(join(dir, 'a.yaml'), join(dir, 'link.yaml'));
  t.deepEqual(listManifestFiles(dir, { recursive: true }), ['a.yaml', 'b.YML', 'link.yaml', 'sub/c.json', 'sub/deeper/d.yml']);
  t.deepEqual(listManifestFiles(dir, { recursive: false }), ['a.yaml', 'b.YML', 'link.yaml']);
  t.true(isIgnoredFile('x/.y/z.yaml'));
  t.true(isIgnoredFile('x\\y\\z.yaml~'), 'Windows separators too (as a watcher reports them)');
  t.false(isIgnoredFile('x/y/z.yaml'));
});

test('each directory is listed in name order, its subdirectories where they fall', (t) => {
  // By character code, not locale: the same order on every machine.
  const dir = directory(t, { 'b.yaml': '', 'C.yaml': '', 'a/z.yaml': '', 'a-b.yaml': '' });
  t.deepEqual(listManifestFiles(dir, { recursive: true }), ['C.yaml', 'a/z.yaml', 'a-b.yaml', 'b.yaml']);
});

test('kcs apply -f reads a directory by the same rule, and a file named on its own whatever its name', (t) => {
  const dir = directory(t, { 'a.yaml': NODE('a'), 'a.yaml~': NODE('backup'), '#a.yaml#': NODE('autosave'), 'sub/b.yaml': NODE('b'), 'notes.txt': NODE('txt') });
  const names = (paths: string[], recursive: boolean) => readManifests(paths, recursive, '').documents.map((d) => (d.value as { metadata: { name: string } }).metadata.name);
  t.deepEqual(names([dir], false), ['a']);
  t.deepEqual(names([dir], true), ['a', 'b']);
  t.deepEqual(names([join(dir, 'notes.txt')], false), ['txt']);
  t.deepEqual(readManifests([dir], true, '').documents.map((d) => d.source), [join(dir, 'a.yaml'), join(dir, 'sub/b.yaml')]);
});
