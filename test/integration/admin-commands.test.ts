// What an admin coming from HTCondor types to look after a pool: condor_restart's dsched restart.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, TestPool } from './harness/pool.js';

describe('admin commands', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('admin commands – dsched restart stops every daemon and starts new ones; a job running across it runs again and completes', async () => {
    const go = join(pool.work, 'go');
    pool.file(
      'wait.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> wait.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done'"\nqueue\n`,
    );
    const c = await pool.submit('wait.sub');
    await pool.waitFor('the job to run', () => pool.exists('wait.runs'));
    const before = Object.fromEntries(['master', 'schedd', 'startd'].map((d) => [d, pool.daemonPid(d)]));
    const r = await pool.run('dsched', ['restart'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pool stopped[\s\S]*pool started/);
    for (const [d, pid] of Object.entries(before)) {
      assert.equal(alive(pid), false, `the old ${d} (pid ${pid}) is gone`);
      assert.notEqual(pool.daemonPid(d), pid, `a new ${d}`);
    }
    const status = await pool.run('dsched', ['status']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    // evicted by the stop, as condor_restart evicts: it runs again, then finishes once
    await pool.waitFor('the job to run again', () => pool.read('wait.runs') === 'run\nrun\n');
    pool.file('go', '');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('wait.runs'), 'run\nrun\n');
  });
});
