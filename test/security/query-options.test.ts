// dq's and dhistory's HTCondor options from a local user (uid 65534) against a root pool: the files -file
// and -userlog name are read with that user's rights (a root-only file, the pool's own queue database and a
// FIFO are refused with FILE_UNREADABLE, nothing printed, nothing changed), and -attributes, -since, -global
// and -name show no more of another user's job than dq and dhistory show that user already.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';
const SECRET = 'hunter2-token';

describe('security – dq and dhistory options', { skip: needsRoot }, () => {
  let pool: TestPool;
  let queued: number;
  let done: number;
  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', `executable = /bin/true\nenvironment = "API_KEY=${SECRET}"\nhold = true\nqueue\n`);
    pool.file('done.sub', `executable = /bin/true\nenvironment = "API_KEY=${SECRET}"\nlog = done.log\nqueue\n`);
    queued = await pool.submit('held.sub');
    done = await pool.submit('done.sub');
    await pool.waitForHistory(done, 1);
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – -file and -userlog read only what the user may read: root-only files, the queue database, a FIFO', async () => {
    const saved = await pool.run('dhistory', ['-long']);
    const rootOnly = pool.file('root-history', saved.stdout, 0o600);
    writeFileSync(join(pool.work, 'root.log'), readFileSync(join(pool.work, 'done.log')), { mode: 0o600 });
    const db = join(pool.home, 'spool', 'job_queue.db');
    const dbBefore = statSync(db);
    execFileSync('mkfifo', ['-m', '0666', join(pool.work, 'fifo')]);
    for (const [cmd, args] of [
      ['dhistory', ['-file', rootOnly]],
      ['dhistory', ['-file', db]],
      ['dhistory', ['-userlog', join(pool.work, 'root.log')]],
      ['dq', ['-userlog', join(pool.work, 'root.log')]],
      ['dhistory', ['-file', join(pool.work, 'fifo')]],
      ['dq', ['-userlog', join(pool.work, 'fifo')]],
    ] as const) {
      const r = await pool.run(cmd, [...args, '-af', 'ClusterId'], NOBODY);
      assert.equal(r.code, 1, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[FILE_UNREADABLE\]/);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, new RegExp(SECRET));
    }
    const dbAfter = statSync(db);
    assert.equal(dbAfter.mode, dbBefore.mode);
    assert.equal(statSync(rootOnly).mode & 0o777, 0o600);
  });

  test("security – -attributes, -since, -completedsince: another user's private attributes stay hidden", async () => {
    for (const [cmd, args] of [
      ['dq', ['-allusers', '-json', '-attributes', 'ClusterId,Environment,Env']],
      ['dq', ['-allusers', '-long', '-attributes', 'Environment']],
      ['dhistory', ['-json', '-attributes', 'ClusterId,Environment']],
      ['dhistory', ['-json', '-since', '999999']],
      ['dhistory', ['-long', '-completedsince', '0', '-forwards']],
    ] as const) {
      const r = await pool.run(cmd, [...args], NOBODY);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, new RegExp(SECRET), `${cmd} ${args.join(' ')}`);
    }
    // the root user (the owner) sees them: the test would show a redaction that hid everything
    assert.match((await pool.run('dq', [String(queued), '-json', '-attributes', 'Environment'])).stdout, /API_KEY/);
  });

  test("security – -since EXPR on another user's private attribute is no oracle: it stops where it would without it", async () => {
    const plain = await pool.run('dhistory', ['-af', 'ClusterId'], NOBODY);
    const probe = await pool.run(
      'dhistory',
      ['-af', 'ClusterId', '-since', `regexp("${SECRET}", Environment)`],
      NOBODY,
    );
    assert.equal(probe.code, 0, probe.stderr);
    assert.equal(probe.stdout, plain.stdout);
    assert.match(plain.stdout, new RegExp(`^${done}$`, 'm'));
  });

  test("security – -global and -name: another user's queue is what dq shows them", async () => {
    const [ad] = await pool.json('dstatus', ['-schedd']);
    for (const args of [['-global'], ['-name', String(ad!.Name)]]) {
      const own = await pool.run('dq', [...args, '-af', 'ClusterId'], NOBODY);
      assert.equal(own.code, 0, own.stderr);
      assert.equal(own.stdout, '', 'by default a user sees only their own jobs');
      const all = await pool.run('dq', [...args, '-allusers', '-json'], NOBODY);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, new RegExp(`"ClusterId": ${queued}`));
      assert.doesNotMatch(all.stdout, new RegExp(SECRET));
    }
  });
});
