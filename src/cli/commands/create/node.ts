import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { kindByName } from '../../../objects/kinds.ts';
import type { Condition, Node } from '../../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../../base.ts';
import { parseLabelFlags } from '../../labels.ts';
import { seconds, waitFlags, waitForObject } from '../../waiting.ts';

const conditionOf = (node: Node, type: string): Condition | undefined => node.status?.conditions?.find((c) => c.type === type);

/** Up: its machine runs (RuntimeReady, written by the node controller) and its agent's heartbeat arrived (Ready). */
function isUp(node: Node): boolean {
  return conditionOf(node, 'RuntimeReady')?.status === 'True' && conditionOf(node, 'Ready')?.status === 'True';
}

/** Where the node runs: its container's short id, or "virtual" for a node simulated inside the control plane. */
export function machineOf(node: Node): string {
  const id = node.status?.containerID ?? '';
  if (id.startsWith('docker://')) return `container ${id.slice('docker://'.length, 'docker://'.length + 12)}`;
  if (id.startsWith('virtual://')) return 'virtual';
  return id || 'unknown machine';
}

/** What the node is still waiting on, from what its conditions say. */
function pendingReason(node: Node | undefined): string {
  const runtime = node && conditionOf(node, 'RuntimeReady');
  if (!runtime) return 'no node controller has made its machine (is a node runtime running? kcs up --runtime none runs none)';
  if (runtime.status !== 'True') return `its machine is not running: ${runtime.reason ?? ''}${runtime.message ? `: ${runtime.message}` : ''}`;
  const ready = conditionOf(node, 'Ready');
  return ready ? `its agent is not Ready: ${ready.reason ?? ready.status}${ready.message ? `: ${ready.message}` : ''}` : 'its machine runs but no heartbeat from its agent has arrived';
}

export default class CreateNode extends ClientCommand {
  static override summary = 'Add a node: a simulated machine with the CPU cores (and memory) you give it.';
  static override description = 'Waits until the machine runs and its agent\'s first heartbeat arrives, then says where it runs and how long it took (--wait=false: return once the Node is created).';
  static override examples = [
    '<%= config.bin %> create node node-1 --cpu 4',
    '<%= config.bin %> create node big --cpu 16 --memory 64Gi --label zone=a',
    '<%= config.bin %> create node later --cpu 2 --wait=false',
  ];
  static override args = { name: Args.string({ required: true, description: 'the node name (DNS-1123)' }) };
  static override flags = {
    ...connectionFlags,
    cpu: Flags.string({ required: true, summary: 'CPU cores the machine contributes, e.g. 4 or 1500m.' }),
    memory: Flags.string({ summary: 'Memory the machine contributes, e.g. 8Gi.' }),
    pods: Flags.integer({ summary: 'Most pods the node may hold (default 110).' }),
    label: Flags.string({ summary: 'A label key=value (repeatable).', multiple: true }),
    ...waitFlags,
  };

  async run(): Promise<Node> {
    const { args, flags } = await this.parse(CreateNode);
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: args.name, ...(flags.label ? { labels: parseLabelFlags(flags.label) } : {}) },
      spec: { capacity: { cpu: flags.cpu, ...(flags.memory ? { memory: flags.memory } : {}), ...(flags.pods ? { pods: String(flags.pods) } : {}) } },
    };
    const started = Date.now();
    const client = this.client(flags);
    const { body } = await client.create<Node>(kindByName('Node')!, undefined, node);
    this.log(`node/${body.metadata.name} created`);
    if (!flags.wait) return body;
    const outcome = await waitForObject(client, kindByName('Node')!, undefined, body, flags.timeout, (n) => (isUp(n as Node) ? true : undefined));
    if (outcome.kind === 'done') {
      const up = outcome.object as Node;
      this.log(`node/${args.name} Ready in ${seconds(Date.now() - started)} (${machineOf(up)})`);
      return up;
    }
    this.logToStderr(outcome.kind === 'deleted'
      ? `error: node/${args.name} was deleted before it came up`
      : `error: node/${args.name} did not come up within ${seconds(flags.timeout)}: ${pendingReason(outcome.object as Node | undefined)}`);
    this.exit(1);
  }
}
