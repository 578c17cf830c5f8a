import { MetadataCommand, metadataFlags } from '../metadata-command.ts';
import type { MetadataChanges } from '../metadata-changes.ts';

export default class Label extends MetadataCommand {
  static override summary = 'Add, change or remove labels of objects, as kubectl label does.';
  static override description = 'KEY=VALUE sets a label, KEY- removes it. Changing a label that already has another value needs --overwrite. The server checks keys and values as Kubernetes does.';
  static override usage = ['label TYPE NAME... KEY=VALUE... [KEY-...]', 'label TYPE/NAME KEY=VALUE...', 'label TYPE (-l SELECTOR | --all) KEY=VALUE...'];
  static override examples = [
    '<%= config.bin %> label pod web-1 tier=frontend',
    '<%= config.bin %> label pod web-1 tier=backend --overwrite',
    '<%= config.bin %> label pod web-1 tier-',
    '<%= config.bin %> label nodes --all zone=a',
    '<%= config.bin %> label pods -l app=web canary=true',
  ];
  static override strict = false;
  static override flags = metadataFlags('label');
  protected readonly map = 'labels' as const;

  /** kubectl's words: labeled, unlabeled when only removing, not labeled when nothing changed. */
  protected outcome(changes: MetadataChanges, changed: boolean): string {
    if (!changed) return 'not labeled';
    return Object.keys(changes.set).length ? 'labeled' : 'unlabeled';
  }

  async run(): Promise<string[]> {
    const { argv, flags } = await this.parse(Label);
    return this.change(argv as string[], flags);
  }
}
