// One sync of a directory: read it, list what the cluster holds, plan, and
// carry the plan out through any KcsClient (HTTP for `kcs sync`, in-process
// for `kcs up --watch`). Applying reuses `kcs apply`'s client-side apply
// (three-way merge), so fields other actors set are kept. A GitOpsSync
// remembers each file's last good objects between syncs.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { applyOne } from '../client/apply.ts';
import { isNotFound, type KcsClient } from '../client/interface.ts';
import type { DesiredObject, FileError } from './source.ts';
import { objectRef, SourceReader, SYNCED_KINDS } from './source.ts';
import { plan, type LiveObject } from './plan.ts';
import { FileEventReporter } from './report.ts';

export type SyncOutcome = 'created' | 'configured' | 'unchanged' | 'pruned' | 'failed';

export interface SyncResult {
  /** `node/big` */
  ref: string;
  namespace?: string;
  /** The file it comes (or came, when pruned) from. */
  file: string;
  outcome: SyncOutcome;
  error?: string;
  warnings?: string[];
}

export interface SyncReport {
  results: SyncResult[];
  /** Files that could not be read, and objects that could not be taken. */
  errors: FileError[];
  /** Broken files whose objects were kept. */
  kept: string[];
  dryRun: boolean;
  ms: number;
}

export interface GitOpsSyncOptions {
  client: KcsClient;
  /** The directory; resolved to an absolute, symlink-free path that identifies it. */
  dir: string;
  dryRun?: boolean;
  /** Warning Events for broken files (not in a dry run). Default true. */
  events?: boolean;
  /** How many writes are in flight at once. */
  concurrency?: number;
  log?: (message: string) => void;
}

export const DEFAULT_CONCURRENCY = 16;

/** The identity of a synced directory: its absolute, symlink-free path. */
export function syncRoot(dir: string): string {
  return realpathSync(resolve(dir));
}

export class GitOpsSync {
  readonly root: string;
  private readonly client: KcsClient;
  private readonly reader: SourceReader;
  private readonly dryRun: boolean;
  private readonly concurrency: number;
  private readonly log: (message: string) => void;
  private readonly reporter?: FileEventReporter;
  private lastGood = new Map<string, DesiredObject[]>();
  /** The error last reported for each broken file: reported again only when it changes. */
  private reported = new Map<string, string>();

  constructor(opts: GitOpsSyncOptions) {
    this.root = syncRoot(opts.dir);
    this.client = opts.client;
    this.reader = new SourceReader(this.root);
    this.dryRun = opts.dryRun ?? false;
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.log = opts.log ?? (() => {});
    if (opts.events !== false && !this.dryRun) this.reporter = new FileEventReporter(this.client, this.root, this.log);
  }

  /** Throws only when the API cannot be reached; everything else is in the report. */
  async sync(): Promise<SyncReport> {
    const started = performance.now();
    const files = this.reader.read();
    const live: LiveObject[] = [];
    for (const kind of SYNCED_KINDS) {
      const list = await this.client.list(kind);
      for (const object of list.items) live.push({ kind, object });
    }
    const p = plan({ root: this.root, files, lastGood: this.lastGood, live });

    const results: SyncResult[] = new Array(p.apply.length);
    const applyAt = (i: number) => async () => {
      const a = p.apply[i]!;
      const d = a.desired;
      const r = await applyOne(this.client, { source: d.file, index: d.index, value: a.manifest }, { dryRun: this.dryRun, live: a.live });
      results[i] = { ref: objectRef(d), namespace: d.namespace, file: d.file, outcome: r.error ? 'failed' : r.outcome!, error: r.error, warnings: r.warnings?.length ? r.warnings : undefined };
    };
    // Namespaces first, all of them done before anything that may be in one
    // starts (the plan puts them first; the writes after them run 16 at once).
    const namespaces = p.apply.findLastIndex((a) => a.desired.kind.kind === 'Namespace') + 1;
    await pool(p.apply.slice(0, namespaces).map((_, i) => applyAt(i)), this.concurrency);
    await pool(p.apply.slice(namespaces).map((_, i) => applyAt(namespaces + i)), this.concurrency);
    for (const pr of p.prune) {
      const result: SyncResult = { ref: objectRef(pr), namespace: pr.namespace, file: pr.file, outcome: 'pruned' };
      try {
        await this.client.delete(pr.kind, pr.namespace, pr.name, { dryRun: this.dryRun });
      } catch (err) {
        if (!isNotFound(err)) {
          if ((err as { code?: unknown }).code === undefined || typeof (err as { code?: unknown }).code !== 'number') throw err;
          result.outcome = 'failed';
          result.error = (err as Error).message;
        }
      }
      results.push(result);
    }

    // Remember what parsed, so a file that breaks later keeps its objects.
    if (!this.dryRun) {
      for (const file of [...this.lastGood.keys()]) if (!files.has(file)) this.lastGood.delete(file);
      for (const [file, objects] of p.good) this.lastGood.set(file, objects);
    }
    await this.report(p.errors, files, results);
    return { results, errors: p.errors, kept: p.kept, dryRun: this.dryRun, ms: performance.now() - started };
  }

  /** Logs and records (as Events) what went wrong, once per distinct problem per file. */
  private async report(errors: FileError[], files: Map<string, unknown>, results: SyncResult[]): Promise<void> {
    const now = new Map<string, string>();
    for (const e of errors) now.set(e.file, [now.get(e.file), formatFileError(e)].filter(Boolean).join('; '));
    for (const r of results) if (r.outcome === 'failed') now.set(r.file, [now.get(r.file), `${r.file}: ${r.ref}: ${r.error}`].filter(Boolean).join('; '));
    for (const [file, message] of now) {
      if (this.reported.get(file) === message) continue;
      this.reported.set(file, message);
      this.log(`error: ${message}`);
      await this.reporter?.warn(file, message);
    }
    for (const file of [...this.reported.keys()]) {
      if (now.has(file)) continue;
      this.reported.delete(file);
      if (files.has(file)) {
        this.log(`${file}: synced again`);
        await this.reporter?.recovered(file);
      }
    }
  }
}

/** `node/big created (nodes.yaml)`, `pod/old pruned (pods.yaml, dry run)` */
export function formatResult(r: SyncResult, dryRun: boolean): string {
  const where = [r.file, ...(r.namespace && r.namespace !== 'default' ? [`namespace ${r.namespace}`] : []), ...(dryRun ? ['dry run'] : [])].join(', ');
  return `${r.ref} ${r.outcome}${r.error ? `: ${r.error}` : ''} (${where})`;
}

/** Counts by outcome: `2 created, 1 pruned` (only the non-zero ones; `nothing to do` when all unchanged). */
export function summarize(report: SyncReport): string {
  const counts = new Map<string, number>();
  for (const r of report.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const parts = (['created', 'configured', 'pruned', 'failed', 'unchanged'] as const).filter((o) => counts.get(o)).map((o) => `${counts.get(o)} ${o}`);
  if (report.kept.length) parts.push(`${report.kept.length} broken file${report.kept.length > 1 ? 's' : ''} kept as before`);
  return parts.join(', ') || 'no objects';
}

/** `nodes.yaml line 3: invalid YAML: ...` */
export function formatFileError(e: FileError): string {
  return `${e.file}${e.line ? ` line ${e.line}` : ''}: ${e.reason}`;
}

/** Runs the tasks with at most `limit` in flight; rejects with the first failure after all settle. */
async function pool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      try {
        await task();
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.err;
}
