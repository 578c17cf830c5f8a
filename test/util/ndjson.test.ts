import test from 'ava';
import { NdjsonParser } from '../../src/util/ndjson.ts';

/** Feeds chunks to a parser and returns what it delivered (end() called unless told not to). */
function parse(chunks: Array<string | Uint8Array>, opts: { end?: boolean; bad?: string[] } = {}): unknown[] {
  const out: unknown[] = [];
  const parser = new NdjsonParser(opts.bad ? { onBadLine: (line) => opts.bad!.push(line) } : {});
  for (const c of chunks) parser.push(c, (v) => out.push(v));
  if (opts.end !== false) parser.end((v) => out.push(v));
  return out;
}

test('one value per line, in order, as each line completes', (t) => {
  const out: unknown[] = [];
  const parser = new NdjsonParser();
  parser.push('{"a":1}\n{"b":2}\n{"c"', (v) => out.push(v));
  t.deepEqual(out, [{ a: 1 }, { b: 2 }], 'the complete lines, not the partial one');
  parser.push(':3}\n', (v) => out.push(v));
  t.deepEqual(out, [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

test('a line split across many chunks, even one character at a time', (t) => {
  const text = '{"type":"ADDED","object":{"name":"a b"}}\n{"type":"DELETED"}\n';
  t.deepEqual(parse([...text]), [{ type: 'ADDED', object: { name: 'a b' } }, { type: 'DELETED' }]);
});

test('blank and whitespace-only lines are skipped, and \\r\\n endings are fine', (t) => {
  t.deepEqual(parse(['\n\n{"a":1}\r\n', '   \n\t\n', '{"b":2}\n\n']), [{ a: 1 }, { b: 2 }]);
  t.deepEqual(parse(['', '\n', '']), []);
});

test('a last line without a newline is delivered by end(), and only by end()', (t) => {
  t.deepEqual(parse(['{"a":1}\n{"b"', ':2}']), [{ a: 1 }, { b: 2 }]);
  t.deepEqual(parse(['{"a":1}\n{"b":2}'], { end: false }), [{ a: 1 }]);
  t.deepEqual(parse(['{"a":1}\n  \n']), [{ a: 1 }], 'a blank tail is nothing');
});

test('byte chunks are decoded as UTF-8, a character split between chunks included', (t) => {
  const bytes = new TextEncoder().encode('{"name":"café ☃"}\n');
  const at = bytes.indexOf(0xe2); // the snowman's first byte of three
  t.deepEqual(parse([bytes.subarray(0, at + 1), bytes.subarray(at + 1, at + 2), bytes.subarray(at + 2)]), [{ name: 'café ☃' }]);
  // The end of the stream flushes a last line given as bytes.
  t.deepEqual(parse([new TextEncoder().encode('{"x":"é"}')]), [{ x: 'é' }]);
});

test('any JSON value is a line\'s value', (t) => {
  t.deepEqual(parse(['1\n"s"\nnull\n[1,2]\ntrue\n']), [1, 's', null, [1, 2], true]);
});

test('with onBadLine, a line that is not JSON is handed to it and skipped', (t) => {
  const bad: string[] = [];
  t.deepEqual(parse(['{"a":1}\nnot json\n{"b":', '2}\n{"c"'], { bad }), [{ a: 1 }, { b: 2 }]);
  t.deepEqual(bad, ['not json', '{"c"'], 'a truncated last line is a bad line too');
});

test('without onBadLine, a bad line throws from push(); the lines before it were delivered and those after it come with the next push', (t) => {
  const out: unknown[] = [];
  const parser = new NdjsonParser();
  const err = t.throws(() => parser.push('{"a":1}\n{oops}\n{"b":2}\n', (v) => out.push(v)), { instanceOf: SyntaxError });
  t.regex(err.message, /\{oops\}/);
  t.truthy(err.cause, 'the JSON.parse error is its cause');
  t.deepEqual(out, [{ a: 1 }]);
  parser.push('{"c":3}\n', (v) => out.push(v));
  t.deepEqual(out, [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

test('without onBadLine, a bad last line throws from end()', (t) => {
  const parser = new NdjsonParser();
  parser.push('{"a":1}\n{"trunc', () => {});
  t.throws(() => parser.end(() => {}), { instanceOf: SyntaxError, message: /\{"trunc/ });
});

test('an error thrown by the callback is the caller\'s: it propagates and the rest stays buffered', (t) => {
  const out: unknown[] = [];
  const parser = new NdjsonParser<{ n: number }>();
  const boom = new Error('boom');
  t.is(t.throws(() => parser.push('{"n":1}\n{"n":2}\n', (v) => { if (v.n === 1) throw boom; out.push(v); })), boom);
  t.deepEqual(out, []);
  parser.end((v) => out.push(v));
  t.deepEqual(out, [{ n: 2 }]);
});

test('a long bad line is quoted shortened in the error', (t) => {
  const parser = new NdjsonParser();
  const err = t.throws(() => parser.push(`${'x'.repeat(10_000)}\n`, () => {}));
  t.true(err!.message.length < 300, `${err!.message.length} characters`);
});
