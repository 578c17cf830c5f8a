// The node controller: every Node has a running machine made for it (by
// uid), and no machine runs without a Node. Runtime failures become the
// Node's RuntimeReady condition and are retried with backoff by the runner.
import { isDeepStrictEqual } from 'node:util';
import type { KcsClient } from '../client/interface.ts';
import { isNotFound } from '../client/interface.ts';
import { kindByName } from '../objects/kinds.ts';
import { formatBytes, formatMilliCpu } from '../objects/quantity.ts';
import { nodeCapacity } from '../objects/requests.ts';
import type { Node, Pod } from '../objects/types.ts';
import { machineNamed, RuntimeError, type Machine, type NodeRuntime } from '../runtime/runtime.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { setCondition, isNodeReady } from '../objects/conditions.ts';
import { updateStatus } from '../client/update-status.ts';
import type { EventRecorder } from '../client/events.ts';
import type { Informer, InformerHandlers } from '../client/informer.ts';
import type { Reconciler, ReconcileResult } from './runner.ts';
import { DEFAULT_GRACE_MS } from './health.ts';
import { unbindPods } from '../client/unbind.ts';
import { FAIL_NODE } from '../objects/node-failure.ts';

const NODE = kindByName('Node')!;

/** docker://0123456789abcdef... -> docker://0123456789ab */
function shortId(id: string): string {
  return id.replace(/^(docker:\/\/[0-9a-f]{12})[0-9a-f]+$/, '$1');
}

/** A stand-in for a Node that no longer exists, to hang an Event on. */
function gone(name: string, uid: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, uid }, spec: { capacity: { cpu: '0' } } };
}
const POD = kindByName('Pod')!;

export interface NodeControllerOptions {
  client: KcsClient;
  runtime: NodeRuntime;
  nodes: Informer<Node>;
  /** The API address agents are given. */
  server: string;
  /**
   * Every API server of the cluster agents are given, when several share
   * one store (this one's first); default: server alone. A machine whose
   * agent knows any of them is kept.
   */
  apiServers?: () => string[];
  /** The CA (PEM) agents check the API's certificate with, when it serves TLS. */
  ca?: string;
  tokenFor: (nodeName: string) => string | Promise<string>;
  heartbeatMs?: number;
  clock?: Clock;
  events?: EventRecorder;
  /** The node names pods are bound to, from a pod informer. */
  boundNodeNames?: () => string[];
  /** How long the health controller lets a node miss heartbeats (see below). */
  nodeGraceMs?: number;
}

/** `kcs.io/remediation: "off"` on a Node: its machine is not restarted when it stops. */
export const REMEDIATION_ANNOTATION = 'kcs.io/remediation';

/** Restarts of a machine that keeps dying wait 1 s, 2 s, 4 s ... up to this. */
const MAX_RESTART_DELAY_MS = 60_000;
/** A machine that has run this long since its last restart is healthy again. */
const HEALTHY_AFTER_MS = 120_000;

/**
 * Pure: a Node change the node controller acts on. Status changes (the
 * agent's own writes) need none: only identity, spec, annotations and
 * readiness (a dead machine is restarted once its node is declared failed).
 */
export function machineConcerned(prev: Node, next: Node): boolean {
  return prev.metadata.uid !== next.metadata.uid
    || !isDeepStrictEqual(prev.spec, next.spec)
    || !isDeepStrictEqual(prev.metadata.annotations, next.metadata.annotations)
    || isNodeReady(prev) !== isNodeReady(next);
}

/**
 * Pure: does an agent given these API addresses (comma-separated) still
 * reach one of the cluster's? Agents move between the servers they were
 * given, so a machine is kept while any of them serves, whichever server
 * started it and whichever joined since.
 */
export function reachesAnApiServer(agentServers: string, apiServers: readonly string[]): boolean {
  return agentServers.split(',').some((s) => apiServers.includes(s.trim()));
}

export class NodeController implements Reconciler {
  readonly name = 'node';
  private readonly opts: NodeControllerOptions;
  private readonly clock: Clock;
  /**
   * Restart bookkeeping for crash-looping machines, as the kubelet keeps
   * for containers. Only pacing lives here: losing it on a restart of kcs
   * just means the next restart is not delayed.
   */
  private readonly restarts = new Map<string, { count: number; at: number }>();
  /** When each stopped machine was first seen stopped. */
  private readonly stoppedSince = new Map<string, number>();

  constructor(opts: NodeControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** What the node informer tells this controller: every Node added or deleted, and the changes its machine depends on. */
  nodeHandlers(enqueue: (key: string) => void): InformerHandlers<Node> {
    return {
      add: (n) => enqueue(n.metadata.name!),
      update: (prev, n) => { if (machineConcerned(prev, n)) enqueue(n.metadata.name!); },
      delete: (n) => enqueue(n.metadata.name!),
    };
  }

  /**
   * Every name the controller is responsible for: Nodes, machines that may
   * have lost theirs, and nodes pods are still bound to (a Node deleted while
   * the controllers were down still has its pods sent back to Pending).
   */
  async keys(): Promise<string[]> {
    const machines = await this.opts.runtime.list();
    const boundTo = this.opts.boundNodeNames?.() ?? [];
    return [...new Set([...this.opts.nodes.keys(), ...machines.map((m) => m.name), ...boundTo])];
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const { runtime, nodes } = this.opts;
    const node = nodes.get(name);
    let machine: Machine | undefined;
    try {
      machine = await machineNamed(runtime, name);
    } catch (err) {
      if (node) {
        const reason = err instanceof RuntimeError ? err.reason : 'RuntimeFailed';
        await this.report(name, { status: 'False', reason, message: (err as Error).message });
        await this.opts.events?.record(node, 'Warning', reason, (err as Error).message);
      }
      throw err;
    }

    const events = this.opts.events;
    if (!node) {
      this.restarts.delete(name);
      this.stoppedSince.delete(name);
      if (machine) {
        await runtime.remove(name);
        await events?.record(gone(name, machine.uid), 'Normal', 'MachineRemoved', `removed ${runtime.kind} machine ${shortId(machine.id)}: its Node was deleted`);
      }
      await this.unbindPods(name);
      return;
    }
    let current: Machine | undefined = machine;
    const servers = this.opts.apiServers?.() ?? this.opts.server.split(',');
    if (machine && machine.uid !== node.metadata.uid) {
      // Made for an earlier Node of the same name: never adopt it.
      await runtime.remove(name);
      await events?.record(node, 'Normal', 'MachineReplaced', `removed ${shortId(machine.id)}, made for an earlier Node named ${name}`);
      current = undefined;
    } else if (machine?.server !== undefined && !reachesAnApiServer(machine.server, servers)) {
      // Its agent was told only API addresses no server has now (kcs up restarted on another port): it could never report.
      await runtime.remove(name);
      await events?.record(node, 'Normal', 'MachineReplaced', `removed ${shortId(machine.id)}: its agent was given ${machine.server}, the API is now at ${servers.join(', ')}`);
      current = undefined;
    }
    const failure = node.metadata.annotations?.[FAIL_NODE];
    if (failure !== undefined && failure !== node.status?.failureCarriedOut) return this.failOnRequest(node, failure, current);
    const now = this.clock.now().getTime();
    if (current?.running) {
      const r = this.restarts.get(name);
      if (r && now - r.at > HEALTHY_AFTER_MS) this.restarts.delete(name);
    }
    if (current && !current.running && node.metadata.annotations?.[REMEDIATION_ANNOTATION] === 'off') {
      // Left stopped on purpose, to look at it: reported, not restarted.
      await this.report(name, { status: 'False', reason: 'RemediationOff', message: `machine ${shortId(current.id)} ${current.stopReason ?? 'stopped'}; not restarted (${REMEDIATION_ANNOTATION}=off)` });
      return;
    }
    if (current?.running) this.stoppedSince.delete(name);
    if (current && !current.running) {
      // A machine that dies is a failed node: remediation comes after the
      // health controller has declared it so (Ready no longer True) and its
      // pods have moved, so it comes back empty. A node that never gets
      // there (no health controller) is restarted after twice the grace.
      const grace = this.opts.nodeGraceMs ?? DEFAULT_GRACE_MS;
      const since = this.stoppedSince.get(name) ?? now;
      this.stoppedSince.set(name, since);
      if (isNodeReady(node) && now - since < 2 * grace) {
        await this.report(name, { status: 'False', reason: 'MachineStopped', message: `machine ${shortId(current.id)} ${current.stopReason ?? 'stopped'}; restarted once the node is declared failed` });
        return { requeueAfterMs: since + 2 * grace - now };
      }
      // The delay runs from the death, as the kubelet's runs from a
      // container's finish: a machine slow to start, or slow to die, still
      // waits it out (counted from the restart, a delay shorter than the
      // start took was never waited at all).
      const r = this.restarts.get(name);
      const wait = r ? Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** (r.count - 1)) - (now - since) : 0;
      if (wait > 0) {
        await this.report(name, { status: 'False', reason: 'CrashLoopBackOff', message: `machine ${shortId(current.id)} ${current.stopReason ?? 'stopped'}; restarting it in ${Math.ceil(wait / 1000)} s (restart ${r!.count + 1})` });
        return { requeueAfterMs: wait };
      }
    }
    const cap = nodeCapacity(node);
    const spec = {
      name, uid: node.metadata.uid!, milliCpu: cap.milliCpu, memory: cap.memory,
      server: servers.join(','), ca: this.opts.ca, token: await this.opts.tokenFor(name), heartbeatMs: this.opts.heartbeatMs ?? 1000,
    };
    if (current?.running && current.specHash !== undefined && current.specHash !== await runtime.wantedHash(spec)) {
      // Resized, a new agent image, another heartbeat: a machine is remade, not edited.
      await runtime.remove(name);
      await events?.record(node, 'Normal', 'MachineReplaced', `removed ${shortId(current.id)}: the Node's capacity or the node image changed`);
      current = undefined;
    }
    if (!current || !current.running) {
      const restart = current !== undefined;
      if (restart) {
        const r = this.restarts.get(name);
        this.restarts.set(name, { count: (r?.count ?? 0) + 1, at: now });
      }
      // A start that fails is a death of its own: the next delay runs from then.
      this.stoppedSince.delete(name);
      try {
        current = await runtime.ensure(spec);
      } catch (err) {
        const reason = err instanceof RuntimeError ? err.reason : 'RuntimeFailed';
        await this.report(name, { status: 'False', reason, message: (err as Error).message });
        await events?.record(node, 'Warning', reason, (err as Error).message);
        throw err;
      }
      const why = restart && machine?.stopReason ? ` after it stopped (${machine.stopReason})` : '';
      await events?.record(node, restart ? 'Warning' : 'Normal', restart ? 'MachineRestarted' : 'MachineStarted',
        `${restart ? 'restarted' : 'started'} ${runtime.kind} machine ${shortId(current.id)} with ${formatMilliCpu(cap.milliCpu)} CPUs${cap.memory ? ` and ${formatBytes(cap.memory)} of memory` : ''}${why}`);
    }
    await this.report(name, { status: 'True', reason: 'MachineRunning', message: `${runtime.kind} machine ${current.id} is running` }, current.id);
  }

  /**
   * Carries out a failure asked for through the API: the machine dies as if
   * it crashed (the runtime's watch then brings the node back here, where it
   * is treated like any dead machine), and the request is marked carried out
   * in the Node's status, so that it is carried out once.
   */
  private async failOnRequest(node: Node, asked: string, machine: Machine | undefined): Promise<ReconcileResult> {
    const name = node.metadata.name!;
    if (machine?.running) {
      await this.opts.runtime.kill(name);
      await this.opts.events?.record(node, 'Warning', 'NodeFailureRequested',
        `killed ${this.opts.runtime.kind} machine ${shortId(machine.id)} as asked${asked ? ` at ${asked}` : ''} (annotation ${FAIL_NODE}): its heartbeats stop`);
    }
    try {
      await updateStatus<Node>(this.opts.client, NODE, undefined, name, (n) => ({ ...n.status, failureCarriedOut: asked }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // Then as any stopped machine: reported, and restarted once the node is declared failed.
    return { requeueAfterMs: 0 };
  }

  /** Writes RuntimeReady and the machine id, only if they differ from what the Node shows. */
  private async report(name: string, condition: { status: 'True' | 'False'; reason: string; message: string }, containerID?: string): Promise<void> {
    try {
      await updateStatus<Node>(this.opts.client, NODE, undefined, name, (node) => {
        const status = node.status ?? {};
        const conditions = setCondition(status.conditions, { type: 'RuntimeReady', ...condition }, this.clock.now());
        const next = { ...status, conditions, ...(containerID ? { containerID } : {}) };
        return isDeepStrictEqual(next, status) ? undefined : next;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err; // deleted meanwhile: the next reconcile removes its machine
    }
  }

  /** Pods bound to a Node that is gone go back to Pending, for the scheduler to place again. */
  private async unbindPods(name: string): Promise<void> {
    const { client } = this.opts;
    const bound = await client.list<Pod>(POD, undefined, { fieldSelector: `spec.nodeName=${name}` });
    await unbindPods(client, bound.items, `node ${name} was deleted`);
  }
}
