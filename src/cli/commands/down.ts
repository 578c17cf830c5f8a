import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { stateDir } from '../../config.ts';

export default class Down extends Command {
  static override summary = "Stop this cluster's node containers; with --purge also remove them and delete the state directory.";
  static override description = 'The containers are found by the cluster id kcs keeps in the state directory (Docker runtime). Without --purge they are stopped and kept, so the next `kcs up` on the same state starts them again. '
    + 'kcs down refuses while a `kcs up` still holds the state directory, or, for a cluster on etcd, while any of its servers still runs (its API server Lease unexpired): stop those first (Ctrl-C), since a running control plane would start the containers again.';
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --purge', '<%= config.bin %> down --state-dir /tmp/kcs-demo'];
  static override flags = {
    'state-dir': Flags.string({ summary: 'The state directory of the cluster (default $KCS_STATE_DIR or ~/.kcs).' }),
    purge: Flags.boolean({ summary: 'Also remove the containers and delete the state directory: the store, the tokens and the kubeconfig.' }),
  };

  async run(): Promise<{ containers: string[]; purged: boolean }> {
    const { flags } = await this.parse(Down);
    const dir = stateDir(flags['state-dir']);
    const { existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    if (!existsSync(dir)) {
      this.log(`no kcs state at ${dir}: nothing to stop`);
      return { containers: [], purged: false };
    }
    const { storeInUse } = await import('../../store/sqlite.ts');
    if (storeInUse(join(dir, 'kcs.db'))) {
      this.error(`a kcs up is still running on ${dir} (it holds the store's lock): stop it first, then run kcs down again`, {
        exit: 1, suggestions: ["press Ctrl-C where 'kcs up' runs (its node containers keep running until kcs down stops them)"],
      });
    }
    await this.refuseWhileServersRun(dir);
    const containers = await this.nodeContainers(dir, flags.purge);
    if (flags.purge) {
      rmSync(dir, { recursive: true, force: true });
      this.log(`deleted ${dir} (the store, the tokens and the kubeconfig)`);
    }
    return { containers, purged: flags.purge };
  }

  /**
   * On etcd the cluster's servers may run anywhere, on other state
   * directories: any of them would start the containers again. Each keeps
   * an API server Lease in the store while it runs; an unexpired one is a
   * server still running. With etcd out of reach no server can act either:
   * said, and not held against going on.
   */
  private async refuseWhileServersRun(dir: string): Promise<void> {
    const { rememberedStore, openStore } = await import('../../store/open.ts');
    const remembered = rememberedStore(dir);
    if (!remembered) return;
    const storeUrl = remembered.url;
    const { unexpiredApiServers } = await import('../../controllers/apiserver-leases.ts');
    const { kindByName } = await import('../../objects/kinds.ts');
    const { prefixFor } = await import('../../api/registry.ts');
    const { CONTROLLER_LEASE_NAMESPACE } = await import('../../objects/leader-leases.ts');
    let live: ReturnType<typeof unexpiredApiServers>;
    let store: Awaited<ReturnType<typeof openStore>> | undefined;
    try {
      store = await openStore(storeUrl, dir, remembered.etcdTls);
      const { items } = await store.list(prefixFor(kindByName('Lease')!, CONTROLLER_LEASE_NAMESPACE));
      live = unexpiredApiServers(items.map((kv) => JSON.parse(kv.value)), Date.now());
    } catch (err) {
      this.log(`cannot ask ${storeUrl} which servers of this cluster run (${(err as Error).message}): going on`);
      return;
    } finally {
      await store?.close();
    }
    if (!live.length) return;
    const servers = live.map((s) => `${s.url} (renewed ${Math.round(s.renewedAgoMs / 1000)} s ago, expires in ${Math.ceil(s.expiresInMs / 1000)} s)`).join(', ');
    this.error(`a kcs up of this cluster is still running on ${storeUrl}: ${servers}. Stop every one first, then run kcs down again`, {
      exit: 1, suggestions: ["press Ctrl-C where each 'kcs up' runs; one killed without stopping is counted until its Lease expires"],
    });
  }

  /** Stops (or, purging, removes) the containers labelled with this state's cluster id; their names. */
  private async nodeContainers(dir: string, remove: boolean): Promise<string[]> {
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    // No cluster id: this state never ran nodes in containers (and reading it must not make one).
    if (!existsSync(join(dir, 'cluster-id'))) {
      this.log('no node containers: this state has no cluster id');
      return [];
    }
    const { loadOrCreateClusterId } = await import('../../control-plane.ts');
    const { DockerRuntime } = await import('../../runtime/docker.ts');
    const clusterId = loadOrCreateClusterId(dir);
    const runtime = new DockerRuntime({ clusterId });
    if (!(await DockerRuntime.available(runtime.docker, 2000))) {
      this.log(`Docker is not reachable: no node containers stopped${remove ? ` (any left are labelled io.kcs.cluster=${clusterId})` : ''}`);
      return [];
    }
    const machines = await runtime.list();
    const done: string[] = [];
    for (const m of machines) {
      const container = runtime.containerName(m.name);
      if (remove) await runtime.remove(m.name);
      else await runtime.stop(m.name);
      done.push(container);
      this.log(`${remove ? 'removed' : m.running ? 'stopped' : 'already stopped:'} node container ${container} (node ${m.name})`);
    }
    if (!machines.length) this.log(`no node containers for cluster ${clusterId}`);
    else if (!remove) this.log(`${machines.length} node container(s) of cluster ${clusterId} stopped; the next kcs up on ${dir} starts them again`);
    return done;
  }
}
