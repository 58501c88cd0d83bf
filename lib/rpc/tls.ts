// TLS on every channel. A server presents its host certificate and asks for the client's (optional); a
// client certificate counts only when it chains to the pool CA and is not revoked. A client checks that the
// server chains to the pool CA and carries the role (and, when known, the host) it meant to reach, before it
// sends anything: a token or a job ad never goes to an impostor.
import { X509Certificate, type KeyObject, createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { PoolPaths } from '../config/paths.js';
import { DAEMON_ROLES } from '../daemons.js';
import { DschedError } from '../errors.js';
import type { DaemonRole, Identity } from './auth.js';

/** What a channel needs: the pool CA, and for a daemon its host certificate and key. */
export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export type TokenSource = () => string | undefined;

/** How a client proves who it is: a host certificate (daemons) or a bearer token (users), never both needed. */
export interface ClientCredentials {
  tls: TlsMaterial;
  token?: TokenSource;
  /** Told when a server refused the caller (UNAUTHENTICATED, PERMISSION_DENIED): a kept token is not sent again. */
  tokenRefused?: () => void;
  /** Serials this host knows are revoked: a server presenting one is refused too. */
  revoked?: Revocations;
}

/** What a client expects of the server it dials. */
export interface Expect {
  role: DaemonRole;
  host?: string;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DschedError(
      'UNAUTHENTICATED',
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        hint: 'a new pool makes it with `dsched start`; a new host gets it with `dsched join HOST:PORT TOKEN`',
      },
    );
  }
}

/** A daemon's material: this host's credential in host/. */
export function hostTls(paths: PoolPaths): Required<TlsMaterial> {
  return {
    ca: read(paths.host.ca, 'the pool CA certificate'),
    cert: read(paths.host.cert, "this host's certificate"),
    key: read(paths.host.key, "this host's key"),
  };
}

/** A CLI's material: the pool CA only (host/ca.crt, else ca/ca.crt; both world-readable). */
export function cliTls(paths: PoolPaths): TlsMaterial {
  for (const f of [paths.host.ca, paths.ca.cert]) {
    try {
      return { ca: readFileSync(f) };
    } catch {
      /* try the next */
    }
  }
  return { ca: read(paths.host.ca, 'the pool CA certificate') };
}

/** The token public key every daemon verifies user tokens with. */
export function tokenPublicKey(paths: PoolPaths): KeyObject {
  return createPublicKey(read(paths.host.tokenPub, 'the token public key'));
}

/** Host name and roles a certificate names (from CN and the dsched:role:* URIs of its SubjectAltName). */
export function certificateSubject(cert: {
  subject: string | Record<string, string | string[]>;
  subjectaltname?: string;
  subjectAltName?: string;
}): {
  host: string;
  roles: Set<DaemonRole>;
} {
  let host: string;
  if (typeof cert.subject === 'string') host = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
  else {
    const cn = cert.subject?.CN;
    host = Array.isArray(cn) ? '' : (cn ?? ''); // two CNs: ambiguous, counts as none
  }
  const roles = new Set<DaemonRole>();
  const san = cert.subjectaltname ?? cert.subjectAltName ?? '';
  for (const part of san.split(/,\s*/)) {
    const m = /^URI:dsched:role:([a-z]+)$/.exec(part.trim());
    if (m && (DAEMON_ROLES as readonly string[]).includes(m[1]!)) roles.add(m[1] as DaemonRole);
  }
  return { host, roles };
}

const normSerial = (s: string) => s.toLowerCase().replace(/^0+/, '');

/**
 * spool/revoked.json on the central host, re-read whenever it changes (a stat per check: no restart needed,
 * and no watcher to miss an atomic rename).
 */
export class Revocations {
  private key = '';
  private serials = new Set<string>();
  private hosts = new Map<string, string>();
  constructor(private file: string) {}

  private refresh() {
    let k = 'absent';
    try {
      const st = statSync(this.file);
      k = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      /* no revocations */
    }
    if (k === this.key) return;
    this.key = k;
    this.serials.clear();
    this.hosts.clear();
    if (k === 'absent') return;
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as { hosts?: Array<{ host: string; serials: string[] }> };
      for (const h of v.hosts ?? [])
        for (const s of h.serials ?? []) {
          this.serials.add(normSerial(s));
          this.hosts.set(normSerial(s), h.host);
        }
    } catch {
      /* a half-written file cannot happen (written atomically); an edited broken one revokes nothing new */
    }
  }

  /** The host a serial was revoked for, or undefined. */
  revoked(serial: string): string | undefined {
    this.refresh();
    return this.hosts.get(normSerial(serial));
  }
}

/** The identity of a verified client certificate (undefined: it names no host or no role: it counts as nothing). */
export function daemonIdentity(cert: PeerCertificate, revoked: Revocations | undefined): Identity | undefined {
  const host = revoked?.revoked(cert.serialNumber);
  if (host !== undefined) throw new DschedError('UNAUTHENTICATED', `the certificate of host ${host} was revoked`);
  const s = certificateSubject(cert as unknown as Parameters<typeof certificateSubject>[0]);
  if (!s.host || !s.roles.size) return undefined;
  return { kind: 'daemon', host: s.host, roles: s.roles, name: `${[...s.roles].join(',')}@${s.host}`, admin: false };
}

/** Static certificate provider: grpc-js asks for the client certificate (optional) only through this API. It
 *  registers its watcher after adding the listeners, so the (only) update is delivered on the next turn. */
class StaticProvider implements grpc.experimental.CertificateProvider {
  constructor(private tls: Required<TlsMaterial>) {}
  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener) {
    queueMicrotask(() => l({ caCertificate: this.tls.ca }));
  }
  removeCaCertificateListener() {}
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener) {
    // the CA certificate goes with the host's, so a joining host can pin it by its hash on first contact
    queueMicrotask(() =>
      l({ certificate: Buffer.concat([this.tls.cert, Buffer.from('\n'), this.tls.ca]), privateKey: this.tls.key }),
    );
  }
  removeIdentityCertificateListener() {}
}

/** TLS only; a client certificate is requested, optional, and verified against the pool CA. */
export function serverCredentials(tls: Required<TlsMaterial>): grpc.ServerCredentials {
  const p = new StaticProvider(tls);
  return grpc.experimental.createCertificateProviderServerCredentials(p, p, false);
}

/** The server's certificate must carry the expected role (and host), and not be revoked. */
export function checkServer(expect: Expect, revoked?: Revocations) {
  return (_name: string, cert: PeerCertificate): Error | undefined => {
    const s = certificateSubject(cert as unknown as Parameters<typeof certificateSubject>[0]);
    if (!s.roles.has(expect.role))
      return new Error(`the server's certificate (host ${s.host || '?'}) is not a ${expect.role}'s`);
    if (expect.host && s.host.toLowerCase() !== expect.host.toLowerCase())
      return new Error(`the server's certificate is for host ${s.host || '?'}, not ${expect.host}`);
    const r = revoked?.revoked(cert.serialNumber);
    if (r !== undefined) return new Error(`the server's certificate (host ${r}) was revoked`);
    return undefined;
  };
}

export function channelCredentials(creds: ClientCredentials, expect: Expect): grpc.ChannelCredentials {
  const { ca, cert, key } = creds.tls;
  return grpc.credentials.createSsl(ca, key ?? null, cert ?? null, {
    checkServerIdentity: checkServer(expect, creds.revoked),
  });
}

/** The host certificate's own serial, host and roles (for logs and for `dsched join`). */
export function describeCertificate(pem: Buffer | string): {
  serial: string;
  host: string;
  roles: DaemonRole[];
  notAfter: string;
} {
  const c = new X509Certificate(pem);
  const s = certificateSubject({ subject: c.subject, subjectaltname: c.subjectAltName });
  return { serial: normSerial(c.serialNumber), host: s.host, roles: [...s.roles], notAfter: c.validTo };
}

/**
 * First contact of a joining host (kubeadm's discovery): fetch the chain the server presents without trusting
 * it, keep the certificate whose SHA-256 is the one the join token pins, and check the server's own
 * certificate is signed by it. The pinned CA then verifies the real call; nothing is sent before.
 */
export async function pinnedCa(address: string, fingerprint: string, timeoutMs = 15_000): Promise<string> {
  const { connect } = await import('node:tls');
  const { createHash } = await import('node:crypto');
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new DschedError('USAGE', `"${address}" is not HOST:PORT`);
  const [, host, port] = m;
  const chain = await new Promise<PeerCertificate>((resolve, reject) => {
    const s = connect(
      { host, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: 'dsched-collector' },
      () => {
        const c = s.getPeerCertificate(true);
        s.destroy();
        resolve(c);
      },
    );
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new DschedError('COLLECTOR_UNREACHABLE', `no TLS answer from ${address} in ${timeoutMs / 1000} s`));
    });
    s.on('error', (e) =>
      reject(new DschedError('COLLECTOR_UNREACHABLE', `cannot reach the collector at ${address}: ${e.message}`)),
    );
  });
  const seen = new Set<PeerCertificate>();
  let ca: X509Certificate | undefined;
  for (
    let c: PeerCertificate | undefined = chain;
    c && !seen.has(c);
    c = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate
  ) {
    seen.add(c);
    if (c.raw && createHash('sha256').update(c.raw).digest('hex') === fingerprint.toLowerCase())
      ca = new X509Certificate(c.raw);
  }
  if (!ca)
    throw new DschedError(
      'UNAUTHENTICATED',
      `the server at ${address} does not present the pool CA the join token names`,
      { hint: 'is HOST:PORT the collector of the pool that made the token?' },
    );
  const leaf = new X509Certificate(chain.raw);
  if (
    !leaf.verify(ca.publicKey) ||
    !certificateSubject({ subject: leaf.subject, subjectaltname: leaf.subjectAltName }).roles.has('collector')
  )
    throw new DschedError(
      'UNAUTHENTICATED',
      `the server at ${address} is not a collector of the pool the join token names`,
    );
  return ca.toString();
}
