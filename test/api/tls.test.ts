// TLS by default: the cluster CA and the serving certificate (src/pki/), kept
// across restarts, trusted by kcs's client through the kubeconfig, and
// refused by a client that does not hold the CA.
import { X509Certificate } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Client, ConnectionError } from '../../src/client/http.ts';
import { readClientConfig, writeClientConfig } from '../../src/config.ts';
import { startControlPlane } from '../../src/control-plane.ts';
import { kindByName } from '../../src/objects/kinds.ts';
import { createCa, issueServingCert, servingCertProblem } from '../../src/pki/certificates.ts';
import { servingHosts } from '../../src/pki/serving-tls.ts';
import { requestWithCa } from '../support/https-request.ts';

const NODE = kindByName('Node')!;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a serving certificate names loopback and the host, and chains to the CA that issued it', async (t) => {
  const ca = await createCa('test-ca');
  const caCert = new X509Certificate(ca.certPem);
  t.true(caCert.ca, 'the CA certificate may sign others');
  const serving = await issueServingCert(ca, 'kcs-apiserver', servingHosts('127.0.0.9'));
  const cert = new X509Certificate(serving.certPem);
  t.false(cert.ca);
  t.true(cert.verify(caCert.publicKey));
  t.is(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.is(cert.checkIP('::1'), '::1');
  t.is(cert.checkIP('127.0.0.9'), '127.0.0.9');
  t.is(cert.checkHost('localhost'), 'localhost');
  t.is(cert.checkIP('127.0.0.10'), undefined);
  t.true(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'usable for server authentication');
  t.is(servingCertProblem(serving.certPem, ca.certPem, servingHosts('127.0.0.9')), undefined);
  t.is(servingCertProblem(serving.certPem, ca.certPem, servingHosts('127.0.0.10')), 'it does not name 127.0.0.10');
  const other = await createCa('other-ca');
  t.is(servingCertProblem(serving.certPem, other.certPem, servingHosts('127.0.0.9')), 'it was signed by another CA');
  const late = new Date(Date.now() + 340 * 86_400_000);
  t.regex(servingCertProblem(serving.certPem, ca.certPem, servingHosts('127.0.0.9'), late) ?? '', /^it expires /);
});

test('a TLS control plane serves https that a client holding the CA trusts, and one without it refuses', async (t) => {
  const dir = tempDir(t);
  const cp = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  t.teardown(() => cp.close());
  t.regex(cp.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.is(cp.caPem, readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'));

  const trusting = new Client({ server: cp.url, token: cp.adminToken, ca: cp.caPem });
  t.teardown(() => trusting.close());
  t.deepEqual((await trusting.list(NODE)).items, []);

  const stranger = new Client({ server: cp.url, token: cp.adminToken });
  t.teardown(() => stranger.close());
  const refused = await t.throwsAsync(stranger.list(NODE), { instanceOf: ConnectionError });
  t.regex(refused!.message, /certificate is not trusted/);

  const otherCa = await createCa('not-this-cluster');
  const misled = new Client({ server: cp.url, token: cp.adminToken, ca: otherCa.certPem });
  t.teardown(() => misled.close());
  await t.throwsAsync(misled.list(NODE), { instanceOf: ConnectionError, message: /certificate is not trusted/ });

  // Plain http to the TLS port gets nowhere (and is said to be the likely mistake).
  const plain = new Client({ server: cp.url.replace('https:', 'http:'), token: cp.adminToken });
  t.teardown(() => plain.close());
  await t.throwsAsync(plain.list(NODE));

  // The key is private to the state directory.
  t.is(statSync(join(dir, 'pki', 'ca.key')).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'pki', 'apiserver.key')).mode & 0o777, 0o600);
});

/** The protocol and suite a handshake with these client options ends in, or the error it fails with. */
function handshake(url: string, ca: string, options: { minVersion?: 'TLSv1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ protocol: string | null; cipher: string } | Error> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({ host: hostname, port: Number(port), ca, servername: 'localhost', ...options }, () => {
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().standardName });
      socket.end();
    });
    socket.on('error', resolve);
  });
}

test('the server picks TLS 1.3 with AES-128-GCM first, as a Go API server does, and refuses TLS below 1.2', async (t) => {
  const cp = await startControlPlane({ stateDir: tempDir(t), host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  t.teardown(() => cp.close());
  // Node's client offers AES-256-GCM first: the server's order decides.
  t.deepEqual(await handshake(cp.url, cp.caPem!), { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
  const tls12 = await handshake(cp.url, cp.caPem!, { maxVersion: 'TLSv1.2' });
  t.like(tls12, { protocol: 'TLSv1.2' });
  t.regex((tls12 as { cipher: string }).cipher, /^TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256$/);
  t.true(await handshake(cp.url, cp.caPem!, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }) instanceof Error);
});

test('the CA and the serving certificate outlive a restart; a new listen address gets a new certificate from the same CA', async (t) => {
  const dir = tempDir(t);
  const first = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  const ca = first.caPem!;
  const servingBefore = readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8');
  await first.close();

  const again = await startControlPlane({ stateDir: dir, host: '127.0.0.1', port: 0, tls: true, log: () => {} });
  t.is(again.caPem, ca);
  t.is(readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8'), servingBefore, 'not reissued when nothing changed');
  await again.close();

  const logs: string[] = [];
  const moved = await startControlPlane({ stateDir: dir, host: '127.0.0.7', port: 0, tls: true, log: (m) => logs.push(m) });
  t.teardown(() => moved.close());
  t.is(moved.caPem, ca, 'kubeconfigs holding the CA stay valid');
  t.not(readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8'), servingBefore);
  t.true(logs.some((m) => /issued a serving certificate for .*127\.0\.0\.7 \(it does not name 127\.0\.0\.7\)/.test(m)), logs.join('\n'));
  const reply = await requestWithCa(`${moved.url}/version`, { ca });
  t.is(reply.status, 200);
});

test('the kubeconfig carries the CA as certificate-authority-data, and kcs reads it back from there or from a file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'kubeconfig');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeClientConfig(path, { server: 'https://127.0.0.1:8443', token: 'tok', ca: pem });
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  t.is(Buffer.from(raw.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8'), pem);
  t.is(readClientConfig(path)?.ca, pem);

  // As kubectl allows: a CA file named relative to the kubeconfig.
  raw.clusters[0].cluster = { server: 'https://127.0.0.1:8443', 'certificate-authority': 'ca.crt' };
  writeFileSync(join(dir, 'ca.crt'), pem);
  writeFileSync(path, JSON.stringify(raw));
  t.is(readClientConfig(path)?.ca, pem);
  raw.clusters[0].cluster['certificate-authority'] = 'missing.crt';
  writeFileSync(path, JSON.stringify(raw));
  t.throws(() => readClientConfig(path), { message: /certificate-authority missing\.crt/ });
});
