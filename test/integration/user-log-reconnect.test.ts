// The user log tells of a lost execute host as HTCondor's does: 022 (disconnected) when the schedd loses touch
// with the startd of a running job, then 023 (reconnected) when the startd answers again with the job still
// there, or 024 (reconnection failed) when the schedd gives the run up, and the job runs again (001). Each once,
// in that order. The faults are made with signals (a startd frozen with SIGSTOP, a schedd killed), and the test
// waits for events, never for a time.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, TestPool } from './harness/pool.js';
import { eventCodes, withoutReconnects } from './harness/user-log.js';

/**
 * The events of the job's user log, a disconnection and its reconnection told once: on a loaded machine a lease
 * renewal may go unanswered for 5 s besides the one the test causes, and the schedd rightly writes another
 * 022/023 pair; every other event must be there once.
 */
function reconnectCodes(pool: TestPool, name: string, cluster: number): string[] {
  return `${eventCodes(pool, name, cluster).join(' ')} `
    .replace(/(?:022 023 )+/g, '022 023 ')
    .trim()
    .split(' ');
}

/** A job that records each run in `name.runs` and ends once `name.go` exists. */
function waitingJob(pool: TestPool, name: string): string {
  const go = join(pool.work, `${name}.go`);
  return pool.file(
    `${name}.sub`,
    `executable = /bin/sh\narguments = "-c 'echo run >> ${join(pool.work, `${name}.runs`)}; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\n` +
      `log = ${name}.log\nqueue\n`,
  );
}

async function running(pool: TestPool, name: string, cluster: number): Promise<void> {
  await pool.waitFor(
    'the job to run',
    async () => pool.exists(`${name}.runs`) && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
  );
}

async function finish(pool: TestPool, name: string, cluster: number): Promise<void> {
  writeFileSync(join(pool.work, `${name}.go`), '');
  const [ad] = await pool.waitForHistory(cluster, 1, 180_000);
  assert.equal(ad!.ExitCode, 0);
}

describe('user log – reconnection', () => {
  let pool: TestPool;
  before(async () => {
    // a lease long enough that a startd frozen until its first missed renewal still holds the job when resumed
    pool = await TestPool.start({ JOB_LEASE_DURATION: '60' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('user log – a startd frozen then resumed within the lease: 022, then 023, and the job completes', async () => {
    const cluster = await pool.submit(waitingJob(pool, 'frozen'));
    await running(pool, 'frozen', cluster);
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      await pool.waitFor('022 in the user log', () => eventCodes(pool, 'frozen.log', cluster).includes('022'), 120_000);
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await pool.waitFor('023 in the user log', () => eventCodes(pool, 'frozen.log', cluster).includes('023'), 120_000);
    await finish(pool, 'frozen', cluster);
    assert.deepEqual(reconnectCodes(pool, 'frozen.log', cluster), ['000', '001', '022', '023', '005']);
    const log = pool.read('frozen.log');
    assert.match(
      log,
      /^022 .* Job disconnected, attempting to reconnect\n {4}.+\n {4}Trying to reconnect to slot\S+ <.+>\n/m,
    );
    assert.match(log, /^023 .* Job reconnected to slot\S+\n {4}startd address: <.+>\n/m);
    // dq -userlog reads the new events; the job, completed, is no longer in the queue it shows
    const r = await pool.run('dq', ['-userlog', join(pool.work, 'frozen.log'), '-af', 'JobStatus']);
    assert.deepEqual([r.code, r.stdout.trim()], [0, ''], r.stderr);
  });

  test("user log – 022 is written while a frozen startd's renewal is still unanswered, not once its deadline has passed", async () => {
    const cluster = await pool.submit(waitingJob(pool, 'unanswered'));
    await running(pool, 'unanswered', cluster);
    const failures = () =>
      readFileSync(join(pool.home, 'log', 'schedd.log'), 'utf8').split('lease renewal failed').length;
    const before = failures();
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      await pool.waitFor(
        '022 in the user log',
        () => eventCodes(pool, 'unanswered.log', cluster).includes('022'),
        120_000,
      );
      // the renewal that found it has not failed yet: it waits for its answer still
      assert.equal(failures(), before, 'no renewal had failed when 022 was written');
      assert.match(
        pool.read('unanswered.log'),
        /^022 .*\n {4}the startd has not answered the renewal of the job lease for 5 s\n/m,
      );
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await pool.waitFor(
      '023 in the user log',
      () => eventCodes(pool, 'unanswered.log', cluster).includes('023'),
      120_000,
    );
    await finish(pool, 'unanswered', cluster);
    assert.deepEqual(reconnectCodes(pool, 'unanswered.log', cluster), ['000', '001', '022', '023', '005']);
  });

  test('user log – a job that ends while its startd is frozen: 022, then 023 when the resumed startd reports the end, then 005', async () => {
    const cluster = await pool.submit(waitingJob(pool, 'ended'));
    await running(pool, 'ended', cluster);
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      await pool.waitFor('022 in the user log', () => eventCodes(pool, 'ended.log', cluster).includes('022'), 120_000);
      writeFileSync(join(pool.work, 'ended.go'), '');
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await pool.waitForHistory(cluster, 1, 180_000);
    assert.deepEqual(reconnectCodes(pool, 'ended.log', cluster), ['000', '001', '022', '023', '005']);
  });

  test('user log – a schedd killed while a job runs: its successor writes 022, then 023 when the startd answers', async () => {
    const cluster = await pool.submit(waitingJob(pool, 'restart'));
    await running(pool, 'restart', cluster);
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGKILL');
    await pool.waitForRestart('schedd', schedd);
    await pool.waitFor('023 in the user log', () => eventCodes(pool, 'restart.log', cluster).includes('023'), 120_000);
    await finish(pool, 'restart', cluster);
    assert.deepEqual(reconnectCodes(pool, 'restart.log', cluster), ['000', '001', '022', '023', '005']);
  });
});

describe('user log – reconnection failed', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '6' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('user log – a startd frozen past the job lease: 022, then 024 (no 004), and the job runs again', async () => {
    const cluster = await pool.submit(waitingJob(pool, 'lost'));
    await running(pool, 'lost', cluster);
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      await pool.waitFor('024 in the user log', () => eventCodes(pool, 'lost.log', cluster).includes('024'), 120_000);
      const r = await pool.run('dq', ['-userlog', join(pool.work, 'lost.log'), '-af', 'JobStatus']);
      assert.equal(r.stdout.trim(), '1', `dq -userlog reads 024 as idle again: ${r.stderr}`);
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    // the resumed startd ends the run whose lease ran out; the job runs again
    await pool.waitFor(
      'the job to run again',
      () => pool.exists('lost.runs') && pool.read('lost.runs') === 'run\nrun\n',
      180_000,
    );
    await finish(pool, 'lost', cluster);
    // a renewal left unanswered a few seconds on a loaded machine and recovered from (022 then 023), before
    // the freeze or in the second run, is no part of this: only the freeze's 022 is followed by 024
    const codes = withoutReconnects(eventCodes(pool, 'lost.log', cluster));
    assert.deepEqual(codes, ['000', '001', '022', '024', '001', '005']);
    assert.match(
      pool.read('lost.log'),
      /^024 .* Job reconnection failed\n {4}.+\n {4}Can not reconnect to slot\S+, rescheduling job\n/m,
    );
    const w = await pool.run('dwait', [join(pool.work, 'lost.log'), '-wait', '60']);
    assert.equal(w.code, 0, w.stderr + w.stdout);
  });
});
