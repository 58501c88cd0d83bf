// A local user proves who they are by creating what the schedd names in its sticky folder (run/auth); the
// schedd reads the owner. Another user's file that someone may move (it lies in a folder without the sticky
// bit that anyone may write, and its times are fresh because its owner has just written it) must not pass as
// theirs: the challenge is a directory of mode 0700, which no one but its owner can move to another folder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool } from '../integration/harness/pool.js';
import { NOBODY, scriptAsNobody } from './nobody.js';

describe('security – the authentication challenge', () => {
  let pool: TestPool;
  let shared: string;
  let client: string;
  before(async () => {
    pool = await TestPool.start();
    // a scratch folder anyone may write, without the sticky bit, on the file system of the pool's home
    shared = join(pool.work, 'scratch');
    mkdirSync(shared);
    chmodSync(pool.work, 0o755);
    chmodSync(shared, 0o777);
    // nobody's client: ask for a challenge, put root's entry there, finish
    client = join(pool.work, 'steal.mjs');
    writeFileSync(
      client,
      [
        `import { readFileSync, renameSync } from 'node:fs';`,
        `import { ScheddClient } from ${JSON.stringify(join(ROOT, 'lib/rpc/clients/schedd.ts'))};`,
        `const c = new ScheddClient(process.argv[2], { tls: { ca: readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))}) } });`,
        `const out = {};`,
        `try {`,
        `  const { path, nonce } = await c.beginAuth('nobody');`,
        `  try { renameSync(process.argv[3], path); out.moved = true; } catch (e) { out.moveError = e.code; }`,
        `  out.token = (await c.finishAuth(nonce)).user;`,
        `} catch (e) { out.error = e.message; }`,
        `console.log(JSON.stringify(out));`,
        `process.exit(0);`,
      ].join('\n'),
    );
    chmodSync(client, 0o644);
  });
  after(async () => {
    await pool?.stop();
  });

  const steal = (entry: string) => scriptAsNobody(pool, client, [pool.daemonAddress('schedd'), entry]);

  test("security – root's fresh file moved into nobody's challenge gives no token for root", async () => {
    const victim = join(shared, 'result.txt');
    writeFileSync(victim, 'root just wrote this\n');
    const r = await steal(victim);
    assert.equal(r.moved, true, JSON.stringify(r)); // the folder lets anyone move it
    assert.equal(r.token, undefined, `no token: ${JSON.stringify(r)}`);
    assert.match(String(r.error), /not a fresh directory of mode 0700/);
  });

  test("security – root's 0700 directory cannot be moved there; a 0777 one can but gives no token", async () => {
    const closed = join(shared, 'closed');
    mkdirSync(closed, 0o700);
    const r = await steal(closed);
    assert.equal(r.moveError, 'EACCES', JSON.stringify(r));
    assert.equal(r.token, undefined);
    assert.ok(existsSync(closed), 'root’s directory stays where it was');

    const open = join(shared, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const o = await steal(open);
    assert.equal(o.moved, true, JSON.stringify(o));
    assert.equal(o.token, undefined, `no token: ${JSON.stringify(o)}`);
  });

  test('security – a user still gets a token for themself: nobody submits and lists their own job', async () => {
    pool.file('mine.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const s = await pool.run('dsubmit', ['mine.sub'], NOBODY);
    assert.equal(s.code, 0, s.stderr);
    const q = await pool.run('dq', ['-af', 'Owner'], NOBODY);
    assert.equal(q.stdout.trim(), 'nobody');
    assert.equal(readFileSync(join(pool.work, 'mine.sub'), 'utf8').length > 0, true);
  });
});
