// A job and its files are made under its submitter's umask, as HTCondor's condor_submit records it (`Umask`)
// and its starter applies it. They were made under the daemons' umask instead: a user whose umask is 077 got
// a job output, error file, event log and the files the job and its DAG's scripts wrote readable by every
// user (0644). A Umask that is no umask (negative, huge, a string) is refused; 0 is the user's own choice.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunOptions, RunResult, TestPool as Pool } from '../integration/harness/pool.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

describe("a job's files and its umask", () => {
  let pool: Pool;
  let user: ReturnType<typeof nobodyFolder>;
  const mode = (name: string) => statSync(join(user.dir, name)).mode & 0o777;
  const as = (umask: number, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    // the command inherits the umask it is started with
    const old = process.umask(umask);
    try {
      return pool.run(cmd, args, { ...NOBODY, cwd: user.dir, ...opts });
    } finally {
      process.umask(old);
    }
  };
  const cluster = (r: RunResult) => {
    assert.equal(r.code, 0, r.stderr);
    return Number(/cluster (\d+)/.exec(r.stdout)![1]);
  };

  before(async () => {
    pool = await TestPool.start();
    user = nobodyFolder(pool.work);
    user.put(
      'job.sub',
      [
        'executable = /bin/sh',
        `arguments = "-c 'echo out; echo err >&2; echo made > made.txt'"`,
        `initialdir = ${user.dir}`,
        'output = job.out',
        'error = job.err',
        `log = ${join(user.dir, 'job.log')}`,
        'should_transfer_files = NO',
        'queue',
      ].join('\n') + '\n',
    );
    user.put('node.sub', 'executable = /bin/true\nqueue\n');
    user.put('pre.sh', '#!/bin/sh\necho pre > pre-made.txt\n', 0o755);
    user.put('x.dag', `JOB A node.sub\nSCRIPT PRE A ${join(user.dir, 'pre.sh')}\n`);
  });
  after(() => pool.stop());

  test("umask – a job, its output, error and event log are made under the submitter's umask (077: 0600)", async () => {
    const c = cluster(await as(0o077, 'dsubmit', ['job.sub']));
    await pool.waitForHistory(c, 1);
    assert.equal(pool.read('user/job.out'), 'out\n');
    assert.equal(mode('job.out').toString(8), '600');
    assert.equal(mode('job.err').toString(8), '600');
    assert.equal(mode('job.log').toString(8), '600');
    assert.equal(mode('made.txt').toString(8), '600', 'a file the job made');
    const q = await pool.run('dhistory', [String(c), '-af', 'Umask']);
    assert.equal(q.stdout.trim(), String(0o077));
  });

  test("umask – a DAG's PRE script runs with the submitter's umask", async () => {
    const r = await as(0o027, 'dsubmit-dag', ['x.dag']);
    await pool.waitForHistory(cluster(r), 1);
    assert.equal(mode('pre-made.txt').toString(8), '640');
  });

  test('umask – a Umask that is no umask is refused at submit and by dqedit; 0 is taken', async () => {
    for (const bad of ['-1', '512', '99999999999', '"18"', 'Owner']) {
      const r = await as(0o022, 'dsubmit', ['-a', `+Umask = ${bad}`, 'node.sub']);
      assert.notEqual(r.code, 0, `+Umask = ${bad} was taken`);
      assert.match(r.stderr, /is no umask/);
    }
    const c = cluster(await as(0o022, 'dsubmit', ['-a', '+Umask = 0', '-a', 'hold = true', 'node.sub']));
    const e = await as(0o022, 'dqedit', [String(c), 'Umask', '-5']);
    assert.notEqual(e.code, 0, 'dqedit took Umask = -5');
    assert.match(e.stderr, /is no umask/);
  });
});
