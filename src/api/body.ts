// Reads a request body within the size limit and parses it by media type.
import type { Context } from 'koa';
import { ManifestError, parseDocuments, parseJson } from '../objects/manifest.ts';
import { errors } from './errors.ts';

/** Kubernetes' own limit for a request body. */
export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];
const OBJECT_TYPES = ['application/json', 'application/yaml'];

export async function readText(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    // Say no before reading; the rest of the body is discarded with the connection.
    ctx.set('Connection', 'close');
    throw errors.tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.set('Connection', 'close');
      throw errors.tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function mediaType(ctx: Context): string {
  return (ctx.get('content-type') || 'application/json').split(';')[0].trim().toLowerCase();
}

/** A body that is one object: JSON, or YAML as kubectl can send. */
export async function readObject(ctx: Context, limit: number): Promise<unknown> {
  const type = mediaType(ctx);
  if (!OBJECT_TYPES.includes(type) && type !== 'text/yaml' && type !== 'application/x-yaml') {
    throw errors.unsupportedMediaType(type, OBJECT_TYPES);
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

export async function readPatch(ctx: Context, limit: number): Promise<{ type: PatchType; patch: unknown }> {
  const type = mediaType(ctx);
  if (!(PATCH_TYPES as readonly string[]).includes(type)) throw errors.unsupportedMediaType(type, [...PATCH_TYPES]);
  const text = await readText(ctx, limit);
  try {
    return { type: type as PatchType, patch: parseJson(text) };
  } catch (err) {
    if (err instanceof ManifestError) throw errors.badRequest(err.message, err);
    throw err;
  }
}
