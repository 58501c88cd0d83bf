// Admitting and removing hosts, on the host that keeps the pool CA (the collector's). A join token is
// `<id>.<secret>.<CA hash>`: only SHA-256 of the secret is stored (spool/join-tokens.json, 0600), it expires,
// and it is struck off before the certificate is made, so it works once. Revoking a host records the serials
// of every certificate issued to it in spool/revoked.json, which every daemon of this host re-reads on change.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PoolPaths } from '../../lib/config/paths.js';
import { DschedError } from '../../lib/errors.js';
import { caFingerprint, issueHostCertificate, readIssued } from '../../lib/pki/ca.js';
import { writeFileAtomic } from '../../lib/rpc/address-file.js';
import { nowSeconds as nowSec } from '../../lib/time.js';

interface StoredJoinToken {
  id: string;
  hash: string;
  expires: number;
}

interface RevokedHost {
  host: string;
  serials: string[];
  at: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function readJson<T>(file: string, key: string): T[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Array.isArray(v[key]) ? (v[key] as T[]) : [];
  } catch {
    return [];
  }
}

export class Admission {
  constructor(
    private paths: PoolPaths,
    /** This host's own name: no other host may take it. */
    private selfHost: string,
  ) {}

  private tokens(): StoredJoinToken[] {
    return readJson<StoredJoinToken>(this.paths.joinTokens, 'tokens').filter((t) => t.expires > nowSec());
  }

  private saveTokens(tokens: StoredJoinToken[]) {
    writeFileAtomic(this.paths.joinTokens, JSON.stringify({ tokens }, null, 1) + '\n', 0o600);
  }

  createJoinToken(ttlSec: number): { token: string; expires: number } {
    const ttl = ttlSec > 0 ? Math.min(ttlSec, 7 * 86400) : 3600;
    let ca: string;
    try {
      ca = readFileSync(this.paths.ca.cert, 'utf8');
    } catch {
      throw new DschedError(
        'PERMISSION_DENIED',
        "this collector's host does not keep the pool CA: make join tokens on the central host",
      );
    }
    const id = randomBytes(4).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const expires = nowSec() + ttl;
    this.saveTokens([...this.tokens(), { id, hash: sha256(secret), expires }]);
    return { token: `${id}.${secret}.${caFingerprint(ca)}`, expires };
  }

  /** Strike the token off (synchronously: a second Join with it, even one racing this one, finds nothing). */
  private consume(token: string): void {
    const [id = '', secret = ''] = token.split('.');
    const all = this.tokens();
    const t = all.find((x) => x.id === id);
    const given = Buffer.from(sha256(secret), 'hex');
    if (!t || !timingSafeEqual(Buffer.from(t.hash, 'hex'), given))
      throw new DschedError('UNAUTHENTICATED', 'the join token is unknown, already used or expired', {
        hint: 'an administrator makes a new one with: dsched token create --join',
      });
    this.saveTokens(all.filter((x) => x !== t));
  }

  private revokedHosts(): RevokedHost[] {
    return readJson<RevokedHost>(this.paths.revoked, 'hosts');
  }

  /** Serials issued to a host and not revoked. */
  private liveSerials(host: string): string[] {
    const revoked = new Set(this.revokedHosts().flatMap((h) => h.serials.map((s) => s.toLowerCase())));
    return readIssued(this.paths)
      .filter((c) => c.host.toLowerCase() === host.toLowerCase() && !revoked.has(c.serial.toLowerCase()))
      .map((c) => c.serial);
  }

  async join(
    token: string,
    host: string,
    publicKey: string,
  ): Promise<{ certificate: string; ca_certificate: string; token_public_key: string }> {
    this.consume(token);
    if (host.toLowerCase() === this.selfHost.toLowerCase() || this.liveSerials(host).length)
      throw new DschedError('NAME_IN_USE', `host ${host} already has a certificate in this pool`, {
        hint: 'revoke it first (dsched revoke HOST), or join under another HOSTNAME',
      });
    const certificate = await issueHostCertificate(this.paths, host, ['startd', 'master'], publicKey);
    return {
      certificate,
      ca_certificate: readFileSync(this.paths.ca.cert, 'utf8'),
      token_public_key: readFileSync(this.paths.ca.tokenPub, 'utf8'),
    };
  }

  /** Record every live certificate of `host` as revoked; returns the serials. */
  revoke(host: string): string[] {
    const serials = this.liveSerials(host);
    if (!serials.length) throw new DschedError('HOST_NOT_FOUND', `no certificate of host ${host} is live in this pool`);
    writeFileAtomic(
      this.paths.revoked,
      JSON.stringify({ hosts: [...this.revokedHosts(), { host, serials, at: nowSec() }] }, null, 1) + '\n',
      0o644,
    );
    return serials;
  }
}
