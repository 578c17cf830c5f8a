// The real kubectl, as the kubectl tests drive it: the binary $KCS_KUBECTL
// names, else kubectl on PATH. Without one the tests are skipped, unless
// KCS_REQUIRE_KUBECTL=1 (CI), where each fails saying why. Every run gets its
// own HOME (so kubectl's discovery cache starts empty) and the kubeconfig
// `kcs up` wrote: no flag, as a user would type it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Implementation, TestFn } from 'ava';
import { eventually } from '../support/eventually.ts';

export const KUBECTL = process.env.KCS_KUBECTL || 'kubectl';
const probe = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' });
export const kubectlAvailable = probe.status === 0;
/** "Client Version: v1.32.3" */
export const kubectlVersion = kubectlAvailable ? probe.stdout.split('\n')[0] : undefined;
const required = process.env.KCS_REQUIRE_KUBECTL === '1';

/** `test` for tests that need kubectl: run, skipped, or failed with the reason (KCS_REQUIRE_KUBECTL=1). */
export function kubectlOrSkip(test: TestFn): (title: string, impl: Implementation<[]>) => void {
  return (title, impl) => {
    if (kubectlAvailable) test(title, impl);
    else if (required) test(title, (t) => t.fail(`KCS_REQUIRE_KUBECTL=1 but ${KUBECTL} does not run (set KCS_KUBECTL to a kubectl binary)`));
    else test.skip(title, impl);
  };
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A kubectl left running (`get -w`), read as it prints. */
export interface RunningKubectl {
  readonly stdout: string;
  /** Resolves with stdout once it matches; fails at the deadline with what was printed. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Kills it and waits for it to exit. */
  stop(): Promise<void>;
}

export interface KubectlRunner {
  (args: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Starts kubectl and returns at once. */
  start(args: string[]): RunningKubectl;
  /** Removes the private HOME. */
  cleanup(): void;
}

/** A kubectl bound to one kubeconfig, with a HOME of its own. */
export function kubectlFor(kubeconfig: string): KubectlRunner {
  const home = mkdtempSync(join(tmpdir(), 'kcs-kubectl-home-'));
  const run = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => new Promise<KubectlResult>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig, ...opts.env };
    const child = spawn(KUBECTL, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A kubectl that is gone before it read all its stdin (it died at start
    // under load, or stopped reading at an error) makes the write fail with
    // EPIPE; its exit code and stderr above say what happened, so that error
    // is not thrown, which would end the whole test worker.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
  const start = (args: string[]): RunningKubectl => {
    const child = spawn(KUBECTL, args, { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    return {
      get stdout() { return stdout; },
      waitFor: (pattern) => eventually(() => `kubectl ${args.join(' ')} to print ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`, () => (pattern.test(stdout) ? stdout : undefined)),
      async stop() {
        child.kill('SIGKILL');
        await exited;
      },
    };
  };
  return Object.assign(run, { start, cleanup: () => rmSync(home, { recursive: true, force: true }) });
}
