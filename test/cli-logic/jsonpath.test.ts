// kubectl's JSONPath template layer, custom columns and --sort-by, without a server.
import test from 'ava';
import { executeTemplate, findResults, parseTemplate, relaxedPath, TemplateError } from '../../src/cli/printers/jsonpath.ts';
import { goValue, parseCustomColumns, parseCustomColumnsFile, renderCustomColumns } from '../../src/cli/printers/custom-columns.ts';
import { naturalCompare, sortObjects } from '../../src/cli/printers/sort.ts';
import type { KubeObject } from '../../src/objects/types.ts';

const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...((extra.metadata as object) ?? {}) }, ...extra } as KubeObject);
const list = {
  apiVersion: 'v1', kind: 'List',
  items: [
    pod('a', { metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } }, spec: { nodeName: 'n1' }, status: { phase: 'Running', restarts: 1 } }),
    pod('b'),
    pod('c', { spec: { nodeName: 'n2' }, status: { phase: 'Pending', restarts: 3 } }),
  ],
};
const run = (template: string, data: unknown = list) => executeTemplate(parseTemplate(template), data);

test('a path prints every value it selects, space-separated, and text outside braces as is', (t) => {
  t.is(run('{.items[*].metadata.name}'), 'a b c');
  t.is(run('kind={.kind} last={.items[-1:].metadata.name}'), 'kind=List last=c');
  t.is(run('{.items[0,2].spec.nodeName}'), 'n1 n2');
  t.is(run('{..phase}'), 'Running Pending');
  t.is(run('{$.kind}'), 'List');
});

test('range repeats its body for each value, with paths relative to it, and string literals unescape', (t) => {
  t.is(run('{range .items[*]}{.metadata.name}{"\\t"}{.spec.nodeName}{"\\n"}{end}'), 'a\tn1\nb\t\nc\tn2\n');
  t.is(run('{range .items[*]}[{.metadata.name}]{end}'), '[a][b][c]');
  const pods = { items: [{ name: 'p', containers: [{ name: 'c1' }, { name: 'c2' }] }, { name: 'q', containers: [{ name: 'c3' }] }] };
  t.is(run('{range .items[*]}{.name}:{range .containers[*]}{.name},{end};{end}', pods), 'p:c1,c2,;q:c3,;', 'ranges nest');
});

test('filters compare as kubectl does: a missing field is no match, numbers order, strings equal', (t) => {
  t.is(run('{.items[?(@.status.phase=="Running")].metadata.name}'), 'a');
  t.is(run('{.items[?(@.status.phase!="Running")].metadata.name}'), 'c', 'b has no phase: kubectl skips it for every operator');
  t.is(run('{.items[?(@.status.restarts > 2)].metadata.name}'), 'c');
  t.is(run('{.items[?(@.status.restarts<=1)].metadata.name}'), 'a');
  t.is(run('{.items[?(@.spec.nodeName)].metadata.name}'), 'a c', 'a bare path: the field exists');
  t.is(run("{.items[?(@.metadata.name=='c')].status.phase}"), 'Pending');
});

test('dotted keys are reached with brackets or escaped dots; maps and lists print as compact JSON with sorted keys', (t) => {
  t.is(run("{.items[0].metadata.labels['app.kubernetes.io/name']}"), 'web');
  t.is(run('{.items[0].metadata.labels.app\\.kubernetes\\.io/name}'), 'web');
  t.is(run('{.items[0].metadata.labels}'), '{"app.kubernetes.io/name":"web","tier":"front"}');
  t.is(run('{.items[1].nothing.here}'), '', 'missing fields print nothing, as kubectl get allows missing keys');
});

test('malformed templates are refused with the reason', (t) => {
  t.throws(() => parseTemplate('{.items[*]'), { instanceOf: TemplateError, message: /unclosed action/ });
  t.throws(() => parseTemplate('{range .items[*]}{.x}'), { instanceOf: TemplateError, message: /not closed by \{end\}/ });
  t.throws(() => parseTemplate('{end}'), { instanceOf: TemplateError, message: /not in range/ });
  t.throws(() => run('{items}'), { instanceOf: TemplateError, message: /unrecognized identifier items/ });
});

test('relaxed paths accept kubectl\'s spellings', (t) => {
  for (const p of ['.metadata.name', 'metadata.name', '{.metadata.name}', '{metadata.name}']) t.is(relaxedPath(p), '.metadata.name', p);
  t.deepEqual(findResults(relaxedPath('spec.nodeName'), list.items[0]), ['n1']);
});

test('custom columns: <none> for no value, values joined by commas, Go formatting of maps; a file gives headers then paths', (t) => {
  const cols = parseCustomColumns('NAME:.metadata.name,NODE:spec.nodeName,LABELS:.metadata.labels,ALL:{.items}');
  t.deepEqual(cols.map((c) => c.header), ['NAME', 'NODE', 'LABELS', 'ALL']);
  const out = renderCustomColumns(cols.slice(0, 3), list.items);
  t.is(out, [
    'NAME   NODE     LABELS',
    'a      n1       map[app.kubernetes.io/name:web tier:front]',
    'b      <none>   <none>',
    'c      n2       <none>',
  ].join('\n'));
  t.is(renderCustomColumns(parseCustomColumns('N:.items[*].metadata.name'), [list as unknown as KubeObject], { noHeaders: true }), 'a,b,c');
  t.throws(() => parseCustomColumns('NAME'), { message: /expected <header>:<json-path-expr>/ });
  t.deepEqual(parseCustomColumnsFile('NAME   NODE\n.metadata.name   .spec.nodeName\n').map((c) => c.path), ['.metadata.name', '.spec.nodeName']);
  t.throws(() => parseCustomColumnsFile('NAME NODE\n.metadata.name\n'), { message: 'expected 2 columns, got 1' });
  t.is(goValue([1, 'x', { b: 2, a: null }]), '[1 x map[a:<nil> b:2]]');
});

test('--sort-by orders numbers and quantities by value, text naturally, objects without the field first, and keeps ties in order', (t) => {
  const withCpu = (name: string, cpu?: string, n?: number) => pod(name, { spec: { cpu, n } });
  const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name);
  const objs = [withCpu('x', '1500m', 10), withCpu('y', '2', 9), withCpu('z'), withCpu('w', '500m', 100), withCpu('v', '1Gi', 2), withCpu('u', '1G', 2)];
  t.deepEqual(names(sortObjects(objs.slice(0, 4), '.spec.cpu')), ['z', 'w', 'x', 'y'], '500m < 1500m < 2 though "2" < "500m" as text');
  t.deepEqual(names(sortObjects(objs.slice(4), 'spec.cpu')), ['u', 'v'], '1G < 1Gi');
  t.deepEqual(names(sortObjects(objs, '{.spec.n}')), ['z', 'v', 'u', 'y', 'x', 'w'], 'numbers by value; ties keep their order');
  const nodes = ['node-10', 'node-2', 'node-1'].map((n) => pod(n));
  t.deepEqual(names(sortObjects(nodes, '.metadata.name')), ['node-1', 'node-2', 'node-10']);
  t.true(naturalCompare('a01', 'a1') > 0 && naturalCompare('a1', 'a01') < 0, 'equal numbers: fewer leading zeros first');
  t.throws(() => sortObjects(nodes, '.spec.nothing'), { instanceOf: TemplateError, message: 'couldn\'t find any field with path "{.spec.nothing}" in the list of objects' });
  const times = ['2026-01-02T00:00:00Z', '2025-12-31T23:59:59Z'].map((ts, i) => pod(`t${i}`, { metadata: { name: `t${i}`, creationTimestamp: ts } }));
  t.deepEqual(names(sortObjects(times, '.metadata.creationTimestamp')), ['t1', 't0']);
});
