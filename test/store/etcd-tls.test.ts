// kcs on an etcd that serves only TLS clients showing a certificate from
// its CA (--client-cert-auth), as a production etcd runs: the whole Store
// contract over it; no store without the CA or the client certificate; and
// `kcs up --etcd-cafile --etcd-certfile --etcd-keyfile` (kube-apiserver's
// flags) serving from it, with `kcs down` reaching it the same way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createCa } from '../../src/pki/certificates.ts';
import { EtcdStore } from '../../src/store/etcd.ts';
import { openStore, readEtcdTls } from '../../src/store/open.ts';
import { StoreError } from '../../src/store/store.ts';
import { oneLine, runKcs, spawnKcs } from '../cli/helpers.ts';
import { Client } from '../../src/client/http.ts';
import { loadOrCreateAdminToken } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { etcdTest, sharedEtcd } from '../support/etcd.ts';
import { storeContract } from './contract.ts';

const etcd = sharedEtcd({ tls: true });
const tlsOf = async () => readEtcdTls((await etcd()).tls!);
const openIn = async (dir: string) => EtcdStore.open({ endpoints: [(await etcd()).endpoint], keyPrefix: `/${basename(dir)}`, tls: await tlsOf() });

storeContract('etcd over TLS', openIn, {
  compact: (store, revision) => (store as EtcdStore).compact(revision),
  define: etcdTest,
});

etcdTest('etcd over TLS: without its CA, without a client certificate, or over plain http, no store opens', async (t) => {
  const { endpoint } = await etcd();
  const { ca, cert, key } = await tlsOf();
  const refused = async (what: string, tls: Parameters<typeof EtcdStore.open>[0]['tls']) => {
    const err = await t.throwsAsync(EtcdStore.open({ endpoints: [endpoint], tls }), undefined, what);
    t.true(err instanceof StoreError, `${what}: ${err?.message}`);
    t.regex(err!.message, new RegExp(`no etcd answers at ${endpoint}`), what);
  };
  await refused('plain http', undefined);
  await refused('no client certificate', { ca });
  await refused('trusting another CA', { ca: (await createCa('another-ca')).certPem, cert, key });
  const store = await EtcdStore.open({ endpoints: [endpoint], tls: { ca, cert, key } });
  t.teardown(() => store.close());
  t.true((await store.currentRevision()) > 0);
});

etcdTest('etcd over TLS: the TLS flags are refused, naming the flag, when a file is missing, not PEM, half a pair, or there is no etcd store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-tls-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { endpoint, tls } = await etcd();
  const store = `etcd://${endpoint}`;
  writeFileSync(join(dir, 'not-pem'), 'hello\n');
  const cases: Array<{ args: string[]; says: RegExp }> = [
    { args: ['--store', store, '--etcd-cafile', join(dir, 'nope.crt')], says: /--etcd-cafile \S*nope\.crt: no such file/ },
    { args: ['--store', store, '--etcd-cafile', join(dir, 'not-pem')], says: /--etcd-cafile \S*not-pem: not a PEM certificate/ },
    { args: ['--store', store, '--etcd-cafile', tls!.caFile, '--etcd-certfile', tls!.certFile], says: /--etcd-certfile and --etcd-keyfile go together/ },
    { args: ['--store', store, '--etcd-cafile', tls!.caFile, '--etcd-certfile', tls!.certFile, '--etcd-keyfile', tls!.certFile], says: /--etcd-keyfile \S*client\.crt: not a PEM private key/ },
    { args: ['--store', store, '--etcd-certfile', tls!.certFile, '--etcd-keyfile', tls!.keyFile], says: /need --etcd-cafile/ },
    { args: ['--etcd-cafile', tls!.caFile], says: /are for a store on etcd: give --store etcd:\/\/host:port too/ },
  ];
  for (const { args, says } of cases) {
    const res = await runKcs(['up', '--port', '0', '--state-dir', join(dir, 'state'), '--runtime', 'none', '--no-dashboard', ...args], { stateDir: join(dir, 'state') });
    t.is(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    t.regex(oneLine(res.stderr), says);
  }
  // The same checks guard the store's own opening.
  await t.throwsAsync(openStore(undefined, dir, { caFile: tls!.caFile }), { instanceOf: StoreError, message: /for a store on etcd/ });
});

etcdTest('kcs up --etcd-cafile --etcd-certfile --etcd-keyfile serves from an etcd over TLS; kcs down asks it the same way; without them kcs up says it cannot reach etcd', async (t) => {
  t.timeout(120_000);
  const { endpoint, tls } = await etcd();
  const store = `etcd://${endpoint}`;
  const root = mkdtempSync(join(tmpdir(), 'kcs-etcd-tls-up-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));

  const plain = await runKcs(['up', '--port', '0', '--state-dir', join(root, 'plain'), '--store', store, '--runtime', 'none', '--no-dashboard'], { stateDir: join(root, 'plain') });
  t.is(plain.code, 1, plain.stderr);
  t.regex(oneLine(plain.stderr), new RegExp(`no etcd answers at ${endpoint}`));
  t.regex(oneLine(plain.stderr), /--etcd-cafile, --etcd-certfile and --etcd-keyfile/, 'the hint names the TLS flags');

  const dir = join(root, 'a');
  // Given relative to where kcs up runs; kcs down runs elsewhere (the repository) and must still find them.
  const tlsDir = dirname(tls!.caFile);
  const up = spawnKcs(['up', '--port', '0', '--state-dir', dir, '--store', store, '--etcd-cafile', basename(tls!.caFile), '--etcd-certfile', basename(tls!.certFile), '--etcd-keyfile', basename(tls!.keyFile), '--runtime', 'none', '--no-dashboard', '--no-tls'], { stateDir: dir, cwd: tlsDir });
  t.teardown(() => up.stop('SIGKILL'));
  const printed = await up.waitForOutput(/client config:/);
  const url = /kcs control plane listening on (\S+)/.exec(printed)![1]!;
  t.true(oneLine(printed).includes(`over TLS (CA ${tls!.caFile}, client certificate ${tls!.certFile})`), 'the files, made absolute');
  const client = new Client({ server: url, token: loadOrCreateAdminToken(dir) });
  t.teardown(() => client.close());
  const NAMESPACE = kindByName('Namespace')!;
  await client.create(NAMESPACE, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'over-tls' } });
  // Written to etcd: read back with a store of our own over TLS.
  const direct = await EtcdStore.open({ endpoints: [endpoint], tls: await tlsOf() });
  t.teardown(() => direct.close());
  t.is(JSON.parse((await direct.get('/registry/namespaces/over-tls'))!.value).metadata.name, 'over-tls');

  const down = await runKcs(['down', '--state-dir', dir], { stateDir: dir });
  t.is(down.code, 1, 'it reached etcd over TLS and found the server running');
  t.true(oneLine(down.stderr).includes(url), down.stderr);
  t.is((await up.stop('SIGTERM')).code, 0);
  const after = await runKcs(['down', '--state-dir', dir], { stateDir: dir });
  t.is(after.code, 0, after.stderr);
  t.notRegex(after.stdout, /cannot ask/, 'it asked etcd, over TLS, rather than going on without it');
});
