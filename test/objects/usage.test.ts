import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from 'yaml';
import { parseDocuments } from '../../src/objects/manifest.ts';
import type { Container, Pod } from '../../src/objects/types.ts';
import {
  DEFAULT_USAGE_PERCENT, IDLE_MEMORY_BYTES, IDLE_MILLI_CPU, USAGE_ANNOTATION, UsageModel, usageErrors,
} from '../../src/objects/usage.ts';
import { MAX_USAGE_ANNOTATION_LENGTH } from '../../src/objects/usage-annotation.ts';
import { unitRandom, Walk, type WalkParams } from '../../src/objects/usage-walk.ts';
import { validateObject } from '../../src/objects/validation.ts';

const MI = 1024 * 1024;
const START = Date.parse('2026-01-01T00:00:00Z');
const after = (ms: number) => new Date(START + ms);

const container = (name: string, requests?: Record<string, string>, limits?: Record<string, string>): Container =>
  ({ name, ...(requests || limits ? { resources: { ...(requests && { requests }), ...(limits && { limits }) } } : {}) });

/** One container requesting 1 CPU and 1Gi unless told otherwise. */
const APP = container('app', { cpu: '1', memory: '1Gi' });

function pod(annotation: string | undefined, containers: Container[] = [APP], meta: { uid?: string; created?: string; startTime?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'p', namespace: 'default', uid: meta.uid ?? 'uid-1',
      creationTimestamp: meta.created ?? new Date(START).toISOString(),
      ...(annotation === undefined ? {} : { annotations: { [USAGE_ANNOTATION]: annotation } }),
    },
    spec: { containers },
    ...(meta.startTime ? { status: { phase: 'Running', startTime: meta.startTime } } : {}),
  };
}

/** The usage of the first container, elapsedMs after the pod started. */
function usageAt(annotation: string | undefined, elapsedMs: number, containers: Container[] = [APP]) {
  return new UsageModel().podUsage(pod(annotation, containers), after(elapsedMs))[0];
}
const cpuAt = (annotation: string, elapsedMs: number, containers?: Container[]) => usageAt(annotation, elapsedMs, containers).milliCpu;
const memoryAt = (annotation: string, elapsedMs: number, containers?: Container[]) => usageAt(annotation, elapsedMs, containers).memory;

// ---- profiles ------------------------------------------------------------------------

test('a bare quantity is a constant, in millicores or bytes', (t) => {
  t.is(cpuAt('cpu: 250m', 0), 250);
  t.is(cpuAt('cpu: 250m', 3_600_000), 250);
  t.is(cpuAt('cpu: "1.5"', 0), 1500);
  t.is(cpuAt('cpu: 1.5', 0), 1500, 'a YAML number is a quantity too');
  t.is(memoryAt('memory: 200Mi', 10_000), 200 * MI);
  t.is(cpuAt('cpu: constant value=250m', 5000), 250);
});

test('sine starts at min, passes the middle at a quarter period and peaks at max at half a period', (t) => {
  const sine = 'cpu: sine min=100m max=400m period=60s';
  t.is(cpuAt(sine, 0), 100);
  t.is(cpuAt(sine, 15_000), 250);
  t.is(cpuAt(sine, 30_000), 400);
  t.is(cpuAt(sine, 45_000), 250);
  t.is(cpuAt(sine, 60_000), 100);
  // min + (max - min)(1 - cos(2πt/period))/2 at t = 10s: 100 + 300 * (1 - cos(π/3))/2 = 100 + 300/4
  t.is(cpuAt(sine, 10_000), 175);
});

test('ramp goes linearly from from to to over its duration, then holds to', (t) => {
  const ramp = 'memory: ramp from=64Mi to=256Mi over=5m';
  t.is(memoryAt(ramp, 0), 64 * MI);
  t.is(memoryAt(ramp, 150_000), 160 * MI);
  t.is(memoryAt(ramp, 300_000), 256 * MI);
  t.is(memoryAt(ramp, 3_600_000), 256 * MI);
  t.is(cpuAt('cpu: ramp from=1 to=200m over=10s', 5000), 600, 'a ramp may go down');
});

test('spike is base, except peak from at until at + for', (t) => {
  const spike = 'cpu: spike base=50m peak=2 at=30s for=10s';
  t.is(cpuAt(spike, 0), 50);
  t.is(cpuAt(spike, 29_999), 50);
  t.is(cpuAt(spike, 30_000), 2000);
  t.is(cpuAt(spike, 39_999), 2000);
  t.is(cpuAt(spike, 40_000), 50);
  t.is(cpuAt('cpu: spike base=0 peak=1 at=0s for=500ms', 0), 1000, 'at may be 0s');
});

test('durations take ms, s, m and h', (t) => {
  const t1 = (over: string, elapsedMs: number) => cpuAt(`cpu: ramp from=0 to=1 over=${over}`, elapsedMs);
  t.is(t1('500ms', 250), 500);
  t.is(t1('30s', 15_000), 500);
  t.is(t1('2m', 60_000), 500);
  t.is(t1('1h', 1_800_000), 500);
  t.is(t1('1.5s', 750), 500);
});

test('usage never goes below zero', (t) => {
  t.is(cpuAt('cpu: ramp from=-1 to=1 over=10s', 0), 0);
  t.is(cpuAt('cpu: ramp from=-1 to=1 over=10s', 7500), 500);
});

test('percentages are shares of the container\'s request, anywhere a quantity goes', (t) => {
  const small = [container('app', { cpu: '200m', memory: '100Mi' })];
  t.is(cpuAt('cpu: 80%', 0, small), 160);
  t.is(memoryAt('memory: 150%', 0, small), 150 * MI, 'usage may exceed the request');
  const sine = 'cpu: sine min=20% max=90% period=2m';
  t.is(cpuAt(sine, 0, small), 40);
  t.is(cpuAt(sine, 60_000, small), 180);
  t.is(cpuAt('cpu: ramp from=10m to=50% over=10s', 10_000, small), 100, 'quantities and percentages mix');
});

test('a container that states only a limit has that as its request, as Kubernetes defaults it', (t) => {
  t.is(cpuAt('cpu: 50%', 0, [container('app', undefined, { cpu: '400m' })]), 200);
  t.deepEqual(usageErrors(pod('cpu: 50%', [container('app', undefined, { cpu: '400m' })])), []);
});

test('a container\'s own profile overrides the pod\'s; the rest fall back to the pod\'s, then the default', (t) => {
  const containers = [container('app', { cpu: '1', memory: '1Gi' }), container('sidecar', { cpu: '100m', memory: '64Mi' })];
  const usage = new UsageModel().podUsage(pod('{cpu: 50m, sidecar: {cpu: 5m}}', containers), after(0));
  t.deepEqual(usage, [
    { name: 'app', milliCpu: 50, memory: 512 * MI },
    { name: 'sidecar', milliCpu: 5, memory: 32 * MI },
  ]);
  const memoryOnly = new UsageModel().podUsage(pod('{memory: 10Mi, app: {memory: 20Mi}}', containers), after(0));
  t.deepEqual(memoryOnly.map((u) => u.memory), [20 * MI, 10 * MI]);
});

test('a container may be named cpu: a mapping under a key is always a container\'s override', (t) => {
  const containers = [container('cpu', { cpu: '1' }), container('app', { cpu: '1' })];
  const usage = new UsageModel().podUsage(pod('{cpu: {cpu: 7m}}', containers), after(0));
  t.deepEqual(usage.map((u) => u.milliCpu), [7, 500]);
});

test('the examples of the documentation are valid', (t) => {
  const containers = [container('app', { cpu: '500m', memory: '256Mi' }), container('sidecar', { cpu: '50m', memory: '32Mi' })];
  for (const annotation of [
    'cpu: sine min=100m max=400m period=60s\nmemory: ramp from=64Mi to=256Mi over=5m\n',
    '{cpu: 80%, memory: 200Mi}',
    '{cpu: 50m, sidecar: {cpu: 5m}}',
    'cpu: walk min=100m max=450m step=25m every=1s seed=7',
    'cpu: walk min=20% max=90% step=5% every=2s start=20%',
    'cpu: spike base=50m peak=2 at=30s for=10s',
    '',
  ]) {
    t.deepEqual(usageErrors(pod(annotation, containers)), [], annotation);
  }
});

// ---- the default rule ------------------------------------------------------------------

test('without an annotation a container uses half its request', (t) => {
  t.is(DEFAULT_USAGE_PERCENT, 50);
  const usage = new UsageModel().podUsage(pod(undefined, [container('app', { cpu: '300m', memory: '128Mi' })]), after(0));
  t.deepEqual(usage, [{ name: 'app', milliCpu: 150, memory: 64 * MI }]);
});

test('a container requesting nothing uses 1m CPU and 4Mi, so it never shows as silent', (t) => {
  t.is(IDLE_MILLI_CPU, 1);
  t.is(IDLE_MEMORY_BYTES, 4 * MI);
  const containers = [container('bare'), container('cpu-only', { cpu: '200m' }), container('zero', { cpu: '0', memory: '0' })];
  t.deepEqual(new UsageModel().podUsage(pod(undefined, containers), after(0)), [
    { name: 'bare', milliCpu: 1, memory: 4 * MI },
    { name: 'cpu-only', milliCpu: 100, memory: 4 * MI },
    { name: 'zero', milliCpu: 1, memory: 4 * MI },
  ]);
});

test('a resource the annotation does not mention follows the default', (t) => {
  t.deepEqual(usageAt('cpu: 10m', 0, [container('app', { cpu: '1', memory: '100Mi' })]), { name: 'app', milliCpu: 10, memory: 50 * MI });
});

test('a pod whose annotation does not parse, or does not fit it, uses the default', (t) => {
  t.deepEqual(usageAt('cpu: sine min=1', 0), { name: 'app', milliCpu: 500, memory: 512 * MI });
  t.deepEqual(usageAt('{cpu: 10m, db: {cpu: 1}}', 0), { name: 'app', milliCpu: 500, memory: 512 * MI }, 'an unknown container');
  t.deepEqual(usageAt('cpu: [', 0), { name: 'app', milliCpu: 500, memory: 512 * MI });
});

// ---- time ------------------------------------------------------------------------------

test('time runs from status.startTime, else from metadata.creationTimestamp', (t) => {
  const ramp = 'cpu: ramp from=0 to=100m over=100s';
  const model = new UsageModel();
  const created = '2026-01-01T00:00:00Z';
  t.is(model.podUsage(pod(ramp, [APP], { uid: 'a', created }), new Date('2026-01-01T00:00:40Z'))[0].milliCpu, 40);
  const moved = pod(ramp, [APP], { uid: 'b', created, startTime: '2026-01-01T00:00:30Z' });
  t.is(model.podUsage(moved, new Date('2026-01-01T00:00:40Z'))[0].milliCpu, 10, 'a pod started on a new node starts its profile over');
});

test('without a start or creation time, or before it, no time has passed', (t) => {
  const ramp = 'cpu: ramp from=10m to=110m over=100s';
  const unborn = pod(ramp);
  delete unborn.metadata.creationTimestamp;
  t.is(new UsageModel().podUsage(unborn, after(50_000))[0].milliCpu, 10);
  t.is(new UsageModel().podUsage(pod(ramp), after(-50_000))[0].milliCpu, 10, 'a clock behind the start');
});

// ---- the model -------------------------------------------------------------------------

test('the model follows a changed annotation and changed requests of the same pod', (t) => {
  const model = new UsageModel();
  t.is(model.podUsage(pod('cpu: 10m'), after(0))[0].milliCpu, 10);
  t.is(model.podUsage(pod('cpu: 20m'), after(0))[0].milliCpu, 20);
  t.is(model.podUsage(pod('cpu: 50%', [container('app', { cpu: '100m' })]), after(0))[0].milliCpu, 50);
  t.is(model.podUsage(pod('cpu: 50%', [container('app', { cpu: '300m' })]), after(0))[0].milliCpu, 150);
  t.is(model.podUsage(pod(undefined), after(0))[0].milliCpu, 500);
});

test('a walk read through the model each second equals the walk read once at the end, and forget starts afresh', (t) => {
  const walk = 'cpu: walk min=0 max=1 step=100m every=1s seed=42';
  const steady = new UsageModel();
  let last = 0;
  for (let s = 0; s <= 600; s++) last = steady.podUsage(pod(walk), after(s * 1000))[0].milliCpu;
  t.is(new UsageModel().podUsage(pod(walk), after(600_000))[0].milliCpu, last);
  steady.forget('uid-1');
  t.is(steady.podUsage(pod(walk), after(600_000))[0].milliCpu, last);
  t.not(new UsageModel().podUsage(pod(walk.replace('seed=42', 'seed=43')), after(600_000))[0].milliCpu, last);
});

test('a walk written without a seed is seed 1, and starts in the middle of min and max', (t) => {
  const walk = 'cpu: walk min=100m max=300m step=20m every=1s';
  t.is(cpuAt(walk, 999), 200);
  for (const s of [1, 10, 100]) t.is(cpuAt(walk, s * 1000), cpuAt(`${walk} seed=1`, s * 1000));
  t.is(cpuAt(`${walk} start=120m`, 0), 120);
});

// ---- the walk itself -------------------------------------------------------------------

const WALK: WalkParams = { min: 100, max: 400, step: 30, everyMs: 1000, seed: 7, start: 250 };
const sequence = (params: WalkParams, steps: number) => {
  const walk = new Walk(params);
  return Array.from({ length: steps + 1 }, (_, i) => walk.at(i * params.everyMs));
};

test('a walk is the same for the same seed, and another for another seed', (t) => {
  const walk = sequence(WALK, 500);
  t.deepEqual(sequence(WALK, 500), walk);
  const other = sequence({ ...WALK, seed: 8 }, 500);
  t.is(other[0], walk[0], 'both start at start');
  t.true(other.filter((v, i) => v !== walk[i]).length > 450, 'after that they part');
});

test('a walk stays within min and max, and moves at most step each step', (t) => {
  // A step as large as half the range makes it bounce off both walls often.
  for (const params of [WALK, { ...WALK, step: 150, seed: 3 }, { ...WALK, step: 1000, seed: 5 }]) {
    const values = sequence(params, 5000);
    t.true(values.every((v) => v >= params.min && v <= params.max), `within [${params.min}, ${params.max}]`);
    t.true(values.slice(1).every((v, i) => Math.abs(v - values[i]) <= params.step + 1e-9), 'at most step per step');
    t.true(values.some((v) => v < params.min + (params.max - params.min) / 4) && values.some((v) => v > params.max - (params.max - params.min) / 4), 'it wanders');
  }
});

test('a walk holds its value between steps', (t) => {
  const walk = new Walk(WALK);
  t.is(walk.at(0), 250);
  t.is(walk.at(999), 250);
  const first = walk.at(1000);
  t.is(walk.at(1999), first);
});

test('a walk at time T is the same read directly, read step by step, or read again after a later time', (t) => {
  const direct = new Walk(WALK).at(3_600_000);
  const stepped = new Walk(WALK);
  for (let ms = 0; ms <= 3_600_000; ms += 250) stepped.at(ms);
  t.is(stepped.at(3_600_000), direct);
  const back = new Walk(WALK);
  back.at(7_200_000);
  t.is(back.at(3_600_000), direct, 'an earlier time after a later one');
});

test('a walk with min equal to max stays there', (t) => {
  t.deepEqual(sequence({ ...WALK, min: 200, max: 200, start: 200 }, 50), Array(51).fill(200));
});

test('the walk\'s random draws lie in [0, 1) and spread evenly', (t) => {
  const draws = Array.from({ length: 20_000 }, (_, i) => unitRandom(1, i));
  t.true(draws.every((u) => u >= 0 && u < 1));
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  t.true(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const buckets = Array(10).fill(0);
  for (const u of draws) buckets[Math.floor(u * 10)]++;
  t.true(buckets.every((n) => n > 1800 && n < 2200), `buckets ${buckets}`);
  t.not(unitRandom(1, 2 ** 40), unitRandom(1, 0), 'indexes beyond 32 bits count');
  t.not(unitRandom(2 ** 40, 5), unitRandom(0, 5), 'seeds beyond 32 bits count');
});

// ---- errors ----------------------------------------------------------------------------

const TWO = [container('app', { cpu: '200m', memory: '128Mi' }), container('sidecar')];

const BAD: Array<[string, string, RegExp]> = [
  ['an unknown kind', 'cpu: wave min=1 max=2', /cpu: unknown profile "wave"/],
  ['an unknown word alone', 'cpu: lots', /cpu: unknown profile "lots"/],
  ['a missing duration', 'cpu: sine min=100m max=400m', /cpu: sine needs period \(a duration such as 60s\)/],
  ['a missing quantity', 'memory: ramp to=1Gi over=1m', /memory: ramp needs from \(a quantity such as 64Mi or a percentage such as 80%\)/],
  ['an unknown argument', 'cpu: sine min=1m max=2m period=1s phase=3s', /cpu: sine has no argument "phase" \(it takes min, max, period\)/],
  ['an argument given twice', 'cpu: ramp from=1m from=2m to=3m over=1s', /cpu: ramp: from is given twice/],
  ['an argument that is not key=value', 'cpu: sine min 1m', /cpu: sine: "min" is not key=value/],
  ['a bad quantity', 'cpu: ramp from=abc to=1 over=1s', /cpu: ramp: from: "abc" is neither a quantity \(such as 100m\) nor a percentage/],
  ['a bad bare quantity', 'memory: 12x', /memory: "12x" is neither a quantity \(such as 64Mi\)/],
  ['a quantity too large', 'memory: 16Ei', /memory: quantity "16Ei" is too large/],
  ['an argument too large', 'memory: ramp from=0 to=16Ei over=1m', /memory: ramp: to: quantity "16Ei" is too large/],
  ['a duration without a unit', 'cpu: sine min=1m max=2m period=60', /cpu: sine: period="60" is not a duration/],
  ['a duration in days', 'cpu: ramp from=1m to=2m over=1d', /cpu: ramp: over="1d" is not a duration/],
  ['a zero period', 'cpu: sine min=1m max=2m period=0s', /cpu: sine: period must be longer than 0s/],
  ['a walk stepping faster than 100ms', 'cpu: walk min=1m max=2m step=1m every=10ms', /cpu: walk: every must be at least 100ms/],
  ['a seed that is not a whole number', 'cpu: walk min=1m max=2m step=1m every=1s seed=x', /cpu: walk: seed="x" is not a whole number/],
  ['min above max', 'cpu: sine min=400m max=100m period=1s', /cpu: sine: min=400m is above max=100m/],
  ['min above max in percentages', 'cpu: walk min=90% max=20% step=1% every=1s', /cpu: walk: min=90% is above max=20%/],
  ['min above max once resolved', 'app: {cpu: sine min=150m max=50% period=1s}', /app\.cpu: sine: min=150m is above max=50%/],
  ['a walk starting outside its range', 'cpu: walk min=1m max=2m step=1m every=1s start=3m', /cpu: walk: start=3m is above max=2m/],
  ['an unknown container', '{cpu: 10m, db: {cpu: 1}}', /db: the pod has no container of that name \(its containers: app, sidecar\)/],
  ['an unknown key of a container', 'app: {cpu: 1m, disk: 1Gi}', /app: unknown key "disk" \(a container's override takes cpu and memory\)/],
  ['an unknown top-level key', 'disk: 1Gi', /disk: is neither cpu nor memory, so it names a container/],
  ['a percentage of a container with no request', 'sidecar: {cpu: 80%}', /sidecar\.cpu: 80% is a share of the cpu request, and the container requests no cpu/],
  ['a pod-wide percentage, for the container with no request', 'memory: ramp from=10% to=50% over=1m', /memory \(container sidecar\): ramp: from=10% is a share of the memory request, and the container requests no memory/],
  ['a list', '[cpu, 1]', /must be a mapping of cpu, memory or container names/],
  ['a bare profile', '80%', /must be a mapping of cpu, memory or container names/],
  ['a profile that is a list', 'cpu: [1, 2]', /cpu: must be a profile such as 250m/],
  ['an empty profile', 'cpu: ""', /cpu: is empty; expected a quantity/],
  ['a profile that is a boolean', 'cpu: true', /cpu: must be a profile .* not true/],
  ['YAML that does not parse', 'cpu: [', /is not valid YAML/],
  ['a key given twice', 'cpu: 1\ncpu: 2', /is not valid YAML: Map keys must be unique/],
  ['two documents', 'cpu: 1\n---\ncpu: 2', /is not valid YAML/],
  ['deep nesting', `${'['.repeat(1000)}${']'.repeat(1000)}`, /nests \{ and \[ deeper than 8 levels/],
  ['a value too long', `cpu: 1m${' '.repeat(MAX_USAGE_ANNOTATION_LENGTH)}`, new RegExp(`is ${MAX_USAGE_ANNOTATION_LENGTH + 7} characters long; at most ${MAX_USAGE_ANNOTATION_LENGTH}`)],
];

for (const [title, annotation, reason] of BAD) {
  test(`refuses ${title}, naming the field and the reason`, (t) => {
    const errors = usageErrors(pod(annotation, TWO));
    t.is(errors.length, 1, JSON.stringify(errors));
    t.is(errors[0].field, 'metadata.annotations[kcs.io/usage]');
    t.is(errors[0].reason, 'FieldValueInvalid');
    t.true(errors[0].message.startsWith('Invalid value: "'), errors[0].message);
    t.regex(errors[0].message, reason);
  });
}

test('one error lists every problem of the annotation', (t) => {
  const [error] = usageErrors(pod('{cpu: wave, memory: sine min=1Mi, db: {cpu: 1m}}', TWO));
  t.regex(error.message, /cpu: unknown profile "wave".*; memory: sine needs max/);
  const [fit] = usageErrors(pod('{cpu: 10%, db: {cpu: 1m}}', TWO));
  t.regex(fit.message, /db: the pod has no container of that name.*; cpu \(container sidecar\): 10% is a share/);
});

test('a pod without the annotation has no usage errors', (t) => {
  t.deepEqual(usageErrors(pod(undefined, TWO)), []);
});

test('a YAML manifest\'s block annotation reads as written', (t) => {
  const manifest = parse(`
metadata:
  annotations:
    kcs.io/usage: |
      cpu: sine min=100m max=400m period=60s
      memory: ramp from=64Mi to=256Mi over=5m
`);
  // At 30s: the sine at half its period; the ramp a tenth of the way from 64Mi to 256Mi.
  const p = pod(manifest.metadata.annotations[USAGE_ANNOTATION]);
  t.deepEqual(new UsageModel().podUsage(p, after(30_000)), [{ name: 'app', milliCpu: 400, memory: Math.round(83.2 * MI) }]);
});

test('the demo manifest\'s pods are valid and each states its usage', (t) => {
  const pods = parseDocuments(readFileSync(new URL('../../manifests/usage-demo.yaml', import.meta.url), 'utf8')) as Pod[];
  t.true(pods.length >= 4);
  for (const p of pods) {
    t.deepEqual(validateObject(p).errors, [], p.metadata.name);
    t.truthy(p.metadata.annotations?.[USAGE_ANNOTATION], p.metadata.name);
  }
});

test('validation refuses a pod whose usage annotation is bad, on the annotation\'s field', (t) => {
  const { errors } = validateObject(pod('cpu: sine min=1m', TWO));
  t.deepEqual(errors.map((e) => e.field), ['metadata.annotations[kcs.io/usage]']);
});
