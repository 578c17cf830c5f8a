// A control plane's metrics, in Prometheus' terms: every metric kcs
// exports is defined here, in one prom-client Registry per control plane
// (tests run several control planes in one process, so prom-client's global
// registry is never used). The parts that record them (the API's request
// middleware, the store, the controllers' queues, the scheduler, the health
// controller, the autoscaler) get this object from the composition root and
// call its small methods; each takes it as an optional option, so a part
// built without it (a unit test) records nothing and works the same.
//
// Names and labels are Kubernetes' own where Kubernetes has the metric
// (apiserver_*, scheduler_*, workqueue_*), else kcs_*. What describes the
// cluster now (objects, nodes, pods, heartbeats) is read at scrape time
// from a ClusterView, never kept up to date on every write.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The cluster as it is now, read when Prometheus scrapes (the API's object cache provides it). */
export interface ClusterView {
  /** The store's current revision. */
  revision(): Promise<number>;
  /** Objects stored now, by resource (plural). */
  objectCounts(): Promise<Iterable<[resource: string, count: number]>>;
  /** Nodes by their Ready condition as kubectl shows it: Ready, NotReady or Unknown. */
  nodeConditions(): Promise<Iterable<[condition: string, count: number]>>;
  podPhases(): Promise<Iterable<[phase: string, count: number]>>;
  /** Seconds since each node's Lease was last renewed. */
  heartbeatAges(): Promise<Iterable<[node: string, seconds: number]>>;
}

export type ScheduleResult = 'scheduled' | 'unschedulable' | 'error';

/** A controller's work queue, as its runner reports it. */
export interface WorkQueueMetrics {
  /** A key was queued (not a duplicate of one already waiting). */
  added(): void;
  /** One reconcile took this long. */
  worked(seconds: number): void;
  /** The queue is gone: its depth is no longer reported. */
  close(): void;
}

/** What the NodePool autoscaler records. */
export interface NodePoolMetrics {
  /** The autoscaler decided to grow (up) or shrink (down) a pool. */
  decided(nodepool: string, direction: 'up' | 'down'): void;
  /** A pool's size now: the nodes it has and the nodes the autoscaler wants. */
  sized(nodepool: string, nodes: { current: number; desired: number }): void;
  /** A pool deleted: its series go. */
  forget(nodepool: string): void;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js runtime metrics in the exposition (default true). */
  processMetrics?: boolean;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's gauges named like counters (Prometheus' lint refuses a
 * "_total" gauge): each is the sum of the same gauge by type, which stays.
 */
const MISNAMED_PROCESS_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The process's own metrics (CPU, memory, event loop, GC), as prom-client
 * names them: collected once per process however many control planes it
 * runs, since they describe the process (and their monitors cannot be stopped).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    for (const name of MISNAMED_PROCESS_GAUGES) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

// Kubernetes' own buckets for API latency, scheduling attempts and work queues.
const REQUEST_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
const SCHEDULING_BUCKETS = exponential(0.001, 2, 15);
const WORK_BUCKETS = exponential(1e-8, 10, 10);
/** A group commit of the store takes a fraction of a millisecond to tens of them. */
const STORE_WRITE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const FAILOVER_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

function exponential(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export class Metrics {
  /** This control plane's metrics. */
  readonly registry = new Registry();
  /** What GET /metrics shows: the control plane's metrics and the process's. */
  private readonly exposed: Registry;
  private cluster?: ClusterView;
  private readonly queueDepths = new Map<string, Set<() => number>>();

  // ---- the API server --------------------------------------------------------------
  private readonly requests = new Counter({
    name: 'apiserver_request_total', registers: [this.registry],
    help: 'Counter of apiserver requests broken out for each verb, resource, subresource and HTTP response code.',
    labelNames: ['verb', 'resource', 'subresource', 'code'] as const,
  });
  private readonly requestDuration = new Histogram({
    name: 'apiserver_request_duration_seconds', registers: [this.registry], buckets: REQUEST_BUCKETS,
    help: 'Response latency distribution in seconds for each verb, resource and subresource (watches excluded).',
    labelNames: ['verb', 'resource', 'subresource'] as const,
  });
  private readonly longRunning = new Gauge({
    name: 'apiserver_longrunning_requests', registers: [this.registry],
    help: 'Gauge of all active long-running apiserver requests (watches) broken out by verb and resource.',
    labelNames: ['verb', 'resource'] as const,
  });

  // ---- the store -------------------------------------------------------------------
  private readonly storeWriteDuration = new Histogram({
    name: 'kcs_store_write_duration_seconds', registers: [this.registry], buckets: STORE_WRITE_BUCKETS,
    help: 'Time from a write reaching the store to its commit, by operation (create, update, delete, txn).',
    labelNames: ['operation'] as const,
  });

  // ---- controllers and the scheduler -----------------------------------------------
  private readonly queueAdds = new Counter({
    name: 'workqueue_adds_total', registers: [this.registry],
    help: 'Total number of adds handled by workqueue', labelNames: ['name'] as const,
  });
  private readonly queueWork = new Histogram({
    name: 'workqueue_work_duration_seconds', registers: [this.registry], buckets: WORK_BUCKETS,
    help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'] as const,
  });
  private readonly scheduleAttempts = new Counter({
    name: 'scheduler_schedule_attempts_total', registers: [this.registry],
    help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
    labelNames: ['result', 'profile'] as const,
  });
  private readonly schedulingDuration = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds', registers: [this.registry], buckets: SCHEDULING_BUCKETS,
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', labelNames: ['result', 'profile'] as const,
  });
  private readonly preemptionAttempts = new Counter({
    name: 'scheduler_preemption_attempts_total', registers: [this.registry],
    help: 'Total preemption attempts in the cluster till now',
  });
  private readonly preemptionVictims = new Histogram({
    name: 'scheduler_preemption_victims', registers: [this.registry], buckets: exponential(1, 2, 7),
    help: 'Number of selected preemption victims',
  });
  private readonly failoverDuration = new Histogram({
    name: 'kcs_node_failover_duration_seconds', registers: [this.registry], buckets: FAILOVER_BUCKETS,
    help: 'Seconds from the health controller declaring a node failed to the last of the pods it moved off that node being bound to a node again.',
  });

  // ---- the NodePool autoscaler -----------------------------------------------------
  private readonly autoscalerDecisions = new Counter({
    name: 'kcs_autoscaler_decisions_total', registers: [this.registry],
    help: 'Scaling decisions of the NodePool autoscaler, by pool and direction (up, down).', labelNames: ['nodepool', 'direction'] as const,
  });
  private readonly nodePoolNodes = new Gauge({
    name: 'kcs_nodepool_nodes', registers: [this.registry],
    help: 'Nodes of each NodePool: current (existing now) and desired (the autoscaler\'s target).', labelNames: ['nodepool', 'state'] as const,
  });

  readonly autoscaler: NodePoolMetrics = {
    decided: (nodepool, direction) => this.autoscalerDecisions.inc({ nodepool, direction }),
    sized: (nodepool, { current, desired }) => {
      this.nodePoolNodes.set({ nodepool, state: 'current' }, current);
      this.nodePoolNodes.set({ nodepool, state: 'desired' }, desired);
    },
    forget: (nodepool) => {
      for (const state of ['current', 'desired']) this.nodePoolNodes.remove({ nodepool, state });
      for (const direction of ['up', 'down']) this.autoscalerDecisions.remove({ nodepool, direction });
    },
  };

  constructor(opts: MetricsOptions = {}) {
    const metrics = this;
    new Gauge({
      name: 'workqueue_depth', registers: [this.registry], help: 'Current depth of workqueue', labelNames: ['name'] as const,
      collect() {
        this.reset();
        for (const [name, depths] of metrics.queueDepths) {
          let depth = 0;
          for (const d of depths) depth += d();
          this.set({ name }, depth);
        }
      },
    });
    this.defineClusterGauges();
    this.exposed = opts.processMetrics ?? true ? Registry.merge([processMetrics(), this.registry]) : this.registry;
  }

  /** What the cluster gauges read at each scrape; until it is given, they report nothing. */
  observeCluster(view: ClusterView): void {
    this.cluster = view;
  }

  /** The exposition, in Prometheus' text format (what GET /metrics answers). */
  exposition(): Promise<string> {
    return this.exposed.metrics();
  }

  get contentType(): string {
    return this.exposed.contentType;
  }

  /**
   * One API request answered. A watch (verb WATCH) is counted but its time is
   * not observed: it lasts as long as the client keeps it, as in Kubernetes.
   */
  request(verb: string, resource: string, subresource: string, code: string, seconds: number): void {
    this.requests.inc({ verb, resource, subresource, code });
    if (verb !== 'WATCH') this.requestDuration.observe({ verb, resource, subresource }, seconds);
  }

  /** A watch of resource is open now; call what it returns when it ends. */
  watchOpened(resource: string): () => void {
    const labels = { verb: 'WATCH', resource };
    this.longRunning.inc(labels);
    return () => this.longRunning.dec(labels);
  }

  storeWrite(operation: 'create' | 'update' | 'delete' | 'txn', seconds: number): void {
    this.storeWriteDuration.observe({ operation }, seconds);
  }

  workqueue(name: string, depth: () => number): WorkQueueMetrics {
    let depths = this.queueDepths.get(name);
    if (!depths) this.queueDepths.set(name, (depths = new Set()));
    depths.add(depth);
    const labels = { name };
    return {
      added: () => this.queueAdds.inc(labels),
      worked: (seconds) => this.queueWork.observe(labels, seconds),
      close: () => {
        depths.delete(depth);
        if (depths.size === 0 && this.queueDepths.get(name) === depths) this.queueDepths.delete(name);
      },
    };
  }

  scheduleAttempt(result: ScheduleResult, profile: string, seconds: number): void {
    this.scheduleAttempts.inc({ result, profile });
    this.schedulingDuration.observe({ result, profile }, seconds);
  }

  /** A pod that fit nowhere tried preemption; victims: how many it evicted, when it did. */
  preemptionAttempt(victims?: number): void {
    this.preemptionAttempts.inc();
    if (victims !== undefined) this.preemptionVictims.observe(victims);
  }

  failoverCompleted(seconds: number): void {
    this.failoverDuration.observe(seconds);
  }

  private defineClusterGauges(): void {
    const metrics = this;
    /** A gauge whose values are read from the cluster view at scrape time, replacing the last scrape's. */
    const clusterGauge = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (view: ClusterView, gauge: Gauge<L>) => Promise<void>) =>
      new Gauge<L>({
        name, help, labelNames, registers: [this.registry],
        async collect() {
          this.reset();
          if (metrics.cluster) await read(metrics.cluster, this);
        },
      });
    clusterGauge('kcs_store_revision', 'The store\'s current revision: one more for every write.', [], async (view, g) => g.set(await view.revision()));
    clusterGauge('kcs_store_objects', 'Objects stored, by resource.', ['resource'], async (view, g) => {
      for (const [resource, count] of await view.objectCounts()) g.set({ resource }, count);
    });
    clusterGauge('kcs_nodes', 'Nodes by their Ready condition, as kubectl shows it: Ready, NotReady or Unknown.', ['condition'], async (view, g) => {
      for (const [condition, count] of await view.nodeConditions()) g.set({ condition }, count);
    });
    clusterGauge('kcs_pods', 'Pods by phase.', ['phase'], async (view, g) => {
      for (const [phase, count] of await view.podPhases()) g.set({ phase }, count);
    });
    clusterGauge('kcs_node_heartbeat_age_seconds', 'Seconds since each node last renewed its Lease in kube-node-lease.', ['node'], async (view, g) => {
      for (const [node, seconds] of await view.heartbeatAges()) g.set({ node }, seconds);
    });
  }
}
