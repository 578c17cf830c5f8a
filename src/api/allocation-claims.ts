// Claims on what admission hands out (a Node's pod range, a Service's
// cluster IP), kept in the store beside the objects, so API servers sharing
// a store never hand out one value twice. A server's allocators decide from
// what it knows (pod-cidrs.ts, cluster-ips.ts), which may lag another
// server's writes; the claim, written in the same transaction as the object
// that takes the value, is what settles it: the second of two servers to
// pick a value finds the claim taken and picks again. As Kubernetes' IP
// allocators keep an IPAddress object per address. Claims are not removed
// with their object: a claim whose object is gone, or no longer holds the
// value, is stale, and the next create that picks the value takes it over.
import { ConflictError, KeyExistsError, type Store, type TxnOp } from '../store/store.ts';

const CLAIMS_PREFIX = '/kcs/allocations/';

export interface Allocation {
  /** Which kind of value: `podcidrs`, `clusterips`. */
  pool: string;
  value: string;
  /** Does this stored object hold value? (its spec field names it) */
  heldBy(object: { spec?: Record<string, unknown> }): boolean;
}

interface ClaimRecord { holder: string; uid: string }

export function claimKey(pool: string, value: string): string {
  return `${CLAIMS_PREFIX}${pool}/${value.replace(/\//g, '_')}`;
}

/** The claim for an object about to be created at holderKey, as the first try makes it: on a value no one has claimed yet. */
export function newClaimOp(allocation: Allocation, holderKey: string, holderUid: string): TxnOp {
  return { type: 'create', key: claimKey(allocation.pool, allocation.value), value: claimRecord(holderKey, holderUid) };
}

/**
 * The claim for an object about to be created at holderKey, from the claim
 * kept (if any): undefined when another object holds the value.
 */
export async function claimOp(store: Store, allocation: Allocation, holderKey: string, holderUid: string): Promise<TxnOp | undefined> {
  const key = claimKey(allocation.pool, allocation.value);
  const value = claimRecord(holderKey, holderUid);
  const kept = await store.get(key);
  if (!kept) return { type: 'create', key, value };
  const claim = JSON.parse(kept.value) as ClaimRecord;
  const holder = await store.get(claim.holder);
  const object = holder ? JSON.parse(holder.value) as { metadata: { uid?: string }; spec?: Record<string, unknown> } : undefined;
  if (object && object.metadata.uid === claim.uid && allocation.heldBy(object)) return undefined;
  return { type: 'update', key, value, expectedModRevision: kept.modRevision };
}

function claimRecord(holder: string, uid: string): string {
  return JSON.stringify({ holder, uid } satisfies ClaimRecord);
}

/** Did a write fail on a claim: another server took the value between the look and the write? */
export function failedOnClaim(err: unknown): boolean {
  return (err instanceof KeyExistsError || err instanceof ConflictError) && err.key.startsWith(CLAIMS_PREFIX);
}
