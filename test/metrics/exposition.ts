// A reader for Prometheus' text exposition format (version 0.0.4), enough to
// check what GET /metrics serves line by line: # HELP and # TYPE lines,
// samples with quoted, escaped label values, and the special float values.
// Anything else is a format error, so a malformed exposition fails the test.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Metric family name -> its TYPE (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  text.split('\n').forEach((line, i) => {
    const fail = (why: string): never => { throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`); };
    if (line === '') return;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, what, name, rest] = meta;
      if (what === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!)) fail('unknown type');
        out.types.set(name!, rest!);
      } else {
        out.help.set(name!, rest!);
      }
      return;
    }
    if (line.startsWith('#')) return;
    const name = NAME.exec(line)?.[0] ?? fail('no metric name');
    let at = name.length;
    const labels: Record<string, string> = {};
    if (line[at] === '{') {
      at++;
      while (line[at] !== '}') {
        const label = LABEL_NAME.exec(line.slice(at))?.[0] ?? fail('bad label name');
        at += label.length;
        if (line.slice(at, at + 2) !== '="') fail('expected =" after a label name');
        at += 2;
        let value = '';
        for (;; at++) {
          const c = line[at] ?? fail('unterminated label value');
          if (c === '"') break;
          if (c === '\\') {
            const e = line[++at];
            value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : fail('bad escape');
          } else {
            value += c;
          }
        }
        at++;
        if (label in labels) fail(`label ${label} twice`);
        labels[label] = value;
        if (line[at] === ',') at++;
        else if (line[at] !== '}') fail('expected , or }');
      }
      at++;
    }
    const fields = line.slice(at).trim().split(/\s+/);
    if (line[at] !== ' ' || fields.length < 1 || fields.length > 2) fail('expected a value (and a timestamp)');
    out.samples.push({ name, labels, value: parseValue(fields[0]!) ?? fail('bad value') });
  });
  return out;
}

/** A float as Prometheus reads one (Go's ParseFloat): NaN and Inf in any case, as prom-client writes "Nan". */
function parseValue(s: string): number | undefined {
  if (/^nan$/i.test(s)) return NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  const n = Number(s);
  return s !== '' && !Number.isNaN(n) ? n : undefined;
}

/** The samples of name whose labels include every one given. */
export function samples(exp: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of name with exactly these labels' values (others may be there); undefined if none. Two is an error. */
export function value(exp: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(exp, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
