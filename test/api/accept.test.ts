// The Accept header as the API server reads it: clauses in the client's
// order (q first), conversions asked for with as/g/v, 406 when none is served.
import test from 'ava';
import { negotiate, parseAccept } from '../../src/api/accept.ts';
import { ApiError } from '../../src/api/errors.ts';

test('clauses keep the client\'s order, ranked by q, with their parameters; q=0 means never', (t) => {
  const clauses = parseAccept('application/json;as=Table;v=v1;g=meta.k8s.io, application/json ; q=0.5,text/html;q=0, Application/JSON;as="Table";v=v1beta1;g=meta.k8s.io');
  t.deepEqual(clauses.map((c) => [c.type, c.subtype, c.params.v ?? '', c.q]), [
    ['application', 'json', 'v1', 1],
    ['application', 'json', 'v1beta1', 1],
    ['application', 'json', '', 0.5],
  ]);
  t.is(clauses[1]!.params.as, 'Table', 'quotes are taken off values');
  t.deepEqual(parseAccept(''), []);
  t.deepEqual(parseAccept('garbage'), []);
});

test('negotiate serves the first clause it can, plain JSON for a wildcard, and 406 when nothing is left', (t) => {
  const tableOnly = (c: { kind: string; version: string }) => (c.kind === 'Table' && c.version === 'v1' ? 'table' : null);
  t.is(negotiate(undefined, 'plain', tableOnly), 'plain');
  t.is(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', 'plain', tableOnly), 'table');
  t.is(negotiate('application/json;as=Table;v=v9;g=meta.k8s.io,application/*', 'plain', tableOnly), 'plain');
  t.is(negotiate('text/plain,*/*', 'plain', tableOnly), 'plain');
  const refused = t.throws(() => negotiate('application/yaml,application/json;as=Table;v=v9;g=meta.k8s.io', 'plain', tableOnly), { instanceOf: ApiError });
  t.is(refused!.code, 406);
  t.is(refused!.reason, 'NotAcceptable');
});
