// What HTCondor and PBS users and admins try first with their own scripts: LastJobStatus in condor_q -long
// (the status before the current one, which scripts and policies read).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('trial habits – HTCondor and PBS users', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('trial habits – LastJobStatus is the status a job had before its current one, in the queue and in history', async () => {
    pool.file('last.sub', `executable = /bin/sh\narguments = "-c 'touch started; exec sleep 300'"\nqueue\n`);
    const cluster = await pool.submit('last.sub');
    const ad = async () => (await pool.json('dq', [String(cluster)]))[0]!;
    // a job never changed from its first status has none, as in HTCondor
    await pool.waitFor('the job to start', () => pool.exists('started') || undefined);
    const running = await pool.waitFor('the job to be running', async () => {
      const a = await ad();
      return a.JobStatus === 2 ? a : undefined;
    });
    assert.equal(running.LastJobStatus, 1, 'running, from idle');
    assert.equal((await pool.run('dhold', [String(cluster)])).code, 0);
    const held = await ad();
    assert.equal(held.JobStatus, 5);
    assert.equal(held.LastJobStatus, 2, 'held, from running');
    // released, it must stay idle for us to see it so: no slot takes it any more
    assert.equal((await pool.run('dqedit', [String(cluster), 'Requirements', 'false'])).code, 0);
    assert.equal((await pool.run('drelease', [String(cluster)])).code, 0);
    const released = await ad();
    assert.equal(released.JobStatus, 1);
    assert.equal(released.LastJobStatus, 5, 'idle, from held');
    assert.equal((await pool.run('dhold', [String(cluster)])).code, 0);
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    const [gone] = await pool.waitForHistory(cluster, 1);
    assert.equal(gone!.JobStatus, 3);
    assert.equal(gone!.LastJobStatus, 5, 'removed, from held');
  });

  test('trial habits – a whole held cluster released and removed at once keeps each job its LastJobStatus', async () => {
    pool.file('many.sub', 'executable = /bin/true\nhold = true\nqueue 3\n');
    const cluster = await pool.submit('many.sub');
    const statuses = async () =>
      (await pool.json('dq', [String(cluster)])).map((a) => [a.ProcId, a.JobStatus, a.LastJobStatus]);
    // submitted held: no status before
    assert.deepEqual(await statuses(), [
      [0, 5, undefined],
      [1, 5, undefined],
      [2, 5, undefined],
    ]);
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    const gone = await pool.waitForHistory(cluster, 3);
    assert.deepEqual(
      gone.map((a) => [a.JobStatus, a.LastJobStatus]),
      [
        [3, 5],
        [3, 5],
        [3, 5],
      ],
    );
  });
});
