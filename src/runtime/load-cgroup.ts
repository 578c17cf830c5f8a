// The CPU cap on real load, enforced by the kernel: node containers that
// burn CPU (--real-load) are children of one cgroup whose CFS quota is the
// cap, so all of them together never take more than it, whatever their
// own quotas say, and the control plane keeps the rest of the host. Each
// container keeps its own quota (its node's CPUs), which is what throttles
// a node whose pods want more than it has.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from './runtime.ts';

const ROOT = '/sys/fs/cgroup';
/** The CFS period every kcs quota is stated in (100 ms, Docker's default). */
export const CPU_PERIOD_US = 100_000;

/**
 * Makes (or updates) the parent cgroup with a quota of capMilliCpu and
 * answers the name Docker's CgroupParent takes. cgroup v1 (the cpu
 * controller's own hierarchy) or v2 (cpu.max in the unified one), with
 * Docker's cgroupfs driver.
 */
export function prepareLoadCgroup(name: string, capMilliCpu: number, root = ROOT): string {
  const quota = Math.max(1000, Math.round((capMilliCpu * CPU_PERIOD_US) / 1000));
  const v2 = existsSync(join(root, 'cgroup.controllers'));
  try {
    if (v2) {
      // Children get the cpu controller only if the root hands it down.
      writeFileSync(join(root, 'cgroup.subtree_control'), '+cpu');
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    } else {
      const dir = join(root, 'cpu', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
    }
  } catch (err) {
    throw new RuntimeError('RealLoadCapUnavailable', `--real-load needs to cap the CPU all nodes burn together in the cgroup ${name} (under ${root}), and could not: ${(err as Error).message}. Run kcs as root on a host whose Docker uses the cgroupfs driver, or leave --real-load off.`, { cause: err });
  }
  return `/${name}`;
}
