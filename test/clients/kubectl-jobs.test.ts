// Jobs, PriorityClasses and Workflows with the real kubectl against `kcs up`:
// `kubectl create job` (a protobuf body) gets Kubernetes' defaults and a
// generated selector, `get jobs` prints kubectl's columns, `describe job`
// pages it, `apply` of a changed template is refused as immutable;
// `get pc` lists the system classes, `create priorityclass` makes one, the
// system ones cannot be deleted, a pod naming a class gets its priority;
// a Workflow applies from manifests/ and lists as `wf`.
import test from 'ava';
import { join } from 'node:path';
import { headersOf, parseTable, REPO, sharedServer } from '../cli/helpers.ts';
import { kubectlFor, kubectlOrSkip, type KubectlRunner } from './kubectl.ts';

const server = sharedServer(test);
const kt = kubectlOrSkip(test);
let runner: KubectlRunner | undefined;
const kubectl = (args: string[], opts?: { stdin?: string }) => (runner ??= kubectlFor(join(server().stateDir, 'kubeconfig')))(args, opts);
test.after.always(() => runner?.cleanup());

const jobYaml = (image: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: batch-run
spec:
  completions: 3
  parallelism: 2
  template:
    metadata:
      labels:
        app: batch-run
    spec:
      restartPolicy: OnFailure
      containers:
        - name: work
          image: ${image}
`;

kt('kubectl create job makes a Job with Kubernetes\' defaults; get jobs shows kubectl\'s columns; describe job pages it', async (t) => {
  const created = await kubectl(['create', 'job', 'crunch', '--image=busybox', '--', 'echo', 'done']);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /job\.batch\/crunch created/);

  const listed = await kubectl(['get', 'jobs']);
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(headersOf(listed.stdout), ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  // No node runs its pod: it is still running, none has completed.
  t.like(parseTable(listed.stdout).find((r) => r.NAME === 'crunch'), { STATUS: 'Running', COMPLETIONS: '0/1' });

  const wide = parseTable((await kubectl(['get', 'job', 'crunch', '-o', 'wide'])).stdout)[0]!;
  t.like(wide, { CONTAINERS: 'crunch', IMAGES: 'busybox' });
  const uid = (await kubectl(['get', 'job', 'crunch', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  t.is(wide.SELECTOR, `batch.kubernetes.io/controller-uid=${uid}`);
  const spec = JSON.parse((await kubectl(['get', 'job', 'crunch', '-o', 'jsonpath={.spec}'])).stdout);
  t.like(spec, { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
  t.is(spec.template.spec.restartPolicy, 'Never');

  const described = await kubectl(['describe', 'job', 'crunch']);
  t.is(described.code, 0, described.stderr);
  t.regex(described.stdout, /^Name:\s+crunch$/m);
  t.regex(described.stdout, new RegExp(`^Selector:\\s+batch\\.kubernetes\\.io/controller-uid=${uid}$`, 'm'));
  t.regex(described.stdout, /^Parallelism:\s+1$/m);
  t.regex(described.stdout, /^Completions:\s+1$/m);
  t.regex(described.stdout, /^Backoff Limit:\s+6$/m);
  t.regex(described.stdout, /^\s+Image:\s+busybox$/m);
});

kt('kubectl apply creates a Job, leaves it unchanged on a second apply, and is refused a changed template', async (t) => {
  const first = await kubectl(['apply', '-f', '-'], { stdin: jobYaml('busybox') });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /job\.batch\/batch-run created/);
  const again = await kubectl(['apply', '-f', '-'], { stdin: jobYaml('busybox') });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /job\.batch\/batch-run unchanged/);
  t.like(parseTable((await kubectl(['get', 'job', 'batch-run'])).stdout)[0], { COMPLETIONS: '0/3' });

  const changed = await kubectl(['apply', '-f', '-'], { stdin: jobYaml('alpine') });
  t.not(changed.code, 0);
  t.regex(changed.stderr, /The Job "batch-run" is invalid: spec\.template: Invalid value: .*field is immutable/);
});

kt('kubectl get pc lists the system classes; create priorityclass makes one a pod takes its priority from; the system ones stay', async (t) => {
  const listed = await kubectl(['get', 'pc']);
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(headersOf(listed.stdout), ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
  const system = parseTable(listed.stdout);
  t.like(system.find((r) => r.NAME === 'system-node-critical'), { VALUE: '2000001000', 'GLOBAL-DEFAULT': 'false', PREEMPTIONPOLICY: 'PreemptLowerPriority' });
  t.like(system.find((r) => r.NAME === 'system-cluster-critical'), { VALUE: '2000000000' });

  const created = await kubectl(['create', 'priorityclass', 'overnight', '--value=1000', '--description=Batch work that can wait', '--preemption-policy=Never']);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /priorityclass\.scheduling\.k8s\.io\/overnight created/);
  t.like(parseTable((await kubectl(['get', 'priorityclass', 'overnight'])).stdout)[0], { VALUE: '1000', PREEMPTIONPOLICY: 'Never' });
  const described = await kubectl(['describe', 'pc', 'overnight']);
  t.is(described.code, 0, described.stderr);
  t.regex(described.stdout, /^Value:\s+1000$/m);
  t.regex(described.stdout, /^Description:\s+Batch work that can wait$/m);

  const pod = await kubectl(['run', 'nightly', '--image=busybox', '--overrides={"spec":{"priorityClassName":"overnight"}}']);
  t.is(pod.code, 0, pod.stderr);
  t.is((await kubectl(['get', 'pod', 'nightly', '-o', 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'])).stdout, '1000 Never');
  const unknown = await kubectl(['run', 'lost', '--image=busybox', '--overrides={"spec":{"priorityClassName":"nosuch"}}']);
  t.not(unknown.code, 0);
  t.regex(unknown.stderr, /pods "lost" is forbidden: no PriorityClass with name nosuch was found/);

  const deleted = await kubectl(['delete', 'pc', 'system-node-critical']);
  t.not(deleted.code, 0);
  t.regex(deleted.stderr, /priorityclasses\.scheduling\.k8s\.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted/);
});

kt('kubectl applies the example Workflow and lists it as wf', async (t) => {
  const applied = await kubectl(['apply', '-f', join(REPO, 'manifests/workflow.yaml')]);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /workflow\.kcs\.io\/ml-pipeline created/);
  const listed = await kubectl(['get', 'wf']);
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(headersOf(listed.stdout), ['NAME', 'STATUS', 'JOBS', 'AGE']);
  t.regex(parseTable(listed.stdout)[0]!.JOBS!, /^\d\/4$/);
  const cycle = await kubectl(['apply', '-f', '-'], {
    stdin: 'apiVersion: kcs.io/v1\nkind: Workflow\nmetadata:\n  name: loop\nspec:\n  jobs:\n'
      + '    - { name: a, dependsOn: [b], template: { spec: { template: { spec: { restartPolicy: Never, containers: [{ name: c, image: x }] } } } } }\n'
      + '    - { name: b, dependsOn: [a], template: { spec: { template: { spec: { restartPolicy: Never, containers: [{ name: c, image: x }] } } } } }\n',
  });
  t.not(cycle.code, 0);
  t.regex(cycle.stderr, /spec\.jobs\[1\]\.dependsOn: Invalid value: dependency cycle: b -> a -> b/);
});
