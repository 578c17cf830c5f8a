// The layering rule, read from the imports themselves (type-only and dynamic
// imports count too). From the ground up:
//   util → objects (and pki, config, version) → store → cache → api → client
//   → scheduler, agent, gitops, dashboard (peers: none imports another)
//   → runtime → controllers → the composition root (control-plane.ts) → cli
// A file imports only from its own layer or a layer below it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import test from 'ava';

const SRC = resolve(import.meta.dirname, '../../src');

const RANK: Record<string, number> = {
  util: 0,
  objects: 1, pki: 1, 'config.ts': 1, 'version.ts': 1,
  store: 2,
  cache: 3,
  api: 4,
  client: 5,
  scheduler: 6, agent: 6, gitops: 6, dashboard: 6,
  runtime: 7,
  controllers: 8,
  'control-plane.ts': 9,
  cli: 10,
};

/** The layer of a file: its folder under src/, or the file itself at the top. */
function layerOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative module a file names: `import ... from`, `export ... from`, `import(...)`, `import('...').T`. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm)) found.push(m[2]!);
  return found;
}

interface Violation { from: string; to: string; why: string }

function violations(): Violation[] {
  const out: Violation[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      const to = layerOf(target);
      if (to === from) continue;
      const where = `${relative(SRC, file)} imports ${relative(SRC, target)}`;
      if (RANK[from] === undefined || RANK[to] === undefined) out.push({ from, to, why: `${where}: a layer the rule does not name` });
      else if (RANK[to]! > RANK[from]!) out.push({ from, to, why: `${where}: up from ${from} to ${to}` });
      else if (RANK[to] === RANK[from]) out.push({ from, to, why: `${where}: ${from} and ${to} are peers` });
    }
  }
  return out;
}

test('the import reader sees static, type-only, re-exported and dynamic imports', (t) => {
  const text = [
    "import { a } from '../api/a.ts';",
    "import type { B } from './b.ts';",
    "export { c } from '../client/c.ts';",
    "const { d } = await import('../runtime/d.ts');",
    "let e: import('../controllers/e.ts').E;",
    "import '../util/side-effect.ts';",
    "import { x } from 'node:fs';",
  ].join('\n');
  t.deepEqual(importsOf(text), ['../api/a.ts', './b.ts', '../client/c.ts', '../runtime/d.ts', '../controllers/e.ts', '../util/side-effect.ts']);
});

test('every layer is named by the rule, and no import runs up a layer or across peers', (t) => {
  const layers = new Set(sourceFiles(SRC).map(layerOf));
  t.deepEqual([...layers].filter((l) => RANK[l] === undefined), [], 'a new top-level folder or file needs a place in the rule');
  t.deepEqual(violations().map((v) => v.why), []);
});
