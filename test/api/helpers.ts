// Fixtures for the API tests: an app on a temp store behind a real HTTP
// server on 127.0.0.1:0 (withApp), a full control plane on a temp state dir
// (withControlPlane), a small fetch-based client, and a line-by-line watch
// stream reader. Everything a fixture opens is closed in its teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createApp, type AppOptions } from '../../src/api/app.ts';
import { adminTokenAuthenticator } from '../../src/api/auth.ts';
import type { Registry } from '../../src/api/registry.ts';
import { SYSTEM_NAMESPACES } from '../../src/objects/kinds.ts';
import { SYSTEM_PRIORITY_CLASSES } from '../../src/objects/priority-classes.ts';
import { startControlPlane, type ControlPlane } from '../../src/control-plane.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Clock } from '../../src/util/clock.ts';
import { NdjsonParser } from '../../src/util/ndjson.ts';
import { eventually } from '../support/eventually.ts';

export const TOKEN = 'test-admin-token';

// ---- HTTP client -------------------------------------------------------------------

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: T;
}

export interface RequestOptions {
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Content-Type; defaults to application/json when there is a body. */
  type?: string;
  /** Bearer token; null sends no Authorization header. Defaults to the fixture's token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface Client {
  url: string;
  token: string;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<Reply<T>>;
  get<T = any>(path: string, opts?: RequestOptions): Promise<Reply<T>>;
  post<T = any>(path: string, body: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  put<T = any>(path: string, body: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  /** Defaults to a merge patch. */
  patch<T = any>(path: string, body: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  delete<T = any>(path: string, opts?: RequestOptions): Promise<Reply<T>>;
}

export function client(url: string, token: string): Client {
  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...opts.headers };
    const auth = opts.token === undefined ? token : opts.token;
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.type ?? 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  return {
    url,
    token,
    request,
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    put: (path, body, opts) => request('PUT', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { type: 'application/merge-patch+json', ...opts, body }),
    delete: (path, opts) => request('DELETE', path, opts),
  };
}

// ---- withApp: createApp on a temp SqliteStore, served on 127.0.0.1:0 ---------------

export interface AppFixtureOptions {
  historyLimit?: number;
  /** The object cache's window, bookmarks and snapshots. */
  cache?: AppOptions['cache'];
  bodyLimit?: number;
  /** The API's clock (timestamps it writes, ages in Tables); the system clock by default. */
  clock?: Clock;
}

export interface TestApi extends Client {
  store: SqliteStore;
  registry: Registry;
  server: Server;
  dir: string;
  /** Messages the app logged (5xx errors). */
  logs: string[];
}

/** Starts the fixture and registers its teardown on t; for tests that need more than one. */
export async function openApi(t: ExecutionContext, options: AppFixtureOptions = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-api-'));
  const store = new SqliteStore(join(dir, 'kcs.db'), { historyLimit: options.historyLimit });
  const logs: string[] = [];
  const { app, registry } = createApp({
    store, authenticator: adminTokenAuthenticator(TOKEN), bodyLimit: options.bodyLimit, log: (m) => logs.push(m),
    cache: options.cache, clock: options.clock,
  });
  const server = createServer(app.callback());
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // The system namespaces are in the store before a test looks at it.
  await registry.ready();
  const { port } = server.address() as AddressInfo;
  return { ...client(`http://127.0.0.1:${port}`, TOKEN), store, registry, server, dir, logs };
}

export type ApiImplementation = (t: ExecutionContext, api: TestApi) => Promise<void>;

/** withApp with a store history limit or body limit. */
export function withAppOptions(options: AppFixtureOptions) {
  return test.macro<[ApiImplementation]>(async (t, run) => {
    const api = await openApi(t, options);
    await run(t, api);
    t.deepEqual(api.logs, [], 'the server logged no internal errors');
  });
}

/** An ava macro: `test('does x', withApp, async (t, api) => { ... })`. */
export const withApp = withAppOptions({});

// ---- withControlPlane: startControlPlane on a temp state dir -----------------------

export function tempStateDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestControlPlane extends Client {
  cp: ControlPlane;
  /** Closes it now (idempotent); teardown closes it otherwise. */
  close(): Promise<void>;
}

/** Teardowns run in reverse order of registration, so open the state dir first. */
export async function openControlPlane(t: ExecutionContext, stateDir: string, host = '127.0.0.1'): Promise<TestControlPlane> {
  const logs: string[] = [];
  const cp = await startControlPlane({ stateDir, host, port: 0, log: (m) => logs.push(m) });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= cp.close());
  t.teardown(close);
  return { ...client(cp.url, cp.adminToken), cp, close };
}

export type ControlPlaneImplementation = (t: ExecutionContext, cp: TestControlPlane, stateDir: string) => Promise<void>;

export const withControlPlane = test.macro<[ControlPlaneImplementation]>(async (t, run) => {
  const dir = tempStateDir(t);
  const cp = await openControlPlane(t, dir);
  await run(t, cp, dir);
});

// ---- watch streams -----------------------------------------------------------------

export interface WatchEventJson {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

/** A watch response read line by line. close() aborts the request. */
export class WatchStream {
  readonly events: WatchEventJson[] = [];
  status = 0;
  /** Resolves when the server ends the stream (not when we abort it). */
  readonly ended: Promise<void>;
  private endedFlag = false;
  private failure: unknown;
  private readonly controller = new AbortController();
  private resolveEnded!: () => void;

  /** headers: sent with the request (an Accept asking for Tables). */
  constructor(api: Client, path: string, headers: Record<string, string> = {}) {
    this.ended = new Promise((r) => { this.resolveEnded = r; });
    void this.run(api, path, headers);
  }

  private async run(api: Client, path: string, headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(api.url + path, { headers: { ...headers, authorization: `Bearer ${api.token}` }, signal: this.controller.signal });
      this.status = res.status;
      const reader = res.body!.getReader();
      const lines = new NdjsonParser<WatchEventJson>();
      const add = (e: WatchEventJson) => { this.events.push(e); };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        lines.push(value, add);
      }
      lines.end(add);
      this.endedFlag = true;
      this.resolveEnded();
    } catch (err) {
      if (!this.controller.signal.aborted) this.failure = err;
    }
  }

  get isEnded(): boolean {
    return this.endedFlag;
  }

  /** Waits until at least n events have arrived; fails if the stream ends or breaks first. */
  async waitFor(n: number): Promise<WatchEventJson[]> {
    await eventually(() => `${n} watch events, got ${this.events.length}: ${JSON.stringify(this.events)}`, () => {
      if (this.events.length >= n) return true;
      if (this.failure) throw this.failure;
      if (this.endedFlag) throw new Error(`watch ended after ${this.events.length} events, expected ${n}: ${JSON.stringify(this.events)}`);
      return false;
    });
    return this.events.slice(0, n);
  }

  /** Waits for the server to end the stream. */
  async waitForEnd(): Promise<void> {
    await eventually('the server to end the watch', () => {
      if (this.failure) throw this.failure;
      return this.endedFlag;
    });
  }

  close(): void {
    this.controller.abort();
  }
}

/** Opens a watch and aborts it at teardown. */
export function watch(t: ExecutionContext, api: Client, path: string, headers?: Record<string, string>): WatchStream {
  const w = new WatchStream(api, path, headers);
  t.teardown(() => w.close());
  return w;
}

/**
 * For asserting that a watch got nothing more: creates `obj` at `path`, an
 * object the watch will see, waits for its event, and returns the events
 * before it. A watch delivers in revision order, so an event for any earlier
 * write would have come first.
 */
export async function eventsBefore(t: ExecutionContext, api: Client, w: WatchStream, path: string, obj: { metadata: { name: string } }): Promise<WatchEventJson[]> {
  await createAll(t, api, [[path, obj]]);
  return eventually(`the watch to see ${obj.metadata.name}`, () => {
    const i = w.events.findIndex((e) => e.object?.metadata?.name === obj.metadata.name);
    return i >= 0 ? w.events.slice(0, i) : undefined;
  });
}

// ---- raw HTTP, for bodies fetch cannot send the way a test needs -------------------

export interface RawReply { status: number; headers: Record<string, string>; text: string; body: any }

/**
 * Sends a request over a plain socket, writing the body in chunks (with a
 * Content-Length, or chunked) while reading the answer, as curl and Go's
 * client do. The server may answer and close before the body is all sent (a
 * 413); whatever it answered is returned. node:http's client cannot be used
 * here: a write error (EPIPE) makes it drop a response it has already received.
 */
export function rawRequest(url: string, opts: {
  method: string; path: string; token?: string; type?: string;
  chunks: Iterable<Buffer>; contentLength?: number | false;
}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let writeError: Error | undefined;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (err) => { writeError ??= err; });
    socket.on('close', () => {
      const reply = parseRawResponse(Buffer.concat(received));
      if (reply) resolve(reply);
      else reject(writeError ?? new Error('the server closed the connection without an answer'));
    });
    const chunked = opts.contentLength === false || opts.contentLength === undefined;
    const head = [
      `${opts.method} ${opts.path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close',
      `Content-Type: ${opts.type ?? 'application/json'}`,
      chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.contentLength}`,
      ...(opts.token ? [`Authorization: Bearer ${opts.token}`] : []),
    ];
    const canWrite = () => !socket.destroyed && !socket.writableEnded && writeError === undefined;
    const write = async () => {
      socket.write(head.join('\r\n') + '\r\n\r\n');
      for (const chunk of opts.chunks) {
        if (!canWrite()) return;
        const framed = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
        if (!socket.write(framed)) {
          await new Promise<void>((r) => {
            const done = () => { socket.off('drain', done); socket.off('close', done); r(); };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
      if (!canWrite()) return;
      if (chunked) socket.end('0\r\n\r\n');
      else socket.end();
    };
    write().catch((err) => { writeError ??= err; });
  });
}

function parseRawResponse(data: Buffer): RawReply | undefined {
  const split = data.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let raw = data.subarray(split + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    for (let at = 0; at < raw.length;) {
      const eol = raw.indexOf('\r\n', at);
      const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(raw.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    raw = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    raw = raw.subarray(0, Number(headers['content-length']));
  }
  const text = raw.toString('utf8');
  let body: unknown;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status, headers, text, body };
}

// ---- objects ---------------------------------------------------------------------

export function node(name: string, extra: Record<string, any> = {}): any {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, ...extra.metadata }, spec: { capacity: { cpu: '4', memory: '8Gi' }, ...extra.spec } };
}

export function pod(name: string, extra: Record<string, any> = {}): any {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra.metadata },
    spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...extra.spec },
  };
}

export function namespace(name: string, extra: Record<string, any> = {}): any {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...extra.metadata }, ...(extra.spec ? { spec: extra.spec } : {}) };
}

/** The revision of a fresh store: one write for each system namespace and system PriorityClass made at start. */
export const FRESH_REVISION = SYSTEM_NAMESPACES.length + SYSTEM_PRIORITY_CLASSES.length;

export const NAMESPACES = '/api/v1/namespaces';
export const NODES = '/api/v1/nodes';
export const PODS = '/api/v1/namespaces/default/pods';
export const nodePath = (name: string) => `${NODES}/${name}`;
export const podPath = (name: string, ns = 'default') => `/api/v1/namespaces/${ns}/pods/${name}`;

/** Creates objects over HTTP and fails the test unless each returns 201. */
export async function createAll(t: ExecutionContext, api: Client, items: Array<[string, unknown]>): Promise<any[]> {
  const out: any[] = [];
  for (const [path, obj] of items) {
    const r = await api.post(path, obj);
    t.is(r.status, 201, `create at ${path}: ${r.text}`);
    out.push(r.body);
  }
  return out;
}
