// Reads a container's log (GET pods/{name}/log): text, not JSON, and with
// follow=true a stream that stays open, so it is read chunk by chunk as the
// server writes it. Errors are the server's Status, as ClientError, like
// every other request.
import type { IncomingMessage } from 'node:http';
import { ClientError, ConnectionError, type ClientOptions } from './http.ts';

const http = process.getBuiltinModule('node:http') as typeof import('node:http');
const https = process.getBuiltinModule('node:https') as typeof import('node:https');

export interface PodLogQuery {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  timestamps?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

export interface LogStream {
  /** Settles when the log ends (the pod was deleted, or not following) or fails. */
  done: Promise<void>;
  stop(): void;
}

export function podLogPath(namespace: string, name: string, q: PodLogQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(q)) if (value !== undefined && value !== false) params.set(key, String(value));
  const search = params.toString();
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log${search ? `?${search}` : ''}`;
}

/** Streams the log's text to onText as it arrives. */
export function streamPodLog(opts: ClientOptions, namespace: string, name: string, q: PodLogQuery, onText: (text: string) => void): LogStream {
  const url = new URL(opts.server.replace(/\/+$/, '') + podLogPath(namespace, name, q));
  const transport = url.protocol === 'https:' ? https : http;
  let res: IncomingMessage | undefined;
  let stopped = false;
  const req = transport.request(url, {
    method: 'GET',
    headers: { accept: 'text/plain', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    // What the other requests trust (client/http.ts): the cluster's CA, unless told not to check.
    ...(url.protocol === 'https:' ? { ca: opts.ca, rejectUnauthorized: !opts.insecureSkipTlsVerify } : {}),
  });
  const done = new Promise<void>((resolve, reject) => {
    req.on('response', (r) => {
      res = r;
      r.setEncoding('utf8');
      if ((r.statusCode ?? 0) >= 300) {
        let text = '';
        r.on('data', (s: string) => { text += s; });
        r.on('end', () => reject(statusError(r.statusCode ?? 0, text)));
        return;
      }
      r.on('data', onText);
      r.on('end', () => resolve());
      r.on('close', () => resolve());
      r.on('error', (err) => (stopped ? resolve() : reject(err)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (stopped) return resolve();
      reject(err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' ? new ConnectionError(opts.server, err) : err);
    });
    req.end();
  });
  return { done, stop: () => { stopped = true; res?.destroy(); req.destroy(); } };
}

function statusError(code: number, text: string): ClientError {
  try {
    const status = JSON.parse(text);
    if (status?.kind === 'Status') return new ClientError(status.message, code, status);
  } catch { /* not a Status */ }
  return new ClientError(`the server responded with ${code}: ${text.slice(0, 200)}`, code);
}
