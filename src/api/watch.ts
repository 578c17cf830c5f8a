// Streams watch events over HTTP the way the Kubernetes API does: a chunked
// 200 response with one JSON event per line, ending with an ERROR event when
// the watch cannot continue (e.g. 410 Expired for a compacted revision).
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { KindInfo } from '../objects/kinds.ts';
import { ApiError } from './errors.ts';
import type { EventView, Registry, WatchOptions } from './registry.ts';

export interface StreamOptions extends WatchOptions {
  timeoutSeconds?: number;
  /**
   * Writes an event in another shape than the object as stored (a Table for
   * kubectl get -w). Unset, each event is the cache's shared JSON line.
   */
  encode?: (type: string, view: EventView) => string;
}

export async function streamWatch(ctx: Context, registry: Registry, kind: KindInfo, namespace: string | undefined, opts: StreamOptions): Promise<void> {
  const out = new PassThrough();
  // A client that stops reading must not grow the server's memory without
  // bound: past this much unsent data the watch ends, as Kubernetes ends
  // slow watchers; the client lists and watches again.
  const maxBuffered = 16 * 1024 * 1024;
  let stop: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const encode = opts.encode;
  const finish = (err?: ApiError) => {
    stop?.();
    stop = undefined;
    if (timer) clearTimeout(timer);
    if (out.writableEnded) return;
    if (err) out.write(JSON.stringify({ type: 'ERROR', object: err.toStatus() }) + '\n');
    out.end();
  };
  try {
    stop = await registry.watch(kind, namespace, opts, {
      event: (type, view) => {
        if (out.writableEnded) return;
        if (out.writableLength > maxBuffered) {
          finish(new ApiError(410, 'Expired', 'the watch fell too far behind; list and watch again'));
          return;
        }
        out.write((encode ? encode(type, view) : view.json()) + '\n');
      },
      end: finish,
    });
  } catch (err) {
    // Kubernetes reports an expired revision inside the stream, not as the HTTP status.
    if (err instanceof ApiError && err.code === 410) {
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ type: 'ERROR', object: err.toStatus() }) + '\n';
      return;
    }
    throw err;
  }
  // The first burst (the current objects) may already have ended it: stop the watcher now that we can.
  if (out.writableEnded) stop?.();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.req.on('close', () => finish());
  if (opts.timeoutSeconds && opts.timeoutSeconds > 0) timer = setTimeout(() => finish(), opts.timeoutSeconds * 1000);
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('Transfer-Encoding', 'chunked');
  ctx.body = out;
  // Send the headers now: a watch with nothing to report yet must still tell the client it started.
  ctx.flushHeaders();
}
