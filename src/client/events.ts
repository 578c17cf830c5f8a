// Records Events about objects, as Kubernetes' event recorder does: the
// same thing happening again bumps the count and lastTimestamp of one Event
// instead of creating another. Recording never fails the caller.
import { randomBytes } from 'node:crypto';
import type { KcsClient } from './interface.ts';
import { DEFAULT_NAMESPACE, kindByName } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';

const EVENT = kindByName('Event')!;

export type EventType = 'Normal' | 'Warning';

export interface KubeEvent extends KubeObject {
  involvedObject: { apiVersion?: string; kind: string; name: string; namespace?: string; uid?: string };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
}

let sequence = 0;
const processTag = randomBytes(2).toString('hex');

/**
 * As Kubernetes names events "<object>.<time in hex>": the time, this
 * process's tag and a counter, unique without asking for random bytes
 * (which cost more than the rest of building an event).
 */
function uniqueSuffix(now: Date): string {
  sequence = (sequence + 1) % 0x100000;
  return `${now.getTime().toString(16)}${processTag}${sequence.toString(16).padStart(5, '0')}`;
}

/** Object names may take 253 characters: the suffix must fit after it, so a long name is cut. */
export function eventName(objectName: string, now: Date): string {
  const suffix = uniqueSuffix(now);
  return `${objectName.slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, '')}.${suffix}`;
}

export class EventRecorder {
  private readonly client: KcsClient;
  private readonly component: string;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  /** What was recorded, by object and reason and message: the Event to bump next time. */
  private readonly recent = new Map<string, { name: string; namespace: string; count: number }>();

  constructor(client: KcsClient, component: string, opts: { clock?: Clock; log?: (m: string) => void } = {}) {
    this.client = client;
    this.component = component;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => {});
  }

  /** A new Event about obj, for a caller that writes it itself (in a commit with what it reports). */
  build(obj: KubeObject, type: EventType, reason: string, message: string): KubeEvent {
    const now = rfc3339(this.clock.now());
    return {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: eventName(obj.metadata.name!, this.clock.now()), namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name!, namespace: obj.metadata.namespace, uid: obj.metadata.uid },
      reason, message, type, count: 1, firstTimestamp: now, lastTimestamp: now, source: { component: this.component },
    };
  }

  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? DEFAULT_NAMESPACE;
    const key = `${obj.kind}/${namespace}/${obj.metadata.name}/${obj.metadata.uid}/${reason}/${message}`;
    const now = rfc3339(this.clock.now());
    try {
      const seen = this.recent.get(key);
      if (seen) {
        seen.count++;
        await this.client.patch(EVENT, seen.namespace, seen.name, { count: seen.count, lastTimestamp: now });
        return;
      }
      const { body } = await this.client.create<KubeEvent>(EVENT, namespace, this.build(obj, type, reason, message));
      if (this.recent.size > 5000) this.recent.clear();
      this.recent.set(key, { name: body.metadata.name!, namespace, count: 1 });
    } catch (err) {
      this.recent.delete(key);
      this.log(`could not record event ${reason} for ${obj.kind.toLowerCase()}/${obj.metadata.name}: ${(err as Error).message}`);
    }
  }
}
