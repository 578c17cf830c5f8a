// A decoded Kubernetes protobuf message turned into the JSON Kubernetes
// writes for the same Go object, so a protobuf body reaches validation and
// admission in the shape a JSON body has. The rules are Go's (encoding/json
// over the types the messages are generated from), read from the two options
// tools/protobuf-descriptor.ts puts on each field:
//   - a field is written under its JSON name; an inline one's fields join
//     its parent's (Volume's volumeSource, Probe's handler);
//   - Go writes every non-pointer field, zero or not, so a zero scalar is
//     "unset" and is left out where Go's JSON omits it (omitempty); a
//     pointer field is there only when set, so it is kept even when zero
//     (terminationGracePeriodSeconds: 0, runAsUser: 0);
//   - a field the sender did not write at all is left out, as are empty
//     lists and maps (Go cannot tell them from nil on the wire);
//   - the types with a JSON form of their own are written in it (SPECIAL).
import type { Field, Message, Type } from 'protobufjs';
import { ManifestError, parseJson } from '../objects/manifest.ts';

/** The body holds something no Kubernetes server would take: the caller answers 400. */
export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

type Fields = Record<string, unknown>;

interface GoField {
  /** The JSON name; '' for an inline field. */
  name: string;
  omitempty: boolean;
  inline: boolean;
  pointer: boolean;
}

const goFields = new WeakMap<Field, GoField>();

/** The field's Go json tag and pointer-ness, as the descriptor carries them. */
function goField(field: Field): GoField {
  let g = goFields.get(field);
  if (!g) {
    const tag = (field.options?.['(go.json)'] as string | undefined) ?? field.name;
    const [name = '', ...flags] = tag.split(',');
    g = { name, omitempty: flags.includes('omitempty'), inline: name === '' && flags.includes('inline'), pointer: field.options?.['(go.pointer)'] === true };
    goFields.set(field, g);
  }
  return g;
}

const has = (message: object, name: string) => Object.prototype.hasOwnProperty.call(message, name);

interface LongLike { toNumber(): number }

/** int64 arrives as a Long (protobufjs with the long package) or a number; JSON has numbers, as Kubernetes writes int64. */
function int64(value: unknown): number {
  return typeof value === 'number' ? value : (value as LongLike).toNumber();
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** A scalar in its JSON form: bytes as base64, int64 as a number. */
function scalar(field: Field, value: unknown): unknown {
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (LONG_TYPES.has(field.type)) return int64(value);
  return value;
}

/** What Go's omitempty leaves out: false, 0, "" (and empty bytes, written "" in base64). */
const isZero = (value: unknown) => value === false || value === 0 || value === '';

// ---- the types with a JSON form of their own ----------------------------------------

/** Go's zero time.Time (January 1, year 1, UTC) in Unix seconds: Kubernetes writes it as null. */
const GO_ZERO_TIME = -62135596800;

/** RFC 3339 in UTC with `digits` of fraction (0: none), as Go formats metav1.Time and MicroTime. */
function rfc3339(seconds: number, nanos: number, digits: number, path: string): string {
  // time.Unix normalizes nanoseconds outside [0, 1e9) into the seconds.
  const s = seconds + Math.floor(nanos / 1e9);
  const n = ((nanos % 1e9) + 1e9) % 1e9;
  const date = new Date(s * 1000);
  const year = date.getUTCFullYear();
  // Go refuses to write a year outside 0..9999 in RFC 3339; so does Kubernetes.
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new ProtobufError(`${path}: the time ${seconds}s is outside the years 0 to 9999`);
  const iso = date.toISOString().slice(0, 19);
  return `${iso}${digits ? `.${String(Math.floor(n / 10 ** (9 - digits))).padStart(digits, '0')}` : ''}Z`;
}

/** A Time or MicroTime: absent on the wire (what Go writes for the zero time) is null, and left out. */
function time(digits: number) {
  return (message: Message, path: string): unknown => {
    const m = message as unknown as { seconds?: unknown; nanos?: number };
    if (!has(m, 'seconds') && !has(m, 'nanos')) return undefined;
    const seconds = int64(m.seconds ?? 0);
    if (seconds === GO_ZERO_TIME && !m.nanos) return undefined;
    // metav1.Time keeps whole seconds (Go drops the nanoseconds it reads); MicroTime keeps microseconds.
    return rfc3339(seconds, digits ? Math.trunc((m.nanos ?? 0) / 1000) * 1000 : 0, digits, path);
  };
}

/** Bytes that are JSON (FieldsV1, RawExtension) as the value they hold; none is null, and left out. */
function rawJson(field: string) {
  return (message: Message, path: string): unknown => {
    const raw = (message as unknown as Record<string, Uint8Array | undefined>)[field];
    if (!raw || !has(message, field)) return undefined;
    try {
      return parseJson(Buffer.from(raw).toString('utf8'));
    } catch (err) {
      if (err instanceof ManifestError) throw new ProtobufError(`${path}: ${err.message}`);
      throw err;
    }
  };
}

/** The messages written in a JSON form of their own, by full name (tools/protobuf-descriptor.ts reads the list). */
export const SPECIAL: Record<string, (message: Message, path: string) => unknown> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': time(0),
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': time(6),
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': rawJson('Raw'),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': rawJson('raw'),
  // Go's zero Quantity is written "0".
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (m) => (m as unknown as { string?: string }).string || '0',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (message, path) => {
    const m = message as unknown as { type?: unknown; intVal?: number; strVal?: string };
    const type = int64(m.type ?? 0);
    if (type === 0) return m.intVal ?? 0;
    if (type === 1) return m.strVal ?? '';
    throw new ProtobufError(`${path}: an IntOrString of type ${type} (0 is an integer, 1 a string)`);
  },
};

// ---- messages ---------------------------------------------------------------------------

/** One value of a field (an element of a list, a value of a map) in JSON. */
function value(field: Field, v: unknown, path: string): unknown {
  const type = field.resolvedType as Type | null;
  return type ? toJson(type, v as Message, path) : scalar(field, v);
}

/**
 * The message as Kubernetes writes it in JSON. `path` names it in errors
 * (`spec.containers[0].resources`). Undefined for a value Kubernetes writes
 * as null (a zero Time), which the caller leaves out.
 */
export function toJson(type: Type, message: Message, path = ''): unknown {
  const special = SPECIAL[type.fullName.slice(1)];
  if (special) return special(message, path || type.name);
  const out: Fields = {};
  for (const field of type.fieldsArray) {
    const go = goField(field);
    if (go.name === '-') continue;
    const at = go.inline ? path : path ? `${path}.${go.name}` : go.name;
    const v = (message as unknown as Fields)[field.name];
    let json: unknown;
    if (field.map) {
      const entries = Object.keys(v as object);
      if (entries.length === 0) continue;
      const map: Fields = {};
      for (const key of entries) {
        // Refused as a JSON body's would be: a map key never reaches an object's prototype.
        if (key === '__proto__') throw new ProtobufError(`${at}: the forbidden key "__proto__"`);
        const entry = value(field, (v as Fields)[key], `${at}[${JSON.stringify(key)}]`);
        if (entry !== undefined) map[key] = entry;
      }
      json = map;
    } else if (field.repeated) {
      if ((v as unknown[]).length === 0) continue;
      json = (v as unknown[]).map((e, i) => value(field, e, `${at}[${i}]`)).filter((e) => e !== undefined);
    } else {
      if (!has(message, field.name)) continue;
      json = value(field, v, at);
      if (json === undefined) continue;
      if (!field.resolvedType && !go.pointer && go.omitempty && isZero(json)) continue;
    }
    if (go.inline) Object.assign(out, json);
    else out[go.name] = json;
  }
  return out;
}
