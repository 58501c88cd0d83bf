// Another process holds the job queue's SQLite write lock (an admin's open `BEGIN EXCLUSIVE`, a backup tool):
// the schedd keeps answering queries, refuses submits with QUEUE_BUSY leaving nothing behind, keeps a job's
// end with the startd until it can be recorded, and writes again once the lock goes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { holdQueueLock, queueWriteFailures, releaseQueueLock } from './harness/queue-lock.js';

describe('queue locked by another process', () => {
  let pool: TestPool;
  let holder: Awaited<ReturnType<typeof holdQueueLock>> | undefined;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    if (holder) await releaseQueueLock(holder);
    await pool?.stop();
  });

  test('schedd – while another process holds the queue lock, dq answers, dsubmit says QUEUE_BUSY, and a job end is recorded once the lock goes', async () => {
    pool.file('idle.sub', 'executable = /bin/true\nrequirements = false\nqueue\n');
    pool.file(
      'gated.sub',
      'executable = /bin/sh\narguments = "-c \'while [ ! -e go ]; do sleep 0.1; done\'"\nlog = gated.log\nqueue\n',
    );
    pool.file('later.sub', 'executable = /bin/true\nqueue\n');
    const idle = await pool.submit('idle.sub');
    const gated = await pool.submit('gated.sub');
    await pool.waitFor('the gated job to run', async () =>
      (await pool.json('dq', [String(gated)])).some((a) => a.JobStatus === 2),
    );
    const clusters = async () => new Set((await pool.json('dq', [])).map((a) => Number(a.ClusterId)));
    assert.deepEqual(await clusters(), new Set([idle, gated]));

    const failedBefore = queueWriteFailures(pool);
    holder = await holdQueueLock(pool);

    // the job ends; its end cannot be written, so the schedd says so and the startd keeps it
    pool.file('go', '');
    await pool.waitFor('the schedd to find the queue locked', () => queueWriteFailures(pool) > failedBefore);

    for (let i = 0; i < 5; i++) {
      const r = await pool.run('dq', [String(idle), '-json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        (JSON.parse(r.stdout) as Array<Record<string, unknown>>).map((a) => a.ClusterId),
        [idle],
        'the queue is read while it is locked',
      );
    }
    const refused = await pool.run('dsubmit', ['later.sub']);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /locked by another process/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    const during = await clusters();
    assert.ok(
      [...during].every((c) => c === idle || c === gated),
      `a refused submit leaves no cluster behind: ${[...during].join(' ')}`,
    );

    await releaseQueueLock(holder);
    holder = undefined;

    const later = await pool.submit('later.sub');
    const [end] = await pool.waitForHistory(gated, 1);
    assert.equal(end!.ExitCode, 0);
    await pool.waitForHistory(later, 1);
    assert.equal((pool.read('gated.log').match(/^005 /gm) ?? []).length, 1, 'the job ended once');
  });
});
