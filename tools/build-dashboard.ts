// Builds the web dashboard into dist/web: the page, its one script bundle
// (Preact and the app, from web/src, by esbuild) and its stylesheet. Run by
// `npm run build`, and so at install (npm's prepare): every byte the page
// needs is served by kcs itself, none from a CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
mkdirSync(out, { recursive: true });
const started = Date.now();
const result = await build({
  entryPoints: [`${root}web/src/main.tsx`],
  outfile: `${out}/app.js`,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css', 'favicon.svg']) copyFileSync(`${root}web/${file}`, `${out}/${file}`);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`dashboard built into dist/web in ${Date.now() - started} ms (${Math.round(bytes / 1024)} KiB of script)`);
