// Many simulated nodes in this process. Each runs the real NodeAgent over
// HTTP with its own node token, so on the wire a virtual node is a
// container node without the container.
import { NodeAgent } from '../agent/agent.ts';
import { Client } from '../client/http.ts';
import type { Clock } from '../util/clock.ts';
import { RuntimeError, type Machine, type MachineSpec, type NodeRuntime } from './runtime.ts';

interface VirtualMachine extends Machine {
  agent: NodeAgent;
  client: Client;
}

export class VirtualRuntime implements NodeRuntime {
  readonly kind = 'virtual' as const;
  private readonly machines = new Map<string, VirtualMachine>();
  private readonly listeners = new Set<(name: string) => void>();
  private readonly clock?: Clock;
  private readonly log: (message: string) => void;

  constructor(opts: { clock?: Clock; log?: (message: string) => void } = {}) {
    this.clock = opts.clock;
    this.log = opts.log ?? (() => {});
  }

  async list(): Promise<Machine[]> {
    return [...this.machines.values()].map(({ name, uid, id, running }) => ({ name, uid, id, running }));
  }

  async ensure(spec: MachineSpec): Promise<Machine> {
    const existing = this.machines.get(spec.name);
    if (existing && existing.uid === spec.uid && existing.running) return this.view(existing);
    if (existing) await this.remove(spec.name);
    const client = new Client({ server: spec.server, token: spec.token });
    const agent = new NodeAgent({ client, nodeName: spec.name, heartbeatMs: spec.heartbeatMs, clock: this.clock, log: (m) => this.log(`virtual node ${spec.name}: ${m}`) });
    const machine: VirtualMachine = { name: spec.name, uid: spec.uid, id: `virtual://${spec.name}/${spec.uid.slice(0, 8)}`, running: true, agent, client };
    // Listed from the moment it exists, like a container that is starting.
    this.machines.set(spec.name, machine);
    try {
      await agent.start();
    } catch (err) {
      this.machines.delete(spec.name);
      agent.stop();
      client.close();
      throw new RuntimeError('AgentStartFailed', `the agent of virtual node ${spec.name} could not register: ${(err as Error).message}`, { cause: err });
    }
    return this.view(machine);
  }

  async remove(name: string): Promise<void> {
    const m = this.machines.get(name);
    if (!m) return;
    this.machines.delete(name);
    m.agent.stop();
    m.client.close();
  }

  /** Simulates the agent process dying: the machine stays, not running. */
  crash(name: string): void {
    const m = this.machines.get(name);
    if (!m || !m.running) return;
    m.running = false;
    m.agent.stop();
    m.client.close();
    for (const l of this.listeners) l(name);
  }

  watch(onChange: (name: string) => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  agentOf(name: string): NodeAgent | undefined {
    return this.machines.get(name)?.agent;
  }

  async close(): Promise<void> {
    for (const name of [...this.machines.keys()]) await this.remove(name);
  }

  private view({ name, uid, id, running }: VirtualMachine): Machine {
    return { name, uid, id, running };
  }
}
