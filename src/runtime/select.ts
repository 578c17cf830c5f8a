// Which NodeRuntime `kcs up` uses: docker when a daemon answers, otherwise
// virtual, saying so; or whatever --runtime forces.
import type { NodeRuntime } from './runtime.ts';

export const RUNTIME_CHOICES = ['auto', 'docker', 'virtual', 'none'] as const;
export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];

export interface SelectedRuntime {
  runtime?: NodeRuntime;
  /** One line for the person starting kcs. */
  note: string;
}

/**
 * virtualTransport: 'in-process' inside kcs up (the API is in the same
 * process), 'http' from kcs controllers (it is not).
 */
export async function selectRuntime(choice: RuntimeChoice, opts: { clusterId: string; log: (m: string) => void; virtualTransport?: 'http' | 'in-process'; realLoad?: { capMilliCpu: number } }): Promise<SelectedRuntime> {
  const transport = opts.virtualTransport ?? 'in-process';
  if (opts.realLoad && (choice === 'virtual' || choice === 'none')) throw new Error('--real-load burns CPU inside node containers: it needs --runtime docker');
  if (choice === 'none') return { note: 'runtime: none (no controllers: Nodes stay declarations)' };
  if (choice === 'virtual') return { runtime: await virtual(opts.log, transport), note: 'runtime: virtual (nodes simulated in this process)' };
  const { DockerRuntime } = await import('./docker.ts');
  const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (await DockerRuntime.available()) {
    const load = opts.realLoad ? `, real load capped at ${opts.realLoad.capMilliCpu / 1000} cores for all nodes` : '';
    return { runtime: new DockerRuntime({ clusterId: opts.clusterId, log: opts.log, realLoad: opts.realLoad }), note: `runtime: docker (one container per node, daemon at ${where}${load})` };
  }
  if (opts.realLoad) throw new Error(`--real-load needs Docker nodes, and no Docker daemon answers at ${where}`);
  if (choice === 'docker') throw new Error(`--runtime docker: no Docker daemon answers at ${where}`);
  return { runtime: await virtual(opts.log, transport), note: `runtime: virtual: no Docker daemon answers at ${where}, so nodes are simulated in this process (--runtime docker to require Docker)` };
}

async function virtual(log: (m: string) => void, transport: 'http' | 'in-process'): Promise<NodeRuntime> {
  const { VirtualRuntime } = await import('./virtual.ts');
  // In-process agents are what let one process simulate a thousand nodes.
  return new VirtualRuntime({ log, transport });
}
