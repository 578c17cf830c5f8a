// Fixtures for the GitOps tests: a real control plane on a temp state dir
// (HTTP client with the admin token, as `kcs sync` uses), a temp directory of
// manifests with small file helpers, and manifest builders.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { Client } from '../../src/client/http.ts';
import { isNotFound } from '../../src/client/interface.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';
import type { NodeRuntime } from '../../src/runtime/runtime.ts';

export const NODE = kindByName('Node')!;
export const POD = kindByName('Pod')!;
export const EVENT = kindByName('Event')!;

export const nodeYaml = (name: string, cpu = '2') => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    cpu: "${cpu}"\n    memory: 1Gi\n`;
export const podYaml = (name: string, cpu = '100m') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources:\n      requests:\n        cpu: ${cpu}\n`;

export interface Manifests {
  dir: string;
  write(files: Record<string, string>): void;
  remove(file: string): void;
  rename(from: string, to: string): void;
}

export function manifestsDir(t: ExecutionContext): Manifests {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-gitops-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(files) {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    },
    remove: (file) => rmSync(join(dir, file)),
    rename(from, to) {
      mkdirSync(dirname(join(dir, to)), { recursive: true });
      renameSync(join(dir, from), join(dir, to));
    },
  };
}

export interface TestCluster {
  cp: ControlPlane;
  client: Client;
  stateDir: string;
  logs: string[];
  /** The object, or undefined when it does not exist. */
  get(kind: typeof NODE, name: string, namespace?: string): Promise<KubeObject | undefined>;
  names(kind: typeof NODE): Promise<string[]>;
}

/** A control plane on a fresh state dir (closed at teardown). */
export async function cluster(t: ExecutionContext, opts: { runtime?: NodeRuntime; stateDir?: string; port?: number } = {}): Promise<TestCluster> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'kcs-gitops-state-'));
  if (!opts.stateDir) t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const logs: string[] = [];
  const cp = await startControlPlane({ stateDir, host: '127.0.0.1', port: opts.port ?? 0, runtime: opts.runtime, heartbeatMs: 200, log: (m) => logs.push(m) });
  let closed: Promise<void> | undefined;
  const close = cp.close.bind(cp);
  cp.close = () => (closed ??= close());
  t.teardown(() => cp.close());
  const client = new Client({ server: cp.url, token: cp.adminToken });
  t.teardown(() => client.close());
  return {
    cp, client, stateDir, logs,
    async get(kind, name, namespace) {
      try {
        return await client.get(kind, kind.namespaced ? (namespace ?? 'default') : undefined, name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async names(kind) {
      return (await client.list(kind)).items.map((o) => o.metadata.name!).sort();
    },
  };
}
