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
