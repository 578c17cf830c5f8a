// A small typed client for the kcs API over HTTP (node:http, no heavy
// imports, so the CLI starts fast). Errors carry the server's Status.
import type { IncomingMessage } from 'node:http';
import { COMMIT_KIND, commitBody } from '../api/commit.ts';
import type { CommitOp } from '../api/registry.ts';
import { USAGE_REPORT_KIND, type NodeUsageReport } from '../api/usage-report.ts';
import { REVIEW_KIND, type ReviewSpec, type ReviewStatus } from '../api/network-policy-review.ts';
import type { KindInfo } from '../objects/kinds.ts';
import type { KubeObject, ObjectList, Status, WatchEvent } from '../objects/types.ts';
import { NdjsonParser } from '../util/ndjson.ts';
import { KCS_VERSION } from '../version.ts';
import { PATCH_CONTENT_TYPES, type DeleteQuery, type KcsClient, type ListQuery, type PatchQuery, type Response, type Selectors, type WatchHandle, type WatchQuery, type WriteQuery } from './interface.ts';

/** As kubectl's: the server records writes without a fieldManager under what precedes the "/" (`kcs`). */
const USER_AGENT = `kcs/${KCS_VERSION} (${process.platform}/${process.arch})`;

// process.getBuiltinModule rather than `import 'node:http'`: the static
// import also loads Node's bundled undici, about 40 ms of every CLI start.
// node:https is loaded only for an https server.
type HttpModule = Pick<typeof import('node:https'), 'request' | 'Agent'>;
const transport = (server: string): HttpModule =>
  (server.startsWith('https:') ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http')) as HttpModule;

export class ClientError extends Error {
  override name = 'ClientError';
  readonly status?: Status;
  readonly code: number;
  constructor(message: string, code: number, status?: Status, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export class ConnectionError extends Error {
  override name = 'ConnectionError';
  readonly server: string;
  constructor(server: string, cause: unknown, message?: string) {
    super(message ?? `The connection to the server ${new URL(server).host} was refused - is kcs running? Start it with 'kcs up'.`, { cause });
    this.server = server;
  }
}

/** Node's codes for a server certificate the client does not trust (unknown CA, wrong name, expired). */
const UNTRUSTED_CERT = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

export interface ClientOptions {
  /**
   * The API server's URL, or several API servers of one cluster separated
   * by commas: the client uses one and moves to the next when it cannot
   * reach it (see Client.request).
   */
  server: string;
  token?: string;
  /** The CA (PEM) an https server's certificate must chain to; without it, the system's roots. */
  ca?: string;
  /** Accept any certificate (kubectl's insecure-skip-tls-verify): for debugging only. */
  insecureSkipTlsVerify?: boolean;
  /** Requests (not watches) that take longer fail with a TimeoutError; default: no limit. */
  timeoutMs?: number;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

export class Client implements KcsClient {
  /** Every server it was given, comma-separated as given (handed on to node agents by `kcs controllers`). */
  readonly server: string;
  /** The CA it trusts the server through (handed on to node agents by `kcs controllers`). */
  readonly ca?: string;
  private readonly servers: string[];
  /** Which of servers requests go to: the last one that answered, or the next after one that did not. */
  private current = 0;
  private readonly token?: string;
  private readonly timeoutMs?: number;
  private readonly http: HttpModule;
  private readonly agent: import('node:http').Agent;

  constructor(opts: ClientOptions) {
    this.servers = opts.server.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== '');
    if (this.servers.length === 0) throw new Error('no API server given');
    const schemes = new Set(this.servers.map((s) => new URL(s).protocol));
    if (schemes.size > 1) throw new Error(`the API servers ${this.servers.join(', ')} mix http and https: one cluster serves one`);
    this.server = this.servers.join(',');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs;
    this.ca = opts.ca;
    this.http = transport(this.servers[0]!);
    // The TLS options only mean something to the https agent; the http one ignores them.
    this.agent = new this.http.Agent({ keepAlive: true, ca: opts.ca, rejectUnauthorized: !opts.insecureSkipTlsVerify });
  }

  path(kind: KindInfo, namespace?: string, name?: string, subresource?: string): string {
    const prefix = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
    let p = kind.namespaced && namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${prefix}/${kind.plural}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  async get<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string): Promise<T> {
    return (await this.request<T>('GET', this.path(kind, namespace, name))).body;
  }

  async list<T extends KubeObject = KubeObject>(kind: KindInfo, namespace?: string, q: ListQuery = {}): Promise<ObjectList<T>> {
    return (await this.request<ObjectList<T>>('GET', this.path(kind, namespace) + query({ ...q, limit: q.limit?.toString() }))).body;
  }

  async create<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, obj: unknown, q: WriteQuery = {}): Promise<Response<T>> {
    return this.request<T>('POST', this.path(kind, namespace) + writeQuery(q), obj);
  }

  async update<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, obj: unknown, q: WriteQuery & { subresource?: string } = {}): Promise<Response<T>> {
    return this.request<T>('PUT', this.path(kind, namespace, name, q.subresource) + writeQuery(q), obj);
  }

  async patch<T extends KubeObject = KubeObject>(
    kind: KindInfo, namespace: string | undefined, name: string, patch: unknown,
    q: PatchQuery = {},
  ): Promise<Response<T>> {
    // An apply body is YAML; JSON is YAML.
    const contentType = PATCH_CONTENT_TYPES[q.type ?? 'merge'];
    const force = q.type === 'apply' && q.force ? 'true' : undefined;
    return this.request<T>('PATCH', this.path(kind, namespace, name, q.subresource) + writeQuery(q, { force }), patch, contentType);
  }

  /** Options beyond dryRun go in a DeleteOptions body, as kubectl sends them. */
  async delete<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, name: string, q: DeleteQuery = {}): Promise<T> {
    const { propagationPolicy, preconditions } = q;
    const body = propagationPolicy || preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy, preconditions } : undefined;
    return (await this.request<T>('DELETE', this.path(kind, namespace, name) + writeQuery(q), body)).body;
  }

  async deleteCollection<T extends KubeObject = KubeObject>(kind: KindInfo, namespace: string | undefined, q: Selectors & WriteQuery = {}): Promise<ObjectList<T>> {
    const params = { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, dryRun: q.dryRun ? 'All' : undefined };
    return (await this.request<ObjectList<T>>('DELETE', this.path(kind, namespace) + query(params))).body;
  }

  /** Several writes in one transaction: POST /apis/kcs.io/v1/commits. */
  async commit(ops: CommitOp[]): Promise<KubeObject[]> {
    return (await this.request<{ results: KubeObject[] }>('POST', COMMIT_KIND.path, commitBody(ops))).body.results;
  }

  /** Streams watch events until stop() is called or the server ends the watch. */
  watch(kind: KindInfo, namespace: string | undefined, opts: WatchQuery, onEvent: (e: WatchEvent) => void): WatchHandle {
    const path = this.path(kind, namespace) + query({ ...opts, allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined, watch: 'true' });
    let res: IncomingMessage | undefined;
    let stopped = false;
    const server = this.servers[this.current]!;
    const req = this.raw('GET', path, {}, server);
    const done = new Promise<void>((resolve, reject) => {
      req.on('response', (r) => {
        res = r;
        if ((r.statusCode ?? 0) >= 300) {
          readBody(r).then((text) => reject(toClientError(r.statusCode ?? 0, text)), reject);
          return;
        }
        const lines = new NdjsonParser<WatchEvent>();
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => lines.push(chunk, onEvent));
        r.on('end', () => resolve());
        // A destroyed response (stop()) emits only 'close', never 'end'.
        r.on('close', () => resolve());
        r.on('error', (err) => (stopped ? resolve() : reject(err)));
      });
      // The informer watching asks again; its next watch goes to the next server.
      req.on('error', (err) => {
        if (stopped) return resolve();
        const wrapped = this.wrap(err, server);
        this.unreachable(server, wrapped);
        reject(wrapped);
      });
      req.end();
    });
    return {
      stop: () => { stopped = true; res?.destroy(); req.destroy(); },
      done,
    };
  }

  /**
   * One request, to the current server. Given several, a server that cannot
   * be reached is passed over for the next: at once, with the request sent
   * again, when it refused the connection (nothing was sent) or the request
   * is a read; otherwise the error is the caller's (a write cut off midway
   * may have happened) and the next request goes to the next server.
   */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response<T>> {
    for (let tried = 1; ; tried++) {
      const server = this.servers[this.current]!;
      try {
        return await this.requestTo<T>(server, method, path, body, contentType);
      } catch (err) {
        if (!this.unreachable(server, err)) throw err;
        const resend = err instanceof ConnectionError && isRefused(err) || method === 'GET';
        if (!resend || tried >= this.servers.length) throw err;
      }
    }
  }

  private async requestTo<T>(server: string, method: string, path: string, body: unknown, contentType: string): Promise<Response<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let timer: NodeJS.Timeout | undefined;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.raw(method, path, payload === undefined ? {} : { 'content-type': contentType, 'content-length': String(Buffer.byteLength(payload)) }, server);
      req.on('response', resolve);
      req.on('error', (err) => reject(this.wrap(err, server)));
      if (this.timeoutMs) {
        // Covers the whole exchange, body included: the socket is dropped, not reused.
        const ms = this.timeoutMs;
        timer = setTimeout(() => req.destroy(new TimeoutError(`${method} ${path} took longer than ${ms} ms`)), ms);
        timer.unref();
      }
      req.end(payload);
    });
    const text = await readBody(res).finally(() => clearTimeout(timer));
    const code = res.statusCode ?? 0;
    if (code >= 300) throw toClientError(code, text);
    const warningHeader = res.headers.warning;
    return { body: JSON.parse(text) as T, warnings: parseWarnings(warningHeader) };
  }

  async reportUsage(report: NodeUsageReport): Promise<void> {
    await this.request('POST', USAGE_REPORT_KIND.path, report);
  }

  async reviewNetworkPolicy(spec: ReviewSpec): Promise<ReviewStatus> {
    return (await this.request<{ status: ReviewStatus }>('POST', REVIEW_KIND.path, { apiVersion: REVIEW_KIND.apiVersion, kind: REVIEW_KIND.kind, spec })).body.status;
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Whether err says server could not be reached (refused, reset, timed
   * out); if so, and there are others, the next one becomes current.
   */
  private unreachable(server: string, err: unknown): boolean {
    const code = (err as NodeJS.ErrnoException).code;
    const cut = err instanceof ConnectionError || err instanceof TimeoutError || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
    if (!cut) return false;
    if (this.servers.length > 1 && this.servers[this.current] === server) this.current = (this.current + 1) % this.servers.length;
    return true;
  }

  private raw(method: string, path: string, headers: Record<string, string> = {}, server = this.servers[this.current]!) {
    const url = new URL(server + path);
    return this.http.request(url, {
      method,
      agent: this.agent,
      headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers },
    });
  }

  private wrap(err: Error, server: string): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return new ConnectionError(server, err);
    if (code && UNTRUSTED_CERT.test(code)) {
      return new ConnectionError(server, err, `Unable to connect to the server ${new URL(server).host}: its certificate is not trusted (${err.message}). The kubeconfig 'kcs up' wrote carries the cluster's CA; a server started with another state directory has another CA.`);
    }
    if (code === 'EPROTO' || (code === 'ECONNRESET' && server.startsWith('http:') && this.servers.length === 1)) {
      return new ConnectionError(server, err, `Unable to connect to the server ${new URL(server).host}: ${err.message} (an https server asked for with http://, or the reverse?)`);
    }
    return err;
  }
}

function isRefused(err: ConnectionError): boolean {
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH';
}

function query(params: { [name: string]: string | undefined }): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as Array<[string, string]>;
  return entries.length ? '?' + new URLSearchParams(entries).toString() : '';
}

function writeQuery(q: WriteQuery, extra: { [name: string]: string | undefined } = {}): string {
  return query({ dryRun: q.dryRun ? 'All' : undefined, fieldValidation: q.strict ? 'Strict' : undefined, fieldManager: q.fieldManager, ...extra });
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    // Destroyed before the end (a timeout): settles the wait instead of leaving it hanging.
    res.on('close', () => { if (!res.complete) reject(new Error('the response was cut off')); });
  });
}

function toClientError(code: number, text: string): ClientError {
  try {
    const status = JSON.parse(text) as Status;
    if (status.kind === 'Status') return new ClientError(status.message, code, status);
  } catch { /* not a Status: fall through */ }
  return new ClientError(`the server responded with ${code}: ${text.slice(0, 200)}`, code);
}

/** `299 - "unknown field \"foo\""` -> `unknown field "foo"` */
function parseWarnings(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const out: string[] = [];
  const re = /299 - ("(?:[^"\\]|\\.)*")/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(JSON.parse(m[1]) as string);
  return out;
}
