// The dashboard's built page (tools/build-dashboard.ts writes it to dist/web
// when the package is installed or built): found from this file, which sits
// two levels under the package root both as source and as built code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

export function assetsDir(): string {
  return fileURLToPath(new URL('../../dist/web/', import.meta.url));
}

/** A file of the page by its name, or undefined: unknown types and anything outside dir are not served. */
export function readAsset(dir: string, name: string): Asset | undefined {
  const type = TYPES[extname(name)];
  if (!type) return undefined;
  const path = normalize(join(dir, decodeURIComponentSafe(name)));
  if (!path.startsWith(normalize(dir.endsWith(sep) ? dir : dir + sep))) return undefined;
  try {
    return { type, body: readFileSync(path) };
  } catch {
    return undefined;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '\0';
  }
}
