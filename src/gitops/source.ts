// Reads a watched directory: every manifest file becomes either the objects
// it declares or one error naming the file, the line where known, and the
// reason. A file is all or nothing: one bad document fails the whole file, so
// the sync keeps that file's last good objects rather than half of it.
// Which files are manifests is client/manifests.ts's rule, shared with
// `kcs apply -f DIR`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listManifestFiles } from '../client/manifests.ts';
import { DEFAULT_NAMESPACE, KINDS, kindByName, type KindInfo } from '../objects/kinds.ts';
import * as yaml from 'yaml';
import { ManifestError, parseDocuments } from '../objects/manifest.ts';
import type { KubeObject } from '../objects/types.ts';
import { validateObject } from '../objects/validation.ts';

/** The kinds a directory may declare. Events and Leases are written by kcs itself. */
export const SYNCED_KINDS: KindInfo[] = ['Namespace', 'SchedulerConfiguration', 'Node', 'Pod'].map((k) => kindByName(k)!);

/** One object a file declares. */
export interface DesiredObject {
  /** The file, relative to the watched directory, with forward slashes. */
  file: string;
  /** Which object in the file (0-based, after `kind: List` items are spread). */
  index: number;
  /** 1-based line where its document starts, where known. */
  line?: number;
  kind: KindInfo;
  namespace?: string;
  name: string;
  /** The manifest as written (namespace filled in for namespaced kinds). */
  manifest: KubeObject;
}

export interface FileError {
  file: string;
  line?: number;
  reason: string;
}

export type FileResult = { file: string; objects: DesiredObject[]; error?: undefined } | { file: string; error: FileError; objects?: undefined };

/** `node/web` or `pod/default/web`: what identifies an object across files. */
export function objectKey(kind: KindInfo, namespace: string | undefined, name: string): string {
  return kind.namespaced ? `${kind.singular}/${namespace}/${name}` : `${kind.singular}/${name}`;
}

/** `node/web`, as kubectl names objects in its output. */
export function objectRef(o: { kind: KindInfo; name: string }): string {
  return `${o.kind.singular}/${o.name}`;
}

/** Parses one file's text into its objects, or the first problem in it. */
export function parseManifestFile(file: string, text: string): FileResult {
  let values: unknown[];
  try {
    values = parseDocuments(text);
  } catch (err) {
    if (err instanceof ManifestError) return { file, error: { file, line: err.line ?? jsonErrorLine(text, err.message), reason: stripLinePrefix(err.message) } };
    return { file, error: { file, reason: (err as Error).message } };
  }
  const lines = new LineFinder(text);
  lines.expected = values.length;
  const objects: DesiredObject[] = [];
  for (let doc = 0; doc < values.length; doc++) {
    const value = values[doc];
    // A `kind: List` stands for its items; remember where each sits for error lines.
    const items: Array<{ value: unknown; prefix: Array<string | number> }> = isList(value)
      ? (value as { items: unknown[] }).items.map((v, i) => ({ value: v, prefix: ['items', i] }))
      : [{ value, prefix: [] }];
    for (const item of items) {
      const problem = (reason: string, field: Array<string | number> = []): FileResult => ({ file, error: { file, line: lines.lineOf(doc, [...item.prefix, ...field]), reason } });
      const obj = item.value as KubeObject;
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return problem('the document is not an object');
      if (!obj.kind || typeof obj.kind !== 'string') return problem("Object 'kind' is missing");
      if (!obj.apiVersion) return problem("Object 'apiVersion' is missing");
      const kind = kindByName(obj.kind);
      if (!kind) return problem(`unknown kind "${obj.kind}" (kcs serves: ${KINDS.map((k) => k.kind).join(', ')})`, ['kind']);
      if (!SYNCED_KINDS.includes(kind)) return problem(`kind "${obj.kind}" is written by kcs itself and cannot be synced (sync declares: ${SYNCED_KINDS.map((k) => k.kind).join(', ')})`, ['kind']);
      if (obj.apiVersion !== kind.apiVersion) return problem(`kind "${obj.kind}" is served as apiVersion "${kind.apiVersion}", not "${String(obj.apiVersion)}"`, ['apiVersion']);
      const name = obj.metadata?.name;
      if (!name || typeof name !== 'string') return problem('metadata.name is required', ['metadata']);
      const manifest = structuredClone(obj);
      const { errors } = validateObject(structuredClone(manifest));
      if (errors.length) {
        const first = errors[0];
        const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1).map((e) => e.field).join(', ')})` : '';
        return problem(`${kind.kind} "${name}" is invalid: ${first.field}: ${first.message}${more}`, fieldSegments(first.field));
      }
      const namespace = kind.namespaced ? (manifest.metadata.namespace ?? DEFAULT_NAMESPACE) : undefined;
      if (kind.namespaced) manifest.metadata.namespace = namespace;
      objects.push({ file, index: objects.length, line: item.prefix.length ? lines.lineOf(doc, item.prefix) : lines.startOf(doc), kind, namespace, name, manifest });
    }
  }
  return { file, objects };
}

function isList(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

function stripLinePrefix(message: string): string {
  return message.replace(/^line \d+: /, '');
}

/** V8's JSON errors say "(line 3 column 5)"; older ones only "at position 42". */
function jsonErrorLine(text: string, message: string): number | undefined {
  const m = /line (\d+) column \d+/.exec(message);
  if (m) return Number(m[1]);
  const p = /at position (\d+)/.exec(message);
  return p ? lineAt(text, Number(p[1])) : undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** First content line of each non-empty document, or null for JSON-looking text (one document, line 1). */
function scanDocumentStarts(text: string): number[] | null {
  if (/^\s*[{[]/.test(text)) return [1 + (text.match(/^\s*/)![0].match(/\n/g)?.length ?? 0)];
  const starts: number[] = [];
  let inDoc = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^(---|\.\.\.)(\s|$)/.test(l)) {
      inDoc = false;
      // `--- {a: 1}` or `--- !tag`: content on the marker line itself.
      if (/^---\s+[^#\s]/.test(l)) {
        starts.push(i + 1);
        inDoc = true;
      }
      continue;
    }
    if (inDoc || /^\s*(#|$)/.test(l) || /^%/.test(l)) continue;
    starts.push(i + 1);
    inDoc = true;
  }
  return starts;
}

/** `spec.containers[0].resources["a/b"]` -> ['spec', 'containers', 0, 'resources', 'a/b'] */
export function fieldSegments(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

/**
 * Finds the line of a field in the n-th (non-empty) document, for error
 * messages. The text has already passed parseDocuments' safety checks; the
 * YAML is parsed again only for this, lazily, so a file without errors pays
 * nothing beyond the documents' start lines.
 */
class LineFinder {
  private readonly text: string;
  private docs?: yaml.Document.Parsed[];

  private starts?: number[] | null;

  constructor(text: string) {
    this.text = text;
  }

  /**
   * The line where the n-th non-empty document starts, from a scan for
   * `---` markers (no second parse); the YAML parse only when the scan and
   * the parser disagree on how many documents there are (e.g. a `~` document).
   */
  startOf(doc: number): number | undefined {
    if (this.starts === undefined) this.starts = scanDocumentStarts(this.text);
    if (this.starts && this.starts.length === this.expected) return this.starts[doc];
    return this.lineOf(doc, []);
  }

  /** How many documents parseDocuments found (set by the caller). */
  expected = -1;

  lineOf(doc: number, path: Array<string | number>): number | undefined {
    try {
      const d = this.documents()[doc];
      if (!d) return undefined;
      // The deepest node of the path that exists: a missing field is reported where its parent is.
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? d.contents : d.getIn(path.slice(0, n), true);
        const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
        if (range) {
          // A key's value: report the key's line (a block map's value may start on the next line).
          return lineAt(this.text, n > 0 ? this.keyOffset(d, path.slice(0, n)) ?? range[0] : range[0]);
        }
      }
    } catch {
      // No line is better than a failure while describing a failure.
    }
    return undefined;
  }

  private keyOffset(d: yaml.Document.Parsed, path: Array<string | number>): number | undefined {
    const parent = path.length === 1 ? d.contents : d.getIn(path.slice(0, -1), true);
    if (!yaml.isMap(parent)) return undefined;
    const pair = parent.items.find((p) => yaml.isScalar(p.key) && p.key.value === path[path.length - 1]);
    return (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
  }

  private documents(): yaml.Document.Parsed[] {
    if (!this.docs) {
      const all = yaml.parseAllDocuments(this.text) as yaml.Document.Parsed[];
      this.docs = (Array.isArray(all) ? all : [all]).filter((d) => {
        const v = d.contents;
        return v !== null && !(yaml.isScalar(v) && v.value === null);
      });
    }
    return this.docs;
  }
}

/**
 * Reads a directory, re-parsing only the files whose text changed since the
 * last read (a resync of 1,000 unchanged files reads them but parses none).
 */
export class SourceReader {
  readonly root: string;
  private cache = new Map<string, { text: string; result: FileResult }>();

  constructor(root: string) {
    this.root = root;
  }

  read(): Map<string, FileResult> {
    const files = new Map<string, FileResult>();
    const next = new Map<string, { text: string; result: FileResult }>();
    for (const file of listManifestFiles(this.root, { recursive: true })) {
      let text: string;
      try {
        text = readFileSync(join(this.root, file), 'utf8');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Removed between listing and reading: it is gone, as the next read will say.
        if (e.code === 'ENOENT') continue;
        files.set(file, { file, error: { file, reason: e.code === 'EISDIR' ? 'is a directory' : e.message } });
        continue;
      }
      const cached = this.cache.get(file);
      const result = cached && cached.text === text ? cached.result : parseManifestFile(file, text);
      next.set(file, { text, result });
      files.set(file, result);
    }
    this.cache = next;
    return files;
  }
}
