import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, connectionFlags } from '../base.ts';

export default class Sync extends ClientCommand {
  static override summary = 'Make the cluster match a directory of manifests: apply what is there, prune what was removed.';
  static override description = 'Every .yaml, .yml and .json file under DIR (recursively; dotfiles and editor backups ignored) is applied as `kcs apply` would. Objects this sync created are labelled kcs.io/managed-by=gitops and annotated with their file (kcs.io/source) and the directory (kcs.io/source-root); those whose manifest is gone are deleted. Nothing else is ever deleted. A file that fails to parse or validate is reported with its line and its objects are left as they were. With --watch it keeps following the directory, and restores objects changed out of band every --resync-ms.';
  static override examples = [
    '<%= config.bin %> sync manifests/',
    '<%= config.bin %> sync manifests/ --dry-run',
    '<%= config.bin %> sync manifests/ --watch --resync-ms 10000',
  ];
  static override args = {
    dir: Args.string({ required: true, description: 'the directory of manifests' }),
  };
  static override flags = {
    ...connectionFlags,
    'dry-run': Flags.boolean({ summary: 'Print what would be created, configured and pruned; change nothing.', exclusive: ['watch'] }),
    watch: Flags.boolean({ char: 'w', summary: 'Keep running: sync on every change to the directory, and every --resync-ms.' }),
    'resync-ms': Flags.integer({ summary: 'With --watch: how often to sync anyway, restoring objects changed out of band.', default: 30_000, min: 100 }),
    'debounce-ms': Flags.integer({ summary: 'With --watch: how long the directory must be quiet after a change before syncing.', default: 100, min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sync);
    const client = this.client(flags);
    const { GitOpsSync, formatResult, summarize, syncRoot } = await import('../../gitops/sync.ts');
    const dryRun = flags['dry-run'];
    try {
      syncRoot(args.dir);
    } catch (err) {
      this.error(`${args.dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`, { exit: 1 });
    }
    const sync = new GitOpsSync({ client, dir: args.dir, dryRun, log: (m) => this.logToStderr(m) });

    if (!flags.watch) {
      const report = await sync.sync();
      for (const r of report.results) if (r.outcome !== 'failed') this.log(formatResult(r, dryRun));
      for (const r of report.results) for (const w of r.warnings ?? []) this.logToStderr(`Warning: ${r.ref}: ${w}`);
      if (report.errors.length || report.results.some((r) => r.outcome === 'failed')) this.exit(1);
      return;
    }

    const { DirectoryWatcher } = await import('../../gitops/watch.ts');
    const watcher = new DirectoryWatcher({
      sync, resyncMs: flags['resync-ms'], debounceMs: flags['debounce-ms'], log: (m) => this.logToStderr(m),
      onSynced: (report) => {
        const changed = report.results.filter((r) => r.outcome !== 'unchanged' && r.outcome !== 'failed');
        for (const r of changed) this.log(formatResult(r, false));
        if (changed.length) this.log(`synced ${sync.root}: ${summarize(report)} in ${Math.round(report.ms)} ms`);
      },
    });
    await watcher.start();
    this.log(`watching ${sync.root} (resync every ${flags['resync-ms']} ms); Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await watcher.close();
    this.log('stopped');
  }
}
