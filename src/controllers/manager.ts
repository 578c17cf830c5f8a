// Starts the controllers of a control plane against a client (in-process
// inside `kcs up`, over HTTP from `kcs controllers`), and stops them.
import type { KcsClient } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Node } from '../objects/types.ts';
import type { NodeRuntime } from '../runtime/runtime.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { EventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { NodeController } from './node.ts';
import { ControllerRunner } from './runner.ts';

export interface ControllerOptions {
  client: KcsClient;
  runtime: NodeRuntime;
  /** The API address node agents are given. */
  server: string;
  tokenFor: (nodeName: string) => string | Promise<string>;
  heartbeatMs?: number;
  resyncMs?: number;
  clock?: Clock;
  log?: (message: string) => void;
}

export interface RunningControllers {
  nodes: Informer<Node>;
  nodeRunner: ControllerRunner;
  stop(): Promise<void>;
}

export async function startControllers(opts: ControllerOptions): Promise<RunningControllers> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const nodes = new Informer<Node>(opts.client, kindByName('Node')!, { clock, log });
  const events = new EventRecorder(opts.client, 'node-controller', { clock, log });
  const controller = new NodeController({
    client: opts.client, runtime: opts.runtime, nodes, server: opts.server, tokenFor: opts.tokenFor, heartbeatMs: opts.heartbeatMs, clock, events,
  });
  const nodeRunner = new ControllerRunner(controller, {
    clock, workers: 16, resyncMs: opts.resyncMs ?? 30_000, resyncKeys: () => controller.keys(), log,
  });
  const enqueue = (n: Node) => nodeRunner.enqueue(n.metadata.name!);
  nodes.on({ add: enqueue, update: (_prev, n) => enqueue(n), delete: enqueue });
  await nodes.start();
  nodeRunner.start();
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
    nodeRunner,
    async stop() {
      unwatch();
      nodes.stop();
      await nodeRunner.stop();
    },
  };
}
