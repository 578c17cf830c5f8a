import { createHash } from 'node:crypto';
import type { KcsClient } from '../client/interface.ts';

// NodeRuntime: the boundary between the control plane and the machines
// that simulate Nodes. `docker` runs one container per Node; `virtual` runs
// the same agent code inside this process, for scale and for machines
// without Docker.

/** What the node controller asks a runtime to run for one Node. */
export interface MachineSpec {
  name: string;
  uid: string;
  milliCpu: number;
  /** Bytes; 0 for no memory limit. */
  memory: number;
  /** Where the agent reaches the API, and the node-scoped token it uses. */
  server: string;
  token: string;
  /** The CA (PEM) the server's certificate chains to, when the API serves TLS. */
  ca?: string;
  heartbeatMs: number;
}

/** A machine as the runtime sees it. */
export interface Machine {
  name: string;
  /** The uid of the Node it was made for: a new Node with the same name gets a new machine. */
  uid: string;
  /** Container ID (docker://...) or virtual://... */
  id: string;
  running: boolean;
  /** The API address its agent was given, where the runtime knows it. */
  server?: string;
  /** A hash of the spec it was made from: a machine whose spec changed is replaced. */
  specHash?: string;
  /** Why a machine that is not running stopped, where the runtime knows it (e.g. "OOMKilled, exit code 137"). */
  stopReason?: string;
}

export interface NodeRuntime {
  readonly kind: 'docker' | 'virtual';
  list(): Promise<Machine[]>;
  /** One machine by node name; where a runtime has no cheaper way, list().find (see machineNamed). */
  get?(name: string): Promise<Machine | undefined>;
  /** Makes sure a running machine exists for spec (creating or starting it); returns it. */
  ensure(spec: MachineSpec): Promise<Machine>;
  /** Stops and removes the machine of this name, if any. */
  remove(name: string): Promise<void>;
  /**
   * Kills the machine of this name as a crash would (SIGKILL to a container,
   * a virtual node's agent stopped dead), leaving it there, not running:
   * a failure on request (the FAIL_NODE annotation).
   */
  kill(name: string): Promise<void>;
  /** Calls onChange with a node name whenever its machine changes on its own (exits, dies, is removed). */
  watch(onChange: (name: string) => void): () => void;
  /** The specHash a machine made for spec would carry now. */
  wantedHash(spec: MachineSpec): Promise<string>;
  /**
   * Offered by a control plane in this same process: a client for each
   * node, acting as that node, for runtimes whose machines can skip the socket.
   */
  useInProcessClients?(clientFor: NodeClientFactory): void;
  close(): Promise<void>;
}

/** A client that acts as the named node (its identity, its permissions). */
export type NodeClientFactory = (nodeName: string) => KcsClient;

/**
 * What a machine is made from, as one short hash. Not the token (it never
 * changes for a node; a new CA remakes it), nor the API servers: those come
 * and go while the agent keeps reaching one (the node controller judges
 * that, see reachesAnApiServer).
 */
export function specHash(spec: MachineSpec, image = ''): string {
  return createHash('sha256').update(JSON.stringify([spec.milliCpu, spec.memory, spec.heartbeatMs, image, ...(spec.ca ? [spec.ca] : [])])).digest('hex').slice(0, 16);
}

/** A runtime failure the node controller reports on the Node with this reason. */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The machine of one node: the runtime's get when it has one (O(1) for virtual nodes), else from its list. */
export async function machineNamed(runtime: NodeRuntime, name: string): Promise<Machine | undefined> {
  return runtime.get ? runtime.get(name) : (await runtime.list()).find((m) => m.name === name);
}
