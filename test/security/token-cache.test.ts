// A user's pool token is kept between commands (cli/shared/token-cache.ts) in that user's own cache, private,
// and sent again only when it is this pool's and names that user: a token planted in the cache (another
// user's, forged, or written by someone else) never makes a command act as anyone but the user running it.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { loadTokenKey, signToken, verifyToken } from '../../lib/rpc/auth.js';
import { tokenPublicKey } from '../../lib/rpc/tls.js';
import { poolPaths } from '../../lib/config/paths.js';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';

describe('kept user tokens', () => {
  let pool: TestPool;
  const home = mkdtempSync(join(tmpdir(), 'dsched-nobody-home-'));
  const tokens = join(home, '.cache', 'dsched', 'tokens');
  const nobody: RunOptions = {
    uid: 65534,
    gid: 65534,
    env: { USER: 'nobody', HOME: home, XDG_CACHE_HOME: undefined },
  };
  const kept = () => readdirSync(tokens).filter((f) => f.endsWith('.token'));
  const claimsOf = (t: string) => verifyToken(tokenPublicKey(poolPaths(pool.home)), t.trim());

  before(async () => {
    pool = await TestPool.start();
    chmodSync(home, 0o700);
    chownSync(home, 65534, 65534);
    pool.file('job.sub', 'executable = /bin/true\nhold = true\nqueue\n');
  });
  after(async () => {
    await pool.stop();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => rmSync(join(home, '.cache', 'dsched', 'tokens'), { recursive: true, force: true }));

  /** A first command as nobody: the token the schedd gave it is kept; its file. */
  async function first(): Promise<string> {
    const r = await pool.run('dq', ['-totals'], nobody);
    assert.equal(r.code, 0, r.stderr);
    const files = kept();
    assert.equal(files.length, 1, 'one token kept');
    return join(tokens, files[0]!);
  }

  test('token cache – the token is private to its user and used again, with no new challenge', async () => {
    const file = await first();
    const st = statSync(file);
    assert.equal(st.uid, 65534);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(tokens).mode & 0o777, 0o700);
    const token = readFileSync(file, 'utf8');
    assert.equal(claimsOf(token).sub, 'user:nobody');
    const r = await pool.run('dq', ['-totals'], nobody);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(file, 'utf8'), token, 'the kept token was used, none asked for');
  });

  test("token cache – another user's token planted in the cache does not make jobs theirs", async () => {
    const file = await first();
    // a real token of this pool, for someone else, in a file nobody owns: sent, it would submit as alice
    const alice = signToken(loadTokenKey(poolPaths(pool.home).ca.tokenKey), { user: 'alice', ttl: 8 * 3600 });
    writeFileSync(file, alice);
    chownSync(file, 65534, 65534);
    const r = await pool.run('dsubmit', ['job.sub'], nobody);
    assert.equal(r.code, 0, r.stderr);
    const cluster = /cluster (\d+)/.exec(r.stdout)![1];
    const q = await pool.run('dq', ['-allusers', cluster!, '-af', 'Owner']);
    assert.equal(q.stdout.trim(), 'nobody');
    assert.equal(claimsOf(readFileSync(file, 'utf8')).sub, 'user:nobody', 'replaced by its own token');
  });

  test('token cache – a forged token in the cache is never sent', async () => {
    const file = await first();
    const forger = generateKeyPairSync('ed25519');
    writeFileSync(file, signToken(forger.privateKey, { user: 'nobody', admin: true, ttl: 8 * 3600 }));
    const r = await pool.run('dq', ['-totals'], nobody);
    assert.equal(r.code, 0, r.stderr); // the schedd would have refused it: the challenge was made instead
    assert.equal(claimsOf(readFileSync(file, 'utf8')).admin, undefined, 'replaced by the pool-issued token');
  });

  test('token cache – a token file someone else wrote is not used', async () => {
    const file = await first();
    // root writes a file there: valid for nobody, but not written by nobody
    writeFileSync(file, signToken(loadTokenKey(poolPaths(pool.home).ca.tokenKey), { user: 'nobody', ttl: 8 * 3600 }));
    chownSync(file, 0, 0);
    chmodSync(file, 0o600);
    const r = await pool.run('dq', ['-totals'], nobody);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(file).uid, 65534, 'replaced by a token of its own');
  });
});
