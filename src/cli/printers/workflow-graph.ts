// A Workflow's dependency graph as text, each step with its state: steps
// in dependency order, indented by their depth (the longest chain of
// dependencies above them), each naming what it waits for.
//
//   workflow ml: Running, 2/4 jobs succeeded
//   STEP           STATE       AFTER         DETAIL
//   ✔ prepare      Succeeded                 job ml-prepare
//     ● train      Running     prepare       job ml-train
//     ✔ test       Succeeded   prepare       job ml-test
//       ○ report   Pending     train, test   waiting for train
import type { StepPhase, Workflow } from '../../objects/workflow-status.ts';

const MARK: Record<StepPhase, string> = { Succeeded: '✔', Failed: '✘', Running: '●', Pending: '○', Skipped: '–' };

/** Each step's depth: 0 for a step depending on nothing, else one more than its deepest dependency. */
function depths(workflow: Workflow): Map<string, number> {
  const steps = new Map(workflow.spec.jobs.map((s) => [s.name, s]));
  const depth = new Map<string, number>();
  const visit = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle (admission refuses them): drawn flat rather than not at all
    seen.add(name);
    const deps = (steps.get(name)?.dependsOn ?? []).filter((d) => steps.has(d));
    const d = deps.length ? 1 + Math.max(...deps.map((x) => visit(x, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  for (const name of steps.keys()) visit(name, new Set());
  return depth;
}

export function drawWorkflow(workflow: Workflow): string {
  const depth = depths(workflow);
  const status = new Map((workflow.status?.jobs ?? []).map((s) => [s.name, s]));
  const order = workflow.spec.jobs.map((s, i) => ({ s, i })).sort((a, b) => depth.get(a.s.name)! - depth.get(b.s.name)! || a.i - b.i).map((x) => x.s);
  const rows = order.map((step) => {
    const st = status.get(step.name);
    const phase: StepPhase = st?.phase ?? 'Pending';
    return [`${'  '.repeat(depth.get(step.name)!)}${MARK[phase]} ${step.name}`, phase, (step.dependsOn ?? []).join(', '), st?.message ?? (st?.jobName ? `job ${st.jobName}` : '')];
  });
  const table = [['STEP', 'STATE', 'AFTER', 'DETAIL'], ...rows];
  const widths = [0, 1, 2].map((c) => Math.max(...table.map((r) => r[c]!.length)));
  const succeeded = rows.filter((r) => r[1] === 'Succeeded').length;
  const head = `workflow ${workflow.metadata.name}: ${workflow.status?.phase ?? 'Pending'}, ${succeeded}/${rows.length} jobs succeeded`;
  return [head, ...table.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('   ').trimEnd())].join('\n');
}
