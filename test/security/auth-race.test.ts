// The schedd's challenge for a user is a directory `auth-NONCE` the user makes in the schedd's auth folder,
// and whoever then sends FinishAuth(NONCE) gets the token for the directory's owner. The folder could be
// listed by everyone: another local user (uid 65534) who watched it (inotify) saw each challenge made and
// sent its FinishAuth before the user's own client did, and had a token for that user (for an admin of the
// pool, an admin's). The folder is now one no one else may list (1733): a challenge is made by the name the
// schedd gave, which only its asker knows.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { poolPaths } from '../../lib/config/paths.js';
import { lookupUser } from '../../lib/users.js';
import { TestPool } from '../integration/harness/pool.js';
import { anonymousScheddScript, scriptAsNobody } from './nobody.js';

describe('authentication challenges – made where no one else looks', () => {
  let pool: TestPool;
  let thief: string;
  const victim = 'daemon';
  before(async () => {
    assert.ok(lookupUser(victim), 'an account to be robbed');
    pool = await TestPool.start();
    thief = anonymousScheddScript(
      pool,
      'thief.mjs',
      ['watch'],
      [
        `const out = { stolen: [] };`,
        `try {`,
        `  watch(process.argv[3], (_e, name) => {`,
        `    if (name?.startsWith('auth-')) c.finishAuth(name.slice(5)).then((r) => out.stolen.push(r.user), () => undefined);`,
        `  });`,
        `  console.log('watching');`,
        `} catch (e) { out.error = e.code; }`,
        `setTimeout(() => { console.log(JSON.stringify(out)); process.exit(0); }, out.error ? 0 : Number(process.argv[4]));`,
      ],
    );
  });
  after(() => pool.stop());

  test("security – another user watching the auth folder gets no one's token", async () => {
    const { uid, gid } = lookupUser(victim)!;
    const watching = scriptAsNobody(pool, thief, [pool.daemonAddress('schedd'), poolPaths(pool.home).authDir, '20000']);
    // the victim's commands, each with no kept token: a handshake each
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const home = join(pool.work, `victim-${i}`);
      mkdirSync(home, { mode: 0o700 });
      chownSync(home, uid, gid);
      const env = { USER: victim, HOME: home, XDG_CACHE_HOME: home };
      codes.push((await pool.run('dq', ['-totals'], { uid, gid, cwd: home, env })).code);
    }
    const got = await watching;
    assert.deepEqual(got.stolen ?? [], [], `tokens taken: ${JSON.stringify(got)}`);
    assert.deepEqual(codes, [0, 0, 0, 0, 0], "the victim's own commands were served");
  });
});
