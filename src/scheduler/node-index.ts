// Indexes over the schedulable nodes that let a decision examine a few
// nodes instead of all of them, so its cost grows with log(nodes), not
// nodes. Each policy ranks nodes in an order that does not depend on the
// pod (up to ties, which go to the earlier name as in the full scan):
//   first-fit  name order             -> a segment tree finds the leftmost node with room
//   best-fit   free CPU, ascending    -> start at the first node with free CPU >= the request
//   worst-fit  free CPU, descending
//   spread     pod count, ascending
//   binpack    utilisation, descending, within each group of equal capacity
//              (the pod adds the same amount to every node of a group); the
//              best of each group's first fitting node wins. Nodes with no
//              CPU, memory or pod slot left are not in this order, but nodes
//              fuller than the chosen one that cannot take this pod are
//              examined: binpack's cost grows with the nodes it has nearly
//              filled, not with the nodes there are.
// Walking an order, the first node that passes every filter is the one the
// full scan (framework.ts decide) would choose: test/scheduler/node-index.test.ts
// checks that on random clusters. Only Ready, schedulable nodes are indexed.
import sortedBtree from 'sorted-btree';
import type { NodeInfo } from './snapshot.ts';

const BTree = sortedBtree.default;
type Key = readonly [number, string];
type Tree = InstanceType<typeof BTree<Key, NodeInfo>>;

const byKey = (a: Key, b: Key): number => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
const newTree = (): Tree => new BTree<Key, NodeInfo>(undefined, byKey);

export interface BinpackWeights {
  cpu: number;
  memory: number;
}

interface Indexed {
  free: number;
  pods: number;
  group: string;
  load: number;
}

export class NodeIndex {
  private readonly indexed = new Map<string, Indexed>();
  private readonly byFree = newTree();
  /** Keyed by minus free CPU: most free first, and equal ones still in name order. */
  private readonly byFreeDesc = newTree();
  private readonly byPods = newTree();
  private readonly groups = new Map<string, Tree>();
  private weights: BinpackWeights = { cpu: 1, memory: 1 };
  private readonly names = new FirstFitTree();

  /** Whether a node can ever pass the node filters, whatever the pod. */
  static schedulable(info: NodeInfo): boolean {
    return info.ready && !info.unschedulable;
  }

  /** The node's allocation or attributes changed (or it is new). */
  update(info: NodeInfo): void {
    if (!NodeIndex.schedulable(info)) return this.remove(info.name);
    const next: Indexed = {
      free: info.capacity.milliCpu - info.allocated.milliCpu,
      pods: info.allocated.pods,
      group: `${info.capacity.milliCpu}/${info.capacity.memory}`,
      load: this.load(info),
    };
    const prev = this.indexed.get(info.name);
    if (prev && prev.free === next.free && prev.pods === next.pods && prev.group === next.group && prev.load === next.load) {
      this.names.update(info);
      return;
    }
    if (prev) this.unindex(info.name, prev);
    this.indexed.set(info.name, next);
    this.byFree.set([next.free, info.name], info);
    this.byFreeDesc.set([-next.free, info.name], info);
    this.byPods.set([next.pods, info.name], info);
    if (hasRoom(info)) {
      let group = this.groups.get(next.group);
      if (!group) this.groups.set(next.group, (group = newTree()));
      group.set([-next.load, info.name], info);
    }
    if (prev) this.names.update(info);
    else this.names.add(info);
  }

  remove(name: string): void {
    const prev = this.indexed.get(name);
    if (!prev) return;
    this.unindex(name, prev);
    this.indexed.delete(name);
    this.names.remove(name);
  }

  get size(): number {
    return this.indexed.size;
  }

  /** Nodes in name order with room for at least these requests, leftmost first. */
  *byName(milliCpu: number, memory: number): Generator<NodeInfo> {
    yield* this.names.withRoom(milliCpu, memory);
  }

  /** Nodes with free CPU >= milliCpu, least free first. */
  *byFreeAscending(milliCpu: number): Generator<NodeInfo> {
    for (const [, info] of this.byFree.entries([milliCpu, ''])) yield info;
  }

  /** Nodes with the most free CPU first, while they have at least milliCpu free. */
  *byFreeDescending(milliCpu: number): Generator<NodeInfo> {
    for (const [[minusFree], info] of this.byFreeDesc.entries()) {
      if (-minusFree < milliCpu) return;
      yield info;
    }
  }

  *byPodCount(): Generator<NodeInfo> {
    for (const [, info] of this.byPods.entries()) yield info;
  }

  /** Per group of equal capacity, its nodes most loaded first (under these binpack weights). */
  binpackGroups(weights: BinpackWeights): Iterable<Generator<NodeInfo>> {
    if (weights.cpu !== this.weights.cpu || weights.memory !== this.weights.memory) this.reweigh(weights);
    return [...this.groups.values()].map(function* (tree) {
      for (const [, info] of tree.entries()) yield info;
    });
  }

  /** binpack's score without the pod's share, which is the same for every node of a group. */
  private load(info: NodeInfo): number {
    const { cpu, memory } = this.weights;
    const c = info.capacity.milliCpu ? info.allocated.milliCpu / info.capacity.milliCpu : 0;
    const m = Number.isFinite(info.capacity.memory) && info.capacity.memory ? info.allocated.memory / info.capacity.memory : 0;
    return cpu * c + memory * m;
  }

  /** New binpack weights (a SchedulerConfiguration changed): rebuild the groups. */
  private reweigh(weights: BinpackWeights): void {
    this.weights = { ...weights };
    for (const tree of this.groups.values()) {
      for (const [[, name], info] of [...tree.entries()]) {
        const entry = this.indexed.get(name)!;
        tree.delete([-entry.load, name]);
        entry.load = this.load(info);
        tree.set([-entry.load, name], info);
      }
    }
  }

  private unindex(name: string, prev: Indexed): void {
    this.byFree.delete([prev.free, name]);
    this.byFreeDesc.delete([-prev.free, name]);
    this.byPods.delete([prev.pods, name]);
    const group = this.groups.get(prev.group);
    group?.delete([-prev.load, name]);
    if (group?.size === 0) this.groups.delete(prev.group);
  }
}

/** Whether anything at all still fits on the node. */
function hasRoom(info: NodeInfo): boolean {
  const { capacity: c, allocated: a } = info;
  return a.milliCpu < c.milliCpu && a.memory < c.memory && a.pods < c.pods;
}

/**
 * A segment tree over the indexed nodes in name order, each inner entry the
 * most free CPU, memory and pod slots below it: the leftmost node with room
 * for a pod is found in O(log n), skipping every full node. Adding or
 * removing a node rebuilds it (lazily, once, at the next query); node churn
 * is rare next to binding.
 */
class FirstFitTree {
  private readonly infos = new Map<string, NodeInfo>();
  private order: NodeInfo[] = [];
  private position = new Map<string, number>();
  private size = 0;
  private cpu = new Float64Array(0);
  private mem = new Float64Array(0);
  private pods = new Float64Array(0);
  private stale = true;

  add(info: NodeInfo): void {
    this.infos.set(info.name, info);
    this.stale = true;
  }

  remove(name: string): void {
    if (this.infos.delete(name)) this.stale = true;
  }

  update(info: NodeInfo): void {
    this.infos.set(info.name, info);
    if (this.stale) return;
    const at = this.position.get(info.name);
    if (at === undefined) return;
    let i = at + this.size;
    this.setLeaf(i, info);
    for (i >>= 1; i >= 1; i >>= 1) this.pull(i);
  }

  *withRoom(milliCpu: number, memory: number): Generator<NodeInfo> {
    if (this.stale) this.rebuild();
    if (!this.order.length) return;
    // Depth-first, left to right, into subtrees that may hold such a node.
    const stack = [1];
    while (stack.length) {
      const i = stack.pop()!;
      if (this.cpu[i]! < milliCpu || this.mem[i]! < memory || this.pods[i]! < 1) continue;
      if (i >= this.size) {
        yield this.order[i - this.size]!;
        continue;
      }
      stack.push(2 * i + 1, 2 * i);
    }
  }

  private rebuild(): void {
    this.order = [...this.infos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.position = new Map(this.order.map((info, i) => [info.name, i]));
    this.size = 1;
    while (this.size < this.order.length) this.size *= 2;
    this.cpu = new Float64Array(2 * this.size).fill(-1);
    this.mem = new Float64Array(2 * this.size).fill(-1);
    this.pods = new Float64Array(2 * this.size).fill(-1);
    this.order.forEach((info, k) => this.setLeaf(k + this.size, info));
    for (let i = this.size - 1; i >= 1; i--) this.pull(i);
    this.stale = false;
  }

  private setLeaf(i: number, info: NodeInfo): void {
    this.cpu[i] = info.capacity.milliCpu - info.allocated.milliCpu;
    this.mem[i] = info.capacity.memory - info.allocated.memory;
    this.pods[i] = info.capacity.pods - info.allocated.pods;
  }

  private pull(i: number): void {
    this.cpu[i] = Math.max(this.cpu[2 * i]!, this.cpu[2 * i + 1]!);
    this.mem[i] = Math.max(this.mem[2 * i]!, this.mem[2 * i + 1]!);
    this.pods[i] = Math.max(this.pods[2 * i]!, this.pods[2 * i + 1]!);
  }
}
