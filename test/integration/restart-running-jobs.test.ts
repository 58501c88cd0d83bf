// A pool restarted while jobs run (dsched stop + dsched start, or kill -9 of the schedd and the startd
// together) gets its jobs running again promptly, and each completes exactly once. The job lease is 300 s
// here: a pass within the test's bounds shows that nothing waited for it (the schedd used to retry the
// startd's old address for the whole lease before it advertised or started anything).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('restart with running jobs', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  /** Two jobs that record each run and finish once `name.go` exists. */
  async function submitWaiting(name: string): Promise<number> {
    const go = join(pool.work, `${name}.go`);
    pool.file(
      `${name}.sub`,
      `executable = /bin/sh\narguments = "-c 'echo run >> ${name}.runs.$(Process); i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\n` +
        `log = ${name}.log\nqueue 2\n`,
    );
    const cluster = await pool.submit(`${name}.sub`);
    await pool.waitFor(`both ${name} jobs to run`, async () => (await pool.json('dq', [String(cluster)])).filter((a) => a.JobStatus === 2).length === 2 && pool.exists(`${name}.runs.0`) && pool.exists(`${name}.runs.1`));
    return cluster;
  }

  /** Both jobs run again (or ran again), then finish: each completes exactly once. */
  async function finishesOnce(name: string, cluster: number) {
    // each job is started again after the restart (its first run was lost with the startd)
    await pool.waitFor(`both ${name} jobs to run again`, () => [0, 1].every((p) => pool.read(`${name}.runs.${p}`).split('\n').filter(Boolean).length >= 2), 60_000);
    writeFileSync(join(pool.work, `${name}.go`), '');
    const hist = await pool.waitForHistory(cluster, 2, 60_000);
    assert.deepEqual(hist.map((a) => [a.JobStatus, a.ExitCode]), [[4, 0], [4, 0]]);
    const log = pool.read(`${name}.log`);
    for (const p of [0, 1]) {
      const id = `(${String(cluster).padStart(3, '0')}.${String(p).padStart(3, '0')}.000)`;
      const events = log.split('\n').filter((l) => l.includes(id)).map((l) => l.slice(0, 3));
      assert.equal(events.filter((e) => e === '005').length, 1, `job ${cluster}.${p} terminated exactly once:\n${log}`);
      assert.ok(events.includes('004'), `job ${cluster}.${p} has its eviction logged:\n${log}`);
      // the whole story, in order: submitted, ran, evicted, ran again, terminated
      assert.deepEqual([events[0], events.at(-1)], ['000', '005'], log);
      assert.ok(events.indexOf('001') < events.indexOf('004') && events.lastIndexOf('001') > events.indexOf('004'), `job ${cluster}.${p} runs again after its eviction:\n${log}`);
    }
  }

  test('dsched stop + dsched start – running jobs run again promptly and complete once', async () => {
    const cluster = await submitWaiting('stopstart');
    const stop = await pool.run('dsched', ['stop']);
    assert.equal(stop.code, 0, stop.stderr);
    const start = await pool.run('dsched', ['start']);
    assert.equal(start.code, 0, start.stderr);
    await finishesOnce('stopstart', cluster);
  });

  test('kill -9 of the schedd and the startd together – running jobs run again promptly and complete once', async () => {
    const cluster = await submitWaiting('kill9');
    const schedd = pool.daemonPid('schedd');
    const startd = pool.daemonPid('startd');
    process.kill(schedd, 'SIGKILL');
    process.kill(startd, 'SIGKILL');
    await pool.waitForRestart('schedd', schedd);
    await pool.waitForRestart('startd', startd);
    await finishesOnce('kill9', cluster);
  });
});
