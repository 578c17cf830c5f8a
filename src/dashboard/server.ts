// The web dashboard's own listener: loopback-only plain HTTP that serves the
// page's static files and forwards the page's API calls to the API server
// over TLS, as `kubectl proxy` does. A browser then meets no certificate
// warning (the cluster CA is trusted here, not in the browser), and the API
// keeps its one authentication: the proxy adds no credentials, it passes on
// the page's own bearer token, so without a token only the static files
// answer.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { assetsDir, readAsset, type Asset } from './assets.ts';

export interface DashboardOptions {
  /** The API server's URL (https or http). */
  api: string;
  /** The cluster CA (PEM) the API's certificate chains to. */
  ca?: string;
  insecureSkipTlsVerify?: boolean;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Where the built page is (default: dist/web of this package). */
  assets?: string;
  log?: (message: string) => void;
}

export interface Dashboard {
  /** The page's address, without a token. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Only these reach the API: what the page calls. Everything else is a static file or 404. */
const FORWARDED_PATHS = /^\/(api|apis)(\/|$)|^\/version$/;
/** Request headers the page's calls need; cookies and the rest stay behind. */
const FORWARDED_REQUEST_HEADERS = ['authorization', 'accept', 'content-type', 'content-length', 'user-agent'];
/** Hop-by-hop headers are this connection's, not the API's (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'set-cookie']);

/**
 * What every response carries: the page may load only its own files and
 * talk only to this origin; no framing; no Referer anywhere.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The Host header of a request to a loopback listener must name loopback: a
 * page on another site that rebinds its DNS name to 127.0.0.1 would send its
 * own name, and gets 421 rather than this origin's files.
 */
function hostAllowed(header: string | undefined): boolean {
  if (!header) return false;
  const name = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '');
  return isLoopbackHost(name);
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`the dashboard listens on loopback only, not ${host}: it serves plain HTTP`);
  const api = new URL(opts.api);
  const tls = api.protocol === 'https:';
  const agent = tls ? new Agent({ ca: opts.ca, rejectUnauthorized: !opts.insecureSkipTlsVerify, keepAlive: true }) : undefined;
  const dir = opts.assets ?? assetsDir();
  const cache = new Map<string, Asset | undefined>();
  const log = opts.log ?? (() => {});

  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host)) return plain(res, 421, 'misdirected request: open the dashboard at a loopback address');
    const path = (req.url ?? '/').split('?')[0]!;
    if (FORWARDED_PATHS.test(path)) return forward(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
    if (path === '/healthz') return plain(res, 200, 'ok');
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!cache.has(name)) cache.set(name, readAsset(dir, name));
    const asset = cache.get(name);
    if (!asset) return plain(res, 404, 'not found');
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const headers: Record<string, string | string[]> = {};
    for (const h of FORWARDED_REQUEST_HEADERS) if (req.headers[h] !== undefined) headers[h] = req.headers[h]!;
    const send = tls ? httpsRequest : httpRequest;
    const upstream = send({
      protocol: api.protocol, hostname: api.hostname.replace(/^\[|\]$/g, ''), port: api.port, method: req.method, path: req.url, headers, agent,
    }, (answer) => {
      const out: Record<string, string | string[]> = { ...SECURITY_HEADERS };
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(answer.statusCode ?? 502, out);
      // Watches stream: each chunk goes on as it comes.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      log(`dashboard: the API at ${api.origin} did not answer: ${err.message}`);
      if (!res.headersSent) apiUnreachable(res, api.origin, err.message);
      else res.destroy();
    });
    // The page went away (closed a watch, left): so does the call it made.
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent?.destroy();
    },
  };
}

function plain(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

/** A Kubernetes Status, as the page shows every API error. */
function apiUnreachable(res: ServerResponse, origin: string, why: string): void {
  res.writeHead(502, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'ServiceUnavailable', code: 502, message: `the API server at ${origin} did not answer: ${why}` }));
}

/**
 * The address that opens the page signed in: the token rides in the
 * fragment, which browsers never send to a server; the page moves it into
 * the tab's session storage and takes it out of the address bar.
 */
export function signedInUrl(url: string, token: string | undefined): string {
  return token ? `${url}#token=${encodeURIComponent(token)}` : url;
}

/** Listens on port, or on any free port when port is taken and may move; says which. */
export async function startDashboardNear(opts: DashboardOptions & { mayMove: boolean }): Promise<Dashboard> {
  try {
    return await startDashboard(opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !opts.mayMove) throw err;
    opts.log?.(`dashboard: port ${opts.port} is in use; serving on a free port instead`);
    return startDashboard({ ...opts, port: 0 });
  }
}
