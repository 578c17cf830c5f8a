// A Job (batch/v1) as the API admits it, the way Kubernetes' defaulting, its
// Job strategy and its validation treat one: the defaults (SetDefaults_Job),
// the selector and pod labels made from the Job's uid on create unless
// manualSelector, the checks of a Job spec a schema cannot make, and what an
// update may not change. The pod template itself is checked as a Pod (by
// validation.ts); what a running Job does next is job-status.ts's.
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from './field-error.ts';
import { CONTROLLER_UID_LABEL, JOB_NAME_LABEL, type Job, type JobSpec } from './job-status.ts';
import { compileLabelSelector, labelSelectorErrors, type LabelSelector } from './label-selector.ts';
import { dns1123LabelError, labelValueError } from './names.ts';

/** The unprefixed labels Kubernetes gave pods before 1.27, and still gives beside the prefixed ones. */
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

/** Kubernetes' cap on the parallelism of an Indexed Job (it bounds status.completedIndexes). */
const MAX_INDEXED_PARALLELISM = 100_000;

/** The spec as admission reads it: the fields the controller needs, and those only admission looks at. */
type AdmittedJobSpec = JobSpec & {
  selector?: LabelSelector;
  manualSelector?: boolean;
  backoffLimitPerIndex?: number;
  maxFailedIndexes?: number;
  podFailurePolicy?: unknown;
};

const specOf = (job: Job) => job.spec as AdmittedJobSpec;
const isManual = (spec: AdmittedJobSpec) => spec.manualSelector === true;

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * SetDefaults_Job. Kubernetes defaults every body it decodes, so this runs on
 * updates too: a PUT that leaves out completions and parallelism gets 1 and 1,
 * and an update check then refuses the change of completions.
 */
export function defaultJob(job: Job): void {
  const spec = specOf(job);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...templateLabels };
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
}

/**
 * The Job strategy's PrepareForCreate: unless the user chose the selector
 * (manualSelector), the pods are labelled with the Job's name and uid, in both
 * the prefixed and the legacy forms, and selected by the uid, so a Job never
 * adopts another's pods. Labels the user set are left for the checks below.
 */
export function generateSelector(job: Job): void {
  const spec = specOf(job);
  if (isManual(spec)) return;
  const name = job.metadata.name!;
  const uid = job.metadata.uid!;
  const template = spec.template;
  const labels = { ...template.metadata?.labels };
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[key] ??= name;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[key] ??= uid;
  template.metadata = { ...template.metadata, labels };
  const selector = spec.selector ?? {};
  spec.selector = { ...selector, matchLabels: { ...selector.matchLabels, [CONTROLLER_UID_LABEL]: selector.matchLabels?.[CONTROLLER_UID_LABEL] ?? uid } };
}

const labelField = (base: string, key: string) => `${base}.labels[${key}]`;

function selectorMatchesTemplate(spec: AdmittedJobSpec, base: string): FieldError[] {
  const labels = spec.template?.metadata?.labels ?? {};
  if (compileLabelSelector(spec.selector)(labels)) return [];
  return [{ reason: 'FieldValueInvalid', field: `${base}.template.metadata.labels`, message: `Invalid value: ${show(labels)}: \`selector\` does not match template \`labels\`` }];
}

/**
 * Checked once the selector is generated (validateGeneratedSelector): the
 * template carries the Job's name and uid, the selector picks exactly those,
 * and the generated label values are valid (a Job name longer than 63
 * characters is not). A manual selector was checked with the spec.
 */
export function generatedSelectorErrors(job: Job): FieldError[] {
  const spec = specOf(job);
  if (isManual(spec)) return [];
  const errors: FieldError[] = [];
  const expected: Record<string, string> = {
    [LEGACY_CONTROLLER_UID_LABEL]: job.metadata.uid!, [LEGACY_JOB_NAME_LABEL]: job.metadata.name!,
    [CONTROLLER_UID_LABEL]: job.metadata.uid!, [JOB_NAME_LABEL]: job.metadata.name!,
  };
  const labels = spec.template.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(expected)) {
    const field = labelField('spec.template.metadata', key);
    const why = labelValueError(labels[key] ?? '');
    if (labels[key] !== value) errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(labels[key])}: must be '${value}'` });
    else if (why) errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${why}` });
  }
  if (!compileLabelSelector(spec.selector)(expected)) {
    errors.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${show(spec.selector)}: \`selector\` not auto-generated` });
  }
  return errors.length ? errors : selectorMatchesTemplate(spec, 'spec');
}

/**
 * What Kubernetes' validateJobSpec says of a spec that a schema cannot, its
 * fields named under base (`spec`, or a Workflow's `spec.jobs[0].template.spec`).
 * Run once the schema passed.
 */
export function jobSpecErrors(given: JobSpec, base: string): FieldError[] {
  const spec = given as AdmittedJobSpec;
  const errors: FieldError[] = [];
  const indexed = spec.completionMode === 'Indexed';
  if (indexed && spec.completions === undefined) {
    errors.push({ reason: 'FieldValueRequired', field: `${base}.completions`, message: 'Required value: when completion mode is Indexed' });
  }
  if (indexed && (spec.parallelism ?? 0) > MAX_INDEXED_PARALLELISM) {
    errors.push({ reason: 'FieldValueInvalid', field: `${base}.parallelism`, message: `Invalid value: ${spec.parallelism}: must be less than or equal to ${MAX_INDEXED_PARALLELISM} when completion mode is Indexed` });
  }
  for (const field of ['backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    if (!indexed && spec[field] !== undefined) errors.push({ reason: 'FieldValueInvalid', field: `${base}.${field}`, message: `Invalid value: ${spec[field]}: requires indexed completion mode` });
  }
  if (spec.maxFailedIndexes !== undefined && spec.backoffLimitPerIndex === undefined) {
    errors.push({ reason: 'FieldValueRequired', field: `${base}.backoffLimitPerIndex`, message: 'Required value: when maxFailedIndexes is specified' });
  }
  // A pod spec left without one is defaulted to Always, which a Job may not have.
  const restartPolicy = spec.template?.spec?.restartPolicy;
  const restartField = `${base}.template.spec.restartPolicy`;
  if (restartPolicy === undefined || restartPolicy === '' || restartPolicy === 'Always') {
    errors.push({ reason: 'FieldValueRequired', field: restartField, message: 'Required value: valid values: "OnFailure", "Never"' });
  } else if (spec.podFailurePolicy !== undefined && restartPolicy !== 'Never') {
    errors.push({ reason: 'FieldValueInvalid', field: restartField, message: `Invalid value: ${show(restartPolicy)}: only "Never" is supported when podFailurePolicy is specified` });
  }
  errors.push(...labelSelectorErrors(spec.selector, `${base}.selector`));
  if (isManual(spec)) {
    if (spec.selector === undefined) errors.push({ reason: 'FieldValueRequired', field: `${base}.selector`, message: 'Required value' });
    else errors.push(...selectorMatchesTemplate(spec, base));
  }
  return errors;
}

/** What only a whole Job says: an Indexed Job's last pod hostname (`<name>-<completions-1>`) must be a DNS label. */
export function jobErrors(job: Job): FieldError[] {
  const spec = specOf(job);
  const name = job.metadata.name;
  if (spec.completionMode !== 'Indexed' || !spec.completions || typeof name !== 'string') return [];
  const hostname = `${name}-${spec.completions - 1}`;
  if (!dns1123LabelError(hostname)) return [];
  return [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${show(name)}: will not able to create pod with invalid DNS label: ${hostname}` }];
}

const immutable = (field: string, value: unknown): FieldError => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: field is immutable` });

/**
 * The pod template as an update may change it. A Job that is suspended and
 * has never started may have its pods placed elsewhere first (Kubernetes'
 * mutable scheduling directives, what queueing controllers use): node
 * selector, tolerations, node affinity, scheduling gates, labels and
 * annotations; nothing else ever changes.
 */
function comparableTemplate(template: AdmittedJobSpec['template'], mutable: boolean, next: AdmittedJobSpec['template']): unknown {
  if (!mutable) return template;
  const nodeAffinity = (next.spec?.affinity as Record<string, unknown> | undefined)?.nodeAffinity;
  const affinity = { ...(template.spec?.affinity as Record<string, unknown> | undefined), nodeAffinity };
  return {
    ...template,
    metadata: { ...template.metadata, labels: next.metadata?.labels, annotations: next.metadata?.annotations },
    spec: {
      ...template.spec,
      nodeSelector: next.spec?.nodeSelector, tolerations: next.spec?.tolerations, schedulingGates: next.spec?.schedulingGates,
      affinity: Object.values(affinity).some((v) => v !== undefined) ? affinity : undefined,
    },
  };
}

/** ValidateJobSpecUpdate: the fields of a Job an update may not change. */
export function jobUpdateErrors(next: Job, prev: Job): FieldError[] {
  const now = specOf(next);
  const was = specOf(prev);
  const errors: FieldError[] = [];
  if (!isDeepStrictEqual(now.completions, was.completions)) {
    // An Indexed Job may be resized (Kubernetes' elastic Indexed Jobs), completions and parallelism together.
    const elastic = now.completionMode === 'Indexed' && now.completions !== undefined;
    if (!elastic) errors.push(immutable('spec.completions', now.completions));
    else if (now.completions !== now.parallelism) errors.push({ reason: 'FieldValueInvalid', field: 'spec.completions', message: `Invalid value: ${now.completions}: can only be modified in tandem with spec.parallelism` });
  }
  if (!isDeepStrictEqual(now.selector, was.selector)) errors.push(immutable('spec.selector', now.selector));
  const mutable = was.suspend === true && prev.status?.startTime === undefined;
  if (!isDeepStrictEqual(asJson(now.template), asJson(comparableTemplate(was.template, mutable, now.template)))) {
    errors.push(immutable('spec.template', now.template));
  }
  for (const field of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex'] as const) {
    if (!isDeepStrictEqual(now[field], was[field])) errors.push(immutable(`spec.${field}`, now[field]));
  }
  if (errors.length === 0 && mutable) errors.push(...selectorMatchesTemplate(now, 'spec'));
  return errors;
}

/** JSON's view of a value: a key set to undefined is no key. */
function asJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
