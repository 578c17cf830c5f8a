// schemas/protobuf/kubernetes.json, the messages the server reads protobuf
// bodies with: it holds every message kcs reads and all they reach, each
// field carrying its Go JSON tag (tools/protobuf-descriptor.ts reads them
// from the Go types). With KCS_KUBERNETES_API_REPO and
// KCS_KUBERNETES_APIMACHINERY_REPO naming clones of kubernetes/api and
// kubernetes/apimachinery, the file is also regenerated and compared.
import { readFileSync } from 'node:fs';
import test from 'ava';
import protobuf from 'protobufjs/light.js';
import { protobufRoot } from '../../src/api/protobuf-body.ts';
import { SPECIAL } from '../../src/api/protobuf-json.ts';
import { ROOT_MESSAGES } from '../../src/api/protobuf-kinds.ts';
import { ENVELOPE, generate, gitReader, goStructs, OUTPUT, render } from '../../tools/protobuf-descriptor.ts';

test('the Go field reader takes each protobuf field\'s json tag and pointer-ness, embedded fields too', (t) => {
  const go = [
    'type Probe struct {',
    '\t// The action taken.',
    '\tProbeHandler `json:",inline" protobuf:"bytes,1,opt,name=handler"`',
    '\tInitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty" protobuf:"varint,2,opt,name=initialDelaySeconds"`',
    '\tTerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty" protobuf:"varint,7,opt,name=terminationGracePeriodSeconds"`',
    '\tNotOnTheWire string `json:"notOnTheWire"`',
    '}',
    '',
    'type Empty struct {',
    '}',
  ].join('\n');
  const structs = goStructs(go);
  t.deepEqual([...structs.get('Probe')!], [
    [1, { json: ',inline', pointer: false }],
    [2, { json: 'initialDelaySeconds,omitempty', pointer: false }],
    [7, { json: 'terminationGracePeriodSeconds,omitempty', pointer: true }],
  ]);
  t.is(structs.get('Empty')!.size, 0);
});

/** Every message in the descriptor, by full name. */
function messages(): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) out.push(nested);
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) walk(nested);
    }
  };
  walk(protobufRoot());
  return out;
}

test('the descriptor holds the messages kcs reads, everything they reach, and a JSON tag on every field', (t) => {
  const all = new Map(messages().map((m) => [m.fullName.slice(1), m]));
  for (const name of [...ROOT_MESSAGES, ENVELOPE]) t.true(all.has(name), name);
  for (const [name, type] of all) {
    type.resolveAll();
    for (const field of type.fieldsArray) {
      if (field.resolvedType) t.true(all.has(field.resolvedType.fullName.slice(1)), `${name}.${field.name} reaches a message in the descriptor`);
      const described = !(name in SPECIAL) && !name.startsWith('k8s.io.apimachinery.pkg.runtime.');
      if (described) t.is(typeof field.options?.['(go.json)'], 'string', `${name}.${field.name} has its Go json tag`);
    }
  }
  // A few that decide how objects read: inline sources and handlers, pointers.
  const option = (type: string, field: string) => all.get(type)!.fields[field]!.options;
  t.deepEqual(option('k8s.io.api.core.v1.Volume', 'volumeSource'), { '(go.json)': ',inline' });
  t.deepEqual(option('k8s.io.api.core.v1.Probe', 'handler'), { '(go.json)': ',inline' });
  t.deepEqual(option('k8s.io.api.core.v1.PodSpec', 'terminationGracePeriodSeconds'), { '(go.json)': 'terminationGracePeriodSeconds,omitempty', '(go.pointer)': true });
  t.deepEqual(option('k8s.io.api.core.v1.ContainerStatus', 'ready'), { '(go.json)': 'ready' });
});

const apiRepo = process.env.KCS_KUBERNETES_API_REPO;
const apimachineryRepo = process.env.KCS_KUBERNETES_APIMACHINERY_REPO;
(apiRepo && apimachineryRepo ? test : test.skip)('the checked-in descriptor is what the generator writes from Kubernetes\' files', (t) => {
  const text = render(generate(gitReader({ api: apiRepo!, apimachinery: apimachineryRepo! })));
  t.is(readFileSync(OUTPUT, 'utf8'), text, 'run npm run generate:protobuf');
});
