// `kcs explain` as a real bin/kcs process against a real `kcs up`: the
// schema the server publishes at /openapi/v3, printed as kubectl explain.
import test from 'ava';
import { explain, typeName, wrap } from '../../src/cli/printers/explain.ts';
import { sharedServer } from './helpers.ts';

const server = sharedServer(test);

test('kcs explain pods.spec.containers shows the field, its type and the real Container fields', async (t) => {
  const r = await server().kcs(['explain', 'pods.spec.containers']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.deepEqual(lines.slice(0, 4), ['KIND:       Pod', 'VERSION:    v1', '', 'FIELD: containers <[]Container>']);
  t.regex(r.stdout, /DESCRIPTION:\n {4}List of containers belonging to the pod\./);
  t.true(lines.includes('  name\t<string> -required-'), 'name is required');
  t.true(lines.includes('  image\t<string>'));
  t.true(lines.includes('  ports\t<[]ContainerPort>'));
  t.true(lines.includes('  resources\t<ResourceRequirements>'));
  t.true(lines.includes('  livenessProbe\t<Probe>'), 'fields kcs keeps but does not simulate are explained too');
  t.true(lines.includes('  imagePullPolicy\t<string>'));
  t.true(lines.includes('  enum: Always, IfNotPresent, Never'), 'an enum lists its values');
});

test('kcs explain shows kcs\'s own fields, the group of a grouped kind, and the tree with --recursive', async (t) => {
  const capacity = await server().kcs(['explain', 'node.spec.capacity']);
  t.is(capacity.code, 0, capacity.stderr);
  t.regex(capacity.stdout, /FIELD: capacity <map\[string\]string>/, 'a map of quantities, which are strings on the wire, as kubectl names it');
  t.regex(capacity.stdout, /kcs: the size of the simulated machine/);

  const lease = await server().kcs(['explain', 'leases.spec']);
  t.regex(lease.stdout, /^GROUP: {6}coordination\.k8s\.io\nKIND: {7}Lease\nVERSION: {4}v1\n/);
  t.regex(lease.stdout, /\n {2}renewTime\t<string>\n/);

  const tree = await server().kcs(['explain', 'pods', '--recursive']);
  t.is(tree.code, 0, tree.stderr);
  t.regex(tree.stdout, /\n {2}spec\t<PodSpec>\n {4}activeDeadlineSeconds\t<integer>\n/);
  t.regex(tree.stdout, /\n {4}containers\t<\[\]Container> -required-\n {6}args\t<\[\]string>\n/);
  t.notRegex(tree.stdout, /Arguments to the entrypoint/, 'no descriptions in the tree');
});

test('kcs explain of a field that does not exist or a kind the server does not serve fails and says which', async (t) => {
  const field = await server().kcs(['explain', 'pods.spec.nope']);
  t.is(field.code, 1);
  t.regex(field.stderr, /field "nope" does not exist/);
  const kind = await server().kcs(['explain', 'widgets']);
  t.is(kind.code, 2);
  t.regex(kind.stderr, /doesn't have a resource type "widgets"/);
});

// ---- the printer, without a server ---------------------------------------------------

const doc = {
  components: {
    schemas: {
      'io.example.v1.Thing': {
        description: 'A thing.', type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'example.io', version: 'v1', kind: 'Thing' }],
        properties: { spec: { description: 'What it should be.', allOf: [{ $ref: '#/components/schemas/io.example.v1.ThingSpec' }] } },
      },
      'io.example.v1.ThingSpec': {
        description: 'ThingSpec is the desired state.', type: 'object', required: ['size'],
        properties: {
          size: { description: 'How big.', type: 'integer', format: 'int32' },
          parts: { type: 'array', items: { $ref: '#/components/schemas/io.example.v1.ThingSpec' } },
          when: { $ref: '#/components/schemas/io.example.v1.Time' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      'io.example.v1.Time': { type: 'string', format: 'date-time' },
    },
  },
};

test('types are named as kubectl names them', (t) => {
  const spec = doc.components.schemas['io.example.v1.ThingSpec'].properties;
  t.is(typeName(doc, spec.size), 'integer');
  t.is(typeName(doc, spec.parts), '[]ThingSpec');
  t.is(typeName(doc, spec.when), 'string', 'a reference to a primitive is named by its type');
  t.is(typeName(doc, spec.labels), 'map[string]string');
  t.is(typeName(doc, doc.components.schemas['io.example.v1.Thing'].properties.spec), 'ThingSpec');
});

test('a field is described by its own description and its type\'s, laid out line for line as kubectl 1.32 lays it out; a type that contains itself is listed once per branch', (t) => {
  const text = explain(doc, { group: 'example.io', version: 'v1', kind: 'Thing' }, ['spec']);
  t.is(text, [
    'GROUP:      example.io', 'KIND:       Thing', 'VERSION:    v1', '',
    'FIELD: spec <ThingSpec>', '', '',
    'DESCRIPTION:', '    What it should be.', '    ThingSpec is the desired state.', '    ',
    'FIELDS:',
    '  labels\t<map[string]string>', '',
    '  parts\t<[]ThingSpec>', '',
    '  size\t<integer> -required-', '    How big.', '',
    '  when\t<string>', '', '',
  ].join('\n'));
  const tree = explain(doc, { group: 'example.io', version: 'v1', kind: 'Thing' }, [], true);
  t.true(tree.endsWith('FIELDS:\n  spec\t<ThingSpec>\n    labels\t<map[string]string>\n    parts\t<[]ThingSpec>\n    size\t<integer> -required-\n    when\t<string>\n'), tree);
});

test('descriptions wrap at 80 columns under their indent, paragraphs, leading and inner spaces kept, trailing ones dropped', (t) => {
  const lines = wrap(`${'word '.repeat(30)}\n\n - item  two `, 4);
  t.true(lines.every((l) => l.length <= 80));
  t.true(lines.every((l) => l.startsWith('    ')));
  t.deepEqual(lines.slice(-2), ['    ', '     - item  two']);
});

test('an enum beside a field shows four values at most, and an empty one quoted', (t) => {
  const d = { components: { schemas: { K: { type: 'object', 'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'K' }], properties: {
    few: { type: 'string', enum: ['A', 'B'] }, many: { type: 'string', enum: ['', 'A', 'B', 'C', 'D'] },
  } } } } };
  const text = explain(d, { group: '', version: 'v1', kind: 'K' }, []);
  t.regex(text, /\n {2}few\t<string>\n {2}enum: A, B\n/);
  t.regex(text, /\n {2}many\t<string>\n {2}enum: "", A, B, C, \.\.\.\.\n/);
});
