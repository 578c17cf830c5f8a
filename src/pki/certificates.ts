// The cluster's certificates, made with @peculiar/x509 over Node's WebCrypto:
// a CA (the trust root a kubeconfig carries as certificate-authority-data)
// and serving certificates it signs for the API server (and client
// certificates, for an etcd that checks them). ECDSA P-256 keys:
// generated in milliseconds, and accepted by kubectl, Go and Node alike.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect API before it loads
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/** Long enough that a teaching cluster never meets it; the serving certificate is renewed well before. */
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** A serving certificate this close to its end is issued anew at start-up. */
export const RENEW_BEFORE_DAYS = 30;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

function serialNumber(): string {
  // Positive (top bit clear) and unique: 16 random bytes, as CAs commonly use.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

/** A new self-signed CA that may sign certificates but not be one's leaf. */
export async function createCa(commonName: string, now = new Date()): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - 60_000), // a little slack for clocks that differ
    notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/** A server certificate for these names and addresses (each a DNS name or an IP), signed by the CA. */
export async function issueServingCert(ca: KeyPairPem, commonName: string, hosts: string[], now = new Date()): Promise<KeyPairPem> {
  const names = [...new Set(hosts)].map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  return issueLeaf(ca, commonName, now, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(names),
  ]);
}

/**
 * A client certificate signed by the CA: TLS client authentication as
 * commonName (an etcd that checks client certificates takes the CN as the
 * user).
 */
export async function issueClientCert(ca: KeyPairPem, commonName: string, now = new Date()): Promise<KeyPairPem> {
  return issueLeaf(ca, commonName, now, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
}

/** A new key and a certificate for it that is no CA, signed by ca, with these uses. */
async function issueLeaf(ca: KeyPairPem, commonName: string, now: Date, uses: x509.Extension[]): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + SERVING_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    signingKey: await importKeyPem(ca.keyPem),
    publicKey: keys.publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...uses,
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * Why a serving certificate will not do any more (signed by another CA, a
 * host it does not name, near its end), or undefined when it will. Read with
 * node:crypto, which is what TLS clients check it with.
 */
export function servingCertProblem(certPem: string, caPem: string, hosts: string[], now = new Date()): string | undefined {
  const cert = new X509Certificate(certPem);
  if (!cert.verify(new X509Certificate(caPem).publicKey)) return 'it was signed by another CA';
  const missing = hosts.filter((h) => (isIP(h) ? cert.checkIP(h) === undefined : cert.checkHost(h) === undefined));
  if (missing.length) return `it does not name ${missing.join(', ')}`;
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return `it expires ${new Date(cert.validTo).toISOString()}`;
  return undefined;
}
