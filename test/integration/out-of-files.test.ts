// A schedd out of open files (its soft RLIMIT_NOFILE lowered to what it has open, as a daemon serving many
// clients reaches its limit) when a job ends: the job's terminate event cannot be written to its user log,
// so the job's end waits with it instead of being recorded without it; once files are free again the event
// is written, once, and the job completes. Lowering another process's limit needs root (prlimit).
// A process at its limit also refuses new connections (libuv accepts and closes them), so the startd's
// connection to the schedd must be open before: the job's dchirp makes the startd send an update first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { connectedTo } from './harness/processes.js';
import { eventCodes, withoutReconnects } from './harness/user-log.js';

const isRoot = process.getuid?.() === 0;

/** The soft and hard limits on open files of a process. */
function openFileLimit(pid: number): { soft: string; hard: string } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
  return { soft: soft!, hard: hard! };
}

describe('schedd out of open files', { skip: !isRoot && 'needs root to lower a daemon’s open-file limit' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('out of files – a job that ends while the schedd cannot open its user log completes once files are free, its terminate event logged once', async () => {
    const go = join(pool.work, 'fd.go');
    const cluster = await pool.submit(
      pool.file(
        'fd.sub',
        `executable = /bin/sh\narguments = "-c 'dchirp set_job_attr Ready 1; touch ${join(pool.work, 'fd.runs')}; while [ ! -e ${go} ]; do sleep 0.2; done'"\nlog = fd.log\nqueue\n`,
      ),
    );
    await pool.waitFor(
      'the job to run',
      () => pool.exists('fd.runs') && eventCodes(pool, 'fd.log', cluster).includes('001'),
    );
    await pool.waitFor('the startd to be connected to the schedd', () =>
      connectedTo(pool.daemonPid('startd'), pool.daemonAddress('schedd')),
    );
    const schedd = pool.daemonPid('schedd');
    const limit = openFileLimit(schedd);
    // the limit bounds the number a new descriptor gets, the lowest free one: at that number, nothing more opens
    const open = new Set(readdirSync(`/proc/${schedd}/fd`).map(Number));
    let lowestFree = 0;
    while (open.has(lowestFree)) lowestFree++;
    execFileSync('prlimit', [`--pid=${schedd}`, `--nofile=${lowestFree}:${limit.hard}`]);
    try {
      writeFileSync(go, '');
      const log = join(pool.home, 'log', 'schedd.log');
      await pool.waitFor(
        'the schedd to find it cannot write the user log',
        () => existsSync(log) && readFileSync(log, 'utf8').includes('"cannot write the job event log yet"'),
      );
      assert.deepEqual(
        withoutReconnects(eventCodes(pool, 'fd.log', cluster)),
        ['000', '001'],
        'no terminate event without room',
      );
    } finally {
      execFileSync('prlimit', [`--pid=${schedd}`, `--nofile=${limit.soft}:${limit.hard}`]);
    }
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.deepEqual(withoutReconnects(eventCodes(pool, 'fd.log', cluster)), ['000', '001', '005']);
    assert.equal(pool.daemonPid('schedd'), schedd, 'the schedd kept running');
  });
});
