// The rules behind kcs wait, edit, config view, completion and "did you mean",
// without a server.
import test from 'ava';
import { DurationError, parseDuration } from '../../src/cli/duration.ts';
import { conditionMet, parseWaitFor, WaitError } from '../../src/cli/wait-conditions.ts';
import { editBuffer, editorCommand, mergePatchBetween, stripComments } from '../../src/cli/editor.ts';
import { viewKubeconfig } from '../../src/cli/kubeconfig-view.ts';
import { complete, completionScript, type CommandInfo } from '../../src/cli/completion.ts';
import { suggestCommands } from '../../src/cli/hooks/command-not-found.ts';
import { kindByAlias } from '../../src/objects/kinds.ts';
import type { KubeObject } from '../../src/objects/types.ts';

const node = (ready?: string, phase?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {},
  status: { ...(ready ? { conditions: [{ type: 'Ready', status: ready }] } : {}), ...(phase ? { phase } : {}) },
} as KubeObject);

test('--for reads kubectl\'s three forms; conditions compare without case and default to true', (t) => {
  t.deepEqual(parseWaitFor('delete'), { type: 'delete' });
  t.deepEqual(parseWaitFor('condition=Ready'), { type: 'condition', name: 'Ready', status: 'True' });
  t.deepEqual(parseWaitFor('condition=Ready=false'), { type: 'condition', name: 'Ready', status: 'false' });
  t.deepEqual(parseWaitFor('jsonpath={.status.phase}=Running'), { type: 'jsonpath', path: '.status.phase', value: 'Running' });
  t.deepEqual(parseWaitFor('jsonpath={.spec.nodeName}'), { type: 'jsonpath', path: '.spec.nodeName', value: undefined });
  t.deepEqual(parseWaitFor('jsonpath=.status.phase=Running'), { type: 'jsonpath', path: '.status.phase', value: 'Running' });
  t.throws(() => parseWaitFor('ready'), { instanceOf: WaitError, message: 'unrecognized condition: "ready"' });

  t.true(conditionMet(node('True'), parseWaitFor('condition=ready')));
  t.false(conditionMet(node('False'), parseWaitFor('condition=Ready')));
  t.true(conditionMet(node('False'), parseWaitFor('condition=Ready=False')));
  t.false(conditionMet(undefined, parseWaitFor('condition=Ready')));
  t.true(conditionMet(undefined, parseWaitFor('delete')));
  t.false(conditionMet(node('True'), parseWaitFor('delete')));
  t.true(conditionMet(node(undefined, 'Running'), parseWaitFor('jsonpath={.status.phase}=Running')));
  t.false(conditionMet(node(undefined, 'Pending'), parseWaitFor('jsonpath={.status.phase}=Running')));
  t.false(conditionMet(node(), parseWaitFor('jsonpath={.status.phase}')), 'a path with no value is not met');
  t.throws(() => conditionMet(node('True'), parseWaitFor('jsonpath={.status.conditions}=x')), { message: /nested object or list/ });
});

test('--timeout is a Go duration', (t) => {
  t.is(parseDuration('30s'), 30_000);
  t.is(parseDuration('1m30s'), 90_000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('0'), 0);
  t.is(parseDuration('-1s'), -1000);
  t.throws(() => parseDuration('30'), { instanceOf: DurationError });
});

test('the editor is chosen and started as kubectl does', (t) => {
  t.deepEqual(editorCommand({ KUBE_EDITOR: 'nano', EDITOR: 'vim' }, '/f.yaml'), ['nano', '/f.yaml']);
  t.deepEqual(editorCommand({ EDITOR: 'code --wait' }, '/f.yaml'), ['code', '--wait', '/f.yaml']);
  t.deepEqual(editorCommand({}, '/f.yaml'), ['vi', '/f.yaml']);
  t.deepEqual(editorCommand({ EDITOR: 'emacs -nw "-q"', SHELL: '/bin/bash' }, "/it's.yaml"), ['/bin/bash', '-c', `emacs -nw "-q" '/it'\\''s.yaml'`]);
});

test('the edit buffer carries kubectl\'s header and errors as comments, which are dropped on the way back', (t) => {
  const buffer = editBuffer('kind: Pod\n', ['pods "web" was not valid:', '* metadata.labels.run: Invalid value']);
  t.true(buffer.startsWith("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"));
  t.regex(buffer, /^# pods "web" was not valid:\n# \* metadata\.labels\.run: Invalid value\n#\nkind: Pod\n$/m);
  t.is(stripComments(buffer), 'kind: Pod\n');
  t.deepEqual(mergePatchBetween({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 5 }, e: [2], f: 'x' }), { b: { c: 5, d: null }, e: [2], f: 'x' });
});

const kubeconfig = {
  apiVersion: 'v1', kind: 'Config', 'current-context': 'kcs',
  clusters: [{ name: 'kcs', cluster: { server: 'https://127.0.0.1:8080', 'certificate-authority-data': 'LS0t' } }, { name: 'other', cluster: { server: 'https://x' } }],
  users: [{ name: 'kcs-admin', user: { token: 'secret' } }, { name: 'other', user: { 'client-key-data': 'a2V5' } }],
  contexts: [{ name: 'kcs', context: { cluster: 'kcs', user: 'kcs-admin' } }, { name: 'other', context: { cluster: 'other', user: 'other' } }],
};

test('config view hides secrets as kubectl does unless raw, and minify keeps only what the current context names', (t) => {
  const view = viewKubeconfig(kubeconfig, {});
  t.is(view.users![0].user.token, 'REDACTED');
  t.is(view.users![1].user['client-key-data'], 'DATA+OMITTED');
  t.is(view.clusters![0].cluster['certificate-authority-data'], 'DATA+OMITTED');
  t.is(kubeconfig.users[0].user.token, 'secret', 'the input is not changed');
  t.is(viewKubeconfig(kubeconfig, { raw: true }).users![0].user.token, 'secret');
  const min = viewKubeconfig(kubeconfig, { minify: true, raw: true });
  t.deepEqual([min.clusters!.map((c) => c.name), min.users!.map((u) => u.name), min.contexts!.map((c) => c.name)], [['kcs'], ['kcs-admin'], ['kcs']]);
  t.throws(() => viewKubeconfig({ ...kubeconfig, 'current-context': '' }, { minify: true }), { message: 'current-context must exist in order to minify' });
});

const COMMANDS: CommandInfo[] = [
  { id: 'get', flags: { output: { char: 'o', type: 'option' }, namespace: { char: 'n', type: 'option' }, watch: { char: 'w', type: 'boolean' } } },
  { id: 'create:node', flags: { cpu: { type: 'option' } } },
  { id: 'config:view', flags: { output: { char: 'o', type: 'option', options: ['yaml', 'json'] } } },
  { id: 'cordon', flags: {} },
  { id: '__complete', hidden: true, flags: {} },
];

test('completion offers commands, topics, flags, flag values, types and (from the server) names', (t) => {
  t.deepEqual(complete([], 'c', COMMANDS), { words: ['config', 'cordon', 'create'] });
  t.deepEqual(complete(['create'], '', COMMANDS), { words: ['node'] });
  t.deepEqual(complete(['get'], '--w', COMMANDS), { words: ['--watch'] });
  t.deepEqual(complete(['config', 'view', '-o'], '', COMMANDS), { words: ['yaml', 'json'] });
  const types = complete(['get'], 'po', COMMANDS);
  t.deepEqual(types, { words: ['po', 'pod', 'pods'] });
  t.like(complete(['get', '-n', 'team', 'pods'], 'w', COMMANDS), { objectsOf: { kind: 'Pod' }, namespace: 'team' });
  t.like(complete(['get'], 'node/n', COMMANDS), { objectsOf: { kind: 'Node' }, prefix: 'node/n' });
  t.like(complete(['cordon'], '', COMMANDS), { objectsOf: { kind: 'Node' } });
  t.deepEqual(complete(['nope'], '', COMMANDS), { words: [] });
  // -n completes namespaces from the server once it serves the kind; until then, nothing.
  const namespaces = kindByAlias('namespace');
  t.deepEqual(complete(['get', '-n'], '', COMMANDS), namespaces ? { objectsOf: namespaces } : { words: [] });
  t.regex(completionScript('bash', 'kcs'), /complete -o default -F _kcs_complete kcs/);
  t.regex(completionScript('zsh', 'kcs'), /compdef _kcs_complete kcs/);
  t.regex(completionScript('fish', 'kcs'), /complete -c kcs -f -a '\(kcs __complete/);
});

test('a mistyped command is matched to the nearest ones', (t) => {
  const ids = ['get', 'describe', 'delete', 'label', 'create node', 'config view', 'cordon', 'uncordon'];
  t.deepEqual(suggestCommands('gte', ids), ['get']);
  t.deepEqual(suggestCommands('lable', ids), ['label']);
  t.deepEqual(suggestCommands('creat', ids), ['create']);
  t.deepEqual(suggestCommands('xyzzy', ids), []);
});
