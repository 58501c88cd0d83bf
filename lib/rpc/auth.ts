// Who is calling. Daemons are known by their TLS client certificate (lib/rpc/tls.ts); users by a bearer token,
// JWT-shaped (the shape of HTCondor's IDTOKENS), signed with the pool's Ed25519 token key and verified with its
// public key. A token names a user, never a daemon: daemon rights come only from a certificate.
import { createPrivateKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DaemonRole } from '../daemons.js';
import { DschedError } from '../errors.js';
import { nowSeconds } from '../time.js';

export type { DaemonRole };

export type Identity =
  | { kind: 'daemon'; host: string; roles: ReadonlySet<DaemonRole>; name: string; admin: false } // name: `roles@host` for logs
  | { kind: 'user'; name: string; admin: boolean }
  | { kind: 'anonymous'; name: ''; admin: false };

export const ANONYMOUS: Identity = { kind: 'anonymous', name: '', admin: false };

export interface TokenClaims {
  /** `user:<name>` */
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  iss: string;
  admin?: boolean;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The private token key (ca/token.key, 0600): whoever can read it is the pool's administrator. */
export function loadTokenKey(file: string): KeyObject {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw new DschedError(
      'PERMISSION_DENIED',
      `cannot read the pool's token key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const k = createPrivateKey(text);
  if (k.asymmetricKeyType !== 'ed25519') throw new DschedError('UNAUTHENTICATED', `${file} is not an Ed25519 key`);
  return k;
}

/** Sign a user token. */
export function signToken(key: KeyObject, claims: { user: string; admin?: boolean; ttl?: number }): string {
  if (!claims.user || claims.user.includes(':')) throw new DschedError('USAGE', `"${claims.user}" is not a user name`);
  const now = nowSeconds();
  const body: TokenClaims = {
    sub: `user:${claims.user}`,
    iat: now,
    exp: now + (claims.ttl ?? 24 * 3600),
    jti: randomUUID(),
    iss: 'dsched',
    ...(claims.admin ? { admin: true } : {}),
  };
  const head = b64(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }));
  const payload = b64(JSON.stringify(body));
  const sig = sign(null, Buffer.from(`${head}.${payload}`), key).toString('base64url');
  return `${head}.${payload}.${sig}`;
}

/**
 * Tokens whose signature a key has verified: a command polling the schedd, or a tool calling it thousands of
 * times, sends the same token each time, and checking its signature again cost more than most calls. Only
 * what verified is kept (expiry is checked on every use); bounded, emptied when full.
 */
const verified = new WeakMap<KeyObject, Map<string, TokenClaims>>();
const VERIFIED_MAX = 1024;

/** Verify a user token: EdDSA only (no `alg` games), unexpired, and naming a user. */
export function verifyToken(pub: KeyObject, token: string): TokenClaims {
  let known = verified.get(pub);
  const hit = known?.get(token);
  if (hit) {
    if (hit.exp < Date.now() / 1000) throw new DschedError('UNAUTHENTICATED', 'token expired');
    return hit;
  }
  const claims = checkToken(pub, token);
  if (!known) verified.set(pub, (known = new Map()));
  if (known.size >= VERIFIED_MAX) known.clear();
  known.set(token, claims);
  return claims;
}

function checkToken(pub: KeyObject, token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new DschedError('UNAUTHENTICATED', 'malformed token');
  let head: { alg?: unknown };
  let claims: TokenClaims;
  try {
    head = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
  } catch {
    throw new DschedError('UNAUTHENTICATED', 'malformed token');
  }
  if (head.alg !== 'EdDSA')
    throw new DschedError('UNAUTHENTICATED', "token is not signed with this pool's token key (EdDSA)");
  if (!verify(null, Buffer.from(`${parts[0]}.${parts[1]}`), pub, Buffer.from(parts[2]!, 'base64url')))
    throw new DschedError('UNAUTHENTICATED', 'token signature does not match this pool');
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new DschedError('UNAUTHENTICATED', 'malformed token');
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number')
    throw new DschedError('UNAUTHENTICATED', 'malformed token');
  if (claims.exp < Date.now() / 1000) throw new DschedError('UNAUTHENTICATED', 'token expired');
  if (!claims.sub.startsWith('user:') || claims.sub.length <= 'user:'.length)
    throw new DschedError(
      'UNAUTHENTICATED',
      'a token can only name a user: daemons are known by their host certificate',
    );
  return claims;
}

export function userIdentity(claims: TokenClaims): Identity {
  return { kind: 'user', name: claims.sub.slice('user:'.length), admin: claims.admin === true };
}
