// A user's pool token kept between commands. Without the pool's token key, a command proves who its user is
// by the schedd's file challenge (BeginAuth, a file created, FinishAuth): two round trips and the schedd's
// work before every dq or dsubmit. The token it gets (hours long) is kept in the user's own cache
// (user-cache.ts: a folder and file only this user could have written) and used again while it verifies
// against the pool's token public key, names this user and is at most ten minutes old: a token of another
// pool, a forged or stale one is never sent, the challenge is made as before. A workflow's burst of commands
// pays for one challenge, and what the schedd decides when it issues a token (admin or not) is at most ten
// minutes old. Admin tokens (queue super users) are not kept at all, so a user taken off QUEUE_SUPER_USERS
// has no admin rights at the next command, and a token the pool refuses (UNAUTHENTICATED, PERMISSION_DENIED:
// say, a user just made an admin) is forgotten.
import { createPublicKey } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolPaths } from '../../lib/config/paths.js';
import { verifyToken } from '../../lib/rpc/auth.js';
import { fnv1a, readOwnFile, userCacheDir, writeOwnFile } from './user-cache.js';

/** A kept token is used for this long after it was issued (seconds), and only while it has as long left. */
const MAX_AGE = 600;

/** The pool's token public key (host/token.pub, else ca/token.pub; both world-readable), as text. */
function publicKeyText(paths: PoolPaths): string | undefined {
  for (const f of [paths.host.tokenPub, paths.ca.tokenPub]) {
    try {
      return readFileSync(f, 'latin1');
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/** Where this user's token for the pool with this public key is kept (one file per pool and user). */
function tokenFile(pub: string, user: string): string | undefined {
  const dir = userCacheDir('tokens');
  return dir && join(dir, `${fnv1a(`${user}\n${pub}`)}.token`);
}

/** Whether `token` is this pool's, for `user`, not an admin's, recent and good for a while yet. */
function usable(pub: string, token: string, user: string): boolean {
  try {
    const claims = verifyToken(createPublicKey(pub), token);
    const now = Date.now() / 1000;
    return (
      claims.sub === `user:${user}` &&
      claims.admin !== true &&
      typeof claims.iat === 'number' &&
      claims.iat <= now + 60 &&
      now - claims.iat <= MAX_AGE &&
      claims.exp - now >= MAX_AGE
    );
  } catch {
    return false;
  }
}

/** The token kept for `user` of this pool, when there is one to use. */
export function keptToken(paths: PoolPaths, user: string): string | undefined {
  const pub = publicKeyText(paths);
  const file = pub && tokenFile(pub, user);
  const token = file && readOwnFile(file)?.toString('latin1').trim();
  return token && usable(pub, token, user) ? token : undefined;
}

/** Keep a token the schedd gave `user` for the next commands (when it is one that keptToken would use). */
export function keepToken(paths: PoolPaths, user: string, token: string): void {
  const pub = publicKeyText(paths);
  const file = pub && usable(pub, token, user) ? tokenFile(pub, user) : undefined;
  if (file) writeOwnFile(file, `${token}\n`);
}

/** Forget the kept token (the pool refused it). */
export function dropToken(paths: PoolPaths, user: string): void {
  const pub = publicKeyText(paths);
  const file = pub && tokenFile(pub, user);
  if (file) rmSync(file, { force: true });
}
