// The pool's certificate authority: made once by `dsched start` (or the first daemon of a new home), it signs
// every host's certificate (CN = host, DNS:<host>, one URI dsched:role:<role> per role) and keeps the Ed25519
// key user tokens are signed with. @peculiar/x509 is loaded only here, only when a certificate is made.
import { createHash, generateKeyPairSync, randomBytes, webcrypto, X509Certificate, createPublicKey } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { PoolPaths } from '../config/paths.js';
import { DAEMON_ROLES } from '../daemons.js';
import { DschedError } from '../errors.js';
import { writeFileAtomic } from '../rpc/address-file.js';
import { nowSeconds } from '../time.js';

export const ROLE_URI = 'dsched:role:';

const CA_YEARS = 10;
const HOST_YEARS = 2;

async function x509lib() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A positive 128-bit serial, as hex (RFC 5280 asks for at most 20 octets, positive). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** A new ECDSA P-256 key pair as PEM (PKCS#8 private, SPKI public). */
export function makeHostKey(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

const pemBody = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

/** SHA-256 of the CA certificate's DER, hex: what a join token pins. */
export function caFingerprint(caPem: string | Buffer): string {
  return createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
}

/** Make a directory's files under a temporary name, then rename it into place: a second process racing to
 *  make the same credential sees either nothing or the whole directory, and its own attempt is discarded. */
function installDir(final: string, files: Array<{ name: string; text: string | Buffer; mode: number }>): boolean {
  mkdirSync(dirname(final), { recursive: true });
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { mode: 0o755 });
  try {
    for (const f of files) {
      writeFileSync(`${tmp}/${f.name}`, f.text, { mode: f.mode });
      chmodSync(`${tmp}/${f.name}`, f.mode);
    }
    try {
      renameSync(tmp, final);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Make the pool CA and the token key pair in `ca/` unless they exist. */
export async function ensureCa(paths: PoolPaths): Promise<void> {
  if (existsSync(paths.ca.cert)) return;
  const x509 = await x509lib();
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = new Date(Date.now() - 5 * 60_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=dsched pool CA ${randomBytes(4).toString('hex')}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_YEARS * 365 * 86400_000),
    signingAlgorithm: SIG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const caKey = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const token = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  installDir(paths.ca.dir, [
    { name: 'ca.crt', text: ca.toString('pem') + '\n', mode: 0o644 },
    {
      name: 'ca.key',
      text: `-----BEGIN PRIVATE KEY-----\n${caKey.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`,
      mode: 0o600,
    },
    { name: 'token.key', text: token.privateKey, mode: 0o600 },
    { name: 'token.pub', text: token.publicKey, mode: 0o644 },
  ]);
}

interface IssuedRecord {
  host: string;
  serial: string;
  roles: string[];
  issued: number;
}

export function readIssued(paths: PoolPaths): IssuedRecord[] {
  try {
    const v = JSON.parse(readFileSync(paths.issued, 'utf8')) as { certificates?: IssuedRecord[] };
    return Array.isArray(v.certificates) ? v.certificates : [];
  } catch {
    return [];
  }
}

/** Sign a host certificate for `publicKeyPem` with the pool CA (needs `ca/ca.key`); recorded in spool/issued.json
 *  so `dsched revoke HOST` finds its serials. */
export async function issueHostCertificate(
  paths: PoolPaths,
  host: string,
  roles: string[],
  publicKeyPem: string,
): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(host)) throw new DschedError('USAGE', `"${host}" is not a host name`);
  for (const r of roles)
    if (!(DAEMON_ROLES as readonly string[]).includes(r)) throw new DschedError('USAGE', `unknown daemon role ${r}`);
  let caKeyPem: string;
  try {
    caKeyPem = readFileSync(paths.ca.key, 'utf8');
  } catch (e) {
    throw new DschedError('PERMISSION_DENIED', `cannot read the pool CA key ${paths.ca.key}: ${(e as Error).message}`);
  }
  const x509 = await x509lib();
  const caPem = readFileSync(paths.ca.cert, 'utf8');
  const ca = new x509.X509Certificate(caPem);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pemBody(caKeyPem), EC, false, ['sign']);
  // only an EC P-256 public key is certified: the key type is checked, not trusted from the request
  const pub = createPublicKey(publicKeyPem);
  if (pub.asymmetricKeyType !== 'ec' || pub.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new DschedError('USAGE', 'a host key must be an ECDSA P-256 public key');
  const publicKey = await webcrypto.subtle.importKey('spki', pub.export({ type: 'spki', format: 'der' }), EC, true, [
    'verify',
  ]);
  const now = new Date(Date.now() - 5 * 60_000);
  const sn = serial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: sn,
    subject: `CN=${host}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + HOST_YEARS * 365 * 86400_000),
    signingAlgorithm: SIG,
    publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: host },
        ...roles.map((r) => ({ type: 'url' as const, value: `${ROLE_URI}${r}` })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const issued = readIssued(paths);
  issued.push({
    host,
    serial: new X509Certificate(cert.toString('pem')).serialNumber.toLowerCase(),
    roles,
    issued: nowSeconds(),
  });
  mkdirSync(dirname(paths.issued), { recursive: true, mode: 0o700 });
  writeFileAtomic(paths.issued, JSON.stringify({ certificates: issued }, null, 1) + '\n', 0o600);
  return cert.toString('pem') + '\n';
}

/** Install a host credential in `host/` (key, certificate, CA certificate, token public key). */
export function installHostCredential(
  paths: PoolPaths,
  c: { key: string; cert: string; ca: string; tokenPub: string },
): boolean {
  return installDir(paths.host.dir, [
    { name: 'host.key', text: c.key, mode: 0o600 },
    { name: 'host.crt', text: c.cert, mode: 0o644 },
    { name: 'ca.crt', text: c.ca, mode: 0o644 },
    { name: 'token.pub', text: c.tokenPub, mode: 0o644 },
  ]);
}

/** The roles a host certificate names (its dsched:role:* URIs). */
function certificateRoles(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return [...san.matchAll(/URI:dsched:role:([a-z]+)/g)].map((m) => m[1]!);
}

/**
 * What `dsched start` (and a daemon started alone in a new home) does: the CA if this home has none, and this
 * host's credential with the roles of its DAEMON_LIST plus master. A home that joined a pool has a host
 * credential and no CA: nothing is made. On the central host (it holds the CA key) a DAEMON_LIST that grew
 * since (a central manager that now runs a startd too) gets its certificate again with the new roles, the
 * key kept: the collector would refuse that daemon's ads for ever. Returns the roles DAEMON_LIST names that
 * this host's certificate does not allow and cannot be given here (a host that joined holds startd and master).
 */
export async function ensurePoolCredentials(paths: PoolPaths, host: string, daemonList: string[]): Promise<string[]> {
  const roles = [...new Set([...daemonList.map((d) => d.toLowerCase()), 'master'])].filter((r) =>
    (DAEMON_ROLES as readonly string[]).includes(r),
  );
  if (existsSync(paths.host.cert)) {
    const pem = readFileSync(paths.host.cert, 'utf8');
    const have = certificateRoles(pem);
    const missing = roles.filter((r) => !have.includes(r));
    if (!missing.length) return [];
    try {
      accessSync(paths.ca.key, constants.R_OK);
    } catch {
      return missing; // a host that joined, or a user who does not own this pool's CA
    }
    const publicKey = createPublicKey(readFileSync(paths.host.key, 'utf8')).export({ type: 'spki', format: 'pem' });
    const cert = await issueHostCertificate(paths, host, [...have, ...missing], publicKey.toString());
    writeFileAtomic(paths.host.cert, cert);
    return [];
  }
  await ensureCa(paths);
  const key = makeHostKey();
  const cert = await issueHostCertificate(paths, host, roles, key.publicKey);
  installHostCredential(paths, {
    key: key.privateKey,
    cert,
    ca: readFileSync(paths.ca.cert, 'utf8'),
    tokenPub: readFileSync(paths.ca.tokenPub, 'utf8'),
  });
  return [];
}
