// What schemas/networkpolicy.json cannot say of a NetworkPolicy, checked as
// Kubernetes' validation checks it (its messages), plus kcs's own rule:
// networking is loopback only, so an ipBlock must lie within 127.0.0.0/8.
import type { FieldError } from './field-error.ts';
import { cidrWithin, LOOPBACK, parseIpv4Cidr } from './ipv4-cidr.ts';
import { labelSelectorErrors } from './label-selector.ts';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './network-policy.ts';

export function networkPolicyErrors(policy: NetworkPolicy): FieldError[] {
  const spec = policy.spec ?? {};
  const errors = labelSelectorErrors(spec.podSelector, 'spec.podSelector');
  (spec.ingress ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((peer, j) => errors.push(...peerErrors(peer, `spec.ingress[${i}].from[${j}]`)));
    (rule.ports ?? []).forEach((port, j) => errors.push(...portErrors(port, `spec.ingress[${i}].ports[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    (rule.to ?? []).forEach((peer, j) => errors.push(...peerErrors(peer, `spec.egress[${i}].to[${j}]`)));
    (rule.ports ?? []).forEach((port, j) => errors.push(...portErrors(port, `spec.egress[${i}].ports[${j}]`)));
  });
  return errors;
}

function peerErrors(peer: NetworkPolicyPeer, field: string): FieldError[] {
  const errors = [...labelSelectorErrors(peer.podSelector, `${field}.podSelector`), ...labelSelectorErrors(peer.namespaceSelector, `${field}.namespaceSelector`)];
  const selectors = (peer.podSelector ? 1 : 0) + (peer.namespaceSelector ? 1 : 0);
  if (!peer.ipBlock && selectors === 0) {
    errors.push({ reason: 'FieldValueRequired', field, message: 'Required value: must specify a peer' });
  }
  if (peer.ipBlock && selectors > 0) {
    errors.push({ reason: 'FieldValueForbidden', field, message: 'Forbidden: may not specify both ipBlock and another peer' });
  }
  if (peer.ipBlock) errors.push(...ipBlockErrors(peer.ipBlock, `${field}.ipBlock`));
  return errors;
}

function ipBlockErrors(block: { cidr: string; except?: string[] }, field: string): FieldError[] {
  const cidr = parseIpv4Cidr(block.cidr);
  if (!cidr) return [{ reason: 'FieldValueInvalid', field: `${field}.cidr`, message: `Invalid value: ${JSON.stringify(block.cidr)}: must be an IPv4 CIDR such as 127.64.0.0/24` }];
  if (!cidrWithin(cidr, LOOPBACK)) {
    return [{ reason: 'FieldValueInvalid', field: `${field}.cidr`, message: `Invalid value: ${JSON.stringify(block.cidr)}: must lie within 127.0.0.0/8: kcs networking is loopback only (pods are in the cluster CIDR, 127.64.0.0/10 unless kcs up was given another)` }];
  }
  const errors: FieldError[] = [];
  (block.except ?? []).forEach((text, i) => {
    const except = parseIpv4Cidr(text);
    const f = `${field}.except[${i}]`;
    if (!except) errors.push({ reason: 'FieldValueInvalid', field: f, message: `Invalid value: ${JSON.stringify(text)}: must be an IPv4 CIDR such as 127.64.0.0/24` });
    else if (!cidrWithin(except, cidr) || except.bits === cidr.bits) errors.push({ reason: 'FieldValueInvalid', field: f, message: `Invalid value: ${JSON.stringify(text)}: must be a strict subset of \`cidr\` (${block.cidr})` });
  });
  return errors;
}

function portErrors(port: NetworkPolicyPort, field: string): FieldError[] {
  if (port.endPort === undefined) return typeof port.port === 'string' ? portNameErrors(port.port, `${field}.port`) : [];
  if (port.port === undefined) return [{ reason: 'FieldValueInvalid', field: `${field}.endPort`, message: `Invalid value: ${port.endPort}: may not be specified when \`port\` is not specified` }];
  if (typeof port.port === 'string') return [{ reason: 'FieldValueInvalid', field: `${field}.endPort`, message: `Invalid value: ${port.endPort}: may not be specified when \`port\` is non-numeric` }];
  if (port.endPort < port.port) return [{ reason: 'FieldValueInvalid', field: `${field}.endPort`, message: `Invalid value: ${port.endPort}: must be greater than or equal to \`port\` (${port.port})` }];
  return [];
}

/** Kubernetes' IANA_SVC_NAME: what a named port may be called (the container port's name it refers to). */
export function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 15) problems.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (name.includes('--')) problems.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(name)) problems.push('must contain at least one letter (a-z)');
  if (name.startsWith('-') || name.endsWith('-')) problems.push('must not begin or end with a hyphen');
  return problems;
}

function portNameErrors(name: string, field: string): FieldError[] {
  const problems = portNameProblems(name);
  return problems.length ? [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(name)}: ${problems.join(', ')}` }] : [];
}
