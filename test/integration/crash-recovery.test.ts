// Nothing acknowledged is lost: kill -9 of the schedd right after a submit, or while jobs run; kill -9 of the
// collector and the negotiator with jobs queued.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('crash recovery', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('schedd – kill -9 right after a submit is acknowledged loses no job', async () => {
    pool.file(
      'ten.sub',
      `executable = /bin/sh\narguments = "-c 'echo done $(Process)'"\noutput = ten.$(Process).out\nqueue 10\n`,
    );
    const before = pool.daemonPid('schedd');
    const r = await pool.run('dsubmit', ['ten.sub']);
    assert.equal(r.code, 0, r.stderr);
    process.kill(before, 'SIGKILL');
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitForRestart('schedd', before);
    const hist = await pool.waitForHistory(cluster, 10);
    assert.deepEqual(
      hist.map((a) => a.ProcId).sort((a, b) => Number(a) - Number(b)),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (let p = 0; p < 10; p++) assert.equal(pool.read(`ten.${p}.out`), `done ${p}\n`);
  });

  test('schedd – kill -9 while a job runs: the job is reconnected, not run twice', async () => {
    pool.file(
      'long.sub',
      `executable = /bin/sh\narguments = "-c 'echo start >> runs.txt; sleep 4'"\nlog = long.log\nqueue\n`,
    );
    const r = await pool.run('dsubmit', ['long.sub']);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor('the job to start', () => pool.exists('runs.txt'));
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(ad!.NumJobStarts, 1);
    assert.equal(pool.read('runs.txt'), 'start\n', 'the job ran exactly once');
  });

  test('collector and negotiator – kill -9 of each with jobs queued: they come back and every job runs once', async () => {
    pool.file(
      'four.sub',
      `executable = /bin/sh\narguments = "-c 'echo ran $(Process) >> four.txt'"\nhold = true\nqueue 4\n`,
    );
    const cluster = await pool.submit('four.sub');
    for (const daemon of ['collector', 'negotiator']) {
      const pid = pool.daemonPid(daemon);
      process.kill(pid, 'SIGKILL');
      await pool.waitForRestart(daemon, pid);
    }
    const r = await pool.run('drelease', [String(cluster)]);
    assert.equal(r.code, 0, r.stderr);
    const hist = await pool.waitForHistory(cluster, 4);
    assert.deepEqual(
      hist.map((a) => a.ExitCode),
      [0, 0, 0, 0],
    );
    assert.deepEqual(pool.read('four.txt').trim().split('\n').sort(), ['ran 0', 'ran 1', 'ran 2', 'ran 3']);
  });

  test('negotiator – kill -9 keeps the fair-share accounts: a priority factor set by an admin survives', async () => {
    const set = await pool.run('duserprio', ['-setfactor', 'heavy@pool', '25']);
    assert.equal(set.code, 0, set.stderr);
    const pid = pool.daemonPid('negotiator');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('negotiator', pid);
    const factor = await pool.waitFor('the restarted negotiator to answer', async () => {
      const r = await pool.run('duserprio', ['-allusers', '-json']);
      if (r.code !== 0) return undefined;
      return (
        (JSON.parse(r.stdout) as Array<{ name: string; priority_factor: number }>).find((s) => s.name === 'heavy@pool')
          ?.priority_factor ?? -1
      );
    });
    assert.equal(factor, 25);
  });
});
