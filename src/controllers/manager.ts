// Starts the controllers of a control plane against a client (in-process
// inside `kcs up`, over HTTP from `kcs controllers`), and stops them. Each
// controller says which watch events queue which of its keys (its
// nodeHandlers, podHandlers, ...): this file only builds, wires and runs them.
import type { KcsClient } from '../client/interface.ts';
import { kindByName, NODE_LEASE_NAMESPACE } from '../objects/kinds.ts';
import type { Node, Pod } from '../objects/types.ts';
import type { NodeRuntime } from '../runtime/runtime.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { EventRecorder } from '../client/events.ts';
import { Informer } from '../client/informer.ts';
import { NodeController } from './node.ts';
import { LedgerCollector } from './ledger.ts';
import { nodesWithPods } from './pods-on-node.ts';
import { HealthController, type Lease } from './health.ts';
import { PodHealthController } from './pod-health.ts';
import { SchedulerController, type SchedulerConfiguration } from './scheduler.ts';
import type { PolicyName } from '../scheduler/plugins/policies.ts';
import { ControllerRunner } from './runner.ts';

export interface ControllerOptions {
  client: KcsClient;
  runtime: NodeRuntime;
  /** The API address node agents are given. */
  server: string;
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
}

export interface RunningControllers {
  nodes: Informer<Node>;
  pods: Informer<Pod>;
  nodeRunner: ControllerRunner;
  scheduler: SchedulerController;
  schedulerRunner: ControllerRunner;
  healthRunner: ControllerRunner;
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
  const recorder = (component: string) => new EventRecorder(opts.client, component, { clock, log });
  const nodes = new Informer<Node>(opts.client, kindByName('Node')!, { clock, log });
  const pods = new Informer<Pod>(opts.client, kindByName('Pod')!, { clock, log });
  const configurations = new Informer<SchedulerConfiguration>(opts.client, kindByName('SchedulerConfiguration')!, { clock, log });
  const leases = new Informer<Lease>(opts.client, kindByName('Lease')!, { namespace: NODE_LEASE_NAMESPACE, clock, log });

  // The node controller: a running machine for every Node.
  const controller = new NodeController({
    client: opts.client, runtime: opts.runtime, nodes, server: opts.server, ca: opts.ca, tokenFor: opts.tokenFor, heartbeatMs: opts.heartbeatMs, clock, events: recorder('node-controller'),
    boundNodeNames: () => nodesWithPods(pods),
    nodeGraceMs: opts.nodeGraceMs,
  });
  const nodeRunner = new ControllerRunner(controller, { clock, workers: 16, resyncMs, resyncKeys: () => controller.keys(), log });
  nodes.on(controller.nodeHandlers((key) => nodeRunner.enqueue(key)));

  // The scheduler: one worker, so decisions are sequential; each assumes its
  // pod at once and leaves the binding to be written in the background,
  // batched with the others decided meanwhile (binder.ts).
  const scheduler: SchedulerController = new SchedulerController({
    client: opts.client, pods, nodes, configurations, defaultPolicy: opts.defaultPolicy, events: recorder('scheduler'), clock, log,
    requeue: (key, failures) => schedulerRunner.queue.addAfter(key, bindRetryDelayMs(failures)),
  });
  const schedulerRunner = new ControllerRunner(scheduler, { clock, workers: 1, resyncMs, resyncKeys: () => scheduler.pendingKeys(), log });
  const enqueueScheduling = (key: string) => schedulerRunner.enqueue(key);
  pods.on(scheduler.podHandlers(enqueueScheduling));
  nodes.on(scheduler.nodeHandlers(enqueueScheduling));
  configurations.on(scheduler.configurationHandlers(enqueueScheduling));

  // The reservation collector gives back the room of reservations whose pod
  // left (or never arrived); room given back is a retry for pending pods.
  const collector = new LedgerCollector({ client: opts.client, nodes, pods, clock, onFreed: () => scheduler.retryPending(enqueueScheduling) });
  const collectorRunner = new ControllerRunner(collector, { clock, workers: 2, resyncMs, resyncKeys: () => nodes.keys(), log });
  pods.on(collector.podHandlers((key) => collectorRunner.enqueue(key)));

  // The health controller: nodes whose Lease goes stale are declared failed
  // and their pods moved.
  const health = new HealthController({ client: opts.client, nodes, leases, pods, graceMs: opts.nodeGraceMs, clock, events: recorder('health-controller') });
  const healthRunner = new ControllerRunner(health, { clock, workers: 2, resyncMs, resyncKeys: () => nodes.keys(), log });
  nodes.on(health.nodeHandlers((key) => healthRunner.enqueue(key)));
  leases.on(health.leaseHandlers((key) => healthRunner.enqueue(key)));

  // Pod health: a pod that keeps failing its health check on its node is moved off it.
  const podHealth = new PodHealthController({ client: opts.client, pods, maxRestarts: opts.maxRestarts, events: recorder('pod-health-controller') });
  const podHealthRunner = new ControllerRunner(podHealth, { clock, workers: 2, resyncMs, resyncKeys: () => podHealth.keysToMove(), log });
  pods.on(podHealth.podHandlers((key) => podHealthRunner.enqueue(key)));

  await nodes.start();
  await pods.start();
  await configurations.start();
  await leases.start();
  healthRunner.start();
  nodeRunner.start();
  schedulerRunner.start();
  collectorRunner.start();
  podHealthRunner.start();
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
    async stop() {
      unwatch();
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
    },
  };
}
