import { MetadataCommand, metadataFlags } from '../metadata-command.ts';

export default class Annotate extends MetadataCommand {
  static override summary = 'Add, change or remove annotations of objects, as kubectl annotate does.';
  static override description = 'KEY=VALUE sets an annotation, KEY- removes it. Changing an annotation that already has another value needs --overwrite. '
    + 'kcs.io/simulate-unhealthy="true" on a pod makes it fail its health check (see "Pod health" in the README).';
  static override usage = ['annotate TYPE NAME... KEY=VALUE... [KEY-...]', 'annotate TYPE/NAME KEY=VALUE...', 'annotate TYPE (-l SELECTOR | --all) KEY=VALUE...'];
  static override examples = [
    '<%= config.bin %> annotate pod web-1 kcs.io/simulate-unhealthy=true',
    '<%= config.bin %> annotate pod web-1 kcs.io/simulate-unhealthy-',
    '<%= config.bin %> annotate pod web-1 kcs.io/max-restarts=5 --overwrite',
    '<%= config.bin %> annotate node node-1 owner=team-a',
    '<%= config.bin %> annotate pods -l app=web note=canary',
  ];
  static override strict = false;
  static override flags = metadataFlags('annotation');
  protected readonly map = 'annotations' as const;

  protected outcome(): string {
    return 'annotated';
  }

  async run(): Promise<string[]> {
    const { argv, flags } = await this.parse(Annotate);
    return this.change(argv as string[], flags);
  }
}
