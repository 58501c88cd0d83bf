// A user's pool token kept between commands (cli/shared/token-cache.ts) is given back only when it is this
// pool's, this user's, not an admin's and good for a while yet, and only from a cache this user alone writes.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { poolPaths } from '../../../lib/config/paths.js';
import { signToken } from '../../../lib/rpc/auth.js';
import { keepToken, keptToken, dropToken } from '../../../cli/shared/token-cache.js';

const root = mkdtempSync(join(tmpdir(), 'dsched-token-cache-'));
chmodSync(root, 0o700);
const paths = poolPaths(join(root, 'pool'));
const cache = join(root, 'cache');
const pool = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
mkdirSync(paths.host.dir, { recursive: true });
writeFileSync(paths.host.tokenPub, pool.publicKey.export({ type: 'spki', format: 'pem' }));
const saved = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = cache;
after(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved;
  rmSync(root, { recursive: true, force: true });
});

/** A token of the pool's shape issued `age` seconds ago (signToken always issues it now). */
function issuedAgo(key: KeyObject, user: string, age: number): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64({ sub: `user:${user}`, iat: now - age, exp: now - age + 8 * 3600, jti: 'x', iss: 'dsched' })}`;
  return `${body}.${sign(null, Buffer.from(body), key).toString('base64url')}`;
}

describe('token cache', () => {
  beforeEach(() => {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { mode: 0o700 });
  });

  test("token cache – the pool's token for this user is kept and given back", () => {
    const t = signToken(pool.privateKey, { user: 'alice', ttl: 8 * 3600 });
    keepToken(paths, 'alice', t);
    assert.equal(keptToken(paths, 'alice'), t);
    const older = issuedAgo(pool.privateKey, 'alice', 9 * 60);
    keepToken(paths, 'alice', older);
    assert.equal(keptToken(paths, 'alice'), older, 'nine minutes old');
    assert.equal(keptToken(paths, 'bob'), undefined, "not another user's");
    dropToken(paths, 'alice');
    assert.equal(keptToken(paths, 'alice'), undefined, 'forgotten once refused');
  });

  test('token cache – admin, foreign, stale and misnamed tokens are never kept', () => {
    for (const [why, t] of [
      ['admin', signToken(pool.privateKey, { user: 'alice', admin: true, ttl: 8 * 3600 })],
      ['another pool', signToken(other.privateKey, { user: 'alice', ttl: 8 * 3600 })],
      ['about to expire', signToken(pool.privateKey, { user: 'alice', ttl: 60 })],
      ['issued over ten minutes ago', issuedAgo(pool.privateKey, 'alice', 11 * 60)],
      ['issued in the future', issuedAgo(pool.privateKey, 'alice', -3600)],
      ['another user', signToken(pool.privateKey, { user: 'bob', ttl: 8 * 3600 })],
      ['not a token', 'a.b.c'],
    ] as const) {
      keepToken(paths, 'alice', t);
      assert.equal(keptToken(paths, 'alice'), undefined, why);
    }
  });

  test('token cache – a token planted in the cache is used only if it would have been kept', () => {
    keepToken(paths, 'alice', signToken(pool.privateKey, { user: 'alice', ttl: 8 * 3600 }));
    const dir = join(cache, 'dsched', 'tokens');
    const [file] = readdirSync(dir);
    for (const t of [
      signToken(other.privateKey, { user: 'alice', ttl: 8 * 3600 }),
      signToken(pool.privateKey, { user: 'alice', admin: true, ttl: 8 * 3600 }),
    ]) {
      writeFileSync(join(dir, file!), t);
      assert.equal(keptToken(paths, 'alice'), undefined);
    }
  });

  test('token cache – a cache others can write is not read', () => {
    const t = signToken(pool.privateKey, { user: 'alice', ttl: 8 * 3600 });
    keepToken(paths, 'alice', t);
    const dir = join(cache, 'dsched', 'tokens');
    chmodSync(dir, 0o777);
    assert.equal(keptToken(paths, 'alice'), undefined, 'a world-writable folder');
    chmodSync(dir, 0o700);
    const [file] = readdirSync(dir);
    chmodSync(join(dir, file!), 0o666);
    assert.equal(keptToken(paths, 'alice'), undefined, 'a world-writable file');
    chmodSync(join(dir, file!), 0o600);
    assert.equal(keptToken(paths, 'alice'), t);
  });
});
