// How a command waits to tell the user the outcome of what it asked for
// (`kcs create node`, `kcs run`): --wait (kubectl's spelling: --wait=false)
// and --timeout (a Go duration such as 60s, 2m, 500ms), and a wait on one
// object through a watch from the version the command wrote, so every
// change after it is seen, none is missed, and nothing polls.
import * as Flags from '@oclif/core/flags';
import type { KcsClient } from '../client/interface.ts';
import { parseDuration } from './duration.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject } from '../objects/types.ts';

/** Seconds as kcs prints a wait: `0.4s`, `12s`. */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

export const waitFlags = {
  wait: Flags.custom<boolean>({
    summary: 'Wait for the outcome and report it (--wait=false: return once the object is created).',
    default: true,
    async parse(input) {
      if (/^(true|1)$/i.test(input)) return true;
      if (/^(false|0)$/i.test(input)) return false;
      throw new Error(`--wait takes true or false (got ${JSON.stringify(input)})`);
    },
  })(),
  timeout: Flags.custom<number>({
    summary: 'How long to wait for the outcome, e.g. 60s or 2m.',
    default: 60_000,
    defaultHelp: async () => '60s',
    async parse(input) {
      const ms = parseDuration(input);
      if (ms < 0) throw new Error(`--timeout must not be negative (got ${JSON.stringify(input)})`);
      return ms;
    },
  })(),
};

export type WaitOutcome<T> =
  | { kind: 'done'; object: KubeObject; value: T }
  | { kind: 'deleted'; object?: KubeObject }
  | { kind: 'timeout'; object?: KubeObject };

/**
 * Watches one object from resourceVersion on until decide says it is done
 * (returns a value), the object is deleted, or timeoutMs passes. A watch
 * the server ends is resumed from the last version seen.
 */
export function waitForObject<T>(
  client: KcsClient, kind: KindInfo, namespace: string | undefined, object: KubeObject, timeoutMs: number,
  decide: (obj: KubeObject) => T | undefined,
): Promise<WaitOutcome<T>> {
  const name = object.metadata.name!;
  let last = object;
  return new Promise((resolve, reject) => {
    let settled = false;
    let handle: ReturnType<KcsClient['watch']> | undefined;
    const settle = (outcome: WaitOutcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle?.stop();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout', object: last }), timeoutMs);
    const start = () => {
      handle = client.watch(kind, namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion: last.metadata.resourceVersion }, (e) => {
        if (settled || e.type === 'BOOKMARK') return;
        if (e.type === 'ERROR') return settle({ kind: 'timeout', object: last });
        if (e.type === 'DELETED') return settle({ kind: 'deleted', object: e.object });
        last = e.object;
        const value = decide(e.object);
        if (value !== undefined) settle({ kind: 'done', object: e.object, value });
      });
      handle.done.then(() => { if (!settled) start(); }, (err) => { if (!settled) { settled = true; clearTimeout(timer); reject(err); } });
    };
    // The object as written may already be the outcome (nothing to wait for).
    const now = decide(object);
    if (now !== undefined) return settle({ kind: 'done', object, value: now });
    start();
  });
}
