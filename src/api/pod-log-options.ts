// The query of GET pods/{name}/log, read and checked as Kubernetes reads
// PodLogOptions: a value that is not a number or a boolean is a 400; one
// that is, but out of range, is 422 Invalid naming the field, as
// ValidatePodLogOptions answers.
import type { Context } from 'koa';
import type { FieldError } from '../objects/validation.ts';
import { errors } from './errors.ts';
import { query } from './request.ts';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Only lines at or after this instant (ms since the epoch), from sinceSeconds or sinceTime. */
  since?: number;
}

/** strconv.ParseBool's spellings, which Kubernetes' query decoding accepts. */
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function bool(ctx: Context, name: string): boolean {
  const v = query(ctx, name);
  if (v === undefined || v === '') return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be true or false`);
}

function integer(ctx: Context, name: string): number | undefined {
  const v = query(ctx, name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be a whole number`);
  return n;
}

export function parsePodLogOptions(ctx: Context, podName: string, now: Date): PodLogOptions {
  const tailLines = integer(ctx, 'tailLines');
  const limitBytes = integer(ctx, 'limitBytes');
  const sinceSeconds = integer(ctx, 'sinceSeconds');
  const sinceTimeText = query(ctx, 'sinceTime');
  let sinceTime: number | undefined;
  if (sinceTimeText !== undefined && sinceTimeText !== '') {
    sinceTime = Date.parse(sinceTimeText);
    if (!/^\d{4}-\d\d-\d\dT/.test(sinceTimeText) || !Number.isFinite(sinceTime)) {
      throw errors.badRequest(`sinceTime: Invalid value: ${JSON.stringify(sinceTimeText)}: must be an RFC 3339 time`);
    }
  }
  const options: PodLogOptions = {
    container: query(ctx, 'container') || undefined,
    follow: bool(ctx, 'follow'),
    previous: bool(ctx, 'previous'),
    timestamps: bool(ctx, 'timestamps'),
    tailLines,
    limitBytes,
  };
  const problems: FieldError[] = [];
  const invalid = (field: string, value: number, must: string) => problems.push({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${must}` });
  if (tailLines !== undefined && tailLines < 0) invalid('tailLines', tailLines, 'must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) invalid('limitBytes', limitBytes, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1) invalid('sinceSeconds', sinceSeconds, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    problems.push({ field: 'sinceSeconds', reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  }
  if (problems.length) throw errors.invalid('PodLogOptions', podName, problems);
  if (sinceSeconds !== undefined) options.since = now.getTime() - sinceSeconds * 1000;
  else if (sinceTime !== undefined) options.since = sinceTime;
  return options;
}
