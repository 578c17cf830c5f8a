// Validates manifests against the JSON Schemas in schemas/ (compiled once with
// ajv) and then checks what a schema cannot say: quantities that parse, are in
// range, and requests that do not exceed limits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { dns1123LabelError, dns1123SubdomainError, labelValueError, qualifiedNameError } from './names.ts';
import { isQuantity, parseBytes, parseMilliCpu, QuantityError } from './quantity.ts';
import { lacksMachineSize, MACHINE_SIZE_REQUIRED, withMachineSize } from './node-capacity.ts';
import { finalizerErrors, ownerReferenceErrors } from './owners.ts';
import type { FieldError } from './field-error.ts';
import type { KubeObject, Pod, ResourceList } from './types.ts';
import { usageErrors } from './usage.ts';
import { callsErrors } from './pod-calls.ts';
import { lifetimeErrors } from './pod-lifetime.ts';
import { networkPolicyErrors } from './network-policy-validation.ts';
import type { NetworkPolicy } from './network-policy.ts';
import { serviceErrors, type Service } from './services.ts';
import { jobErrors, jobSpecErrors } from './job-spec.ts';
import type { Job, JobSpec } from './job-status.ts';
import { priorityClassErrors, type PriorityClass } from './priority-classes.ts';
import { workflowErrors, type Workflow } from './workflows.ts';

export type { FieldError };

export interface ValidationResult {
  errors: FieldError[];
  /** Fields no schema knows, where the schema is closed (top level, metadata), as `metadata.foo`. */
  unknownFields: string[];
  /** The same fields as path segments, for removing them. */
  unknownPaths: string[][];
}

const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
const SCHEMA_FILES: Record<string, string> = { Namespace: 'namespace.json', Node: 'node.json', Pod: 'pod.json', Lease: 'lease.json', Event: 'event.json', SchedulerConfiguration: 'schedulerconfiguration.json', NodePool: 'nodepool.json', NetworkPolicy: 'networkpolicy.json', Service: 'service.json', EndpointSlice: 'endpointslice.json', Endpoints: 'endpoints.json', Job: 'job.json', PriorityClass: 'priorityclass.json', Workflow: 'workflow.json' };

const FORMAT_CHECKS: Record<string, (v: string) => string | undefined> = {
  'dns1123-label': dns1123LabelError,
  'dns1123-subdomain': dns1123SubdomainError,
  'qualified-name': qualifiedNameError,
  'label-value': labelValueError,
};

let compiled: Map<string, ValidateFunction> | undefined;

function validators(): Map<string, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  for (const [name, check] of Object.entries(FORMAT_CHECKS)) {
    ajv.addFormat(name, { type: 'string', validate: (v: string) => check(v) === undefined });
  }
  ajv.addFormat('quantity', { type: 'string', validate: isQuantity });
  ajv.addSchema(readSchema('meta.json'));
  // Every schema is known before any is compiled: one may refer to another's parts (a Workflow's jobs to job.json).
  for (const file of new Set(Object.values(SCHEMA_FILES))) ajv.addSchema(readSchema(file));
  const byKind = new Map<string, ValidateFunction>();
  for (const [kind, file] of Object.entries(SCHEMA_FILES)) byKind.set(kind, ajv.getSchema(file)!);
  return (compiled = byKind);
}

function readSchema(file: string): object {
  return JSON.parse(readFileSync(SCHEMA_DIR + file, 'utf8'));
}

export function validateObject(given: KubeObject): ValidationResult {
  // A Node sized in its status is judged as the server will store it.
  const obj = withMachineSize(given);
  const validate = validators().get(obj.kind);
  if (!validate) throw new Error(`no schema for kind ${obj.kind}`);
  const result: ValidationResult = { errors: [], unknownFields: [], unknownPaths: [] };
  if (!validate(obj)) {
    for (const e of validate.errors ?? []) {
      // ajv wraps each bad key in a second "property name must be valid" error; the format error already names it.
      if (e.keyword === 'propertyNames') continue;
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        result.unknownFields.push(joinPath(toFieldPath(e.instancePath), extra));
        result.unknownPaths.push([...pointerSegments(e.instancePath), extra]);
      } else {
        result.errors.push(describeAjvError(e));
      }
    }
  }
  if (obj.kind === 'Node' && lacksMachineSize(obj) && !result.errors.some((e) => e.field === 'spec')) {
    result.errors.push({ reason: 'FieldValueRequired', field: 'spec.capacity', message: MACHINE_SIZE_REQUIRED });
  }
  if (result.errors.length === 0) result.errors.push(...checkQuantities(obj), ...ownerReferenceErrors(obj.metadata.ownerReferences), ...finalizerErrors(obj.metadata.finalizers));
  // The usage profile reads the containers and their requests: only once those are sound.
  if (result.errors.length === 0 && obj.kind === 'Pod') result.errors.push(...usageErrors(obj as Pod), ...callsErrors(obj as Pod), ...lifetimeErrors(obj as Pod));
  if (result.errors.length === 0 && obj.kind === 'NodePool') result.errors.push(...nodePoolErrors(obj));
  if (result.errors.length === 0 && obj.kind === 'NetworkPolicy') result.errors.push(...networkPolicyErrors(obj as NetworkPolicy));
  if (result.errors.length === 0 && obj.kind === 'Service') result.errors.push(...serviceErrors(obj as Service));
  if (result.errors.length === 0 && obj.kind === 'PriorityClass') result.errors.push(...priorityClassErrors(obj as PriorityClass));
  if (obj.kind === 'Job') {
    checkJobSpec(obj.spec, ['spec'], result);
    if (result.errors.length === 0) result.errors.push(...jobErrors(obj as Job));
  }
  if (obj.kind === 'Workflow') {
    if (result.errors.length === 0) result.errors.push(...workflowErrors(obj as Workflow));
    const jobs = (obj.spec as { jobs?: unknown } | undefined)?.jobs;
    if (Array.isArray(jobs)) jobs.forEach((job, i) => checkJobSpec((job as { template?: { spec?: unknown } } | null)?.template?.spec, ['spec', 'jobs', String(i), 'template', 'spec'], result));
  }
  result.errors = dedupe(result.errors);
  return result;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The field path of base's segments, and of a path under it. */
const pathOf = (segments: string[]) => segments.reduce(joinPath, '');
const under = (base: string, field: string) => (field.startsWith('[') ? base + field : `${base}.${field}`);

/** Folds what validating a part of the object found into the whole's result, its fields named under base. */
function addNested(result: ValidationResult, base: string[], nested: ValidationResult): void {
  const prefix = pathOf(base);
  result.errors.push(...nested.errors.map((e) => ({ ...e, field: under(prefix, e.field) })));
  result.unknownFields.push(...nested.unknownFields.map((f) => under(prefix, f)));
  result.unknownPaths.push(...nested.unknownPaths.map((p) => [...base, ...p]));
}

/**
 * A Job's spec (a Job's own, or one in a Workflow) beyond job.json: its pod
 * template checked as the Pod it stands for (schema, quantities, kcs's pod
 * annotations), then Kubernetes' checks of a Job spec, once nothing under
 * base is malformed.
 */
function checkJobSpec(spec: unknown, base: string[], result: ValidationResult): void {
  if (!isObject(spec)) return;
  const template = spec.template;
  if (isObject(template)) {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: isObject(template.metadata) ? template.metadata : {}, spec: template.spec } as KubeObject;
    addNested(result, [...base, 'template'], validateObject(pod));
  }
  const prefix = pathOf(base);
  if (result.errors.some((e) => e.field === prefix || e.field.startsWith(`${prefix}.`) || e.field.startsWith(`${prefix}[`))) return;
  result.errors.push(...jobSpecErrors(spec as unknown as JobSpec, prefix));
}

/** What a schema cannot say of a NodePool: its min may not exceed its max. */
function nodePoolErrors(obj: KubeObject): FieldError[] {
  const spec = obj.spec as { minNodes?: number; maxNodes: number };
  if ((spec.minNodes ?? 0) <= spec.maxNodes) return [];
  return [{ reason: 'FieldValueInvalid', field: 'spec.minNodes', message: `Invalid value: ${spec.minNodes}: must be less than or equal to spec.maxNodes (${spec.maxNodes})` }];
}

/**
 * One error per message per field, and one format error per field: where two
 * schemas check a value's form (a Namespace's name is a label, and as every
 * name a subdomain), the first, stricter one says it.
 */
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.reason === 'FieldValueInvalid' && e.message.startsWith('Invalid value: ') ? `${e.field}\0format` : `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function pointerSegments(pointer: string): string[] {
  return pointer.split('/').slice(1).map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `/spec/containers/0/name` -> `spec.containers[0].name` */
export function toFieldPath(pointer: string): string {
  return pointerSegments(pointer).reduce(joinPath, '');
}

function joinPath(base: string, part: string): string {
  if (/^\d+$/.test(part)) return `${base}[${part}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(part)) return base ? `${base}.${part}` : part;
  return `${base}[${JSON.stringify(part)}]`;
}

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeAjvError(e: ErrorObject): FieldError {
  const field = toFieldPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { reason: 'FieldValueRequired', field: joinPath(field, String(p.missingProperty)), message: 'Required value' };
    case 'type':
      return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${show(e.data)}: must be of type ${String(p.type).replace(',', ' or ')}` };
    case 'const':
      return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${show(e.data)}: supported values: ${show(p.allowedValue)}` };
    case 'enum':
      return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${show(e.data)}: supported values: ${(p.allowedValues as unknown[]).map(show).join(', ')}` };
    case 'format': {
      const name = String(p.format);
      if (e.propertyName !== undefined) {
        const key = e.propertyName;
        return { reason: 'FieldValueInvalid', field: joinPath(field, key), message: `Invalid value: ${show(key)}: ${FORMAT_CHECKS[name]?.(key) ?? `must be a ${name}`}` };
      }
      const v = e.data;
      const why = name === 'quantity' ? quantityWhy(v) : FORMAT_CHECKS[name]?.(String(v));
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(v)}: ${why ?? `must be a ${name}`}` };
    }
    case 'minItems':
      return { reason: 'FieldValueRequired', field, message: `Required value: must have at least ${p.limit} item(s)` };
    case 'maxItems':
      return { reason: 'FieldValueTooLong', field, message: `Too many: must have at most ${p.limit} items` };
    case 'minimum':
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(e.data)}: must be greater than or equal to ${p.limit}` };
    case 'maximum':
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(e.data)}: must be less than or equal to ${p.limit}` };
    case 'maxLength':
      return { reason: 'FieldValueTooLong', field, message: `Too long: must have at most ${p.limit} characters` };
    default:
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${e.message ?? e.keyword}` };
  }
}

function quantityWhy(v: unknown): string {
  try { parseBytes(v as string); return 'must be a quantity'; } catch (err) { return err instanceof QuantityError ? err.message : 'must be a quantity'; }
}

// ---- semantic checks on quantities -------------------------------------------------

function checkResourceList(list: ResourceList | undefined, field: string, opts: { cpuPositive?: boolean }): FieldError[] {
  const errors: FieldError[] = [];
  if (!list) return errors;
  for (const [name, raw] of Object.entries(list)) {
    if (raw === undefined) continue;
    const f = joinPath(field, name);
    try {
      const value = name === 'cpu' ? parseMilliCpu(raw) : parseBytes(raw);
      if (value < 0) errors.push({ reason: 'FieldValueInvalid', field: f, message: `Invalid value: ${show(raw)}: must be greater than or equal to 0` });
      else if (name === 'cpu' && opts.cpuPositive && value === 0) errors.push({ reason: 'FieldValueInvalid', field: f, message: `Invalid value: ${show(raw)}: must be greater than 0` });
    } catch (err) {
      errors.push({ reason: 'FieldValueInvalid', field: f, message: `Invalid value: ${show(raw)}: ${(err as Error).message}` });
    }
  }
  return errors;
}

function checkQuantities(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj.spec as Record<string, any>;
  if (obj.kind === 'Node') {
    errors.push(...checkResourceList(spec.capacity, 'spec.capacity', { cpuPositive: true }));
  } else if (obj.kind === 'Pod') {
    for (const group of ['containers', 'initContainers'] as const) {
      (spec[group] ?? []).forEach((c: any, i: number) => {
        const base = `spec.${group}[${i}].resources`;
        const before = errors.length;
        errors.push(...checkResourceList(c.resources?.requests, `${base}.requests`, {}));
        errors.push(...checkResourceList(c.resources?.limits, `${base}.limits`, {}));
        if (errors.length === before) errors.push(...checkRequestsWithinLimits(c.resources, base));
      });
    }
  }
  const status = obj.status as Record<string, any> | undefined;
  for (const list of ['capacity', 'allocatable', 'allocated']) {
    errors.push(...checkResourceList(status?.[list], `status.${list}`, {}));
  }
  return errors;
}

function checkRequestsWithinLimits(resources: { requests?: ResourceList; limits?: ResourceList } | undefined, base: string): FieldError[] {
  const errors: FieldError[] = [];
  const { requests = {}, limits = {} } = resources ?? {};
  for (const [name, limit] of Object.entries(limits)) {
    const request = requests[name];
    if (request === undefined || limit === undefined) continue;
    const parse = name === 'cpu' ? parseMilliCpu : parseBytes;
    if (parse(request) > parse(limit)) {
      errors.push({ reason: 'FieldValueInvalid', field: `${base}.requests.${name}`, message: `Invalid value: ${show(request)}: must be less than or equal to ${name} limit of ${show(limit)}` });
    }
  }
  return errors;
}
