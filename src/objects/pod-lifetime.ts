// Containers that finish: a pod's `kcs.io/lifetime` annotation says how long
// each of its containers runs and how it ends, so batch work (Jobs) can be
// simulated. The node's agent runs the clock and reports the container
// terminated, as a kubelet does, then honours the pod's restartPolicy.
//
//   kcs.io/lifetime: "10s"                        every container runs 10 s, exits 0
//   kcs.io/lifetime: "10s exit=3"                 ... and exits with code 3
//   kcs.io/lifetime: "5s fail=0.3 seed=7"         each run fails (exit 1) with probability 0.3
//   kcs.io/lifetime: "app: 10s; sidecar: 2s exit=1"   per container
//
// An entry is [CONTAINER:] DURATION [exit=N] [fail=P] [seed=S]; entries are
// separated by `;`. An entry without a container is every container's that
// has none of its own. A failing run exits with its exit= code, or 1 when
// that is 0. Whether a run fails is drawn from the seed, the pod's name, the
// container and the run's number (its restartCount), so the same pod fails
// the same way on every node and after every agent restart, while each pod
// of a Job draws its own.
import type { FieldError } from './field-error.ts';
import type { Pod } from './types.ts';
import { parseDurationMs } from './usage-profile.ts';
import { unitRandom } from './usage-walk.ts';

export const LIFETIME_ANNOTATION = 'kcs.io/lifetime';
export const LIFETIME_FIELD = `metadata.annotations[${LIFETIME_ANNOTATION}]`;

export interface ContainerLifetime {
  durationMs: number;
  /** The code it exits with when it ends as planned (0: success). */
  exitCode: number;
  /** The chance, 0 to 1, that a run fails instead. */
  failProbability: number;
  seed: number;
}

const DEFAULT_SEED = 1;

function parseEntry(text: string, problems: string[]): ContainerLifetime | undefined {
  const [duration, ...options] = text.split(/\s+/);
  const durationMs = parseDurationMs(duration ?? '');
  if (durationMs === undefined) return void problems.push(`${JSON.stringify(duration ?? '')} is not a duration (for example 10s, 500ms, 2m)`);
  const lifetime: ContainerLifetime = { durationMs, exitCode: 0, failProbability: 0, seed: DEFAULT_SEED };
  for (const option of options) {
    const [key, value = ''] = option.split('=', 2) as [string, string?];
    if (key === 'exit' && /^\d+$/.test(value) && Number(value) <= 255) lifetime.exitCode = Number(value);
    else if (key === 'fail' && /^(0(\.\d+)?|1(\.0+)?)$/.test(value)) lifetime.failProbability = Number(value);
    else if (key === 'seed' && /^\d+$/.test(value) && Number.isSafeInteger(Number(value))) lifetime.seed = Number(value);
    else if (key === 'exit') problems.push(`exit=${value}: an exit code is a whole number from 0 to 255`);
    else if (key === 'fail') problems.push(`fail=${value}: a probability is a number from 0 to 1`);
    else if (key === 'seed') problems.push(`seed=${value}: a seed is a whole number`);
    else problems.push(`${JSON.stringify(option)}: expected exit=N, fail=P or seed=S`);
  }
  return lifetime;
}

/** Each named container's lifetime (containers not named and with no default entry run forever), and every problem. */
export function parseLifetime(annotation: string, containers: string[]): { lifetimes: Map<string, ContainerLifetime>; errors: string[] } {
  const problems: string[] = [];
  const named = new Map<string, ContainerLifetime>();
  let everyone: ContainerLifetime | undefined;
  const entries = annotation.split(';').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) problems.push('states no lifetime');
  for (const entry of entries) {
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\s*:\s*(.*)$/.exec(entry);
    const container = m?.[1];
    const lifetime = parseEntry(m ? m[3]! : entry, problems);
    if (container === undefined) {
      if (everyone) problems.push('more than one entry without a container name');
      everyone = lifetime;
    } else if (!containers.includes(container)) problems.push(`${container}: the pod has no container of that name (its containers: ${containers.join(', ')})`);
    else if (named.has(container)) problems.push(`${container}: named twice`);
    else if (lifetime) named.set(container, lifetime);
  }
  const lifetimes = new Map<string, ContainerLifetime>();
  for (const c of containers) {
    const l = named.get(c) ?? everyone;
    if (l) lifetimes.set(c, l);
  }
  return { lifetimes, errors: problems };
}

/** The pod's containers' lifetimes; none when the annotation is absent or does not parse (admission refused it). */
export function lifetimesOf(pod: Pod): Map<string, ContainerLifetime> {
  const text = pod.metadata.annotations?.[LIFETIME_ANNOTATION];
  if (text === undefined) return new Map();
  const { lifetimes, errors } = parseLifetime(text, pod.spec.containers.map((c) => c.name));
  return errors.length ? new Map() : lifetimes;
}

export function lifetimeErrors(pod: Pod): FieldError[] {
  const text = pod.metadata.annotations?.[LIFETIME_ANNOTATION];
  if (text === undefined) return [];
  const { errors } = parseLifetime(text, pod.spec.containers.map((c) => c.name));
  if (errors.length === 0) return [];
  const shown = text.length > 200 ? `${JSON.stringify(text.slice(0, 200))}...` : JSON.stringify(text);
  return [{ reason: 'FieldValueInvalid', field: LIFETIME_FIELD, message: `Invalid value: ${shown}: ${errors.join('; ')}` }];
}

/** FNV-1a: a small stable hash, so a pod's draws depend on its name and container. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** How run number `run` (0 for the first, then its restartCount) of the container ends: its exit code. */
export function exitCodeOf(pod: Pod, container: string, lifetime: ContainerLifetime, run: number): number {
  if (lifetime.failProbability > 0) {
    const draw = unitRandom(lifetime.seed ^ hashOf(`${pod.metadata.namespace}/${pod.metadata.name}/${container}`), run);
    if (draw < lifetime.failProbability) return lifetime.exitCode || 1;
  }
  return lifetime.exitCode;
}
