// Builds request bodies in Kubernetes' protobuf encoding for the tests,
// with protobufjs from the same descriptor the server reads: the "k8s\0"
// prefix, then a runtime.Unknown envelope holding the object's message.
// Messages are written in their protobuf shape (field names as in
// generated.proto, Quantity as {string}, Time as {seconds}), which is what
// a Go client puts on the wire; fields given, even zero or empty, are
// written, as Go writes every non-pointer field.
import type { Type } from 'protobufjs';
import { MAGIC, protobufRoot } from '../../src/api/protobuf-body.ts';
import { messageOf, type BodyType } from '../../src/api/protobuf-kinds.ts';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export const messageType = (name: string): Type => protobufRoot().lookupType(name);

/** One message's bytes, from its protobuf-shaped object. */
export function encodeMessage(type: Type, object: Record<string, unknown>): Uint8Array {
  const problem = type.verify(object);
  if (problem) throw new Error(`${type.name}: ${problem}`);
  return type.encode(type.fromObject(object)).finish();
}

/** The envelope's own fields, to send a malformed one. */
export interface EnvelopeFields {
  typeMeta?: { apiVersion?: string; kind?: string };
  contentEncoding?: string;
  contentType?: string;
}

/** A whole body: prefix, envelope, and the object's message (of `type`'s kind, or `raw` as given). */
export function protobufBody(type: BodyType, object: Record<string, unknown>, envelope: EnvelopeFields = {}): Uint8Array {
  const name = messageOf(type);
  if (!name) throw new Error(`no protobuf message for ${type.apiVersion} ${type.kind}`);
  return envelopeBody(encodeMessage(messageType(name), object), { typeMeta: type, ...envelope });
}

/** The prefix and an envelope around `raw`. */
export function envelopeBody(raw: Uint8Array, envelope: EnvelopeFields): Uint8Array {
  const unknown = encodeMessage(messageType('k8s.io.apimachinery.pkg.runtime.Unknown'), { ...envelope, raw });
  return Buffer.concat([MAGIC, unknown]);
}

/** A POST, PUT or DELETE with a protobuf body, answered in JSON. */
export async function sendProtobuf(api: { url: string; token: string }, method: string, path: string, body: Uint8Array): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(api.url + path, { method, headers: { authorization: `Bearer ${api.token}`, 'content-type': PROTOBUF, accept: 'application/json' }, body });
  const text = await res.text();
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text };
}
