// The schedd (root) opens each user's job event log with the user's rights, at submit and for every event. A
// user (uid 65534) who names a FIFO there must not hang the schedd for everyone (an open for writing waits for
// a reader): the submission is refused with the reason, nothing is queued, and the schedd keeps answering.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('fifo files – a job event log must be a regular file', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('fifo files – a FIFO named as the event log is refused at submit, and the schedd goes on answering', async () => {
    const dir = join(pool.work, 'fifo-user');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, NOBODY.uid, NOBODY.gid);
    const fifo = join(dir, 'events.log');
    execFileSync('mkfifo', [fifo]);
    chownSync(fifo, NOBODY.uid, NOBODY.gid);
    pool.file('fifo-user/job.sub', `executable = /bin/true\nlog = ${fifo}\nqueue\n`);
    const r = await pool.run('dsubmit', ['job.sub'], { ...NOBODY, cwd: dir, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /JOB_FILE_REFUSED.*events\.log.*not a regular file/);
    const q = await pool.run('dq', ['-totals'], { timeoutMs: 30_000 });
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /Total for all users: 0 jobs/);
  });
});
