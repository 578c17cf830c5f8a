// Reads manifests from files, directories (optionally recursive) and stdin,
// keeping where each document came from so errors can name it. Which files
// of a directory are manifests is decided here for both `kcs apply -f DIR`
// and `kcs sync DIR`, so the two never disagree.
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

/**
 * Whether a path (relative to the directory being read) is not a manifest:
 * dotfiles and dot-directories (.git, editor swap files such as .x.yaml.swp),
 * editor backups and autosaves (x.yaml~, #x.yaml#), and anything but .yaml,
 * .yml and .json.
 */
export function isIgnoredFile(rel: string): boolean {
  const parts = rel.split(/[\\/]/);
  if (parts.some((p) => p.startsWith('.'))) return true;
  const base = parts[parts.length - 1];
  if (base.endsWith('~') || base.startsWith('#')) return true;
  return !MANIFEST_EXTENSIONS.has(extname(base).toLowerCase());
}

/**
 * The manifest files in a directory, as paths relative to it with forward
 * slashes, each directory's entries in name order (as kubectl walks them).
 * Subdirectories only when recursive; dot-directories never. Symbolic links
 * are listed, never walked into (a link to a directory fails to read, and
 * says so); other special files are skipped, as reading a FIFO would block.
 */
export function listManifestFiles(dir: string, opts: { recursive: boolean }): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    const entries = readdirSync(join(dir, sub), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (opts.recursive && !entry.name.startsWith('.')) walk(rel);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !isIgnoredFile(rel)) {
        out.push(rel);
      }
    }
  };
  walk('');
  return out;
}

/** What one -f argument names: itself if a file (whatever its name), else the manifests in it. */
function filesNamedBy(path: string, recursive: boolean): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return listManifestFiles(path, { recursive }).map((rel) => join(path, rel));
}

const isNamespaceDocument = (doc: SourcedDocument) => {
  const v = doc.value as { kind?: unknown; apiVersion?: unknown } | null;
  return v !== null && typeof v === 'object' && v.kind === 'Namespace' && v.apiVersion === 'v1';
};

/**
 * The order to apply documents in: Namespaces before everything else (what
 * they contain cannot be created before them), the rest as written. One
 * file holding a Namespace and a Pod in it applies in one go.
 */
export function namespacesFirst(docs: SourcedDocument[]): SourcedDocument[] {
  return [...docs.filter(isNamespaceDocument), ...docs.filter((d) => !isNamespaceDocument(d))];
}

/** The order to delete documents in: Namespaces last (deleting one deletes what is in it). */
export function namespacesLast(docs: SourcedDocument[]): SourcedDocument[] {
  return [...docs.filter((d) => !isNamespaceDocument(d)), ...docs.filter(isNamespaceDocument)];
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
      files = path === '-' ? ['-'] : filesNamedBy(path, recursive);
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
