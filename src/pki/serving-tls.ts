// The API server's TLS material, kept in the state directory so clients'
// kubeconfigs stay valid across restarts: the CA is made once; the serving
// certificate is issued anew only when it no longer names the address the
// server listens on, was signed by another CA, or nears its end.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CIPHERS, type TlsOptions } from 'node:tls';
import { createCa, issueServingCert, servingCertProblem, type KeyPairPem } from './certificates.ts';

export interface ServingTls {
  /** The cluster CA, PEM: what clients trust (a kubeconfig's certificate-authority-data). */
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The TLS 1.3 suites in the order Go's crypto/tls prefers them on AES
 * hardware (what a Kubernetes API server negotiates): AES-128-GCM first.
 * Node's default puts AES-256-GCM first, which cost bench:api about 5% more
 * throughput for no protection a cluster's loopback API needs.
 */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** Options for node:https's server: the certificate, and the server choosing the suite in that order. */
export function serverTlsOptions(tls: ServingTls): TlsOptions {
  const tls12 = DEFAULT_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_'));
  return { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2', ciphers: [...TLS13_SUITES, ...tls12].join(':'), honorCipherOrder: true };
}

/** Names every serving certificate carries, whatever the server listens on. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The names and addresses a certificate for a server listening on `host` must carry. */
export function servingHosts(host: string): string[] {
  // A server on every interface is reached by the machine's name (and its
  // addresses, which a certificate cannot list ahead of time).
  const extra = WILDCARDS.has(host) ? [hostname()] : [host.replace(/^\[|\]$/g, '')];
  return [...new Set([...LOOPBACK_NAMES, ...extra])];
}

function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function read(dir: string, base: string): KeyPairPem | undefined {
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

function write(dir: string, base: string, pair: KeyPairPem): void {
  writePrivate(join(dir, `${base}.key`), pair.keyPem);
  writePrivate(join(dir, `${base}.crt`), pair.certPem);
}

/** Loads (or makes) the cluster CA, <stateDir>/pki/ca.{crt,key}. */
export async function loadOrCreateCa(stateDir: string, log?: (m: string) => void): Promise<KeyPairPem> {
  const dir = join(stateDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = read(dir, 'ca');
  if (!ca) {
    ca = await createCa('kcs-ca');
    write(dir, 'ca', ca);
    log?.(`made a cluster CA in ${dir}`);
  }
  return ca;
}

/**
 * Loads (or makes) the CA and a serving certificate for `host` under
 * <stateDir>/pki. `log` hears when a certificate is made and why.
 */
export async function loadOrCreateServingTls(stateDir: string, host: string, log?: (m: string) => void): Promise<ServingTls> {
  const dir = join(stateDir, 'pki');
  const ca = await loadOrCreateCa(stateDir, log);
  const hosts = servingHosts(host);
  let serving = read(dir, 'apiserver');
  const problem = serving ? servingCertProblem(serving.certPem, ca.certPem, hosts) : 'there was none';
  if (problem) {
    serving = await issueServingCert(ca, 'kcs-apiserver', hosts);
    write(dir, 'apiserver', serving);
    log?.(`issued a serving certificate for ${hosts.join(', ')} (${problem})`);
  }
  return { caPem: ca.certPem, certPem: serving!.certPem, keyPem: serving!.keyPem };
}
