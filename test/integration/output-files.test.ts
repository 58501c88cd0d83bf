// A job's output file outside its sandbox (no file transfer: the job writes it in place) that cannot hold what
// the job wrote: its folder removed while the job runs (what it wrote went to a file no one can open), or its
// file system full when the job ends (its writes may have failed, and a shell that ignores that exits 0). The
// job is held, its reason naming the file, rather than counted as done with its output lost or cut short;
// once the cause is gone, drelease runs it again. The full file system needs root (mount -t tmpfs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool } from './harness/pool.js';

const isRoot = process.getuid?.() === 0;

describe('output files', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
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

  test('output files – a job whose output folder was removed while it ran is held, naming the file, and runs again once released', async () => {
    const outDir = join(pool.work, 'results');
    const go = join(pool.work, 'go');
    mkdirSync(outDir);
    // writes a line, waits for the test to say go, writes another and ends well
    const script = pool.file(
      'wait-for-go.sh',
      `#!/bin/sh\necho started\nwhile [ ! -e "${go}" ]; do sleep 0.1; done\necho finished\n`,
      0o755,
    );
    const sub = pool.file(
      'gone.sub',
      `executable = ${script}\noutput = results/job.out\nerror = results/job.err\nlog = gone.log\nqueue\n`,
    );
    const cluster = await pool.submit(sub);
    const out = join(outDir, 'job.out');
    await pool.waitFor('the job to write its first line', () =>
      existsSync(out) && readFileSync(out, 'utf8').includes('started') ? true : undefined,
    );

    rmSync(outDir, { recursive: true });
    writeFileSync(go, '');
    const ad = await held(cluster);
    assert.equal(ad.HoldReasonCode, 7, JSON.stringify(ad));
    assert.ok(String(ad.HoldReason).includes(`${out} was removed`), String(ad.HoldReason));

    mkdirSync(outDir);
    const r = await pool.run('drelease', [String(cluster)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [done] = await pool.waitForHistory(cluster, 1);
    assert.equal(done?.ExitCode, 0, JSON.stringify(done));
    assert.equal(readFileSync(out, 'utf8'), 'started\nfinished\n');
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
