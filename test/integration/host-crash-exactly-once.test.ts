// Every daemon killed at once right after a job exited, before its schedd recorded the exit (as a host
// crash does): after `dsched start` the job is recorded as finished from the startd's exit journal, not
// run a second time, and its terminate event is in its log once, also when the schedd had written it to the
// log just before the crash without recording the exit (it writes a job's events before the change).
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatEvent } from '../../lib/user-log/index.js';
import { TestPool } from './harness/pool.js';
import { journaled } from './harness/processes.js';

describe('host crash', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  /** `name`'s job has exited and the exit is journaled at its startd, but every daemon is killed before the schedd records it. */
  async function crashAfterExit(name: string): Promise<number> {
    const go = join(pool.work, `${name}.go`);
    pool.file(
      `${name}.sub`,
      `executable = /bin/sh\narguments = "-c 'echo run >> ${name}.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\nlog = ${name}.log\nqueue\n`,
    );
    const cluster = await pool.submit(`${name}.sub`);
    await pool.waitFor(
      'the job to run',
      async () => pool.exists(`${name}.runs`) && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    // the schedd cannot record the exit: it is stopped when the job ends
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGSTOP');
    writeFileSync(go, '');
    const journal = join(pool.home, 'run', 'startd-exits.journal');
    await pool.waitFor('the startd to journal the exit', () => journaled(journal, cluster, '"exited"'));
    const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
    for (const pid of [...['collector', 'negotiator', 'schedd', 'startd'].map((d) => pool.daemonPid(d)), master])
      process.kill(pid, 'SIGKILL');
    return cluster;
  }

  async function completesOnce(name: string, cluster: number) {
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read(`${name}.runs`), 'run\n', 'the job ran once');
    const terminated = pool
      .read(`${name}.log`)
      .split('\n')
      .filter((l) => l.startsWith('005 ')).length;
    assert.equal(terminated, 1, pool.read(`${name}.log`));
  }

  test('host crash – a job that exited just before every daemon was killed completes exactly once', async () => {
    await completesOnce('crash', await crashAfterExit('crash'));
  });

  test('host crash – a terminate event the schedd logged just before the crash, without recording the exit, is not logged again', async () => {
    const cluster = await crashAfterExit('logged');
    // what the schedd writes before it commits the exit (the crash came in between)
    appendFileSync(
      join(pool.work, 'logged.log'),
      formatEvent({
        type: 'terminated',
        normal: true,
        returnValue: 0,
        cluster,
        proc: 0,
        time: Math.floor(Date.now() / 1000),
      }),
    );
    await completesOnce('logged', cluster);
  });
});
