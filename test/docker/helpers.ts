// Fixtures for the tests that run nodes as real Docker containers.
//
// dockerOrSkip(test) decides once, when the file loads, whether a Docker
// daemon answers: if none does, every test it declares shows in ava as
// skipped, unless KCS_REQUIRE_DOCKER=1 (CI), where each one fails saying why.
//
// dockerCluster(t) starts a control plane with a DockerRuntime on a temp state
// dir of its own, so on its own cluster id: tests running at once never see
// each other's containers. Its teardown closes the control plane and removes
// every container labelled with that cluster, whatever the test did.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext, Implementation, TestFn } from 'ava';
import Docker from 'dockerode';
import { loadOrCreateClusterId, startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { isNotFound } from '../../src/client/interface.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { kindByName, NODE_LEASE_NAMESPACE } from '../../src/objects/kinds.ts';
import type { KubeObject, Node } from '../../src/objects/types.ts';
import { DockerRuntime } from '../../src/runtime/docker.ts';
import { ensureImage } from '../../src/runtime/image.ts';
import { eventually } from '../support/eventually.ts';

export const NODE = kindByName('Node')!;
export const LEASE = kindByName('Lease')!;
export const CLUSTER_LABEL = 'io.kcs.cluster';
export const NODE_NAME_LABEL = 'io.kcs.node.name';
export const NODE_UID_LABEL = 'io.kcs.node.uid';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The node image is built from the compiled agent: tests need `npm run build` first (npm test does it). */
const AGENT_BUILT = join(REPO, 'dist/agent/main.js');

export const docker = new Docker();
export const dockerAvailable = await DockerRuntime.available(docker, 2000);
const dockerRequired = process.env.KCS_REQUIRE_DOCKER === '1';

export interface DockerTest {
  (title: string, impl: Implementation<[]>): void;
  /** A test of a known bug: passes while it fails (ava's test.failing). */
  failing(title: string, impl: Implementation<[]>): void;
}

/**
 * `test`, for tests that need a Docker daemon: run when one answers; shown
 * as skipped when none does; failed with the reason when KCS_REQUIRE_DOCKER=1.
 */
export function dockerOrSkip(test: TestFn): DockerTest {
  const declare = (run: (title: string, impl: Implementation<[]>) => void) => (title: string, impl: Implementation<[]>) => {
    if (dockerAvailable) run(title, impl);
    else if (dockerRequired) {
      test(title, (t) => t.fail(`KCS_REQUIRE_DOCKER=1 but no Docker daemon answers at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (start dockerd, or unset KCS_REQUIRE_DOCKER to skip the Docker tests)`));
    } else test.skip(title, impl);
  };
  return Object.assign(declare((title, impl) => test(title, impl)), { failing: declare((title, impl) => test.failing(title, impl)) });
}

export const nodeManifest = (name: string, capacity: Record<string, string> = { cpu: '1', memory: '256Mi' }) =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { capacity } });

export const condition = (n: Node | undefined, type: string) => n?.status?.conditions?.find((c) => c.type === type);

/** The containers of one cluster on the daemon, stopped ones included. */
export async function clusterContainers(clusterId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${CLUSTER_LABEL}=${clusterId}`] } });
}

/** The container inspected, or undefined once it is gone. */
export async function inspectContainer(id: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(id).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * Freezes a container (docker pause), trying again while the kernel will not.
 * On cgroup v1 the freezer can stay FREEZING on a busy machine; runc then
 * thaws the container and answers "unable to freeze". The kernel's freezer
 * documentation says to retry, and the fault the test needs has simply not
 * happened yet, so it is retried rather than failed.
 */
export async function pauseContainer(container: Docker.Container, attempts = 20): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await container.pause();
      return;
    } catch (err) {
      if (attempt >= attempts || !/unable to freeze/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function removeClusterContainers(clusterId: string): Promise<void> {
  const containers = await clusterContainers(clusterId);
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  })));
}

// If the worker dies before a teardown runs (a timeout, a crash), the
// containers of the clusters still live are removed on the way out. Only
// synchronous work runs in 'exit', hence the docker CLI.
const liveClusters = new Set<string>();
process.on('exit', () => {
  for (const id of liveClusters) {
    try {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${CLUSTER_LABEL}=${id}`], { encoding: 'utf8', timeout: 5000 }).split('\n').filter(Boolean);
      if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 10_000 });
    } catch { /* best effort */ }
  }
});

/** Containers of this cluster are removed when the worker exits, whatever happens to the test. */
export function trackCluster(clusterId: string): () => void {
  liveClusters.add(clusterId);
  return () => liveClusters.delete(clusterId);
}

let image: Promise<string> | undefined;
/** Builds the node image once per test file, so tests starting together do not all import it. */
function nodeImage(): Promise<string> {
  image ??= ensureImage(docker);
  return image;
}

export interface DockerCluster {
  /** The control plane now running (replaced by restart). */
  readonly cp: ControlPlane;
  /** An admin client on the current control plane. */
  readonly client: LocalClient;
  /** The runtime of the current control plane (a restart makes a new one, as a new process would). */
  readonly runtime: DockerRuntime;
  readonly stateDir: string;
  readonly clusterId: string;
  /**
   * Stops the control plane (containers keep running) and starts another on
   * the same state dir and port; whileDown runs in between, and downtimeMs
   * is how long it stays down: real time, as the agents in the containers
   * live on the real clock.
   */
  restart(opts?: { runtime?: boolean; downtimeMs?: number; whileDown?: () => Promise<void> }): Promise<void>;
  /** A Node once its agent reports it Ready and the controller reports its container running. */
  readyNode(name: string, timeoutMs?: number): Promise<Node>;
  /** The renewTime of the node's heartbeat Lease, as a Date (undefined while there is none). */
  leaseRenewTime(name: string): Promise<Date | undefined>;
}

export interface ClusterOptions {
  /** The runtime the control plane uses; defaults to a DockerRuntime on the local daemon for this cluster (its image built first). */
  runtime?: (clusterId: string) => DockerRuntime;
  heartbeatMs?: number;
}

export async function dockerCluster(t: ExecutionContext, opts: ClusterOptions = {}): Promise<DockerCluster> {
  if (!existsSync(AGENT_BUILT)) throw new Error(`${AGENT_BUILT} is missing: the node image is built from dist/, run 'npm run build' first`);
  const stateDir = mkdtempSync(join(tmpdir(), 'kcs-docker-test-'));
  const clusterId = loadOrCreateClusterId(stateDir);
  const makeRuntime = opts.runtime ?? ((id: string) => new DockerRuntime({ clusterId: id }));
  let runtime = makeRuntime(clusterId);
  let cp: ControlPlane | undefined;
  liveClusters.add(clusterId);
  // Registered before anything starts, so a failed start is cleaned up too.
  t.teardown(async () => {
    try {
      await cp?.close();
      await runtime.close();
    } finally {
      if (dockerAvailable) await removeClusterContainers(clusterId);
      liveClusters.delete(clusterId);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
  // A runtime the test brings (e.g. one on a dead socket) builds no image.
  if (!opts.runtime) await nodeImage();
  const start = (port: number, withRuntime: boolean) => startControlPlane({
    stateDir, host: '127.0.0.1', port, runtime: withRuntime ? runtime : undefined, heartbeatMs: opts.heartbeatMs ?? 500,
    log: (m) => { try { t.log(m); } catch { /* logged after the test ended */ } },
  });
  cp = await start(0, true);
  let client = new LocalClient(cp.registry, { user: ADMIN_USER });

  return {
    get cp() { return cp!; },
    get client() { return client; },
    get runtime() { return runtime; },
    stateDir,
    clusterId,
    async restart({ runtime: withRuntime = true, downtimeMs = 0, whileDown } = {}) {
      // The same port: the agents in the running containers were given this address.
      const port = Number(new URL(cp!.url).port);
      await cp!.close();
      await runtime.close();
      cp = undefined;
      await whileDown?.();
      // Down for a while, as a crashed or upgraded control plane would be.
      if (downtimeMs) await new Promise((r) => setTimeout(r, downtimeMs));
      runtime = makeRuntime(clusterId);
      cp = await start(port, withRuntime);
      client = new LocalClient(cp.registry, { user: ADMIN_USER });
    },
    readyNode(name, timeoutMs) {
      return eventually(`node ${name} Ready with its container running`, async () => {
        const n = await client.get<Node>(NODE, undefined, name).catch(() => undefined);
        return condition(n, 'Ready')?.status === 'True' && condition(n, 'RuntimeReady')?.status === 'True' && n?.status?.containerID ? n : undefined;
      }, timeoutMs);
    },
    async leaseRenewTime(name) {
      const lease = await client.get<KubeObject & { spec: { renewTime?: string } }>(LEASE, NODE_LEASE_NAMESPACE, name).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      return lease?.spec.renewTime ? new Date(lease.spec.renewTime) : undefined;
    },
  };
}
