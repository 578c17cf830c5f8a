// Nodes as Docker containers (dockerode): one container per Node, named
// kcs-<cluster>-<node>, labelled with the node's name and uid and with the
// cluster it belongs to, so several control planes can share one daemon.
// Host networking lets the agent reach the API on 127.0.0.1; Init makes it
// stop promptly. CPU is limited with a CFS quota, which, unlike NanoCpus,
// accepts more CPUs than the host has: a 16-core node on a 2-core machine
// gets a quota of 16 CPUs, an honest "never more than 16" limit.
import Docker from 'dockerode';
import { NdjsonParser } from '../util/ndjson.ts';
import { AGENT_ENTRY, ensureImage, NODE_BIN } from './image.ts';
import { CPU_PERIOD_US, prepareLoadCgroup } from './load-cgroup.ts';
import { RuntimeError, specHash, type Machine, type MachineSpec, type NodeRuntime } from './runtime.ts';

const LABEL_CLUSTER = 'io.kcs.cluster';
const LABEL_NODE = 'io.kcs.node.name';
const LABEL_UID = 'io.kcs.node.uid';
const LABEL_SERVER = 'io.kcs.server';
const LABEL_SPEC = 'io.kcs.spec';
export { CPU_PERIOD_US };

export interface DockerRuntimeOptions {
  /** Identifies this control plane's containers on a shared daemon. */
  clusterId: string;
  docker?: Docker;
  log?: (message: string) => void;
  /**
   * Agents really burn the CPU their pods use (--real-load), all nodes
   * together at most capMilliCpu (load-cgroup.ts).
   */
  realLoad?: { capMilliCpu: number };
}

export class DockerRuntime implements NodeRuntime {
  readonly kind = 'docker' as const;
  readonly docker: Docker;
  private readonly clusterId: string;
  private readonly log: (message: string) => void;
  private image?: Promise<string>;
  private readonly realLoad?: { capMilliCpu: number };
  private loadCgroup?: string;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? new Docker();
    this.clusterId = opts.clusterId;
    this.log = opts.log ?? (() => {});
    this.realLoad = opts.realLoad;
  }

  /** Whether a Docker daemon answers, within timeoutMs. */
  static async available(docker = new Docker(), timeoutMs = 1000): Promise<boolean> {
    try {
      await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref())]);
      return true;
    } catch {
      return false;
    }
  }

  containerName(node: string): string {
    return `kcs-${this.clusterId}-${node}`;
  }

  async list(): Promise<Machine[]> {
    const containers = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: { label: [`${LABEL_CLUSTER}=${this.clusterId}`] } }));
    return Promise.all(containers.map(async (c) => ({
      name: c.Labels[LABEL_NODE],
      uid: c.Labels[LABEL_UID],
      id: `docker://${c.Id}`,
      // A paused container is frozen, not gone: missed heartbeats tell the
      // health controller; restarting it here would hide the failure.
      running: c.State === 'running' || c.State === 'paused',
      server: c.Labels[LABEL_SERVER],
      specHash: c.Labels[LABEL_SPEC],
      // Only stopped containers are inspected: it is the rare case, and the reason matters then.
      stopReason: c.State === 'running' || c.State === 'paused' ? undefined : await this.stopReason(c.Id),
    })));
  }

  private async stopReason(id: string): Promise<string | undefined> {
    try {
      const { State } = await this.docker.getContainer(id).inspect();
      if (State.OOMKilled) return `OOMKilled: the node ran out of its memory limit (exit code ${State.ExitCode})`;
      // Docker can report the death before it records the OOM kill behind it.
      if (State.ExitCode === 137) return 'was killed (exit code 137, SIGKILL)';
      return `exited with code ${State.ExitCode}${State.Error ? `: ${State.Error}` : ''}`;
    } catch {
      return undefined;
    }
  }

  /** The hash a machine for this spec carries: it includes the node image, so a new agent replaces old containers. */
  async wantedHash(spec: MachineSpec): Promise<string> {
    return specHash(spec, this.imageKey(await this.nodeImage()));
  }

  /** What the hash knows of the image: with real load, a machine is made differently, so switching it replaces machines. */
  private imageKey(image: string): string {
    return this.realLoad ? `${image} real-load ${this.realLoad.capMilliCpu}` : image;
  }

  async ensure(spec: MachineSpec): Promise<Machine> {
    const existing = (await this.list()).find((m) => m.name === spec.name);
    const image = await this.nodeImage();
    const hash = specHash(spec, this.imageKey(image));
    if (existing && existing.uid === spec.uid && existing.specHash === hash) {
      if (!existing.running) await this.call('start container', () => this.docker.getContainer(idOf(existing)).start());
      return { ...existing, running: true };
    }
    if (existing) await this.remove(spec.name);
    try {
      return await this.create(spec, image, hash);
    } catch (err) {
      // The image went away (removed by hand, or by another kcs): build it again, once.
      if (!/no such image/i.test((err as Error).message)) throw err;
      this.image = undefined;
      const rebuilt = await this.nodeImage();
      return this.create(spec, rebuilt, specHash(spec, this.imageKey(rebuilt)));
    }
  }

  private async create(spec: MachineSpec, image: string, hash: string): Promise<Machine> {
    if (this.realLoad) this.loadCgroup ??= prepareLoadCgroup(`kcs-load-${this.clusterId}`, this.realLoad.capMilliCpu);
    const container = await this.call('create container', () => this.docker.createContainer({
      name: this.containerName(spec.name),
      Image: image,
      Cmd: [NODE_BIN, AGENT_ENTRY],
      Env: [`KCS_SERVER=${spec.server}`, `KCS_TOKEN=${spec.token}`, `KCS_NODE_NAME=${spec.name}`, `KCS_HEARTBEAT_MS=${spec.heartbeatMs}`, ...(spec.ca ? [`KCS_CA_DATA=${Buffer.from(spec.ca).toString('base64')}`] : []), ...(this.realLoad ? ['KCS_REAL_LOAD=1'] : [])],
      Labels: { [LABEL_CLUSTER]: this.clusterId, [LABEL_NODE]: spec.name, [LABEL_UID]: spec.uid, [LABEL_SERVER]: spec.server, [LABEL_SPEC]: hash },
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        CpuPeriod: CPU_PERIOD_US,
        // Under the real-load cap, no more than the cap: cgroup v1 refuses a child quota above its parent's, and the cap binds first anyway.
        CpuQuota: Math.max(1000, Math.round((Math.min(spec.milliCpu, this.realLoad?.capMilliCpu ?? Infinity) * CPU_PERIOD_US) / 1000)),
        ...(spec.memory > 0 ? { Memory: spec.memory } : {}),
        ...(this.loadCgroup ? { CgroupParent: this.loadCgroup } : {}),
      },
    }));
    await this.call('start container', () => container.start());
    return { name: spec.name, uid: spec.uid, id: `docker://${container.id}`, running: true, server: spec.server, specHash: hash };
  }

  async remove(name: string): Promise<void> {
    const machine = (await this.list()).find((m) => m.name === name);
    if (!machine) return;
    await this.call('remove container', async () => {
      try {
        await this.docker.getContainer(idOf(machine)).remove({ force: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    });
  }

  /** Stops a machine's container and keeps it (`kcs down`): the next kcs up starts it again. */
  async stop(name: string): Promise<void> {
    const machine = (await this.list()).find((m) => m.name === name);
    if (!machine?.running) return;
    await this.call('stop container', async () => {
      try {
        await this.docker.getContainer(idOf(machine)).stop();
      } catch (err) {
        // 304: already stopped; 404: gone meanwhile.
        const code = (err as { statusCode?: number }).statusCode;
        if (code !== 304 && code !== 404) throw err;
      }
    });
  }

  /** `docker kill`: SIGKILL, and the container stays, exited (137). */
  async kill(name: string): Promise<void> {
    const machine = (await this.list()).find((m) => m.name === name);
    if (!machine?.running) return;
    await this.call('kill container', async () => {
      try {
        await this.docker.getContainer(idOf(machine)).kill();
      } catch (err) {
        // 409: not running any more; 404: gone meanwhile.
        const code = (err as { statusCode?: number }).statusCode;
        if (code !== 409 && code !== 404) throw err;
      }
    });
  }

  /** Follows the daemon's container events for this cluster (die, stop, destroy, ...). */
  watch(onChange: (name: string) => void): () => void {
    let stopped = false;
    let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
    const follow = async (delay: number): Promise<void> => {
      if (stopped) return;
      try {
        stream = await this.docker.getEvents({
          // Only what changes whether a machine runs: not exec, top, attach...
          filters: { type: ['container'], event: ['die', 'oom', 'stop', 'destroy', 'kill', 'start'], label: [`${LABEL_CLUSTER}=${this.clusterId}`] },
        }) as typeof stream;
        if (stopped) {
          stream?.destroy?.();
          return;
        }
        const lines = new NdjsonParser<{ id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }>({ onBadLine: () => { /* not an event line */ } });
        stream!.on('data', (chunk: Buffer) => {
          lines.push(chunk, (event) => {
            const name = event.Actor?.Attributes?.[LABEL_NODE];
            const id = event.Actor?.ID ?? event.id;
            if (!name) return;
            // The daemon announces a death before it lists the container as
            // exited; an inspect waits for it to settle, so the reconcile this
            // triggers sees the container as it now is.
            const settled = id ? this.docker.getContainer(id).inspect().catch(() => undefined) : Promise.resolve();
            void settled.then(() => onChange(name));
          });
        });
        // An aborted response (the daemon restarted) ends with 'close', not 'end': follow again either way.
        let again = false;
        const reconnect = () => {
          if (again || stopped) return;
          again = true;
          setTimeout(() => follow(1000), 1000).unref();
        };
        stream!.on('end', reconnect);
        stream!.on('close', reconnect);
        stream!.on('error', () => { /* 'close' follows */ });
      } catch {
        // The daemon is away: look again later; resync covers the gap.
        setTimeout(() => follow(Math.min(delay * 2, 30_000)), delay).unref();
      }
    };
    void follow(1000);
    return () => {
      stopped = true;
      stream?.destroy?.();
    };
  }

  /** Containers keep running when kcs stops: a restarted kcs adopts them. */
  async close(): Promise<void> { /* nothing held open */ }

  /** Builds the image once per process, when first needed. */
  nodeImage(): Promise<string> {
    this.image ??= this.call('build node image', () => ensureImage(this.docker, this.log)).catch((err) => {
      this.image = undefined; // try again next time
      throw err;
    });
    return this.image;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
      const reason = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'DockerUnavailable' : 'DockerError';
      throw new RuntimeError(reason, `docker: cannot ${what}: ${e.json?.message ?? e.message}`, { cause: err });
    }
  }
}

function idOf(m: Machine): string {
  return m.id.replace(/^docker:\/\//, '');
}
