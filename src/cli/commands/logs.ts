import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { streamPodLog } from '../../client/pod-log.ts';
import { DEFAULT_NAMESPACE } from '../../objects/kinds.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag } from '../flags.ts';
import { DurationError, parseDuration } from '../duration.ts';

export default class Logs extends ClientCommand {
  static override summary = 'Print the log of a container in a pod.';
  static override description = 'A simulated container\'s log is what happened to it: scheduled, started, its health checks, restarts and moves to other nodes (it keeps its log when it moves). The flags are kubectl\'s.';
  static override examples = [
    '<%= config.bin %> logs web',
    '<%= config.bin %> logs web -c sidecar --tail 20',
    '<%= config.bin %> logs web -f --timestamps',
  ];
  static override args = { pod: Args.string({ required: true, description: 'the pod name' }) };
  static override flags = {
    ...connectionFlags,
    namespace: namespaceFlag,
    container: Flags.string({ char: 'c', summary: 'The container (needed when the pod has several).' }),
    follow: Flags.boolean({ char: 'f', summary: 'Keep printing new lines until the pod is deleted (Ctrl-C stops).' }),
    tail: Flags.integer({ summary: 'Only the last N lines (-1: all).', default: -1 }),
    timestamps: Flags.boolean({ summary: 'Prefix each line with its RFC 3339 time.' }),
    previous: Flags.boolean({ char: 'p', summary: 'The log up to the end of the container\'s previous run.' }),
    since: Flags.string({ summary: 'Only lines newer than this duration, e.g. 5s, 2m, 3h.' }),
    'limit-bytes': Flags.integer({ summary: 'At most this many bytes of log.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    let sinceMs: number | undefined;
    try {
      sinceMs = flags.since === undefined ? undefined : parseDuration(flags.since);
    } catch (err) {
      if (err instanceof DurationError) this.error(err.message, { exit: 1 });
      throw err;
    }
    const stream = streamPodLog(this.clientConfig(flags), flags.namespace ?? DEFAULT_NAMESPACE, args.pod, {
      container: flags.container,
      follow: flags.follow,
      previous: flags.previous,
      timestamps: flags.timestamps,
      tailLines: flags.tail >= 0 ? flags.tail : undefined,
      sinceSeconds: sinceMs === undefined ? undefined : Math.max(1, Math.ceil(sinceMs / 1000)),
      limitBytes: flags['limit-bytes'],
    }, (text) => process.stdout.write(text));
    const stop = () => stream.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await stream.done;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}
