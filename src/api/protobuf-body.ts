// Reads a request body in Kubernetes' protobuf encoding, as kubectl's typed
// clients send it (`kubectl create namespace`, `kubectl drain`'s
// evictions): the magic bytes "k8s\0", then a runtime.Unknown envelope whose
// typeMeta names the object and whose raw bytes are the object's own
// message. The object comes back in the JSON form (protobuf-json.ts), so
// everything after the read is the JSON path. Loaded only when such a body
// arrives (body.ts): protobufjs and the descriptor cost the server start and
// the CLI nothing otherwise.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/light.js';
import { checkPlainValue, ManifestError } from '../objects/manifest.ts';
import { errors } from './errors.ts';
import { messageOf, type BodyType } from './protobuf-kinds.ts';
import { ProtobufError, toJson } from './protobuf-json.ts';

const DESCRIPTOR = fileURLToPath(new URL('../../schemas/protobuf/kubernetes.json', import.meta.url));
const ENVELOPE = 'k8s.io.apimachinery.pkg.runtime.Unknown';

/** What every Kubernetes protobuf body starts with. */
export const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

let root: protobuf.Root | undefined;

/** The messages, read once (tools/protobuf-descriptor.ts writes them). */
export function protobufRoot(): protobuf.Root {
  return (root ??= protobuf.Root.fromJSON(JSON.parse(readFileSync(DESCRIPTOR, 'utf8'))));
}

interface Envelope {
  typeMeta?: { apiVersion?: string; kind?: string };
  raw?: Uint8Array;
  contentEncoding?: string;
  contentType?: string;
}

const typeName = (t: BodyType) => `${t.apiVersion} ${t.kind}`;

/** protobufjs throws plain Errors for what it cannot read (truncated, a length past the end, a bad wire type, too deep). */
function decode<T>(type: protobuf.Type, data: Uint8Array, what: string): T {
  try {
    return type.decode(data) as unknown as T;
  } catch (err) {
    throw errors.badRequest(`the request body is not a valid protobuf ${what}: ${(err as Error).message}`, err);
  }
}

/**
 * The object in a protobuf body, as JSON, when it is one of the types the
 * endpoint reads (`expected`, the first being what a typeMeta without kind
 * or version stands for, as Kubernetes defaults it from the URL). Anything
 * else is 400.
 */
export function decodeProtobufObject(data: Uint8Array, expected: readonly BodyType[]): Record<string, unknown> {
  if (data.length === 0) throw errors.badRequest('the request body is empty');
  if (data.length < MAGIC.length || MAGIC.some((b, i) => data[i] !== b)) {
    throw errors.badRequest(`the request body does not appear to be a protobuf message: it must start with the prefix [${MAGIC.join(' ')}] ("k8s\\0")`);
  }
  if (data.length === MAGIC.length) throw errors.badRequest('the protobuf request body is empty: nothing follows the "k8s\\0" prefix');
  const types = protobufRoot();
  const envelope = decode<Envelope>(types.lookupType(ENVELOPE), data.subarray(MAGIC.length), 'envelope (runtime.Unknown)');
  if (envelope.contentEncoding) throw errors.badRequest(`the protobuf envelope's content encoding ${JSON.stringify(envelope.contentEncoding)} is not supported`);
  if (envelope.contentType && envelope.contentType !== 'application/vnd.kubernetes.protobuf') {
    throw errors.badRequest(`the protobuf envelope's content type ${JSON.stringify(envelope.contentType)} is not supported: the object must be protobuf`);
  }
  const [defaults] = expected;
  const body: BodyType = { apiVersion: envelope.typeMeta?.apiVersion || defaults!.apiVersion, kind: envelope.typeMeta?.kind || defaults!.kind };
  if (!expected.some((t) => t.apiVersion === body.apiVersion && t.kind === body.kind)) {
    const served = messageOf(body) ? '' : ', which kcs does not read in protobuf';
    throw errors.badRequest(`the protobuf body holds ${typeName(body)}${served}; this endpoint reads ${expected.map(typeName).join(' or ')}`);
  }
  const type = types.lookupType(messageOf(body)!);
  const message = decode<protobuf.Message>(type, envelope.raw ?? new Uint8Array(), body.kind);
  let object: Record<string, unknown>;
  try {
    object = { apiVersion: body.apiVersion, kind: body.kind, ...(toJson(type, message) as Record<string, unknown>) };
    // What a JSON body is held to as well: no deeper than a manifest may be, no __proto__ keys.
    checkPlainValue(object);
  } catch (err) {
    if (err instanceof ProtobufError || err instanceof ManifestError) throw errors.badRequest(`the protobuf ${typeName(body)} cannot be read: ${err.message}`, err);
    throw err;
  }
  return object;
}
