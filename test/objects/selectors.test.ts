import test from 'ava';
import { labelsMatch, parseFieldSelector, parseLabelSelector, SelectorError } from '../../src/objects/selectors.ts';
import type { KubeObject } from '../../src/objects/types.ts';

const obj = (labels: Record<string, string>, spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels }, spec });

test('equality, inequality, set and existence requirements all apply together', (t) => {
  const match = parseLabelSelector('app=web, tier!=db, env in (prod, staging), !canary, team')!;
  t.true(match(obj({ app: 'web', tier: 'fe', env: 'prod', team: 'x' })));
  t.false(match(obj({ app: 'web', tier: 'db', env: 'prod', team: 'x' })));
  t.false(match(obj({ app: 'web', env: 'dev', team: 'x' })));
  t.false(match(obj({ app: 'web', env: 'prod', team: 'x', canary: 'yes' })));
  t.false(match(obj({ app: 'web', env: 'prod' })));
});

test('notin matches objects without the label, == is the same as =', (t) => {
  t.true(parseLabelSelector('env notin (prod)')!(obj({})));
  t.false(parseLabelSelector('env notin (prod)')!(obj({ env: 'prod' })));
  t.true(parseLabelSelector('app==web')!(obj({ app: 'web' })));
});

test('an empty selector selects everything', (t) => {
  t.is(parseLabelSelector(''), undefined);
  t.is(parseLabelSelector(undefined), undefined);
});

test('a malformed selector is an error that names it', (t) => {
  const err = t.throws(() => parseLabelSelector('app=web,=x'), { instanceOf: SelectorError });
  t.regex(err!.message, /=x/);
});

test('field selectors cover spec.nodeName and refuse unsupported fields', (t) => {
  const onNode = parseFieldSelector('Pod', 'spec.nodeName=n1')!;
  t.true(onNode(obj({}, { nodeName: 'n1' })));
  t.false(onNode(obj({}, { nodeName: 'n2' })));
  t.true(parseFieldSelector('Pod', 'spec.nodeName=')!(obj({}, {})));
  t.true(parseFieldSelector('Pod', 'metadata.name!=q')!(obj({})));
  t.throws(() => parseFieldSelector('Pod', 'spec.foo=1'), { instanceOf: SelectorError, message: /not supported: spec.foo/ });
  t.throws(() => parseFieldSelector('Node', 'spec.nodeName=x'), { instanceOf: SelectorError });
});

test('a nodeSelector map matches only nodes carrying every label', (t) => {
  t.true(labelsMatch({ size: 'large' }, { size: 'large', zone: 'a' }));
  t.false(labelsMatch({ size: 'large', zone: 'b' }, { size: 'large', zone: 'a' }));
  t.true(labelsMatch(undefined, {}));
});

test('stray syntax in a selector is an error, not an empty match', (t) => {
  for (const bad of ['a=b=c', 'a=b)', 'a,,b', 'a in (x,y', 'a=bad value!']) {
    t.throws(() => parseLabelSelector(bad), { instanceOf: SelectorError }, bad);
  }
});
