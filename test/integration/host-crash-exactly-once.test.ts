// Every daemon killed at once right after a job exited, before its schedd recorded the exit (as a host
// crash does): after `dsched start` the job is recorded as finished from the startd's exit journal, not
// run a second time, and its terminate event is in its log once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('host crash', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('host crash – a job that exited just before every daemon was killed completes exactly once', async () => {
    const go = join(pool.work, 'crash.go');
    pool.file('crash.sub', `executable = /bin/sh\narguments = "-c 'echo run >> crash.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\nlog = crash.log\nqueue\n`);
    const cluster = await pool.submit('crash.sub');
    await pool.waitFor('the job to run', async () => pool.exists('crash.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2);
    // the schedd cannot record the exit: it is stopped when the job ends
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGSTOP');
    writeFileSync(go, '');
    const journal = join(pool.home, 'run', 'startd-exits.journal');
    await pool.waitFor('the startd to journal the exit', () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"exited"'));
    const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
    for (const pid of [...['collector', 'negotiator', 'schedd', 'startd'].map((d) => pool.daemonPid(d)), master]) process.kill(pid, 'SIGKILL');

    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const [ad] = await pool.waitForHistory(cluster, 1, 60_000);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('crash.runs'), 'run\n', 'the job ran once');
    const terminated = pool.read('crash.log').split('\n').filter((l) => l.startsWith('005 ')).length;
    assert.equal(terminated, 1, pool.read('crash.log'));
  });
});
