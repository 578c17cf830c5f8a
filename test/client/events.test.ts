// The one event recorder: Events about stored objects and about pseudo-objects
// (a manifest file), repeats counted on one Event, messages cut to what the
// schema takes, names valid whatever the object is called.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Registry } from '../../src/api/registry.ts';
import { capMessage, eventName, EventRecorder, MAX_MESSAGE_LENGTH, type KubeEvent } from '../../src/client/events.ts';
import { LocalClient } from '../../src/client/local.ts';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { dns1123SubdomainError } from '../../src/objects/names.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeClock } from '../../src/util/clock.ts';

const EVENT = kindByName('Event')!;
const NOW = new Date('2026-01-01T00:00:00Z');

function localClient(t: ExecutionContext): LocalClient {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-events-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  return new LocalClient(new Registry(store), { user: ADMIN_USER });
}

test('the message cap is the schema\'s', (t) => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/event.json', import.meta.url), 'utf8')) as { properties: { message: { maxLength: number } } };
  t.is(MAX_MESSAGE_LENGTH, schema.properties.message.maxLength);
});

test('a long message is cut to fit and says so; a short one is kept; a character is never cut in half', (t) => {
  t.is(capMessage('short'), 'short');
  const exact = 'x'.repeat(MAX_MESSAGE_LENGTH);
  t.is(capMessage(exact), exact);
  const cut = capMessage('x'.repeat(10_000));
  t.is(cut.length, MAX_MESSAGE_LENGTH);
  t.true(cut.endsWith('...'));
  // A surrogate pair straddling the cut is dropped whole.
  const emoji = capMessage(`${'x'.repeat(MAX_MESSAGE_LENGTH - 4)}😀${'y'.repeat(100)}`);
  t.true(emoji.endsWith('x...'), emoji.slice(-8));
  t.true(emoji.length <= MAX_MESSAGE_LENGTH);
});

test('event names are valid object names even when the object is a file path', (t) => {
  for (const [name, prefix] of [['web', 'web'], ['nodes.yaml', 'nodes.yaml'], ['sub/Nodes_1.yaml', 'sub-nodes-1.yaml'], ['#x#', 'x'], ['a/.b/-c-.yml', 'a.b--c.yml'], ['___', 'event']]) {
    const event = eventName(name, NOW);
    t.is(dns1123SubdomainError(event), undefined, `${name} -> ${event}`);
    t.is(event.slice(0, event.lastIndexOf('.')), prefix, name);
  }
  const long = eventName(`${'dir/'.repeat(100)}x.yaml`, NOW);
  t.true(long.length <= 253);
  t.is(dns1123SubdomainError(long), undefined, long);
});

test('an event about a pseudo-object is stored with its reference as given, and a repeat bumps its count', async (t) => {
  const client = localClient(t);
  const clock = new FakeClock(NOW);
  const recorder = new EventRecorder(client, 'gitops', { clock, reportingInstance: '/srv/manifests' });
  const file = { apiVersion: 'kcs.io/v1', kind: 'ManifestFile', name: 'sub/nodes.yaml' };
  const long = `sub/nodes.yaml line 3: ${'x'.repeat(5000)}`;
  await recorder.record(file, 'Warning', 'SyncFailed', long);
  clock.advance(5000);
  await recorder.record(file, 'Warning', 'SyncFailed', long);
  const events = (await client.list<KubeEvent>(EVENT, 'default')).items;
  t.is(events.length, 1, 'the long message was accepted, and the repeat bumped the same Event');
  const [event] = events;
  t.deepEqual(event.involvedObject, file);
  t.is(event.count, 2);
  t.is(event.firstTimestamp, '2026-01-01T00:00:00Z');
  t.is(event.lastTimestamp, '2026-01-01T00:00:05Z');
  t.is(event.message.length, MAX_MESSAGE_LENGTH);
  t.deepEqual([event.source.component, event.reportingComponent, event.reportingInstance], ['gitops', 'gitops', '/srv/manifests']);
});

test('an event about a stored object refers to it by uid, and no reporting instance is written unless given', async (t) => {
  const client = localClient(t);
  const { body: node } = await client.create(kindByName('Node')!, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { capacity: { cpu: '1' } } });
  const logs: string[] = [];
  const recorder = new EventRecorder(client, 'node-controller', { log: (m) => logs.push(m) });
  await recorder.record(node, 'Normal', 'MachineStarted', 'started');
  const [event] = (await client.list<KubeEvent>(EVENT, 'default')).items;
  t.deepEqual(event.involvedObject, { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid });
  t.false('reportingInstance' in event);
  t.deepEqual(logs, []);
});
