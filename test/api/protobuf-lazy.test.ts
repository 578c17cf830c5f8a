// protobufjs and the message descriptor are loaded by the first protobuf
// body, not before: a server (and every CLI command, which shares the api
// layer's modules) that never sees one never pays for them. Alone in its
// file, so nothing else in this test process has loaded them.
import { createRequire } from 'node:module';
import test from 'ava';
import { NAMESPACES, withApp } from './helpers.ts';

const require = createRequire(import.meta.url);
const protobufjsLoaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/protobufjs/'));

test('protobufjs is loaded by the first protobuf body, not by the app or a JSON body', withApp, async (t, api) => {
  t.is((await api.post(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'json' } })).status, 201);
  t.false(protobufjsLoaded(), 'not loaded by the app or a JSON body');
  // The smallest body kubectl could send: the prefix and an envelope whose typeMeta is empty.
  const r = await fetch(`${api.url}/api/v1/namespaces`, {
    method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/vnd.kubernetes.protobuf' }, body: Buffer.from('k8s\0\x12\x00'),
  });
  t.is(r.status, 422, await r.text());
  t.true(protobufjsLoaded(), 'loaded to read the protobuf body');
});
