// Reads a request body within the size limit and parses it by media type.
import type { Context } from 'koa';
import { ManifestError, parseDocuments, parseJson } from '../objects/manifest.ts';
import { errors } from './errors.ts';
import { PROTOBUF_MEDIA_TYPE, type BodyType } from './protobuf-kinds.ts';

/** Kubernetes' own limit for a request body. */
export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];
const OBJECT_TYPES = ['application/json', 'application/yaml'];

/** How much of a refused upload is read and thrown away so the client gets its 413. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * Reads the body, or refuses it with 413 once it passes the limit.
 * A refused body is still read to its end (and dropped) before the 413 goes
 * out: answering and closing while the client is still sending makes the
 * kernel reset the connection, and the client may never read the answer.
 * Past DISCARD_LIMIT the connection is cut instead.
 */
export function readBytes(ctx: Context, limit: number): Promise<Buffer> {
  const req = ctx.req;
  const declared = Number(ctx.get('content-length') || 0);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!refused && size > limit) {
        refused = true;
        chunks.length = 0;
      }
      if (!refused) chunks.push(chunk);
      else if (size > DISCARD_LIMIT) {
        req.socket.destroy();
        reject(errors.tooLarge(limit));
      }
    });
    req.on('end', () => (refused ? reject(errors.tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** The body as UTF-8 text, within the limit (readBytes). */
export async function readText(ctx: Context, limit: number): Promise<string> {
  return (await readBytes(ctx, limit)).toString('utf8');
}

function mediaType(ctx: Context): string {
  return (ctx.get('content-type') || 'application/json').split(';')[0].trim().toLowerCase();
}

/**
 * A body that is one object: JSON, or YAML as kubectl can send, or, where
 * the endpoint reads one of `protobufTypes`, Kubernetes' protobuf, as
 * kubectl's typed clients send it (read into the same JSON form). An
 * endpoint with none (kcs.io kinds, which Kubernetes would serve as
 * CustomResources, in JSON and YAML only) refuses protobuf with 415.
 */
export async function readObject(ctx: Context, limit: number, protobufTypes: readonly BodyType[] = []): Promise<unknown> {
  const type = mediaType(ctx);
  if (type === PROTOBUF_MEDIA_TYPE && protobufTypes.length > 0) {
    const data = await readBytes(ctx, limit);
    // Loaded on the first protobuf body: protobufjs and the message descriptor are of no use to any other request.
    const { decodeProtobufObject } = await import('./protobuf-body.ts');
    return decodeProtobufObject(data, protobufTypes);
  }
  if (!OBJECT_TYPES.includes(type) && type !== 'text/yaml' && type !== 'application/x-yaml') {
    throw errors.unsupportedMediaType(type, protobufTypes.length > 0 ? [...OBJECT_TYPES, PROTOBUF_MEDIA_TYPE] : OBJECT_TYPES);
  }
  const text = await readText(ctx, limit);
  if (text.trim() === '') throw errors.badRequest('the request body is empty');
  try {
    if (type === 'application/json') return parseJson(text);
    const docs = parseDocuments(text);
    if (docs.length !== 1) throw new ManifestError(`expected one document in the request body, got ${docs.length}`);
    return docs[0];
  } catch (err) {
    if (err instanceof ManifestError) throw errors.badRequest(err.message, err);
    throw err;
  }
}

/** A PATCH body of one of the `allowed` types: JSON, or for server-side apply YAML (of which JSON is a part). */
export async function readPatch(ctx: Context, limit: number, allowed: readonly PatchType[] = PATCH_TYPES): Promise<{ type: PatchType; patch: unknown }> {
  const type = mediaType(ctx);
  if (!(allowed as readonly string[]).includes(type)) throw errors.unsupportedMediaType(type, [...allowed]);
  const text = await readText(ctx, limit);
  try {
    if (type === 'application/apply-patch+yaml') {
      if (text.trim() === '') throw new ManifestError('the request body is empty');
      const docs = parseDocuments(text);
      if (docs.length !== 1) throw new ManifestError(`expected one document in the apply patch, got ${docs.length}`);
      return { type, patch: docs[0] };
    }
    return { type: type as PatchType, patch: parseJson(text) };
  } catch (err) {
    if (err instanceof ManifestError) throw errors.badRequest(err.message, err);
    throw err;
  }
}
