// Records Events about objects, as Kubernetes' event recorder does: the
// same thing happening again bumps the count and lastTimestamp of one Event
// instead of creating another. Recording never fails the caller.
import { randomBytes } from 'node:crypto';
import type { KcsClient } from './interface.ts';
import { DEFAULT_NAMESPACE, kindByName } from '../objects/kinds.ts';
import { dns1123SubdomainError } from '../objects/names.ts';
import type { KubeObject } from '../objects/types.ts';
import { rfc3339, rfc3339Micro, systemClock, type Clock } from '../util/clock.ts';

const EVENT = kindByName('Event')!;

/** schemas/event.json's maxLength for message: a longer one would be refused, losing the Event. */
export const MAX_MESSAGE_LENGTH = 4096;
const ELLIPSIS = '...';

/** How many distinct Events a recorder remembers for bumping; past that it starts afresh. */
const MAX_REMEMBERED = 5000;

export type EventType = 'Normal' | 'Warning';

/**
 * What an Event is about. Usually a stored object, but Kubernetes allows any
 * reference, so a pseudo-object (a manifest file) can have Events too.
 */
export interface ObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  /** The part of the object it is about: `spec.containers{web}` for one container of a pod, as the kubelet writes. */
  fieldPath?: string;
}

export interface KubeEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** When it first happened, to the microsecond (the timestamps above are whole seconds). */
  eventTime?: string;
  /** When it last happened, to the microsecond, once it happened again. */
  series?: { count: number; lastObservedTime: string };
  source: { component: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
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

/**
 * The name as a DNS subdomain: a pseudo-object's name (a file such as
 * `sub/Nodes.yaml`) may hold characters an object name may not. Stored
 * objects' names are valid already and kept as they are.
 */
function validPrefix(name: string): string {
  if (name.length <= 253 && !dns1123SubdomainError(name)) return name;
  const labels = name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '');
  return labels.join('.') || 'event';
}

/** Object names may take 253 characters: the suffix must fit after it, so a long name is cut. */
export function eventName(objectName: string, now: Date): string {
  const suffix = uniqueSuffix(now);
  return `${validPrefix(objectName).slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, '')}.${suffix}`;
}

/** The message cut to what the schema takes, marked as cut. */
export function capMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_LENGTH) return message;
  let end = MAX_MESSAGE_LENGTH - ELLIPSIS.length;
  // Never keep half of a surrogate pair (a character outside the BMP).
  if (/[\uD800-\uDBFF]/.test(message[end - 1])) end--;
  return message.slice(0, end) + ELLIPSIS;
}

function isStoredObject(about: KubeObject | ObjectReference): about is KubeObject {
  return typeof (about as KubeObject).metadata === 'object';
}

function referenceTo(about: KubeObject | ObjectReference): ObjectReference {
  if (!isStoredObject(about)) return { ...about };
  return { apiVersion: about.apiVersion, kind: about.kind, name: about.metadata.name!, namespace: about.metadata.namespace, uid: about.metadata.uid };
}

/**
 * An Event about an object that happened at `at` (now, for a recorder; an
 * earlier moment for what a node reported and is kept once the pod leaves it),
 * reported by component (on host, for a node's agent).
 */
export function buildEvent(about: KubeObject | ObjectReference, type: EventType, reason: string, message: string, opts: { at: Date; component: string; host?: string }): KubeEvent {
  const involvedObject = referenceTo(about);
  const time = rfc3339(opts.at);
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: eventName(involvedObject.name, opts.at), namespace: involvedObject.namespace ?? DEFAULT_NAMESPACE },
    involvedObject, reason, message: capMessage(message), type, count: 1, firstTimestamp: time, lastTimestamp: time,
    // Sub-second, so what happened within one second keeps its order (a container's log interleaves Events with its status).
    eventTime: rfc3339Micro(opts.at),
    source: { component: opts.component, ...(opts.host ? { host: opts.host } : {}) },
  };
}

export interface EventRecorderOptions {
  clock?: Clock;
  log?: (message: string) => void;
  /** Which instance of the component reports (e.g. the directory a sync follows); with it, the Event names both. */
  reportingInstance?: string;
}

export class EventRecorder {
  private readonly client: KcsClient;
  private readonly component: string;
  private readonly reportingInstance?: string;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  /** What was recorded, by object and reason and message: the Event to bump next time. */
  private readonly recent = new Map<string, { name: string; namespace: string; count: number }>();

  constructor(client: KcsClient, component: string, opts: EventRecorderOptions = {}) {
    this.client = client;
    this.component = component;
    this.reportingInstance = opts.reportingInstance;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => {});
  }

  /** A new Event about an object, for a caller that writes it itself (in a commit with what it reports). */
  build(about: KubeObject | ObjectReference, type: EventType, reason: string, message: string): KubeEvent {
    const event = buildEvent(about, type, reason, message, { at: this.clock.now(), component: this.component });
    if (this.reportingInstance !== undefined) {
      event.reportingComponent = this.component;
      event.reportingInstance = this.reportingInstance;
    }
    return event;
  }

  async record(about: KubeObject | ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const ref = referenceTo(about);
    const namespace = ref.namespace ?? DEFAULT_NAMESPACE;
    // NUL as the separator: a pseudo-object's name (a file path) may hold '/'.
    const key = [ref.kind, namespace, ref.name, ref.uid, reason, message].join('\0');
    try {
      const seen = this.recent.get(key);
      if (seen) {
        seen.count++;
        const now = this.clock.now();
        await this.client.patch(EVENT, seen.namespace, seen.name, { count: seen.count, lastTimestamp: rfc3339(now), series: { count: seen.count, lastObservedTime: rfc3339Micro(now) } });
        return;
      }
      const { body } = await this.client.create<KubeEvent>(EVENT, namespace, this.build(ref, type, reason, message));
      if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
      this.recent.set(key, { name: body.metadata.name!, namespace, count: 1 });
    } catch (err) {
      this.recent.delete(key);
      this.log(`could not record event ${reason} for ${ref.kind.toLowerCase()}/${ref.name}: ${(err as Error).message}`);
    }
  }
}
