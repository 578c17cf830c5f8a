// The reservation ledger in each Node's status: which pods schedulers have
// placed there and what they take. Schedulers add to it with a
// compare-and-swap on the Node before binding a pod, so two schedulers
// deciding from stale snapshots can never both fill the same room: one of
// the two writes conflicts, and that scheduler decides again.
import type { Resources } from '../objects/requests.ts';
import type { Node } from '../objects/types.ts';

export interface Reservation {
  uid: string;
  /** namespace/name, for people reading it. */
  pod: string;
  milliCpu: number;
  memory: number;
  /** When it was written (ms since the epoch): fresh entries are never collected. */
  at: number;
}

/** An entry whose pod is not on the node is dropped only after this long: its binding may be in flight. */
export const RESERVATION_GRACE_MS = 5_000;

export function reservationsOf(node: Node): Reservation[] {
  const r = node.status?.reservations;
  return Array.isArray(r) ? (r as Reservation[]) : [];
}

export function withReservation(list: Reservation[], entry: Reservation): Reservation[] {
  return [...list.filter((r) => r.uid !== entry.uid), entry];
}

export function withoutReservation(list: Reservation[], uid: string): Reservation[] {
  return list.filter((r) => r.uid !== uid);
}

export function reservedTotal(list: Reservation[]): Resources & { pods: number } {
  return list.reduce((a, r) => ({ milliCpu: a.milliCpu + r.milliCpu, memory: a.memory + r.memory, pods: a.pods + 1 }), { milliCpu: 0, memory: 0, pods: 0 });
}

/**
 * Entries to drop: their pod is not bound to this node (gone, elsewhere,
 * unbound, finished) as far as the caller knows, and they are older than the
 * grace period, so no binding of them can still be in flight.
 */
export function staleReservations(list: Reservation[], onNode: (uid: string) => boolean, now: number, graceMs = RESERVATION_GRACE_MS): Reservation[] {
  return list.filter((r) => !onNode(r.uid) && now - r.at > graceMs);
}
