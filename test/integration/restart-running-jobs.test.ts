// A pool restarted while jobs run (dsched stop + dsched start, or kill -9 of the schedd and the startd
// together) gets its jobs running again promptly, counts its idle jobs as idle (none stays marked as
// matched), and each job completes exactly once. The job lease is 300 s
// here: a pass within the test's bounds shows that nothing waited for it (the schedd used to retry the
// startd's old address for the whole lease before it advertised or started anything).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { spawnerOf } from './harness/processes.js';

describe('restart with running jobs', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  // more jobs than the pool's 4 cpus: some wait idle, and must not be left marked as matched by the restart
  const JOBS = 6;
  const SLOTS = 4;

  /** Six jobs that record each run and finish once `name.go` exists; four of them run. */
  async function submitWaiting(name: string): Promise<number> {
    const go = join(pool.work, `${name}.go`);
    pool.file(
      `${name}.sub`,
      `executable = /bin/sh\narguments = "-c 'echo run >> ${name}.runs.$(Process); i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\n` +
        `log = ${name}.log\nqueue ${JOBS}\n`,
    );
    const cluster = await pool.submit(`${name}.sub`);
    await pool.waitFor(
      `${SLOTS} ${name} jobs to run`,
      async () =>
        (await pool.json('dq', [String(cluster)])).filter((a) => a.JobStatus === 2).length === SLOTS &&
        runs(name) === SLOTS,
    );
    return cluster;
  }

  /** How many runs of the cluster's jobs started. */
  function runs(name: string): number {
    let n = 0;
    for (let p = 0; p < JOBS; p++)
      if (pool.exists(`${name}.runs.${p}`)) n += pool.read(`${name}.runs.${p}`).split('\n').filter(Boolean).length;
    return n;
  }

  /**
   * The pool runs four jobs again after the restart (their first runs were lost with the startd), with the
   * other two idle and counted so in the Submitter ad; then every job finishes, each exactly once.
   */
  async function finishesOnce(name: string, cluster: number) {
    await pool.waitFor(
      `${SLOTS} ${name} jobs to run again`,
      async () =>
        runs(name) === 2 * SLOTS &&
        (await pool.json('dq', [String(cluster)])).filter((a) => a.JobStatus === 2).length === SLOTS,
      60_000,
    );
    // no idle job stays marked as matched: the Submitter ad counts them all (it travels through the collector)
    await pool.waitFor(`the Submitter ad to count ${JOBS - SLOTS} idle and ${SLOTS} running jobs`, async () => {
      const r = await pool.run('dstatus', ['-submitters', '-af', 'IdleJobs', 'RunningJobs']);
      return r.stdout.trim() === `${JOBS - SLOTS} ${SLOTS}`;
    });
    writeFileSync(join(pool.work, `${name}.go`), '');
    const hist = await pool.waitForHistory(cluster, JOBS, 120_000);
    assert.deepEqual(
      hist.map((a) => [a.JobStatus, a.ExitCode]),
      new Array(JOBS).fill([4, 0]),
    );
    const log = pool.read(`${name}.log`);
    for (let p = 0; p < JOBS; p++) {
      const id = `(${String(cluster).padStart(3, '0')}.${String(p).padStart(3, '0')}.000)`;
      const events = log
        .split('\n')
        .filter((l) => l.includes(id))
        .map((l) => l.slice(0, 3))
        .filter((e) => e !== '006');
      assert.equal(events.filter((e) => e === '005').length, 1, `job ${cluster}.${p} terminated exactly once:\n${log}`);
      assert.deepEqual([events[0], events.at(-1)], ['000', '005'], log);
      // a job that ran before the restart has its eviction logged, and runs again after it
      if (events.indexOf('004') >= 0)
        assert.ok(
          events.lastIndexOf('001') > events.indexOf('004'),
          `job ${cluster}.${p} runs again after its eviction:\n${log}`,
        );
      const started = pool.read(`${name}.runs.${p}`).split('\n').filter(Boolean).length;
      assert.equal(
        events.filter((e) => e === '001').length,
        started,
        `job ${cluster}.${p}: one execute event per run:\n${log}`,
      );
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

  test('kill -9 of the schedd and the startd while a job is being started – the job is offered again, runs and completes once', async () => {
    const startdLog = join(pool.home, 'log', 'startd.log');
    const claims = () =>
      existsSync(startdLog)
        ? readFileSync(startdLog, 'utf8')
            .split('\n')
            .filter((l) => l.includes('"msg":"claimed"')).length
        : 0;
    const before = claims();
    const go = join(pool.work, 'starting.go');
    pool.file(
      'starting.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> starting.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\nlog = starting.log\nqueue\n`,
    );
    // the spawner stopped: the startd takes the claim and waits for the job's process, so the schedd holds
    // the job idle with its starting claim recorded when both are killed
    const spawner = spawnerOf(pool);
    const schedd = pool.daemonPid('schedd');
    const startd = pool.daemonPid('startd');
    let cluster: number;
    process.kill(spawner, 'SIGSTOP');
    try {
      cluster = await pool.submit('starting.sub');
      await pool.waitFor('the startd to take the claim', () => claims() > before);
      process.kill(schedd, 'SIGKILL');
      process.kill(startd, 'SIGKILL');
    } finally {
      process.kill(spawner, 'SIGCONT');
    }
    await pool.waitForRestart('schedd', schedd);
    await pool.waitForRestart('startd', startd);
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('starting.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
      60_000,
    );
    await pool.waitFor(
      'the Submitter ad to count the job running, none idle',
      async () =>
        (await pool.run('dstatus', ['-submitters', '-af', 'IdleJobs', 'RunningJobs'])).stdout.trim() === '0 1',
    );
    writeFileSync(go, '');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0);
    const log = pool.read('starting.log');
    assert.equal(log.split('\n').filter((l) => l.startsWith('005 ')).length, 1, log);
  });
  test('a job killed with its whole host (SIGTERM to the job and the startd at once, as Slurm ends a pilot) runs again', async () => {
    const marker = join(pool.work, 'hoststop.first');
    const pidFile = join(pool.work, 'hoststop.pid');
    pool.file(
      'hoststop.sub',
      `executable = /bin/sh\narguments = "-c 'test -e ${marker} && exit 0; touch ${marker}; echo $$ > ${pidFile}; exec sleep 600'"\nlog = hoststop.log\nqueue\n`,
    );
    const cluster = await pool.submit('hoststop.sub');
    const job = await pool.waitFor('the job to run', () =>
      existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')) > 0
        ? Number(readFileSync(pidFile, 'utf8'))
        : undefined,
    );
    const startd = pool.daemonPid('startd');
    // the job first: its end reaches the startd before the startd's own signal does
    process.kill(job, 'SIGTERM');
    process.kill(startd, 'SIGTERM');
    await pool.waitForRestart('startd', startd);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0, `the job ran again and finished by itself: ${JSON.stringify(ad)}\n${pool.logs()}`);
    assert.equal(ad!.NumJobStarts, 2);
    assert.match(pool.read('hoststop.log'), /^004 /m, 'its first run is logged as evicted');
  });
});
