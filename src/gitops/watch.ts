// Keeps a directory synced: chokidar reports changes, a burst of them is
// debounced into one sync, and a resync timer corrects drift (an object
// changed or deleted out of band) and catches anything the watcher missed.
// The scheduling (SyncLoop) is separate from chokidar and runs on an
// injected Clock, so its rules are tested without sleeping.
import { relative, sep } from 'node:path';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { isIgnoredFile } from '../client/manifests.ts';
import type { GitOpsSync, SyncReport } from './sync.ts';

export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_RESYNC_MS = 30_000;
/** After a failed sync (API unreachable): retry after 0.5 s, doubling up to the resync interval. */
const FIRST_RETRY_MS = 500;

export interface SyncLoopOptions {
  run: () => Promise<SyncReport>;
  /** Quiet time after the last change before syncing. */
  debounceMs?: number;
  /** A burst that never goes quiet still syncs this often. Default 10 x debounce. */
  maxWaitMs?: number;
  resyncMs?: number;
  clock?: Clock;
  onSynced?: (report: SyncReport) => void;
  onFailed?: (err: unknown) => void;
}

/**
 * One sync at a time. A change during a sync schedules exactly one more
 * after it. The resync timer restarts after every sync, so an idle
 * directory is synced every resyncMs and a busy one no more than needed.
 */
export class SyncLoop {
  private readonly opts: SyncLoopOptions;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly resyncMs: number;
  private debounce?: Timer;
  private burstStarted?: number;
  private resync?: Timer;
  private running?: Promise<void>;
  private dirty = false;
  private failures = 0;
  private stopped = false;
  /** How many syncs ran (for tests and the benchmark). */
  syncs = 0;

  constructor(opts: SyncLoopOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.maxWaitMs = opts.maxWaitMs ?? this.debounceMs * 10;
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
  }

  /** Syncs now (the first sync); resolves when it is done. */
  start(): Promise<void> {
    return this.runNow();
  }

  /** Something changed: sync once things have been quiet for debounceMs. */
  changed(): void {
    if (this.stopped) return;
    const now = this.clock.now().getTime();
    this.burstStarted ??= now;
    this.debounce?.cancel();
    const wait = Math.max(0, Math.min(this.debounceMs, this.burstStarted + this.maxWaitMs - now));
    this.debounce = this.clock.setTimer(() => {
      this.debounce = undefined;
      this.burstStarted = undefined;
      void this.runNow();
    }, wait);
  }

  /** Resolves when no sync is running (a pending debounce is not waited for). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private runNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.dirty = true;
      return this.running;
    }
    this.resync?.cancel();
    this.resync = undefined;
    const run = (async () => {
      try {
        const report = await this.opts.run();
        this.syncs++;
        this.failures = 0;
        this.opts.onSynced?.(report);
      } catch (err) {
        this.failures++;
        this.opts.onFailed?.(err);
      }
    })();
    this.running = run.then(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.dirty) {
        this.dirty = false;
        void this.runNow();
        return;
      }
      const delay = this.failures ? Math.min(this.resyncMs, FIRST_RETRY_MS * 2 ** (this.failures - 1)) : this.resyncMs;
      this.resync = this.clock.setTimer(() => {
        this.resync = undefined;
        // A debounced sync already on its way does the job.
        if (!this.debounce) void this.runNow();
      }, delay);
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.debounce?.cancel();
    this.resync?.cancel();
    await this.idle();
  }
}

export interface DirectoryWatcherOptions {
  sync: GitOpsSync;
  debounceMs?: number;
  resyncMs?: number;
  clock?: Clock;
  log?: (message: string) => void;
  onSynced?: (report: SyncReport) => void;
}

/** chokidar on the directory, feeding a SyncLoop. */
export class DirectoryWatcher {
  readonly loop: SyncLoop;
  private readonly opts: DirectoryWatcherOptions;
  private watcher?: import('chokidar').FSWatcher;

  constructor(opts: DirectoryWatcherOptions) {
    this.opts = opts;
    const log = opts.log ?? (() => {});
    this.loop = new SyncLoop({
      run: () => opts.sync.sync(),
      debounceMs: opts.debounceMs,
      resyncMs: opts.resyncMs,
      clock: opts.clock,
      onSynced: opts.onSynced,
      onFailed: (err) => log(`gitops: sync of ${opts.sync.root} failed, will retry: ${(err as Error).message}`),
    });
  }

  /** Starts watching, then syncs once; resolves after that first sync. */
  async start(): Promise<void> {
    const { watch } = await import('chokidar');
    const root = this.opts.sync.root;
    const log = this.opts.log ?? (() => {});
    const watcher = watch(root, {
      ignoreInitial: true,
      ignored: (path, stats) => {
        const rel = relative(root, path);
        if (!rel || rel.startsWith('..')) return false;
        if (rel.split(sep).some((p) => p.startsWith('.'))) return true;
        return stats?.isFile() === true && isIgnoredFile(rel);
      },
    });
    this.watcher = watcher;
    watcher.on('all', (_event, path) => {
      const rel = relative(root, path);
      // Directories are re-listed by the sync itself; a file must be a manifest to matter.
      if (_event === 'addDir' || _event === 'unlinkDir' || !isIgnoredFile(rel)) this.loop.changed();
    });
    watcher.on('error', (err) => log(`gitops: watching ${root}: ${(err as Error).message}`));
    await new Promise<void>((resolveReady) => watcher.once('ready', () => resolveReady()));
    await this.loop.start();
  }

  async close(): Promise<void> {
    await this.loop.stop();
    await this.watcher?.close();
  }
}
