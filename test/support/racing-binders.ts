// Schedulers for the tests that race API servers: each binds pods through
// one server by the protocol kcs's binder follows, so that a node is never
// overcommitted however many of them share it. A pod's room is reserved in
// its node's ledger (status.reservations) by a write stating the Node's
// resourceVersion; the room is counted on the version being replaced. Two
// ways to bind, as schedulers do:
//  - one by one: reserve (PUT nodes/{n}/status), then POST pods/{p}/binding;
//    a binding refused gives its reservation back;
//  - in batches: one kcs.io/v1 Commit holding each node's ledger and its
//    pods' bindings (each stating the pod's resourceVersion), all or nothing.
// Each picks nodes from its own view of them, which may be stale, then
// reads the chosen ones and writes on the versions read: between that read
// and the write another client, through either server, may take the room,
// and the server must refuse the write. Everything the servers answer is
// tallied, by reason.
import type { Client, Reply } from '../api/helpers.ts';
import { nodeCapacity, podRequests, type Resources } from '../../src/objects/requests.ts';
import type { Node, Pod } from '../../src/objects/types.ts';
import { reservationsOf, reservedTotal, withoutReservation, withReservation, type Reservation } from '../../src/scheduler/ledger.ts';

export interface Acknowledged {
  pod: string;
  node: string;
  server: string;
  path: 'binding' | 'commit';
}

export interface Tally {
  /** Pods sent to be bound: one per POST pods/{p}/binding, one per pod in each Commit sent. */
  attempts: { binding: number; commit: number };
  acknowledged: Acknowledged[];
  refused: {
    /** POST pods/{p}/binding answered 409 Conflict "pod ... is already assigned to node ...". */
    alreadyAssigned: number;
    /** A Commit answered 409 Conflict on a pod: another client bound it first. */
    podChanged: number;
    /** A ledger write answered 409 Conflict on a Node: another client took room there first. */
    nodeChanged: number;
    /** Offers given up because no node had room on a fresh read. */
    noRoom: number;
  };
  /** Any answer the protocol does not expect, as "status: text". */
  unexpected: string[];
  /** HTTP requests the binders sent, reads included. */
  requests: number;
}

export function newTally(): Tally {
  return { attempts: { binding: 0, commit: 0 }, acknowledged: [], refused: { alreadyAssigned: 0, podChanged: 0, nodeChanged: 0, noRoom: 0 }, unexpected: [], requests: 0 };
}

export const NODES_PATH = '/api/v1/nodes';
export const podsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;
export const COMMITS_PATH = '/apis/kcs.io/v1/commits';

/** Gives up on an offer that keeps losing races (a livelock would show as unexpected). */
const MAX_TRIES = 200;

function fits(node: Node, extra: Resources & { pods: number }, requests: Resources): boolean {
  const cap = nodeCapacity(node);
  const used = reservedTotal(reservationsOf(node));
  return used.milliCpu + extra.milliCpu + requests.milliCpu <= cap.milliCpu
    && used.memory + extra.memory + requests.memory <= cap.memory
    && used.pods + extra.pods + 1 <= cap.pods;
}

/** What a 409 names ("nodes/n-3"), from its Status details. */
function conflictOn(reply: Reply): string | undefined {
  const d = reply.body?.details;
  return reply.status === 409 && reply.body?.reason === 'Conflict' && d?.kind && d.name ? `${d.kind}/${d.name}` : undefined;
}

const describe = (reply: Reply) => `${reply.status}: ${reply.text.slice(0, 300)}`;

/** One scheduler's view of the Nodes, through one API server. */
class NodeView {
  private readonly nodes = new Map<string, Node>();
  private refreshing: Promise<void> | undefined;
  private readonly api: Client;

  constructor(api: Client) {
    this.api = api;
  }

  async load(): Promise<void> {
    const list = await this.api.get(NODES_PATH);
    if (list.status !== 200) throw new Error(`listing nodes: ${describe(list)}`);
    // A list comes from a server's watch cache, which may lag a write this client already saw: keep the newer.
    for (const node of list.body.items as Node[]) this.keep(node);
  }

  /** A fresh list, shared by every offer that asks while one is under way. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  async reread(name: string): Promise<Node> {
    const got = await this.api.get(`${NODES_PATH}/${name}`);
    if (got.status !== 200) throw new Error(`reading node ${name}: ${describe(got)}`);
    return this.keep(got.body as Node);
  }

  keep(node: Node): Node {
    const known = this.nodes.get(node.metadata.name!);
    // Answers arrive out of order: an older version never replaces a newer one.
    if (!known || Number(known.metadata.resourceVersion) <= Number(node.metadata.resourceVersion)) this.nodes.set(node.metadata.name!, node);
    return this.nodes.get(node.metadata.name!)!;
  }

  /** Whether the pod has room on this version of the node, and no reservation there yet. */
  fitsOn(node: Node, pod: Pod): boolean {
    return this.fitsAll(node, [pod]);
  }

  fitsAll(node: Node, pods: Pod[]): boolean {
    const taken = { milliCpu: 0, memory: 0, pods: 0 };
    for (const pod of pods) {
      if (reservationsOf(node).some((r) => r.uid === pod.metadata.uid) || !fits(node, taken, podRequests(pod))) return false;
      const r = podRequests(pod);
      taken.milliCpu += r.milliCpu;
      taken.memory += r.memory;
      taken.pods++;
    }
    return true;
  }

  get(name: string): Node {
    return this.nodes.get(name)!;
  }

  /** A node, tried in random order, with room for the pod beyond `taken` and no reservation of it yet. */
  pick(pod: Pod, taken: Map<string, Resources & { pods: number }> = new Map()): Node | undefined {
    const all = [...this.nodes.values()];
    const start = Math.floor(Math.random() * all.length);
    // A batch goes to as few nodes as it can (a scheduler's flush takes whole nodes' worth): the nodes it already uses first.
    const order = [...taken.keys()].map((name) => this.nodes.get(name)!).concat(all.map((_, i) => all[(start + i) % all.length]!));
    return order.find((node) => !reservationsOf(node).some((r) => r.uid === pod.metadata.uid)
      && fits(node, taken.get(node.metadata.name!) ?? { milliCpu: 0, memory: 0, pods: 0 }, podRequests(pod)));
  }
}

export interface Binder {
  /** Binds each pod one by one: reserve, then POST pods/{p}/binding. */
  oneByOne(pod: Pod): Promise<void>;
  /** Binds these pods in Commits of a node's ledger and its pods' bindings. */
  inBatch(pods: Pod[]): Promise<void>;
}

export async function binder(server: string, through: Client, tally: Tally): Promise<Binder> {
  const counted = <A extends unknown[], R>(call: (...args: A) => R) => (...args: A): R => {
    tally.requests++;
    return call(...args);
  };
  const api: Client = { ...through, get: counted(through.get), put: counted(through.put), post: counted(through.post) };
  const view = new NodeView(api);
  await view.load();
  const reservation = (pod: Pod): Reservation => ({ uid: pod.metadata.uid!, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, ...podRequests(pod), at: Date.now() });
  const withLedger = (node: Node, ledger: Reservation[]): Node => ({ ...node, status: { ...node.status, reservations: ledger } });

  /** A node, or after a fresh read one; undefined (counted) when none has room. */
  const nodeFor = async (pod: Pod, taken?: Map<string, Resources & { pods: number }>): Promise<Node | undefined> => {
    const node = view.pick(pod, taken);
    if (node) return node;
    await view.refresh();
    return view.pick(pod, taken);
  };

  /** Writes a ledger on the version it was read from: the Node as written, or undefined when another write came first (the caller reads again). */
  const writeLedger = async (node: Node, ledger: Reservation[]): Promise<Node | undefined> => {
    const put = await api.put(`${NODES_PATH}/${node.metadata.name}/status`, withLedger(node, ledger));
    if (put.status === 200) return view.keep(put.body as Node);
    if (conflictOn(put) === `nodes/${node.metadata.name}`) {
      tally.refused.nodeChanged++;
      return undefined;
    }
    throw new Error(`writing the ledger of ${node.metadata.name}: ${describe(put)}`);
  };

  const giveBack = async (name: string, uid: string): Promise<void> => {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      // Read, not taken from the view: only the stored ledger may say the reservation is gone already.
      const node = await view.reread(name);
      const ledger = reservationsOf(node);
      if (!ledger.some((r) => r.uid === uid)) return;
      if (await writeLedger(node, withoutReservation(ledger, uid))) return;
    }
    tally.unexpected.push(`giving back ${uid} on ${name}: too many conflicts`);
  };

  const oneByOne = async (pod: Pod): Promise<void> => {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const node = await nodeFor(pod);
      if (!node) {
        tally.refused.noRoom++;
        return;
      }
      const name = node.metadata.name!;
      // Room is counted on the version the write replaces, read just now; another client may still write first.
      const fresh = await view.reread(name);
      if (!view.fitsOn(fresh, pod) || !(await writeLedger(fresh, withReservation(reservationsOf(fresh), reservation(pod))))) continue;
      tally.attempts.binding++;
      const bound = await api.post(`${podsPath(pod.metadata.namespace!)}/${pod.metadata.name}/binding`, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace }, target: { apiVersion: 'v1', kind: 'Node', name },
      });
      if (bound.status === 201) {
        tally.acknowledged.push({ pod: pod.metadata.name!, node: name, server, path: 'binding' });
        return;
      }
      if (bound.status === 409 && bound.body?.reason === 'Conflict' && /: pod \S+ is already assigned to node \S+$/.test(bound.body?.message ?? '')) tally.refused.alreadyAssigned++;
      else tally.unexpected.push(`binding ${pod.metadata.name}: ${describe(bound)}`);
      await giveBack(name, pod.metadata.uid!);
      return;
    }
    tally.unexpected.push(`binding ${pod.metadata.name}: too many conflicts`);
  };

  const boundPod = (pod: Pod, node: string): Pod => ({
    ...pod,
    spec: { ...pod.spec, nodeName: node },
    status: { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'True', reason: 'Scheduled', message: `assigned to ${node} by ${server}`, lastTransitionTime: new Date().toISOString() }] },
  });

  const inBatch = async (batch: Pod[]): Promise<void> => {
    let pending = batch;
    for (let tries = 0; tries < MAX_TRIES && pending.length; tries++) {
      // Room is counted per node across the pods of this commit, on the version each ledger replaces.
      const taken = new Map<string, Resources & { pods: number }>();
      const byNode = new Map<string, Pod[]>();
      const placed: Pod[] = [];
      for (const pod of pending) {
        const node = await nodeFor(pod, taken);
        if (!node) {
          tally.refused.noRoom++;
          continue;
        }
        const name = node.metadata.name!;
        const r = podRequests(pod);
        const t = taken.get(name) ?? { milliCpu: 0, memory: 0, pods: 0 };
        taken.set(name, { milliCpu: t.milliCpu + r.milliCpu, memory: t.memory + r.memory, pods: t.pods + 1 });
        byNode.set(name, [...(byNode.get(name) ?? []), pod]);
        placed.push(pod);
      }
      pending = placed;
      if (!pending.length) return;
      // Room is counted on the versions the ledgers replace, read just now; another client may still write first.
      const fresh = await Promise.all([...byNode.keys()].map((name) => view.reread(name)));
      if (!fresh.every((node) => view.fitsAll(node, byNode.get(node.metadata.name!)!))) continue;
      // Each ledger is written on the very version its room was counted on.
      const operations = fresh.flatMap((node) => {
        const name = node.metadata.name!;
        const pods = byNode.get(name)!;
        return [
          { verb: 'update', subresource: 'status', object: withLedger(node, pods.map(reservation).reduce(withReservation, reservationsOf(node))) },
          ...pods.map((pod) => ({ verb: 'update', subresource: 'binding', object: boundPod(pod, name) })),
        ];
      });
      tally.attempts.commit += pending.length;
      const sent = await api.post(COMMITS_PATH, { apiVersion: 'kcs.io/v1', kind: 'Commit', operations });
      if (sent.status === 201) {
        for (const written of sent.body.results as Array<Node | Pod>) {
          if (written.kind === 'Node') view.keep(written as Node);
          else tally.acknowledged.push({ pod: written.metadata.name!, node: (written as Pod).spec.nodeName!, server, path: 'commit' });
        }
        return;
      }
      const on = conflictOn(sent);
      if (on?.startsWith('nodes/')) {
        // The next try reads its nodes again.
        tally.refused.nodeChanged++;
      } else if (on?.startsWith('pods/')) {
        // Another client bound it: that one is forgotten, the rest are tried again (as the scheduler's binder does).
        tally.refused.podChanged++;
        pending = pending.filter((pod) => `pods/${pod.metadata.name}` !== on);
      } else {
        tally.unexpected.push(`commit: ${describe(sent)}`);
        return;
      }
    }
    if (pending.length) tally.unexpected.push(`commit of ${pending.length} pods: too many conflicts`);
  };

  return { oneByOne, inBatch };
}

/** Runs work over items with at most `width` at a time. */
export async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}
