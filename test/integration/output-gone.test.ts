// A job's output file whose folder is removed while the job runs (no file transfer: the job writes the file
// in place): what it wrote went to a file no one can open. The job is held, its reason naming the file,
// rather than counted as done with its output silently lost; once the folder is back, drelease runs it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool } from './harness/pool.js';

test('output gone – a job whose output folder was removed while it ran is held, naming the file, and runs again once released', async () => {
  const pool = await TestPool.start();
  try {
    const outDir = join(pool.work, 'results');
    const go = join(pool.work, 'go');
    mkdirSync(outDir);
    // writes a line, waits for the test to say go, writes another and ends well
    const script = pool.file(
      'job.sh',
      `#!/bin/sh\necho started\nwhile [ ! -e "${go}" ]; do sleep 0.1; done\necho finished\n`,
      0o755,
    );
    const sub = pool.file(
      'job.sub',
      `executable = ${script}\noutput = results/job.out\nerror = results/job.err\nlog = job.log\nqueue\n`,
    );
    const cluster = await pool.submit(sub);
    const out = join(outDir, 'job.out');
    await pool.waitFor('the job to write its first line', () =>
      existsSync(out) && readFileSync(out, 'utf8').includes('started') ? true : undefined,
    );

    rmSync(outDir, { recursive: true });
    writeFileSync(go, '');
    const held = await pool.waitFor('the job to be held', async () => {
      const [j] = await pool.json('dq', [String(cluster)]);
      return j?.JobStatus === 5 ? j : undefined;
    });
    assert.equal(held.HoldReasonCode, 7, JSON.stringify(held));
    assert.match(String(held.HoldReason), new RegExp(`${out.replace(/[.]/g, '\\.')} was removed`));
    assert.deepEqual(await pool.json('dhistory', [String(cluster)]), [], 'not counted as completed');

    mkdirSync(outDir);
    const r = await pool.run('drelease', [String(cluster)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [done] = await pool.waitForHistory(cluster, 1);
    assert.equal(done?.ExitCode, 0, JSON.stringify(done));
    assert.equal(readFileSync(out, 'utf8'), 'started\nfinished\n');
  } finally {
    await pool.stop();
  }
});
