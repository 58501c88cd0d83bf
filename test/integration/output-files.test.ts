// A job's output file outside its sandbox (no file transfer: the job writes it in place) that cannot hold what
// the job wrote: its folder removed while the job runs (what it wrote went to a file no one can open), or its
// file system full when the job ends (its writes may have failed, and a shell that ignores that exits 0). The
// job is held, its reason naming the file, rather than counted as done with its output lost or cut short;
// once the cause is gone, drelease runs it again. So is a job whose end a restarted startd finds in its
// spawner's journal, whether or not the startd had recorded the job before it was killed. The full file system needs root (mount -t tmpfs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, TestPool } from './harness/pool.js';
import { journaled, keeperOf } from './harness/processes.js';

const isRoot = process.getuid?.() === 0;

describe('output files', () => {
  let pool: TestPool;
  before(async () => {
    // a long lease: a startd stopped and killed on purpose is not given up on meanwhile
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  /** The job's ad once it is held (or fails the test if it finishes instead). */
  function held(cluster: number): Promise<Record<string, unknown>> {
    return pool.waitFor(`job ${cluster} to be held`, async () => {
      const [h] = await pool.json('dhistory', [String(cluster)]);
      assert.equal(h, undefined, `the job finished: ${JSON.stringify(h)}`);
      const [ad] = await pool.json('dq', [String(cluster)]);
      return ad?.JobStatus === 5 ? ad : undefined;
    });
  }

  /**
   * A job writing `name`/job.out and job.err in place: it writes a line, waits for the test to say go
   * (`go`), writes another and ends well. Returns once its first line is written.
   */
  async function writingJob(name: string) {
    const outDir = join(pool.work, name);
    const go = join(pool.work, `${name}.go`);
    mkdirSync(outDir);
    const script = pool.file(
      `${name}.sh`,
      `#!/bin/sh\necho started\nwhile [ ! -e "${go}" ]; do sleep 0.1; done\necho finished\n`,
      0o755,
    );
    const sub = pool.file(
      `${name}.sub`,
      `executable = ${script}\noutput = ${name}/job.out\nerror = ${name}/job.err\nlog = ${name}.log\nqueue\n`,
    );
    const cluster = await pool.submit(sub);
    const out = join(outDir, 'job.out');
    await pool.waitFor('the job to write its first line', () =>
      existsSync(out) && readFileSync(out, 'utf8').includes('started') ? true : undefined,
    );
    return { cluster, outDir, out, go };
  }

  /** The job is held for its removed output folder; once the folder is back, drelease runs it again, whole. */
  async function heldUntilFolderBack(job: Awaited<ReturnType<typeof writingJob>>) {
    const ad = await held(job.cluster);
    assert.equal(ad.HoldReasonCode, 7, JSON.stringify(ad));
    assert.equal(ad.HoldReasonSubCode, 2, JSON.stringify(ad));
    assert.ok(String(ad.HoldReason).includes(`${job.out} was removed`), String(ad.HoldReason));

    mkdirSync(job.outDir);
    const r = await pool.run('drelease', [String(job.cluster)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [done] = await pool.waitForHistory(job.cluster, 1);
    assert.equal(done?.ExitCode, 0, JSON.stringify(done));
    assert.equal(readFileSync(job.out, 'utf8'), 'started\nfinished\n');
  }

  test('output files – a job whose output folder was removed while it ran is held, naming the file, and runs again once released', async () => {
    const job = await writingJob('results');
    rmSync(job.outDir, { recursive: true });
    writeFileSync(job.go, '');
    await heldUntilFolderBack(job);
  });

  /** The spawner's journal of the startd's job spawner. */
  const spawnerJournal = () => join(pool.home, 'run', `spawner-${keeperOf(pool)}.exits`);

  /**
   * The job ends, its output folder removed first, while its startd is stopped (it reads nothing from its
   * spawner: the end is in the spawner's journal only); the startd is then killed (after `meanwhile`), and
   * the next one holds the job.
   */
  async function endedUnreadThenHeld(job: Awaited<ReturnType<typeof writingJob>>, meanwhile = () => {}) {
    const startd = pool.daemonPid('startd');
    const journal = spawnerJournal();
    process.kill(startd, 'SIGSTOP');
    try {
      meanwhile();
      rmSync(job.outDir, { recursive: true });
      writeFileSync(job.go, '');
      await pool.waitFor('the spawner to journal the end', () => journaled(journal, job.cluster, '"exitCode"'));
      process.kill(startd, 'SIGKILL');
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await pool.waitForRestart('startd', startd);
    await heldUntilFolderBack(job);
  }

  test('output files – a job that ended while its startd was stopped, its output folder removed meanwhile, is held once the killed startd is back', async () => {
    const job = await writingJob('unread');
    const record = join(pool.home, 'run', 'startd-jobs.json');
    await pool.waitFor('the startd to record the job with its output file', () =>
      existsSync(record) && readFileSync(record, 'utf8').includes(job.out) ? true : undefined,
    );
    await endedUnreadThenHeld(job);
  });

  test('output files – a job killed with its startd before the startd recorded it, its output folder removed, is held once the startd is back', async () => {
    const job = await writingJob('unrecorded');
    const journal = spawnerJournal();
    // what a restarted startd checks the end against: the paths and the files the spawner opened, in the
    // journal's start (and end) line
    await pool.waitFor(
      'the spawner to journal the start with the output files',
      () =>
        journaled(journal, job.cluster, `"stdout":"${job.out}"`) &&
        journaled(journal, job.cluster, '"files":{"stdout"'),
    );
    // as a startd killed in the turn the job started leaves it: no record of the job (nor of any other)
    await endedUnreadThenHeld(job, () => rmSync(join(pool.home, 'run', 'startd-jobs.json'), { force: true }));
  });

  test(
    'output files – a job whose output filled its file system is held (34/28), naming the file, and completes once there is room',
    { skip: !isRoot && 'needs root to mount a small file system' },
    async () => {
      const small = join(pool.work, 'small');
      mkdirSync(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0777', 'tmpfs', small]);
      try {
        // writes more than the file system holds, and ends well whatever its writes did
        const script = pool.file('fill.sh', '#!/bin/sh\nhead -c 4000000 /dev/zero\nexit 0\n', 0o755);
        const sub = pool.file('fill.sub', `executable = ${script}\noutput = small/fill.out\nlog = fill.log\nqueue\n`);
        const cluster = await pool.submit(sub);
        const ad = await held(cluster);
        assert.equal(ad.HoldReasonCode, 34, JSON.stringify(ad));
        assert.equal(ad.HoldReasonSubCode, 28, JSON.stringify(ad));
        assert.ok(String(ad.HoldReason).includes(join(small, 'fill.out')), String(ad.HoldReason));

        execFileSync('mount', ['-o', 'remount,size=16m', small]);
        const r = await pool.run('drelease', [String(cluster)]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const [done] = await pool.waitForHistory(cluster, 1);
        assert.equal(done?.ExitCode, 0, JSON.stringify(done));
        assert.equal(statSync(join(small, 'fill.out')).size, 4_000_000);
      } finally {
        execFileSync('umount', ['-l', small]);
      }
    },
  );
});
