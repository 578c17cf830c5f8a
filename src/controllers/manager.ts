// Starts the controllers of a control plane against a client (in-process
// inside `kcs up`, over HTTP from `kcs controllers`), and stops them. Each
// controller says which watch events queue which of its keys (its
// nodeHandlers, podHandlers, ...): this file only builds, wires and runs them.
import type { KcsClient } from '../client/interface.ts';
import { kindByName, NODE_LEASE_NAMESPACE } from '../objects/kinds.ts';
import type { Namespace, Node, Pod } from '../objects/types.ts';
import type { NodeRuntime } from '../runtime/runtime.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Metrics } from '../util/metrics.ts';
import { EventRecorder } from '../client/events.ts';
import { Informer } from '../client/informer.ts';
import { NodeController } from './node.ts';
import { LedgerCollector } from './ledger.ts';
import { nodesWithPods } from './pods-on-node.ts';
import { HealthController, type Lease } from './health.ts';
import { PodHealthController } from './pod-health.ts';
import { NamespaceController } from './namespace.ts';
import { SchedulerController, type SchedulerConfiguration } from './scheduler.ts';
import type { PolicyName } from '../scheduler/plugins/policies.ts';
import { ControllerRunner } from './runner.ts';
import { ServiceProxy } from './service-proxy.ts';
import { NetworkPolicyGate } from './network-policy-gate.ts';
import type { NetworkPolicy } from '../objects/network-policy.ts';
import { COLLECTED_KINDS, GarbageCollector } from './garbage-collector.ts';
import { AUTOSCALER_BATCH_MS, AUTOSCALER_KEY, AutoscalerController, type NodePool } from './autoscaler.ts';
import { EndpointsController } from './endpoints.ts';
import { JOB_POD_BATCH_MS, JobController } from './jobs.ts';
import { WorkflowController } from './workflows.ts';
import type { Workflow } from '../objects/workflow-status.ts';
import type { Job } from '../objects/job-status.ts';
import type { Endpoints, EndpointSlice } from '../objects/endpoint-slices.ts';
import type { Service } from '../objects/services.ts';

export interface ControllerOptions {
  client: KcsClient;
  runtime: NodeRuntime;
  /** The API address node agents are given. */
  server: string;
  /** Every API server of the cluster, this one's first, when several share a store: agents are given all (node.ts). */
  apiServers?: () => string[];
  /** The CA (PEM) agents check the API's certificate with, when it serves TLS. */
  ca?: string;
  tokenFor: (nodeName: string) => string | Promise<string>;
  heartbeatMs?: number;
  resyncMs?: number;
  /** The policy for pods that name none (spec.schedulerName empty or default-scheduler). */
  defaultPolicy?: PolicyName;
  /** How long a node may miss heartbeats before it is declared failed (default 3 s). */
  nodeGraceMs?: number;
  /** Restarts on one node before a failing pod is moved, for pods without kcs.io/max-restarts (default 3). */
  maxRestarts?: number;
  clock?: Clock;
  log?: (message: string) => void;
  /** A node's CPU use now (millicores), where this process knows it: NodePool CPU targets and scale-down. */
  cpuUsage?: (node: string) => number | undefined;
  /** How often the autoscaler looks at every NodePool even when nothing changed (default 1 s; cluster-autoscaler's is 10 s). */
  autoscalerScanMs?: number;
  /** The first wait before a Job's failed pod is replaced, doubling per failure (default 1 s). */
  jobBackoffBaseMs?: number;
  /** Where the queues, the scheduler and failovers are measured (nothing is without it). */
  metrics?: Metrics;
}

export interface RunningNamespaceController {
  namespaces: Informer<Namespace>;
  runner: ControllerRunner;
  /** Started with it unless the caller runs its own (startControllers). */
  garbageCollector?: RunningGarbageCollector;
  stop(): Promise<void>;
}

/**
 * The namespace controller, and the garbage collector unless told not to:
 * they need no machines, so they run in every control plane, `kcs up
 * --runtime none` too (a deleted namespace must still be emptied and go,
 * an owner's dependents collected), and with the others in startControllers.
 */
export async function startNamespaceController(opts: { client: KcsClient; clock?: Clock; resyncMs?: number; log?: (message: string) => void; metrics?: Metrics; garbageCollector?: boolean }): Promise<RunningNamespaceController> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const namespaces = new Informer<Namespace>(opts.client, kindByName('Namespace')!, { clock, log });
  const controller = new NamespaceController({ client: opts.client, namespaces, log });
  const runner = new ControllerRunner(controller, { clock, workers: 2, resyncMs: opts.resyncMs ?? 30_000, resyncKeys: () => controller.keys(), log, metrics: opts.metrics });
  namespaces.on(controller.namespaceHandlers((name) => runner.enqueue(name)));
  await namespaces.start();
  runner.start();
  const garbageCollector = opts.garbageCollector === false ? undefined
    : await startGarbageCollector({ client: opts.client, clock, resyncMs: opts.resyncMs, log, metrics: opts.metrics, shared: [namespaces] });
  return {
    namespaces,
    runner,
    garbageCollector,
    async stop() {
      await garbageCollector?.stop();
      namespaces.stop();
      await runner.stop();
    },
  };
}

export interface RunningGarbageCollector {
  collector: GarbageCollector;
  runner: ControllerRunner;
  stop(): Promise<void>;
}

/**
 * The garbage collector follows every kind it collects. The informers the
 * caller already runs are shared, listed or not (150,000 pods are not kept
 * twice); the others are made, and listed before it starts.
 */
export async function startGarbageCollector(opts: {
  client: KcsClient; clock?: Clock; resyncMs?: number; log?: (message: string) => void; metrics?: Metrics; shared?: Informer<any>[];
}): Promise<RunningGarbageCollector> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const shared = opts.shared ?? [];
  const own = COLLECTED_KINDS.filter((k) => !shared.some((i) => i.kind === k)).map((k) => new Informer(opts.client, k, { clock, log }));
  const collector: GarbageCollector = new GarbageCollector({ client: opts.client, informers: [...shared, ...own], enqueue: (key) => runner.enqueue(key), log });
  const runner = new ControllerRunner(collector, { clock, workers: 4, resyncMs: opts.resyncMs ?? 30_000, resyncKeys: () => collector.keys(), log, metrics: opts.metrics });
  for (const informer of [...shared, ...own]) {
    const handlers = collector.handlers(informer.kind);
    // A shared informer may have listed already: what it holds is indexed in the same step as subscribing.
    for (const obj of informer.list()) handlers.add!(obj);
    informer.on(handlers);
  }
  await Promise.all(own.map((i) => i.start()));
  runner.start();
  return {
    collector,
    runner,
    async stop() {
      for (const i of own) i.stop();
      await runner.stop();
    },
  };
}

export interface RunningEndpointsController {
  controller: EndpointsController;
  runner: ControllerRunner;
  /** Its own informers (Services, EndpointSlices, Endpoints), for the garbage collector to share. */
  informers: Informer<any>[];
  services: Informer<Service>;
  slices: Informer<EndpointSlice>;
  stop(): Promise<void>;
}

/**
 * The endpoints controller over the caller's pod and node informers, which
 * must have listed already: its own informers' first events queue every
 * Service, so it starts from a full view and never writes a slice empty
 * for want of pods it has not seen yet.
 */
export async function startEndpointsController(opts: {
  client: KcsClient; pods: Informer<Pod>; nodes: Informer<Node>; clock?: Clock; resyncMs?: number; log?: (message: string) => void; metrics?: Metrics;
}): Promise<RunningEndpointsController> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const services = new Informer<Service>(opts.client, kindByName('Service')!, { clock, log });
  const slices = new Informer<EndpointSlice>(opts.client, kindByName('EndpointSlice')!, { clock, log });
  const endpoints = new Informer<Endpoints>(opts.client, kindByName('Endpoints')!, { clock, log });
  const controller = new EndpointsController({ client: opts.client, services, pods: opts.pods, nodes: opts.nodes, slices, endpoints });
  const runner = new ControllerRunner(controller, { clock, workers: 4, resyncMs: opts.resyncMs ?? 30_000, resyncKeys: () => controller.keys(), log, metrics: opts.metrics });
  const enqueue = (key: string) => runner.enqueue(key);
  services.on(controller.serviceHandlers(enqueue));
  opts.pods.on(controller.podHandlers(enqueue));
  opts.nodes.on(controller.nodeHandlers(enqueue));
  slices.on(controller.ownedHandlers((s) => controller.sliceServiceKey(s), enqueue));
  endpoints.on(controller.ownedHandlers((e) => controller.endpointsServiceKey(e), enqueue));
  // Slices and Endpoints first: a Service's first reconcile sees what it already has.
  await Promise.all([slices.start(), endpoints.start()]);
  await services.start();
  runner.start();
  return {
    controller,
    runner,
    informers: [services, slices, endpoints],
    services,
    slices,
    async stop() {
      services.stop();
      slices.stop();
      endpoints.stop();
      await runner.stop();
    },
  };
}

export interface RunningControllers {
  nodes: Informer<Node>;
  pods: Informer<Pod>;
  nodeRunner: ControllerRunner;
  scheduler: SchedulerController;
  schedulerRunner: ControllerRunner;
  healthRunner: ControllerRunner;
  namespaceController: RunningNamespaceController;
  garbageCollector: RunningGarbageCollector;
  /** Listens on every Service's cluster IP and ports. */
  serviceProxy: ServiceProxy;
  stop(): Promise<void>;
}

/** A background binding that failed n times in a row is tried again after 100 ms, 200 ms, ... up to 30 s. */
export function bindRetryDelayMs(failures: number): number {
  return Math.min(30_000, 100 * 2 ** Math.max(0, failures - 1));
}

export async function startControllers(opts: ControllerOptions): Promise<RunningControllers> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const resyncMs = opts.resyncMs ?? 30_000;
  const metrics = opts.metrics;
  const recorder = (component: string) => new EventRecorder(opts.client, component, { clock, log });
  const nodes = new Informer<Node>(opts.client, kindByName('Node')!, { clock, log });
  const pods = new Informer<Pod>(opts.client, kindByName('Pod')!, { clock, log });
  const configurations = new Informer<SchedulerConfiguration>(opts.client, kindByName('SchedulerConfiguration')!, { clock, log });
  const leases = new Informer<Lease>(opts.client, kindByName('Lease')!, { namespace: NODE_LEASE_NAMESPACE, clock, log });

  // The node controller: a running machine for every Node.
  const controller = new NodeController({
    client: opts.client, runtime: opts.runtime, nodes, server: opts.server, apiServers: opts.apiServers, ca: opts.ca, tokenFor: opts.tokenFor, heartbeatMs: opts.heartbeatMs, clock, events: recorder('node-controller'),
    boundNodeNames: () => nodesWithPods(pods),
    nodeGraceMs: opts.nodeGraceMs,
  });
  const nodeRunner = new ControllerRunner(controller, { clock, workers: 16, resyncMs, resyncKeys: () => controller.keys(), log, metrics });
  nodes.on(controller.nodeHandlers((key) => nodeRunner.enqueue(key)));

  // The scheduler: one worker, so decisions are sequential; each assumes its
  // pod at once and leaves the binding to be written in the background,
  // batched with the others decided meanwhile (binder.ts).
  const scheduler: SchedulerController = new SchedulerController({
    client: opts.client, pods, nodes, configurations, defaultPolicy: opts.defaultPolicy, events: recorder('scheduler'), clock, log, metrics,
    requeue: (key, failures) => schedulerRunner.queue.addAfter(key, bindRetryDelayMs(failures)),
  });
  const schedulerRunner = new ControllerRunner(scheduler, { clock, workers: 1, resyncMs, resyncKeys: () => scheduler.pendingKeys(), log, metrics });
  const enqueueScheduling = (key: string) => schedulerRunner.enqueue(key);
  pods.on(scheduler.podHandlers(enqueueScheduling));
  nodes.on(scheduler.nodeHandlers(enqueueScheduling));
  configurations.on(scheduler.configurationHandlers(enqueueScheduling));

  // The reservation collector gives back the room of reservations whose pod
  // left (or never arrived); room given back is a retry for pending pods.
  const collector = new LedgerCollector({ client: opts.client, nodes, pods, clock, onFreed: () => scheduler.retryPending(enqueueScheduling) });
  const collectorRunner = new ControllerRunner(collector, { clock, workers: 2, resyncMs, resyncKeys: () => nodes.keys(), log, metrics });
  pods.on(collector.podHandlers((key) => collectorRunner.enqueue(key)));

  // The health controller: nodes whose Lease goes stale are declared failed
  // and their pods moved.
  const health = new HealthController({ client: opts.client, nodes, leases, pods, graceMs: opts.nodeGraceMs, clock, events: recorder('health-controller'), metrics });
  const healthRunner = new ControllerRunner(health, { clock, workers: 2, resyncMs, resyncKeys: () => nodes.keys(), log, metrics });
  nodes.on(health.nodeHandlers((key) => healthRunner.enqueue(key)));
  leases.on(health.leaseHandlers((key) => healthRunner.enqueue(key)));

  // Pod health: a pod that keeps failing its health check on its node is moved off it.
  const podHealth = new PodHealthController({ client: opts.client, pods, maxRestarts: opts.maxRestarts, events: recorder('pod-health-controller'), clock });
  const podHealthRunner = new ControllerRunner(podHealth, { clock, workers: 2, resyncMs, resyncKeys: () => podHealth.keysToMove(), log, metrics });
  pods.on(podHealth.podHandlers((key) => podHealthRunner.enqueue(key)));

  // The autoscaler: NodePools grown for unschedulable pods, shrunk when nodes stay unneeded.
  const pools = new Informer<NodePool>(opts.client, kindByName('NodePool')!, { clock, log });
  const autoscaler = new AutoscalerController({
    client: opts.client, pools, nodes, pods, events: recorder('autoscaler'), clock, cpuUsage: opts.cpuUsage, metrics: opts.metrics?.autoscaler, log,
  });
  const autoscalerRunner = new ControllerRunner(autoscaler, { clock, workers: 1, resyncMs: opts.autoscalerScanMs ?? 1000, resyncKeys: () => [AUTOSCALER_KEY], log, metrics });
  const enqueueAutoscaler = () => autoscalerRunner.enqueue(AUTOSCALER_KEY);
  // Pods found unschedulable within a moment of each other are taken in one decision (one scale-up for all).
  pods.on(autoscaler.podHandlers(() => autoscalerRunner.queue.addAfter(AUTOSCALER_KEY, AUTOSCALER_BATCH_MS)));
  nodes.on(autoscaler.objectHandlers<Node>(enqueueAutoscaler));
  pools.on(autoscaler.objectHandlers<NodePool>(enqueueAutoscaler));

  // Jobs: their pods started, counted, retried and deleted, their status written.
  const jobs = new Informer<Job>(opts.client, kindByName('Job')!, { clock, log });
  const jobController = new JobController({ client: opts.client, jobs, pods, kind: kindByName('Job')!, events: recorder('job-controller'), clock, backoffBaseMs: opts.jobBackoffBaseMs });
  const jobRunner = new ControllerRunner(jobController, { clock, workers: 4, resyncMs, resyncKeys: () => jobController.keys(), log, metrics });
  jobs.on(jobController.jobHandlers((key) => jobRunner.enqueue(key)));
  pods.on(jobController.podHandlers((key) => jobRunner.queue.addAfter(key, JOB_POD_BATCH_MS)));
  // Workflows: each step's Job made once the steps it depends on succeeded.
  const workflows = new Informer<Workflow>(opts.client, kindByName('Workflow')!, { clock, log });
  const workflowController = new WorkflowController({ client: opts.client, workflows, jobs, kinds: { workflow: kindByName('Workflow')!, job: kindByName('Job')! }, events: recorder('workflow-controller'), clock });
  const workflowRunner = new ControllerRunner(workflowController, { clock, workers: 2, resyncMs, resyncKeys: () => workflowController.keys(), log, metrics });
  workflows.on(workflowController.workflowHandlers((key) => workflowRunner.enqueue(key)));
  jobs.on(workflowController.jobHandlers((key) => workflowRunner.enqueue(key)));

  const namespaceController = await startNamespaceController({ client: opts.client, clock, resyncMs, log, metrics, garbageCollector: false });
  await nodes.start();
  await pods.start();
  await configurations.start();
  await leases.start();
  await pools.start();
  await jobs.start();
  await workflows.start();
  // The endpoints controller: EndpointSlices and Endpoints of every Service with a selector, from its pods and their nodes.
  const endpointsController = await startEndpointsController({ client: opts.client, pods, nodes, clock, resyncMs, log, metrics });
  // The service proxy: each Service's cluster IP and ports, balanced over its ready endpoints.
  // Every connection it hands to a pod is first checked against the network policies.
  const networkPolicies = new Informer<NetworkPolicy>(opts.client, kindByName('NetworkPolicy')!, { clock, log });
  await networkPolicies.start();
  const gate = new NetworkPolicyGate({ policies: networkPolicies, namespaces: namespaceController.namespaces, pods });
  const serviceProxy = new ServiceProxy({ services: endpointsController.services, slices: endpointsController.slices, gate, log });
  const syncProxy = () => serviceProxy.sync();
  endpointsController.services.on({ add: syncProxy, update: syncProxy, delete: syncProxy });
  serviceProxy.sync();
  // The garbage collector, over the informers above where it has one (pods are not kept twice).
  const garbageCollector = await startGarbageCollector({ client: opts.client, clock, resyncMs, log, metrics, shared: [nodes, pods, configurations, pools, jobs, workflows, namespaceController.namespaces, networkPolicies, ...endpointsController.informers] });
  healthRunner.start();
  nodeRunner.start();
  schedulerRunner.start();
  collectorRunner.start();
  podHealthRunner.start();
  autoscalerRunner.start();
  jobRunner.start();
  workflowRunner.start();
  // A machine that dies on its own is noticed now, not at the next resync.
  const unwatch = opts.runtime.watch((name) => nodeRunner.enqueue(name));
  // Machines left from a previous run whose Node is gone are found now, not
  // at the first resync; a runtime that cannot answer yet is retried by resync.
  try {
    for (const key of await controller.keys()) nodeRunner.enqueue(key);
  } catch (err) {
    log(`node controller: cannot list machines yet: ${(err as Error).message}`);
  }
  return {
    nodes,
    pods,
    nodeRunner,
    scheduler,
    schedulerRunner,
    healthRunner,
    namespaceController,
    garbageCollector,
    serviceProxy,
    async stop() {
      unwatch();
      serviceProxy.stop();
      networkPolicies.stop();
      await garbageCollector.stop();
      await namespaceController.stop();
      nodes.stop();
      pods.stop();
      configurations.stop();
      await nodeRunner.stop();
      await schedulerRunner.stop();
      await collectorRunner.stop();
      leases.stop();
      await healthRunner.stop();
      health.stop();
      await podHealthRunner.stop();
      pools.stop();
      await autoscalerRunner.stop();
      jobs.stop();
      workflows.stop();
      await jobRunner.stop();
      await workflowRunner.stop();
      await endpointsController.stop();
    },
  };
}
