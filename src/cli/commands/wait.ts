import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { isNotFound, type KcsClient } from '../../client/interface.ts';
import { DEFAULT_NAMESPACE, type KindInfo } from '../../objects/kinds.ts';
import type { KubeObject, WatchEvent } from '../../objects/types.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { DurationError, parseDuration } from '../duration.ts';
import { namespaceFlag, selectorFlag } from '../flags.ts';
import { resolveKind } from '../resolve-kind.ts';

/** What --timeout=-1s means: kubectl's "a week", i.e. wait for as long as it takes. */
const WEEK_MS = 7 * 24 * 3600 * 1000;

export default class Wait extends ClientCommand {
  static override summary = 'Wait until objects meet a condition, are deleted, or have a field value, as kubectl wait does.';
  static override description = 'Follows the objects with a watch (no polling). Prints "<type>/<name> condition met" for each as it does; at --timeout prints "timed out waiting for the condition on <types>/<name>" for each that did not, and exits 1.';
  static override usage = ['wait --for=CONDITION TYPE/NAME...', 'wait --for=CONDITION TYPE NAME...', 'wait --for=CONDITION TYPE (-l SELECTOR | --all)'];
  static override examples = [
    '<%= config.bin %> wait --for=condition=Ready node/node-1',
    '<%= config.bin %> wait --for=condition=Ready pods -l app=web --timeout=60s',
    "<%= config.bin %> wait --for=jsonpath='{.status.phase}'=Running pod/web",
    '<%= config.bin %> wait --for=delete pod/web --timeout=30s',
  ];
  static override strict = false;
  static override args = { targets: Args.string({ description: 'TYPE/NAME..., or TYPE then NAME...' }) };
  static override flags = {
    ...connectionFlags,
    for: Flags.string({ required: true, summary: "delete, condition=NAME[=VALUE] (VALUE defaults to true), or jsonpath='{EXPR}'[=VALUE]." }),
    timeout: Flags.string({ summary: 'How long to wait (a Go duration: 30s, 5m); 0 checks once, a negative value waits a week.', default: '30s' }),
    namespace: namespaceFlag,
    selector: selectorFlag,
    all: Flags.boolean({ summary: 'Every object of the type (in the namespace).' }),
  };

  async run(): Promise<string[]> {
    const { argv, flags } = await this.parse(Wait);
    const { conditionMet, parseWaitFor, WaitError } = await import('../wait-conditions.ts');
    let cond: ReturnType<typeof parseWaitFor>;
    let timeoutMs: number;
    try {
      cond = parseWaitFor(flags.for);
      timeoutMs = parseDuration(flags.timeout);
    } catch (err) {
      if (err instanceof WaitError || err instanceof DurationError || (err as Error).name === 'TemplateError') this.error((err as Error).message, { exit: 1 });
      throw err;
    }
    if (timeoutMs < 0) timeoutMs = WEEK_MS;
    const { kind, names } = this.targets(argv as string[]);
    if ((names.length > 0 ? 1 : 0) + (flags.selector ? 1 : 0) + (flags.all ? 1 : 0) !== 1) {
      this.error('name the objects, or select them with -l or --all (one of the three)', { exit: 1 });
    }
    const client = this.client(flags);
    const namespace = kind.namespaced ? (flags.namespace ?? DEFAULT_NAMESPACE) : undefined;
    const ref = (name: string) => `${kind.singular}/${name}`;

    // What to wait for: the named objects (each must exist, unless waiting for its deletion), or what the selector matches now.
    const current = new Map<string, KubeObject | undefined>();
    let resourceVersion: string;
    if (names.length) {
      const list = await client.list(kind, namespace, names.length === 1 ? { fieldSelector: `metadata.name=${names[0]}` } : {});
      resourceVersion = list.metadata.resourceVersion;
      for (const name of names) {
        const obj = list.items.find((o) => o.metadata.name === name);
        if (!obj && cond.type !== 'delete') {
          // The server's own NotFound, as kubectl shows it.
          await client.get(kind, namespace, name).catch((err) => { if (isNotFound(err)) throw err; });
        }
        current.set(name, obj);
      }
    } else {
      const list = await client.list(kind, namespace, flags.selector ? { labelSelector: flags.selector } : {});
      resourceVersion = list.metadata.resourceVersion;
      for (const obj of list.items) current.set(obj.metadata.name!, obj);
      if (!current.size && cond.type !== 'delete') this.error('no matching resources found', { exit: 1 });
    }

    const met: string[] = [];
    const pending = new Set(current.keys());
    const check = (name: string) => {
      if (!pending.has(name)) return;
      let ok: boolean;
      try {
        ok = conditionMet(current.get(name), cond);
      } catch (err) {
        this.error((err as Error).message, { exit: 1 });
      }
      if (!ok) return;
      pending.delete(name);
      met.push(name);
      // A named object that never existed was "deleted" without anyone seeing it: nothing to report.
      this.log(`${ref(name)} condition met`);
    };
    for (const name of [...pending]) {
      if (cond.type === 'delete' && !current.get(name)) pending.delete(name);
      else check(name);
    }
    if (pending.size && timeoutMs > 0) await this.follow(client, kind, namespace, names, flags.selector, resourceVersion, timeoutMs, pending, (obj, deleted) => {
      const name = obj.metadata.name!;
      if (!pending.has(name)) return;
      current.set(name, deleted ? undefined : obj);
      check(name);
    });
    if (pending.size) {
      for (const name of pending) this.logToStderr(`error: timed out waiting for the condition on ${kind.plural}/${name}`);
      this.exit(1);
    }
    return met.map(ref);
  }

  /** TYPE/NAME..., or TYPE NAME..., or TYPE alone (with -l or --all). */
  private targets(args: string[]): { kind: KindInfo; names: string[] } {
    if (!args.length) this.error('give the objects to wait for: TYPE/NAME, or TYPE with -l or --all', { exit: 1 });
    if (args[0].includes('/')) {
      const parsed = args.map((a) => a.split('/'));
      const kinds = new Set(parsed.map(([t]) => resolveKind(t)));
      if (kinds.size > 1) this.error('wait for objects of one type at a time', { exit: 1 });
      return { kind: [...kinds][0], names: parsed.map(([, n]) => n) };
    }
    return { kind: resolveKind(args[0]), names: args.slice(1) };
  }

  /** Watches from the list's revision until nothing is pending or the time is up; a watch the server ends is resumed. */
  private async follow(client: KcsClient, kind: KindInfo, namespace: string | undefined, names: string[], selector: string | undefined, fromVersion: string, timeoutMs: number,
    pending: Set<string>, onChange: (obj: KubeObject, deleted: boolean) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let resourceVersion = fromVersion;
    const selectors = { labelSelector: selector, fieldSelector: names.length === 1 ? `metadata.name=${names[0]}` : undefined };
    let watch: ReturnType<typeof client.watch> | undefined;
    const timer = setTimeout(() => watch?.stop(), timeoutMs);
    try {
      while (pending.size && Date.now() < deadline) {
        watch = client.watch(kind, namespace, { ...selectors, resourceVersion }, (e: WatchEvent) => {
          if (e.type === 'ERROR') return; // the watch ends; read afresh below
          if (e.object.metadata?.resourceVersion) resourceVersion = e.object.metadata.resourceVersion;
          if (e.type === 'BOOKMARK') return;
          onChange(e.object, e.type === 'DELETED');
          if (!pending.size) watch?.stop();
        });
        await watch.done.catch(() => undefined);
        if (!pending.size || Date.now() >= deadline) break;
        // The server ended the watch (or refused its revision): read the state afresh, then watch from there.
        await new Promise((r) => setTimeout(r, 200));
        const list = await client.list(kind, namespace, selectors);
        resourceVersion = list.metadata.resourceVersion;
        const present = new Set(list.items.map((o) => o.metadata.name));
        for (const obj of list.items) onChange(obj, false);
        for (const name of [...pending]) if (!present.has(name)) onChange({ apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name } } as KubeObject, true);
      }
    } finally {
      clearTimeout(timer);
      watch?.stop();
    }
  }
}
