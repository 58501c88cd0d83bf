// The pool's home as an admin may get it wrong: a folder the daemons trust that another user owns or may write,
// or a home on a read-only mount. `dsched start` refuses each before anything starts, with a typed error that
// names the folder and the fix (a read-only home was an untyped EROFS from the master's first log file; a run/
// of another user's was taken), and starts once it is mended.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runChild, DIST, TestPool } from './harness/pool.js';

const root = process.geteuid?.() === 0;
const NOBODY = 65534;

describe('pool home checks', () => {
  test('pool home – a run/ of another user and a home every user may write are refused', { skip: !root }, async () => {
    const pool = TestPool.create();
    try {
      for (const d of ['run', 'log', 'spool']) mkdirSync(join(pool.home, d), { mode: 0o755 });
      chmodSync(join(pool.home, 'spool'), 0o700);
      chownSync(join(pool.home, 'run'), NOBODY, NOBODY);
      let r = await pool.run('dsched', ['start']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^dsched: error\[PERMISSION_DENIED\]: the pool's folder \S+\/run belongs to nobody, not to root who starts the pool/m,
      );
      assert.match(r.stderr, /hint: chown root \S+\/run/);
      chownSync(join(pool.home, 'run'), 0, 0);

      chmodSync(pool.home, 0o777);
      r = await pool.run('dsched', ['start']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /the pool's folder \S+ may be written by every user \(mode 0777\)/);
      assert.match(r.stderr, /hint: chmod go-w /);
      // nothing started meanwhile
      assert.match((await pool.run('dsched', ['status'])).stderr, /POOL_NOT_RUNNING/);

      chmodSync(pool.home, 0o755);
      r = await pool.run('dsched', ['start']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await pool.run('dsched', ['stop']);
    }
  });

  test('pool home – a home on a read-only mount is refused, naming it', { skip: !root }, async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), 'dsched-ro-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]).status !== 0) {
      rmSync(mnt, { recursive: true, force: true });
      return t.skip('no tmpfs mount here');
    }
    try {
      const pool = TestPool.create();
      const home = join(mnt, 'home');
      cpSync(pool.home, home, { recursive: true });
      // a pool's home that was mounted read-only since it last ran
      for (const d of ['run', 'log', 'execute']) mkdirSync(join(home, d), { mode: 0o755 });
      mkdirSync(join(home, 'spool'), { mode: 0o700 });
      chmodSync(mnt, 0o755);
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
      const r = await runChild(
        process.execPath,
        [join(DIST, 'cli', 'dsched.js'), 'start'],
        { env: { ...pool.env, DSCHED_HOME: home } },
        pool.work,
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^dsched: error\[PERMISSION_DENIED\]: the pool's folder \S+ cannot be written \(read-only file system\)/m,
      );
      assert.doesNotMatch(r.stderr, /internal error/);
    } finally {
      spawnSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
