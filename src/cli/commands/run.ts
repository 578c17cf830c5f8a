import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_NAMESPACE, kindByName } from '../../objects/kinds.ts';
import type { Pod } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { namespaceFlag } from '../flags.ts';
import { parseLabelFlags } from '../labels.ts';
import { seconds, waitFlags, waitForObject } from '../waiting.ts';

type Placement = { running: true } | { running: false; unschedulable: string };

/**
 * Running: bound, and confirmed by its node's agent (which reports the pod
 * in its node's status and marks it Running, in one commit). Unschedulable:
 * the scheduler found no node, and says why in PodScheduled.
 */
function placement(pod: Pod): Placement | undefined {
  if (pod.spec.nodeName && pod.status?.phase === 'Running') return { running: true };
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (!pod.spec.nodeName && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return { running: false, unschedulable: scheduled.message ?? 'no node fits' };
  return undefined;
}

function pendingReason(pod: Pod | undefined): string {
  if (!pod?.spec.nodeName) return 'no scheduler has bound it (is a scheduler running? kcs up --runtime none runs none)';
  return `bound to ${pod.spec.nodeName}, whose agent has not confirmed it`;
}

export default class Run extends ClientCommand {
  static override summary = 'Launch a pod that requests the CPU (and memory) you give it.';
  static override description = 'Waits until the pod is bound and its node confirmed it, then prints the node and the pod\'s UID; when no node fits, prints the scheduler\'s reason and exits 1 (--wait=false: return once the Pod is created).';
  static override examples = [
    '<%= config.bin %> run web --cpu 2',
    '<%= config.bin %> run db --cpu 500m --memory 1Gi --label app=db',
    '<%= config.bin %> run batch --cpu 1 --wait=false',
  ];
  static override args = { name: Args.string({ required: true, description: 'the pod name (DNS-1123)' }) };
  static override flags = {
    ...connectionFlags,
    cpu: Flags.string({ required: true, summary: 'CPU the pod requests, e.g. 2 or 500m.' }),
    memory: Flags.string({ summary: 'Memory the pod requests, e.g. 256Mi.' }),
    image: Flags.string({ summary: 'Container image, recorded but not run (pods are simulated).', default: 'kcs/simulated' }),
    label: Flags.string({ summary: 'A label key=value (repeatable); default run=NAME.', multiple: true }),
    namespace: namespaceFlag,
    ...waitFlags,
  };

  async run(): Promise<Pod> {
    const { args, flags } = await this.parse(Run);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: args.name, labels: flags.label ? parseLabelFlags(flags.label) : { run: args.name } },
      spec: {
        containers: [{
          name: args.name.replace(/\./g, '-').slice(0, 63),
          image: flags.image,
          resources: { requests: { cpu: flags.cpu, ...(flags.memory ? { memory: flags.memory } : {}) } },
        }],
      },
    };
    const started = Date.now();
    const client = this.client(flags);
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const { body } = await client.create<Pod>(kindByName('Pod')!, namespace, pod);
    this.log(`pod/${body.metadata.name} created`);
    if (!flags.wait) return body;
    const outcome = await waitForObject(client, kindByName('Pod')!, namespace, body, flags.timeout, (p) => placement(p as Pod));
    if (outcome.kind === 'done' && outcome.value.running) {
      const running = outcome.object as Pod;
      this.log(`pod/${args.name} running on ${running.spec.nodeName} in ${seconds(Date.now() - started)} (uid ${running.metadata.uid})`);
      return running;
    }
    if (outcome.kind === 'done' && !outcome.value.running) {
      this.logToStderr(`error: pod/${args.name} cannot be scheduled: ${outcome.value.unschedulable}`);
      this.logToStderr(`hint: it stays Pending and is placed when a node fits ('kcs describe pod ${args.name}${namespace === DEFAULT_NAMESPACE ? '' : ` -n ${namespace}`}' shows every node's verdict).`);
    } else {
      this.logToStderr(outcome.kind === 'deleted'
        ? `error: pod/${args.name} was deleted before it ran`
        : `error: pod/${args.name} was not running within ${seconds(flags.timeout)}: ${pendingReason(outcome.object as Pod | undefined)}`);
    }
    this.exit(1);
  }
}
