// The text of a pod's usage annotation, read into profiles: for every
// container (top-level `cpu`, `memory`) and per container (a container's
// name mapping to its own `cpu`, `memory`). Whether those names are the
// pod's containers, and what a percentage is a share of, depend on the pod;
// usage.ts checks them.
import { parseDocument } from 'yaml';
import { parseProfile, ProfileError, type Profile, type UsageResource } from './usage-profile.ts';

export interface ResourceProfiles { cpu?: Profile; memory?: Profile }

export interface ParsedUsage {
  /** The profiles of every container. */
  all: ResourceProfiles;
  /** Overrides by container name. */
  containers: Map<string, ResourceProfiles>;
}

/** What was read, and what could not be, each message led by where in the annotation it is (`cpu`, `sidecar.memory`). */
export interface ParseResult { usage: ParsedUsage; errors: string[] }

/** Far more than any pod needs; it keeps a hostile value from costing the parser much. */
export const MAX_USAGE_ANNOTATION_LENGTH = 4096;
const MAX_ALIASES = 10;
/** The format nests two levels ({app: {cpu: 5m}}); a little room beyond that for a stray bracket. */
const MAX_FLOW_DEPTH = 8;
const RESOURCES: readonly UsageResource[] = ['cpu', 'memory'];

function isResource(key: string): key is UsageResource {
  return (RESOURCES as readonly string[]).includes(key);
}

export function parseUsageAnnotation(text: string): ParseResult {
  const usage: ParsedUsage = { all: {}, containers: new Map() };
  const errors: string[] = [];
  if (text.length > MAX_USAGE_ANNOTATION_LENGTH) {
    return { usage, errors: [`is ${text.length} characters long; at most ${MAX_USAGE_ANNOTATION_LENGTH} are read`] };
  }
  const { root, problem } = readYaml(text);
  if (problem) return { usage, errors: [problem] };
  if (root === null || root === undefined) return { usage, errors };
  if (!(root instanceof Map)) {
    return { usage, errors: [`must be a mapping of cpu, memory or container names, such as {cpu: 80%, memory: 200Mi}, not ${shown(root)}`] };
  }
  for (const [rawKey, value] of root) {
    const key = String(rawKey);
    if (value instanceof Map) {
      usage.containers.set(key, readOverride(key, value, errors));
    } else if (isResource(key)) {
      const profile = readProfile(key, key, value, errors);
      if (profile) usage.all[key] = profile;
    } else {
      errors.push(`${key}: is neither cpu nor memory, so it names a container, and takes a mapping such as {cpu: 5m}`);
    }
  }
  return { usage, errors };
}

/**
 * The document's value (maps as Maps, so no key can reach a prototype), or
 * why it is not YAML. The parser recurses on each `{` and `[`, so text
 * nesting deeper than the format ever does is refused before it starts.
 */
function readYaml(text: string): { root?: unknown; problem?: string } {
  if (flowDepth(text) > MAX_FLOW_DEPTH) return { problem: `nests { and [ deeper than ${MAX_FLOW_DEPTH} levels` };
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) return { problem: `is not valid YAML: ${error.message.split('\n')[0].replace(/:\s*$/, '')}` };
  try {
    return { root: doc.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIASES }) };
  } catch (err) {
    return { problem: `is not valid YAML: ${(err as Error).message}` };
  }
}

/** The deepest nesting of `{` and `[` (overcounted inside quotes, where a profile has no brackets anyway). */
function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (const c of text) {
    if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if ((c === '}' || c === ']') && depth > 0) depth--;
  }
  return deepest;
}

function readOverride(container: string, map: Map<unknown, unknown>, errors: string[]): ResourceProfiles {
  const profiles: ResourceProfiles = {};
  for (const [rawKey, value] of map) {
    const key = String(rawKey);
    if (!isResource(key)) {
      errors.push(`${container}: unknown key "${key}" (a container's override takes cpu and memory)`);
      continue;
    }
    const profile = readProfile(`${container}.${key}`, key, value, errors);
    if (profile) profiles[key] = profile;
  }
  return profiles;
}

function readProfile(where: string, resource: UsageResource, value: unknown, errors: string[]): Profile | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    errors.push(`${where}: must be a profile such as 250m, 80% or "sine min=100m max=400m period=60s", not ${shown(value)}`);
    return undefined;
  }
  try {
    return parseProfile(value, resource);
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    errors.push(`${where}: ${err.message}`);
    return undefined;
  }
}

function shown(value: unknown): string {
  if (value instanceof Map) return 'a mapping';
  if (Array.isArray(value)) return 'a list';
  return JSON.stringify(value) ?? String(value);
}
