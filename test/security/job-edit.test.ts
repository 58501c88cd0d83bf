// dqedit against a root pool from a local user (uid 65534): another user's job cannot be edited, and no one
// changes who owns a job or which job it is. Each attempt is refused with a clear error and the job's ad is
// exactly as before; the user's own job takes an allowed edit.
import { strict as assert } from 'node:assert';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – dqedit', { skip: needsRoot }, () => {
  let pool: TestPool;
  let rootJob: number;
  let userJob: number;
  let userDir: string;
  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    rootJob = await pool.submit('held.sub');
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    chownSync(userDir, 65534, 65534);
    const sub = join(userDir, 'mine.sub');
    writeFileSync(sub, 'executable = /bin/true\nhold = true\nqueue\n');
    chownSync(sub, 65534, 65534);
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: userDir });
    assert.equal(r.code, 0, r.stderr);
    userJob = Number(/cluster (\d+)/.exec(r.stdout)![1]);
  });
  after(async () => {
    await pool?.stop();
  });

  const adOf = async (c: number) => (await pool.json('dq', ['-allusers', String(c)]))[0]!;

  test("security – dqedit: another user's job cannot be edited", async () => {
    const before = await adOf(rootJob);
    for (const args of [
      [String(rootJob), 'JobPrio', '10'],
      ['root', 'Label', '"mine now"'],
      ['-constraint', `ClusterId == ${rootJob}`, 'RequestCpus', '64'],
    ]) {
      const r = await pool.run('dqedit', args, NOBODY);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[PERMISSION_DENIED\\]: permission denied: job ${rootJob}\\.0 belongs to root|error\\[JOB_NOT_FOUND\\]: no jobs matched`,
        ),
        args.join(' '),
      );
      assert.doesNotMatch(r.stdout, /Set attribute/);
    }
    assert.deepEqual(await adOf(rootJob), before, "root's job is unchanged");
  });

  test("security – dqedit: Owner, ClusterId and JobStatus cannot be changed, even on one's own job", async () => {
    const before = await adOf(userJob);
    for (const [attr, value] of [
      ['Owner', '"root"'],
      ['ClusterId', '1'],
      ['JobStatus', '1'],
      ['User', '"root@x"'],
      ['Cmd', '"/bin/sh"'],
      ['AccountingGroup', '"admins.nobody"'],
    ]) {
      const r = await pool.run('dqedit', [String(userJob), attr!, value!], NOBODY);
      assert.equal(r.code, 1, `${attr}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[PERMISSION_DENIED\\]: attribute ${attr} (cannot be changed|is protected: only a pool admin may change it)`,
        ),
        attr,
      );
    }
    // a value that is not an expression: a usage error naming it
    const bad = await pool.run('dqedit', [String(userJob), 'Label', 'not an expression'], NOBODY);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error\[CLASSAD_SYNTAX\]: the value of Label is not a ClassAd expression/);
    assert.deepEqual(await adOf(userJob), before, 'nothing was changed');
    // one's own job takes an allowed edit
    const ok = await pool.run('dqedit', [String(userJob), 'JobPrio', '3', 'Label', '"fast"'], NOBODY);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Set attribute "JobPrio" for 1 matching job\(s\)\.$/m);
    const after_ = await adOf(userJob);
    assert.equal(after_.JobPrio, 3);
    assert.equal(after_.Label, 'fast');
    assert.equal(after_.Owner, 'nobody');
  });
});
