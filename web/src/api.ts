// The page's one way to the API: fetch with the bearer token (from the tab's
// session), errors as the API's Status message, and list-then-watch that
// streams each kind's changes (never polling) and resumes where it left off.
import type { KubeObject } from '../../src/objects/types.ts';

const TOKEN_KEY = 'kcs.token';

export function token(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function setToken(value: string | undefined): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * The token `kcs up` put in the address's fragment (#token=...): kept in this
 * tab's session and taken out of the address bar, history and bookmarks.
 */
export function takeTokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]!));
  history.replaceState(null, '', location.pathname + location.search);
}

/** An API answer that was not a success, with its Status message ("pods \"x\" not found"). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason?: string;
  constructor(code: number, message: string, reason?: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export async function api<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
  const text = await res.text();
  const body = text ? safeJson(text) : undefined;
  if (!res.ok) throw statusError(res.status, body, text);
  return body as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function statusError(code: number, body: unknown, text: string): ApiError {
  const status = body as { kind?: string; message?: string; reason?: string } | undefined;
  if (status?.kind === 'Status' && status.message) return new ApiError(code, status.message, status.reason);
  return new ApiError(code, text.trim() || `HTTP ${code}`);
}

export interface WatchHandlers<T> {
  /** The whole collection, at the start and after the watch had to list again. */
  reset(items: T[]): void;
  changed(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  /** The stream broke (a refused token, the API gone); it is retried. */
  trouble?(error: ApiError | Error): void;
  /** The stream is live again after trouble. */
  live?(): void;
}

/** Pages of this many objects: a large list arrives in parts instead of one huge body. */
const PAGE = 5000;

/**
 * Lists a collection then watches it from the list's resourceVersion, as
 * client-go's reflector does: a watch the server ends is resumed from the
 * last version seen (bookmarks keep it fresh), and 410 Expired lists again.
 * Returns a function that stops it.
 */
export function listWatch<T extends KubeObject>(path: string, handlers: WatchHandlers<T>, query = ''): () => void {
  const abort = new AbortController();
  let version: string | undefined;
  let failures = 0;
  const sep = (p: string) => (p.includes('?') ? '&' : '?');

  async function list(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await api<{ items: T[]; metadata: { resourceVersion?: string; continue?: string } }>('GET',
        `${path}${sep(path)}limit=${PAGE}${query}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { signal: abort.signal });
      for (const item of page.items) items.push(item);
      cont = page.metadata.continue || undefined;
      version = page.metadata.resourceVersion;
    } while (cont);
    handlers.reset(items);
  }

  async function watch(): Promise<void> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const t = token();
    if (t) headers.authorization = `Bearer ${t}`;
    const res = await fetch(`${path}${sep(path)}watch=1&allowWatchBookmarks=true&resourceVersion=${version}${query}`, { headers, signal: abort.signal });
    if (!res.ok || !res.body) throw statusError(res.status, safeJson(await res.text()), '');
    if (failures) handlers.live?.();
    failures = 0;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { type: string; object: T & { code?: number } };
        if (e.type === 'ERROR') {
          if (e.object.code === 410) version = undefined;
          return;
        }
        version = e.object.metadata?.resourceVersion ?? version;
        if (e.type !== 'BOOKMARK') handlers.changed(e.type as 'ADDED', e.object);
      }
    }
  }

  (async () => {
    while (!abort.signal.aborted) {
      try {
        if (version === undefined) await list();
        await watch();
      } catch (err) {
        if (abort.signal.aborted) return;
        failures++;
        handlers.trouble?.(err as Error);
        if ((err as ApiError).code === 410) version = undefined;
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** failures)));
      }
    }
  })();
  return () => abort.abort();
}
