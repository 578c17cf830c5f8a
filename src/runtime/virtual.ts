// Many simulated nodes in this process. Each runs the real NodeAgent over
// HTTP with its own node token, so on the wire a virtual node is a
// container node without the container.
import { leaseTimeoutMs, NodeAgent } from '../agent/agent.ts';
import type { RestartBackoff } from '../agent/pod-status.ts';
import { Client } from '../client/http.ts';
import type { KcsClient } from '../client/interface.ts';
import type { Clock } from '../util/clock.ts';
import { RuntimeError, specHash, type Machine, type MachineSpec, type NodeClientFactory, type NodeRuntime } from './runtime.ts';

interface VirtualMachine extends Machine {
  agent: NodeAgent;
  client: KcsClient;
  /** Over HTTP, a client of its own for Lease renewals (see NodeAgent); in-process, the same client. */
  leaseClient: KcsClient;
  heartbeatMs: number;
}

/**
 * How virtual agents reach the API: over HTTP with their node tokens (a
 * container node without the container), or in-process through the same
 * registry and the same node authorizer, without sockets. In-process costs a
 * fraction of the CPU per heartbeat, which is what lets one process
 * simulate a thousand nodes; the control plane offers those clients
 * (useInProcessClients), so this runtime never sees the API's insides.
 */
export type VirtualTransport = 'http' | 'in-process';

export class VirtualRuntime implements NodeRuntime {
  readonly kind = 'virtual' as const;
  private readonly machines = new Map<string, VirtualMachine>();
  private readonly listeners = new Set<(name: string) => void>();
  private readonly clock?: Clock;
  private readonly log: (message: string) => void;
  private readonly transport: VirtualTransport;
  private readonly restartBackoff?: RestartBackoff;
  private inProcessClient?: NodeClientFactory;

  constructor(opts: { clock?: Clock; log?: (message: string) => void; transport?: VirtualTransport; restartBackoff?: RestartBackoff } = {}) {
    this.clock = opts.clock;
    this.log = opts.log ?? (() => {});
    this.transport = opts.transport ?? 'http';
    this.restartBackoff = opts.restartBackoff;
  }

  useInProcessClients(clientFor: NodeClientFactory): void {
    this.inProcessClient = clientFor;
  }

  private clientFor(spec: MachineSpec): KcsClient {
    if (this.transport === 'http') return new Client({ server: spec.server, token: spec.token, ca: spec.ca });
    if (!this.inProcessClient) throw new RuntimeError('NoInProcessApi', 'the in-process virtual runtime runs only beside a control plane in this process');
    return this.inProcessClient(spec.name);
  }

  async list(): Promise<Machine[]> {
    return [...this.machines.values()].map((m) => this.view(m));
  }

  async get(name: string): Promise<Machine | undefined> {
    const m = this.machines.get(name);
    return m && this.view(m);
  }

  async ensure(spec: MachineSpec): Promise<Machine> {
    const existing = this.machines.get(spec.name);
    const hash = specHash(spec);
    if (existing && existing.uid === spec.uid && existing.running && existing.specHash === hash) return this.view(existing);
    if (existing) await this.remove(spec.name);
    const client = this.clientFor(spec);
    const leaseClient = this.transport === 'http' ? new Client({ server: spec.server, token: spec.token, ca: spec.ca, timeoutMs: leaseTimeoutMs(spec.heartbeatMs) }) : client;
    const agent = new NodeAgent({ client, leaseClient, nodeName: spec.name, heartbeatMs: spec.heartbeatMs, clock: this.clock, restartBackoff: this.restartBackoff, log: (m) => this.log(`virtual node ${spec.name}: ${m}`) });
    const machine: VirtualMachine = {
      name: spec.name, uid: spec.uid, id: `virtual://${spec.name}/${spec.uid.slice(0, 8)}`, running: true, agent, client, leaseClient, specHash: hash, heartbeatMs: spec.heartbeatMs,
      server: this.transport === 'http' ? spec.server : undefined,
    };
    // Listed from the moment it exists, like a container that is starting.
    this.machines.set(spec.name, machine);
    try {
      await agent.start();
    } catch (err) {
      this.machines.delete(spec.name);
      agent.stop();
      client.close();
      leaseClient.close();
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
    m.leaseClient.close();
  }

  async kill(name: string): Promise<void> {
    this.crash(name);
  }

  /** Simulates the agent process dying: the machine stays, not running. */
  crash(name: string): void {
    const m = this.machines.get(name);
    if (!m || !m.running) return;
    m.running = false;
    m.agent.stop();
    m.client.close();
    m.leaseClient.close();
    for (const l of this.listeners) l(name);
  }

  watch(onChange: (name: string) => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /**
   * Simulates a frozen machine (docker pause, a lost network): the agent
   * stops, but the machine still counts as running, so only missed
   * heartbeats can tell.
   */
  freeze(name: string): void {
    const m = this.machines.get(name);
    if (!m) return;
    m.agent.stop();
  }

  /** Ends a freeze: a fresh agent (it kept nothing) rebuilds its view from the API. */
  async thaw(name: string): Promise<void> {
    const m = this.machines.get(name);
    if (!m) return;
    m.agent = new NodeAgent({ client: m.client, leaseClient: m.leaseClient, nodeName: name, heartbeatMs: m.heartbeatMs, clock: this.clock, restartBackoff: this.restartBackoff, log: (msg) => this.log(`virtual node ${name}: ${msg}`) });
    await m.agent.start();
  }

  agentOf(name: string): NodeAgent | undefined {
    return this.machines.get(name)?.agent;
  }

  async close(): Promise<void> {
    for (const name of [...this.machines.keys()]) await this.remove(name);
  }

  private view({ name, uid, id, running, server, specHash: hash }: VirtualMachine): Machine {
    return { name, uid, id, running, server, specHash: hash };
  }

  async wantedHash(spec: MachineSpec): Promise<string> {
    return specHash(spec);
  }
}
