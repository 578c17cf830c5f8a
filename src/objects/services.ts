// Services as kcs serves them (core/v1 shape): type ClusterIP only, a
// cluster IP from a loopback range, and the checks and defaults Kubernetes'
// validation and defaulting give a Service that a schema cannot state.
import type { FieldError } from './field-error.ts';
import { parseIpv4 } from './ip.ts';
import { dns1035LabelError } from './names.ts';
import type { KubeObject } from './types.ts';

/** spec.clusterIP of a headless Service: no virtual address, no proxying. */
export const HEADLESS = 'None';

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** A number, or the name of a container port in each pod. */
  targetPort?: number | string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  kind: 'Service';
  spec: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    sessionAffinity?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    internalTrafficPolicy?: string;
    publishNotReadyAddresses?: boolean;
  };
}

export function isHeadless(service: Service): boolean {
  return service.spec.clusterIP === HEADLESS;
}

const SUPPORTED_TYPES = ['ClusterIP'];
const SUPPORTED_AFFINITY = ['None'];

/** What Kubernetes' validation says of a Service that a schema cannot (run once the schema passed). */
export function serviceErrors(service: Service): FieldError[] {
  const errors: FieldError[] = [];
  const spec = service.spec ?? {};
  const name = service.metadata.name;
  const nameError = typeof name === 'string' ? dns1035LabelError(name) : undefined;
  if (nameError) errors.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${nameError}` });
  if (spec.type !== undefined && !SUPPORTED_TYPES.includes(spec.type)) {
    errors.push({ reason: 'FieldValueNotSupported', field: 'spec.type', message: `Unsupported value: ${JSON.stringify(spec.type)}: supported values: "ClusterIP" (kcs simulates ClusterIP Services only)` });
  }
  if (spec.sessionAffinity !== undefined && !SUPPORTED_AFFINITY.includes(spec.sessionAffinity)) {
    errors.push({ reason: 'FieldValueNotSupported', field: 'spec.sessionAffinity', message: `Unsupported value: ${JSON.stringify(spec.sessionAffinity)}: supported values: "None" (kcs does not simulate session affinity)` });
  }
  errors.push(...clusterIpErrors(spec), ...portErrors(spec.ports ?? [], spec.clusterIP === HEADLESS));
  return errors;
}

function clusterIpErrors(spec: Service['spec']): FieldError[] {
  const errors: FieldError[] = [];
  const ip = spec.clusterIP;
  if (ip !== undefined && ip !== '' && ip !== HEADLESS && parseIpv4(ip) === undefined) {
    errors.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(ip)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)` });
  }
  const ips = spec.clusterIPs ?? [];
  if (ips.length > 1) {
    errors.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'Invalid value: may hold one address: kcs Services are single-stack IPv4' });
  } else if (ips.length === 1 && ips[0] !== HEADLESS && parseIpv4(ips[0]!) === undefined) {
    errors.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify(ips[0])}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)` });
  }
  return errors;
}

function portErrors(ports: ServicePort[], headless: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (ports.length === 0 && !headless) errors.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errors.push({ reason: 'FieldValueRequired', field: `${field}.name`, message: 'Required value' });
    if (p.name) {
      if (names.has(p.name)) errors.push({ reason: 'FieldValueDuplicate', field: `${field}.name`, message: `Duplicate value: ${JSON.stringify(p.name)}` });
      names.add(p.name);
    }
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seen.has(key)) errors.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: {"port":${p.port},"protocol":"${p.protocol ?? 'TCP'}"}` });
    seen.add(key);
    const why = targetPortError(p.targetPort);
    if (why) errors.push({ reason: 'FieldValueInvalid', field: `${field}.targetPort`, message: `Invalid value: ${JSON.stringify(p.targetPort)}: ${why}` });
  });
  return errors;
}

function targetPortError(target: number | string | undefined): string | undefined {
  if (target === undefined) return undefined;
  if (typeof target === 'number') return Number.isInteger(target) && target >= 1 && target <= 65535 ? undefined : 'must be between 1 and 65535, inclusive';
  return ianaServiceNameError(target);
}

/** A named port: Kubernetes' IANA_SVC_NAME (RFC 6335), the form of container port names. */
export function ianaServiceNameError(name: string): string | undefined {
  if (name.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(name)) return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (!/[a-z]/.test(name)) return 'must contain at least one letter (a-z)';
  if (name.includes('--')) return 'must not contain consecutive hyphens';
  if (name.startsWith('-') || name.endsWith('-')) return 'must not begin or end with a hyphen';
  return undefined;
}

/** Kubernetes' defaults for what a Service leaves out (applied on every write, as its decoding defaults them). */
export function defaultService(service: Service): void {
  const spec = (service.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.clusterIP !== HEADLESS || spec.selector) {
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

/**
 * An update keeps the cluster IP given at create: one that leaves it out
 * gets it back (as Kubernetes lets a PUT omit it), one that changes it is
 * refused.
 */
export function keepClusterIp(next: Service, prev: Service): FieldError[] {
  const was = prev.spec?.clusterIP;
  if (!was) return [];
  const spec = (next.spec ??= {});
  if (spec.clusterIP && spec.clusterIP !== was) {
    return [{ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: field is immutable` }];
  }
  const ips = spec.clusterIPs ?? [];
  if (ips.length && ips[0] !== was) {
    return [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify(ips[0])}: may not change once set` }];
  }
  spec.clusterIP = was;
  spec.clusterIPs = prev.spec.clusterIPs ?? [was];
  return [];
}
