// A challenge directory left in the schedd's sticky folder (run/auth) is the user's tree: they fill it, with
// links to anywhere, and may change it while it is removed. The schedd sweeps leftovers (at start, and once a
// minute) without ever acting as root inside one: root removes only names in the folder itself (an empty
// directory, a link or a file), and a directory with something in it goes with its owner's rights alone.
import assert from 'node:assert/strict';
import {
  chownSync,
  existsSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = 65534;
const name = (c: string) => `auth-${c.repeat(24)}`;

describe('security – leftover authentication challenges', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – the schedd sweeps stale challenges as their owner: links are not followed, root's files stay", async () => {
    const auth = join(pool.home, 'run', 'auth');
    // what an attacker would like root to delete
    const victim = join(pool.work, 'victim');
    mkdirSync(victim, { mode: 0o755 });
    writeFileSync(join(victim, 'precious'), 'root’s\n');

    const mine = (path: string) => chownSync(path, NOBODY, NOBODY);
    const dirOf = (n: string, mode = 0o700) => {
      const p = join(auth, n);
      mkdirSync(p, { mode });
      mine(p);
      return p;
    };
    // nobody's stale challenge, full of files and links out of it
    const full = dirOf(name('A'));
    writeFileSync(join(full, 'file'), 'x');
    mine(join(full, 'file'));
    mkdirSync(join(full, 'sub'));
    mine(join(full, 'sub'));
    writeFileSync(join(full, 'sub', 'deep'), 'y');
    mine(join(full, 'sub', 'deep'));
    symlinkSync(victim, join(full, 'to-victim'));
    lchownSync(join(full, 'to-victim'), NOBODY, NOBODY);
    symlinkSync(join(victim, 'precious'), join(full, 'to-precious'));
    lchownSync(join(full, 'to-precious'), NOBODY, NOBODY);
    // one holding a folder of root's: nobody cannot empty it, and root must not do it for them
    const guarded = dirOf(name('B'));
    mkdirSync(join(guarded, 'roots'), { mode: 0o755 });
    writeFileSync(join(guarded, 'roots', 'keep'), 'root’s\n');
    const empty = dirOf(name('C'));
    // a link named as a challenge, to root's folder
    const link = join(auth, name('D'));
    symlinkSync(victim, link);
    lchownSync(link, NOBODY, NOBODY);
    // root's own with something in it, another name, and a fresh challenge: none of them the sweep's to take
    const rootOwn = join(auth, name('E'));
    mkdirSync(rootOwn, { mode: 0o700 });
    writeFileSync(join(rootOwn, 'f'), 'z');
    const other = dirOf('leftover-of-something-else');
    writeFileSync(join(other, 'f'), 'z');
    const fresh = dirOf(name('F'));
    writeFileSync(join(fresh, 'f'), 'z');
    mine(join(fresh, 'f'));

    const old = new Date(Date.now() - 600_000);
    for (const p of [full, guarded, empty, rootOwn, other]) utimesSync(p, old, old);
    lutimesSync(link, old, old);

    // a schedd that starts sweeps what it finds
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the stale challenges to go', () => ![full, empty, link].some((p) => existsSync(p)));

    assert.ok(existsSync(join(victim, 'precious')), 'nothing a link pointed at was removed');
    assert.ok(existsSync(join(guarded, 'roots', 'keep')), "root's file in nobody's tree was not removed as root");
    assert.ok(existsSync(join(rootOwn, 'f')), "root's own leftover is not emptied");
    assert.ok(existsSync(join(other, 'f')), 'only names the schedd gives are swept');
    assert.ok(existsSync(join(fresh, 'f')), 'a challenge that may be in flight stays');
    // the schedd still serves: nobody authenticates through the same folder
    pool.file('after.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const r = await pool.run('dsubmit', ['after.sub'], {
      uid: NOBODY,
      gid: NOBODY,
      env: { USER: 'nobody', HOME: '/tmp' },
    });
    assert.equal(r.code, 0, r.stderr);
  });
});
