// drm of a running job whose startd does not answer (stopped with SIGSTOP: it accepts the connection and says
// nothing): the removal is recorded and answered at once, the job shown X (removed, its run still stopping)
// as HTCondor shows it, and once the startd answers again the run is stopped and the job leaves the queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool, alive } from './harness/pool.js';

test('remove frozen startd – drm answers at once, the job shows X, and its run stops once the startd answers', async () => {
  const pool = await TestPool.start();
  let frozen = 0;
  try {
    const { cluster, jobPid } = await runningJob(pool);

    frozen = pool.daemonPid('startd');
    process.kill(frozen, 'SIGSTOP');
    const r = await pool.run('drm', [String(cluster)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // answered while the startd is still stopped: the job is removed, its run not yet stopped
    const [shown] = await pool.json('dq', [String(cluster)]);
    assert.equal(shown?.JobStatus, 3, JSON.stringify(shown));
    assert.ok(alive(jobPid), 'the run goes on while its startd is stopped');

    process.kill(frozen, 'SIGCONT');
    frozen = 0;
    await pool.waitForHistory(cluster, 1);
    await pool.waitFor('the job process to be gone', () => !alive(jobPid));
    assert.deepEqual(await pool.json('dq', [String(cluster)]), []);
    const events = readFileSync(join(pool.work, 'job.log'), 'utf8').match(/^009 /gm) ?? [];
    assert.equal(events.length, 1, 'one abort event');
  } finally {
    if (frozen) process.kill(frozen, 'SIGCONT');
    await pool.stop();
  }
});

test('remove frozen startd – drm -forcex (condor_rm -forcex) takes the X job out of the queue at once; a job not in X is refused', async () => {
  const pool = await TestPool.start();
  let frozen = 0;
  try {
    const { cluster, jobPid } = await runningJob(pool);

    // as HTCondor: -forcex acts only on jobs already being removed
    const early = await pool.run('drm', ['-forcex', String(cluster)]);
    assert.equal(early.code, 1, early.stdout + early.stderr);
    assert.match(early.stderr, new RegExp(`error\\[JOB_STATE\\]: job ${cluster}\\.0 is not in the X state`));
    assert.equal((await pool.json('dq', [String(cluster)]))[0]?.JobStatus, 2, 'still running');

    frozen = pool.daemonPid('startd');
    process.kill(frozen, 'SIGSTOP');
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    assert.equal((await pool.json('dq', [String(cluster)]))[0]?.JobStatus, 3, 'X while its startd is stopped');
    const forced = await pool.run('drm', ['-forcex', String(cluster)]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stdout, /^1 job\(s\) forced out of the queue\.$/m);
    assert.deepEqual(await pool.json('dq', [String(cluster)]), [], 'gone while the startd is still stopped');

    // the startd, answering again, ends the run
    process.kill(frozen, 'SIGCONT');
    frozen = 0;
    const [gone] = await pool.waitForHistory(cluster, 1);
    assert.equal(gone!.JobStatus, 3);
    await pool.waitFor('the job process to be gone', () => !alive(jobPid));
    const events = readFileSync(join(pool.work, 'job.log'), 'utf8').match(/^009 /gm) ?? [];
    assert.equal(events.length, 1, 'one abort event');
  } finally {
    if (frozen) process.kill(frozen, 'SIGCONT');
    await pool.stop();
  }
});

/** A job that sleeps, once it runs: its cluster and the pid of its process; its events in job.log. */
async function runningJob(pool: TestPool): Promise<{ cluster: number; jobPid: number }> {
  const pidFile = join(pool.work, 'job.pid');
  const script = pool.file('record-pid.sh', '#!/bin/sh\necho $$ > "$1"\nexec sleep 600\n', 0o755);
  const sub = pool.file('job.sub', `executable = ${script}\narguments = ${pidFile}\nlog = job.log\nqueue\n`);
  const cluster = await pool.submit(sub);
  const jobPid = await pool.waitFor('the job to run and record its pid', async () => {
    const [j] = await pool.json('dq', [String(cluster)]);
    if (j?.JobStatus !== 2 || !existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return pid > 0 && alive(pid) ? pid : undefined;
  });
  return { cluster, jobPid };
}
