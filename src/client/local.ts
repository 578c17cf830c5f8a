// The in-process transport: the same Registry calls an HTTP request ends
// in, without the socket and the JSON round trip. Controllers inside `kcs up`
// and virtual nodes use it; everything else is as over HTTP, errors included
// (ApiError carries the same code as the Status an HTTP client would get).
import type { Registry } from '../api/registry.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList, WatchEvent } from '../objects/types.ts';
import type { KcsClient, Response, Selectors, WatchHandle, WriteQuery } from './interface.ts';

export class LocalClient implements KcsClient {
  private readonly registry: Registry;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  async get<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string): Promise<T> {
    return (await this.registry.get(kind, namespace, name)) as T;
  }

  async list<T extends KubeObject = KubeObject>(kind: KindInfo, namespace?: string, selectors: Selectors = {}): Promise<ObjectList<T>> {
    return (await this.registry.list(kind, namespace, selectors)) as ObjectList<T>;
  }

  async create<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, obj: unknown, q: WriteQuery = {}): Promise<Response<T>> {
    const r = await this.registry.create(kind, namespace, structuredClone(obj), q);
    return { body: r.object as T, warnings: r.warnings };
  }

  async update<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, obj: unknown, q: WriteQuery & { subresource?: string } = {}): Promise<Response<T>> {
    const r = await this.registry.update(kind, namespace, name, structuredClone(obj), { ...q, subresource: q.subresource === 'status' ? 'status' : undefined });
    return { body: r.object as T, warnings: r.warnings };
  }

  async patch<T extends KubeObject = KubeObject>(
    kind: KindInfo, namespace: string | undefined, name: string, patch: unknown,
    q: WriteQuery & { subresource?: string; type?: 'merge' | 'json' } = {},
  ): Promise<Response<T>> {
    const type = q.type === 'json' ? 'application/json-patch+json' : 'application/merge-patch+json';
    const r = await this.registry.patch(kind, namespace, name, type, structuredClone(patch), { ...q, subresource: q.subresource === 'status' ? 'status' : undefined });
    return { body: r.object as T, warnings: r.warnings };
  }

  async delete<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, q: WriteQuery = {}): Promise<T> {
    return (await this.registry.delete(kind, namespace, name, q)) as T;
  }

  watch(kind: KindInfo, namespace: string | undefined, opts: Selectors & { resourceVersion?: string }, onEvent: (e: WatchEvent) => void): WatchHandle {
    let stopFn: (() => void) | undefined;
    let stopped = false;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => { finish = resolve; });
    const end = () => {
      stopFn?.();
      finish();
    };
    this.registry.watch(kind, namespace, opts, {
      // Watch events share one parsed object between watchers: hand out copies.
      event: (e) => onEvent({ type: e.type, object: structuredClone(e.object) }),
      end: (err) => {
        if (err) onEvent({ type: 'ERROR', object: err.toStatus() as never });
        end();
      },
    }).then((stop) => {
      stopFn = stop;
      if (stopped) stop();
    }, (err) => {
      onEvent({ type: 'ERROR', object: (err as { toStatus?: () => unknown }).toStatus?.() as never ?? { message: String(err) } });
      end();
    });
    return {
      stop: () => {
        stopped = true;
        end();
      },
      done,
    };
  }

  close(): void { /* nothing to release */ }
}
