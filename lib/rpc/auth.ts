// Pool tokens: JWT-shaped, HS256-signed with the pool secret (the shape of HTCondor's IDTOKENS).
// Daemons mint their own; local users get one from the schedd after proving who they are.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DschedError } from '../errors.js';

export interface TokenClaims {
  /** `daemon:<name>` or `user:<name>` */
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  iss: string;
  admin?: boolean;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Read the pool secret, creating it (mode 0600) when `create` and absent. */
export function loadSecret(file: string, create = false): Buffer {
  if (!existsSync(file)) {
    if (!create) throw new DschedError('UNAUTHENTICATED', `no pool secret at ${file}`);
    mkdirSync(dirname(file), { recursive: true });
    // written whole under a temporary name, then linked into place: a daemon starting at the same moment
    // sees either no secret or the complete one, never an empty file
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, randomBytes(32).toString('base64'));
    fsyncSync(fd);
    closeSync(fd);
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
    chmodSync(file, 0o600);
  }
  const text = readFileSync(file, 'utf8').trim();
  if (text.length < 16) throw new DschedError('UNAUTHENTICATED', `pool secret ${file} is too short`);
  return Buffer.from(text);
}

export function signToken(secret: Buffer, claims: Omit<TokenClaims, 'iat' | 'jti' | 'iss' | 'exp'> & { ttl?: number }): string {
  const now = Math.floor(Date.now() / 1000);
  const body: TokenClaims = {
    sub: claims.sub,
    iat: now,
    exp: now + (claims.ttl ?? 24 * 3600),
    jti: randomUUID(),
    iss: 'dsched',
    ...(claims.admin ? { admin: true } : {}),
  };
  const head = b64(JSON.stringify({ alg: 'HS256', kid: 'POOL', typ: 'JWT' }));
  const payload = b64(JSON.stringify(body));
  const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
  return `${head}.${payload}.${sig}`;
}

export function verifyToken(secret: Buffer, token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new DschedError('UNAUTHENTICATED', 'malformed token');
  const expect = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== expect.length || !timingSafeEqual(got, expect))
    throw new DschedError('UNAUTHENTICATED', 'token signature does not match this pool');
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new DschedError('UNAUTHENTICATED', 'malformed token');
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number')
    throw new DschedError('UNAUTHENTICATED', 'malformed token');
  if (claims.exp < Date.now() / 1000) throw new DschedError('UNAUTHENTICATED', 'token expired');
  return claims;
}

export type DaemonRole = 'collector' | 'negotiator' | 'schedd' | 'startd' | 'master';
export const DAEMON_ROLES: readonly DaemonRole[] = ['collector', 'negotiator', 'schedd', 'startd', 'master'];

/** Who is calling: a pool daemon (by the roles it may act as, on its host), a user, or nobody known. */
export type Identity =
  | { kind: 'daemon'; host: string; roles: ReadonlySet<DaemonRole>; name: string; admin: false } // name: `roles@host` for logs
  | { kind: 'user'; name: string; admin: boolean }
  | { kind: 'anonymous'; name: ''; admin: false };

export const ANONYMOUS: Identity = { kind: 'anonymous', name: '', admin: false };

export function identityOf(claims: TokenClaims): Identity {
  const [kind, ...rest] = claims.sub.split(':');
  const name = rest.join(':');
  if (kind === 'daemon') {
    // `daemon:<role>@<host>`: the role and host its certificate will carry once daemons use them
    const at = name.indexOf('@');
    const role = (at < 0 ? name : name.slice(0, at)) as DaemonRole;
    const host = at < 0 ? '' : name.slice(at + 1);
    if (!DAEMON_ROLES.includes(role) || !host) throw new DschedError('UNAUTHENTICATED', 'malformed daemon token');
    return { kind: 'daemon', host, roles: new Set([role]), name, admin: false };
  }
  if (kind !== 'user' || !name) throw new DschedError('UNAUTHENTICATED', 'malformed token');
  return { kind: 'user', name, admin: claims.admin === true };
}
