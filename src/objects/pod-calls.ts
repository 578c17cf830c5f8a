// A pod that calls other Services: its `kcs.io/calls` annotation lists
// them, each at a steady rate, and its node's agent sends the requests from
// the pod's own address through the Service's cluster IP (so the service
// proxy balances them and the network policies judge them as the pod's).
//
//   kcs.io/calls: "backend, payments.shop:8080 5/s, audit.ops.svc:http 30/m"
//
// An entry is TARGET [RATE]: TARGET is a Service by name, in the pod's
// namespace, or NAME.NAMESPACE (optionally followed by .svc or
// .svc.cluster.local, as cluster DNS names it), then :PORT, a Service port
// by number or name (default: its first); RATE is N/s or N/m (default 1/s).
// Entries are separated by commas or new lines.
import type { FieldError } from './field-error.ts';
import { dns1035LabelError, dns1123LabelError } from './names.ts';
import { ianaServiceNameError } from './services.ts';
import type { Pod } from './types.ts';

export const CALLS_ANNOTATION = 'kcs.io/calls';
export const CALLS_FIELD = `metadata.annotations[${CALLS_ANNOTATION}]`;

/** Limits that keep one pod from flooding its node: a simulator's caller, not a load generator. */
export const MAX_CALLS = 10;
export const MAX_CALLS_PER_SECOND = 100;

export interface PodCall {
  /** The entry as written: how it is named in reports. */
  text: string;
  service: string;
  /** The Service's namespace; absent: the pod's own. */
  namespace?: string;
  /** A Service port by number or name; absent: its first. */
  port?: number | string;
  perSecond: number;
}

const TARGET = /^([^:\s]+)(?::([^\s]+))?$/;
const RATE = /^(\d+(?:\.\d+)?)\/(s|m)$/;

function parseTarget(text: string, problems: string[]): Omit<PodCall, 'text' | 'perSecond'> | undefined {
  const m = TARGET.exec(text);
  if (!m) return void problems.push(`${JSON.stringify(text)}: expected NAME[.NAMESPACE][:PORT]`);
  const host = m[1]!.replace(/\.svc(\.cluster\.local)?$/, '');
  const parts = host.split('.');
  if (parts.length > 2) return void problems.push(`${JSON.stringify(text)}: a Service is NAME or NAME.NAMESPACE (optionally .svc or .svc.cluster.local)`);
  const [service, namespace] = parts as [string, string | undefined];
  if (dns1035LabelError(service)) return void problems.push(`${JSON.stringify(service)} is not a Service name (a DNS-1035 label)`);
  if (namespace !== undefined && dns1123LabelError(namespace)) return void problems.push(`${JSON.stringify(namespace)} is not a namespace name (a DNS-1123 label)`);
  let port: number | string | undefined;
  if (m[2] !== undefined) {
    if (/^\d+$/.test(m[2])) {
      port = Number(m[2]);
      if (port < 1 || port > 65535) return void problems.push(`port ${m[2]} is not between 1 and 65535`);
    } else if (!ianaServiceNameError(m[2])) port = m[2];
    else return void problems.push(`${JSON.stringify(m[2])} is not a port number or name`);
  }
  return { service, ...(namespace !== undefined ? { namespace } : {}), ...(port !== undefined ? { port } : {}) };
}

function parseRate(text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return 1;
  const m = RATE.exec(text);
  if (!m) return void problems.push(`${JSON.stringify(text)}: a rate is N/s or N/m (for example 5/s, 30/m)`);
  const perSecond = Number(m[1]) / (m[2] === 'm' ? 60 : 1);
  if (perSecond <= 0 || perSecond > MAX_CALLS_PER_SECOND) return void problems.push(`rate ${text}: must be above 0 and at most ${MAX_CALLS_PER_SECOND}/s`);
  return perSecond;
}

/** The calls the annotation lists, and every problem with it. */
export function parseCalls(annotation: string): { calls: PodCall[]; errors: string[] } {
  const calls: PodCall[] = [];
  const problems: string[] = [];
  const entries = annotation.split(/[,\n]/).map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) problems.push('lists no Service to call');
  if (entries.length > MAX_CALLS) problems.push(`lists ${entries.length} calls; at most ${MAX_CALLS}`);
  for (const text of entries.slice(0, MAX_CALLS)) {
    const words = text.split(/\s+/);
    if (words.length > 2) {
      problems.push(`${JSON.stringify(text)}: expected TARGET [RATE]`);
      continue;
    }
    const target = parseTarget(words[0]!, problems);
    const perSecond = parseRate(words[1], problems);
    if (target && perSecond !== undefined) calls.push({ text, ...target, perSecond });
  }
  return { calls, errors: problems };
}

/** The pod's calls; an annotation that does not parse calls nothing (admission refused it). */
export function podCalls(pod: Pod): PodCall[] {
  const text = pod.metadata.annotations?.[CALLS_ANNOTATION];
  if (text === undefined) return [];
  const { calls, errors } = parseCalls(text);
  return errors.length ? [] : calls;
}

/** Errors of the pod's calls annotation, as one FieldError listing every problem. */
export function callsErrors(pod: Pod): FieldError[] {
  const text = pod.metadata.annotations?.[CALLS_ANNOTATION];
  if (text === undefined) return [];
  const { errors } = parseCalls(text);
  if (errors.length === 0) return [];
  const shown = text.length > 200 ? `${JSON.stringify(text.slice(0, 200))}...` : JSON.stringify(text);
  return [{ reason: 'FieldValueInvalid', field: CALLS_FIELD, message: `Invalid value: ${shown}: ${errors.join('; ')}` }];
}
