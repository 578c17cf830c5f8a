// The dependency graph of a Workflow's jobs, as pure functions: the first
// dependency cycle (what admission refuses, naming it), and the order the
// jobs can run in (what the workflow controller follows).
//
// Arrows read "runs before": in `prepare -> train`, train dependsOn prepare.

export interface GraphJob {
  name: string;
  dependsOn?: readonly string[];
}

export interface DependencyCycle {
  /** The index of the job whose dependsOn closes the cycle. */
  index: number;
  /** The jobs around the cycle in the order they would run, starting and ending with that job. */
  path: string[];
}

/** Each job's index by name (the first, should a name repeat). */
function indexByName(jobs: readonly GraphJob[]): Map<string, number> {
  const byName = new Map<string, number>();
  jobs.forEach((job, i) => { if (!byName.has(job.name)) byName.set(job.name, i); });
  return byName;
}

/** The jobs each job depends on, as indexes: names not in the list and a job naming itself are left out (they are refused on their own). */
function dependencies(jobs: readonly GraphJob[]): number[][] {
  const byName = indexByName(jobs);
  return jobs.map((job, i) => [...new Set((job.dependsOn ?? []).map((d) => byName.get(d)).filter((d): d is number => d !== undefined && d !== i))]);
}

/**
 * The first dependency cycle, searching from each job in list order and
 * following each dependsOn in order; undefined when there is none.
 */
export function findCycle(jobs: readonly GraphJob[]): DependencyCycle | undefined {
  const deps = dependencies(jobs);
  const UNSEEN = 0, ON_PATH = 1, DONE = 2;
  const state = jobs.map(() => UNSEEN);
  for (let root = 0; root < jobs.length; root++) {
    if (state[root] !== UNSEEN) continue;
    // Depth first without recursion: a long chain of jobs cannot overflow the stack.
    const path: Array<{ job: number; next: number }> = [{ job: root, next: 0 }];
    state[root] = ON_PATH;
    while (path.length) {
      const top = path[path.length - 1]!;
      const dep = deps[top.job]![top.next++];
      if (dep === undefined) {
        state[top.job] = DONE;
        path.pop();
      } else if (state[dep] === ON_PATH) {
        // top.job depends on dep, which is further up the path: each job on the path depends on the next.
        const from = path.findIndex((p) => p.job === dep);
        const runOrder = path.slice(from).map((p) => jobs[p.job]!.name).reverse();
        return { index: top.job, path: [...runOrder, jobs[top.job]!.name] };
      } else if (state[dep] === UNSEEN) {
        state[dep] = ON_PATH;
        path.push({ job: dep, next: 0 });
      }
    }
  }
  return undefined;
}

/** `a -> b -> c -> a`, as admission words a cycle. */
export function describeCycle(cycle: DependencyCycle): string {
  return `dependency cycle: ${cycle.path.join(' -> ')}`;
}

/**
 * The jobs' names in an order they can run one by one: each after every job
 * it depends on, and otherwise in list order. Throws on a cycle, which
 * admission never lets through.
 */
export function topologicalOrder(jobs: readonly GraphJob[]): string[] {
  const deps = dependencies(jobs);
  const waitingFor = deps.map((d) => d.length);
  const dependents: number[][] = jobs.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)));
  // Kept sorted by index, so the earliest-listed job that can run goes first.
  const ready = jobs.map((_, i) => i).filter((i) => waitingFor[i] === 0);
  const order: string[] = [];
  while (ready.length) {
    const next = ready.shift()!;
    order.push(jobs[next]!.name);
    for (const d of dependents[next]!) {
      if (--waitingFor[d]! > 0) continue;
      const at = ready.findIndex((r) => r > d);
      ready.splice(at < 0 ? ready.length : at, 0, d);
    }
  }
  if (order.length < jobs.length) {
    const cycle = findCycle(jobs);
    throw new Error(cycle ? describeCycle(cycle) : 'the jobs cannot be ordered');
  }
  return order;
}
