// GET /api/v1/namespaces/{ns}/pods/{name}/log: a simulated container's log
// as text/plain, with Kubernetes' parameters (container, follow, previous,
// timestamps, tailLines, sinceSeconds/sinceTime, limitBytes). The lines are
// derived from what the cluster recorded about the pod (objects/container-log.ts):
// the Events about it, read from the object cache, and its status. With
// follow=true the response stays open and each new line is sent as the
// pod's status and Events change, until the pod is deleted or the client
// leaves.
import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { containerLog, formatLine, lineKey, previousRunEnd, type EventRecord, type LogLine } from '../objects/container-log.ts';
import { kindByName } from '../objects/kinds.ts';
import type { Pod } from '../objects/types.ts';
import type { Authorizer } from './auth.ts';
import { errors } from './errors.ts';
import { parsePodLogOptions, type PodLogOptions } from './pod-log-options.ts';
import type { Registry } from './registry.ts';
import { check, namespaceParam } from './request.ts';

const PODS = kindByName('Pod')!;
const EVENTS = kindByName('Event')!;

/** A follower that stops reading is dropped past this much unsent text, as a watch is. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export function mountPodLog(router: Router, registry: Registry, authorize: Authorizer): void {
  router.get('/api/v1/namespaces/:namespace/pods/:name/log', async (ctx) => {
    const namespace = namespaceParam(ctx);
    const name = ctx.params.name;
    await check(ctx, authorize, { verb: 'get', resource: 'pods', subresource: 'log', namespace, name });
    const options = parsePodLogOptions(ctx, name, registry.clock.now());
    const pod = (await registry.get(PODS, namespace, name)) as Pod;
    const container = chooseContainer(pod, options.container);
    const previousEnd = options.previous ? previousRunEnd(pod, container) : undefined;
    if (options.previous && previousEnd === undefined) {
      throw errors.badRequest(`previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(name)} not found`);
    }
    const events = await registry.list(EVENTS, namespace, { fieldSelector: `involvedObject.uid=${pod.metadata.uid}` });
    const lines = containerLog(pod, container, events.items as EventRecord[]);
    const shown = select(lines, options, previousEnd);
    ctx.type = 'text/plain; charset=utf-8';
    if (!options.follow || options.previous) {
      ctx.body = cut(shown.map((l) => formatLine(l, options.timestamps)).join(''), options.limitBytes);
      return;
    }
    await follow(ctx, registry, pod, container, options, { lines, shown, events: events.items as EventRecord[], revision: events.metadata.resourceVersion });
  });
}

/** The container the request is about, or Kubernetes' 400 when it must be named or names none of the pod's. */
function chooseContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name!;
  const containers = pod.spec.containers ?? [];
  const inits = pod.spec.initContainers ?? [];
  if (requested !== undefined) {
    if (![...containers, ...inits].some((c) => c.name === requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
  if (inits.length) message += ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]`;
  throw errors.badRequest(message);
}

/** The lines the options ask for: up to the previous run's end, since a time, the last tailLines. */
function select(lines: LogLine[], options: PodLogOptions, previousEnd: number | undefined): LogLine[] {
  let out = lines;
  if (previousEnd !== undefined) out = out.filter((l) => l.at <= previousEnd);
  if (options.since !== undefined) out = out.filter((l) => l.at >= options.since!);
  if (options.tailLines !== undefined) out = options.tailLines === 0 ? [] : out.slice(-options.tailLines);
  return out;
}

/** At most limit bytes of text, cut wherever the limit falls (as the kubelet cuts). */
function cut(text: string, limit: number | undefined): string | Buffer {
  if (limit === undefined || Buffer.byteLength(text) <= limit) return text;
  return Buffer.from(text).subarray(0, limit);
}

interface Start {
  /** The whole log now, and the part of it sent first. */
  lines: LogLine[];
  shown: LogLine[];
  events: EventRecord[];
  /** The revision the events were listed at: the watch goes on from there. */
  revision: string;
}

/**
 * Sends the lines so far, then every new line as the pod and its Events
 * change. A line is known by its time and text, so each is sent once,
 * whatever else the log then holds; lines the options left out at the start
 * (tailLines, since) are not sent later either.
 */
async function follow(ctx: Context, registry: Registry, pod: Pod, container: string, options: PodLogOptions, start: Start): Promise<void> {
  const out = new PassThrough();
  const sent = new Set(start.lines.map(lineKey));
  const events = new Map(start.events.map((e) => [e.metadata.name!, e]));
  let current = pod;
  let bytes = 0;
  const stops: Array<() => void> = [];
  const finish = () => {
    for (const stop of stops.splice(0)) stop();
    if (!out.writableEnded) out.end();
  };
  const write = (lines: LogLine[]) => {
    for (const line of lines) {
      if (out.writableEnded) return;
      if (out.writableLength > MAX_BUFFERED) return finish();
      let text: string | Buffer = formatLine(line, options.timestamps);
      if (options.limitBytes !== undefined) {
        text = cut(text, options.limitBytes - bytes);
        bytes += Buffer.byteLength(text);
      }
      out.write(text);
      if (options.limitBytes !== undefined && bytes >= options.limitBytes) return finish();
    }
  };
  const refresh = () => {
    const fresh = containerLog(current, container, events.values()).filter((l) => !sent.has(lineKey(l)));
    for (const line of fresh) sent.add(lineKey(line));
    write(fresh);
  };
  write(start.shown);
  const uid = pod.metadata.uid;
  const namespace = pod.metadata.namespace;
  try {
    stops.push(await registry.watch(PODS, namespace, { fieldSelector: `metadata.name=${pod.metadata.name}`, resourceVersion: pod.metadata.resourceVersion }, {
      event: (type, view) => {
        const next = view.object() as Pod;
        // Deleted, or deleted and made again under its name: this container's log is over.
        if (type === 'DELETED' || next.metadata.uid !== uid) return finish();
        current = next;
        refresh();
      },
      end: finish,
    }));
    stops.push(await registry.watch(EVENTS, namespace, { fieldSelector: `involvedObject.uid=${uid}`, resourceVersion: start.revision }, {
      event: (type, view) => {
        // A line once written stays written: an Event that goes away takes nothing back.
        if (type === 'DELETED') return;
        const event = view.object() as EventRecord;
        events.set(event.metadata.name!, event);
        refresh();
      },
      end: finish,
    }));
  } catch (err) {
    finish();
    throw err;
  }
  if (out.writableEnded) finish();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.req.on('close', finish);
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('Transfer-Encoding', 'chunked');
  ctx.body = out;
  // The client knows the log is open even before it has a line.
  ctx.flushHeaders();
}
