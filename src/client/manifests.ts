// Reads manifests from files, directories (optionally recursive) and stdin,
// keeping where each document came from so errors can name it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { flattenLists, ManifestError, parseDocuments } from '../objects/manifest.ts';

export const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface SourcedDocument {
  source: string;
  index: number;
  value: unknown;
}

export interface ReadResult {
  documents: SourcedDocument[];
  errors: Array<{ source: string; message: string }>;
}

export function listManifestFiles(path: string, recursive: boolean): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...listManifestFiles(full, true));
    } else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push(full);
    }
  }
  return files;
}

export function parseSource(source: string, text: string): SourcedDocument[] {
  return flattenLists(parseDocuments(text)).map((value, index) => ({ source, index, value }));
}

/** Reads every -f argument; a broken file is reported and the others still read. */
export function readManifests(paths: string[], recursive: boolean, stdin: string): ReadResult {
  const result: ReadResult = { documents: [], errors: [] };
  for (const path of paths) {
    let files: string[];
    try {
      files = path === '-' ? ['-'] : listManifestFiles(path, recursive);
    } catch (err) {
      result.errors.push({ source: path, message: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message });
      continue;
    }
    for (const file of files) {
      try {
        const text = file === '-' ? stdin : readFileSync(file, 'utf8');
        result.documents.push(...parseSource(file === '-' ? '<stdin>' : file, text));
      } catch (err) {
        const message = err instanceof ManifestError ? err.message : (err as Error).message;
        result.errors.push({ source: file === '-' ? '<stdin>' : file, message });
      }
    }
  }
  return result;
}
