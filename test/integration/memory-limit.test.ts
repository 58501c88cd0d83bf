// Memory: the startd measures each running job (ResidentSetSize, MemoryUsage, ImageSize, CPU) and the schedd
// folds it into the job ad; a job whose memory goes over its request_memory is killed and held with
// HoldReasonCode 34 (HTCondor's JobOutOfResources), also when its startd dies before it hears of the
// job's end. The jobs are real node processes that fill a Buffer.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, TestPool } from './harness/pool.js';
import { spawnerOf } from './harness/processes.js';

describe('memory limit', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ STARTER_UPDATE_INTERVAL: '1' });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string) => pool.submit(file);
  const ad = async (cluster: number) => (await pool.json('dq', [String(cluster)]))[0];

  test('memory – a job over its request_memory is killed and held with code 34 and the reason', async () => {
    // 300 MB, touched (filled), against a request of 100 MB (node itself starts under 100 MB, so the job
    // writes its pid before it can be caught over the limit)
    pool.file(
      'hog.cjs',
      `require('fs').writeFileSync('hog.pid', String(process.pid));\nconst b = Buffer.alloc(300 * 1024 * 1024, 1);\nsetTimeout(() => console.log(b.length), 600000);\n`,
    );
    pool.file(
      'hog.sub',
      `executable = ${process.execPath}\narguments = hog.cjs\nrequest_memory = 100\nlog = hog.log\nqueue\n`,
    );
    const c = await submit('hog.sub');
    const held = await pool.waitFor(`job ${c} to be held`, async () => {
      const a = await ad(c);
      return a?.JobStatus === 5 ? a : undefined;
    });
    assert.equal(held.HoldReasonCode, 34, String(held.HoldReason));
    const m = /^Job has gone over memory limit of 100 megabytes\. Peak usage: (\d+) megabytes\.$/.exec(
      String(held.HoldReason),
    );
    assert.ok(m, `hold reason: ${String(held.HoldReason)}`);
    assert.ok(Number(m[1]) > 100, `peak ${m[1]} MB`);
    // the kill is how the run ended, recorded as HTCondor records it (ExitBySignal, ExitSignal)
    assert.equal(held.ExitBySignal, true);
    assert.equal(held.ExitSignal, 9);
    const pid = Number(pool.read('hog.pid').trim());
    await pool.waitFor('the job to be gone', () => !alive(pid));
    const q = await pool.run('dq', ['-hold', String(c)]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(
      q.stdout,
      /Job has gone over memory limit of 100 megabytes\. Peak usage: \d+ megabytes\. \(killed by signal 9\)/,
    );
    // HTCondor's 012 for a memory hold: the reason, then JobOutOfResources with the subcode Memory (102)
    assert.equal(held.HoldReasonSubCode, 102);
    assert.match(
      pool.read('hog.log'),
      /^012 [^\n]*Job was held\.\n\tJob has gone over memory limit of 100 megabytes\. Peak usage: \d+ megabytes\.\n\tCode 34 Subcode 102\n/m,
    );
    await pool.run('drm', [String(c)]);
    await pool.waitForHistory(c, 1);
    const h = await pool.run('dhistory', ['-l', String(c)]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^ExitBySignal = true$/m);
    assert.match(h.stdout, /^ExitSignal = 9$/m);
  });

  test('memory – a job killed over its limit whose startd dies before it hears of the end is held the same way, not run again', async () => {
    // the job fills 300 MB (against 100) once `hog2.go` exists, so the test can stop the spawner first
    pool.file(
      'hog2.cjs',
      `const fs = require('fs');\nfs.appendFileSync('hog2.runs', process.pid + '\\n');\nconst t = setInterval(() => { if (!fs.existsSync('hog2.go')) return; clearInterval(t); const b = Buffer.alloc(300 * 1024 * 1024, 1); setTimeout(() => console.log(b.length), 600000); }, 100);\n`,
    );
    pool.file(
      'hog2.sub',
      `executable = ${process.execPath}\narguments = hog2.cjs\nrequest_memory = 100\nlog = hog2.log\nqueue\n`,
    );
    const c = await submit('hog2.sub');
    // (its pid once written: the file is created empty first)
    const pid = await pool.waitFor('the job to run', async () => {
      const p = pool.exists('hog2.runs') ? Number(pool.read('hog2.runs').trim()) : 0;
      return p > 0 && (await ad(c))?.JobStatus === 2 ? p : undefined;
    });
    const startd = pool.daemonPid('startd');
    const spawner = spawnerOf(pool);
    // the startd decides to kill the job, but its spawner (stopped) cannot tell it of the end before the
    // startd is killed: the end is in the spawner's journal only
    process.kill(spawner, 'SIGSTOP');
    try {
      pool.file('hog2.go', '');
      const startdLog = join(pool.home, 'log', 'startd.log');
      await pool.waitFor(
        'the startd to kill the job for its memory',
        () =>
          existsSync(startdLog) &&
          readFileSync(startdLog, 'utf8')
            .split('\n')
            .some((l) => l.includes('job over its memory limit') && l.includes(`"cluster":${c},`)),
      );
      process.kill(startd, 'SIGKILL');
    } finally {
      process.kill(spawner, 'SIGCONT');
    }
    await pool.waitForRestart('startd', startd);
    const held = await pool.waitFor(`job ${c} to be held`, async () => {
      const a = await ad(c);
      return a?.JobStatus === 5 ? a : undefined;
    });
    assert.equal(held.HoldReasonCode, 34, String(held.HoldReason));
    assert.match(
      String(held.HoldReason),
      /^Job has gone over memory limit of 100 megabytes\. Peak usage: \d+ megabytes\.$/,
    );
    assert.match(String(held.LastRemoteHost), /^slot\d+_\d+@/, 'where it ran is recorded');
    assert.equal(held.ExitBySignal, true, 'the kill is recorded as on the live path');
    assert.equal(held.ExitSignal, 9);
    assert.equal(held.NumJobStarts, 1);
    await pool.waitFor('the job to be gone', () => !alive(pid));
    assert.equal(pool.read('hog2.runs').trim().split('\n').length, 1, 'the job did not run again');
    assert.equal(held.HoldReasonSubCode, 102, 'the same subcode as on the live path');
    assert.match(
      pool.read('hog2.log'),
      /^012 [\s\S]*Job has gone over memory limit of 100 megabytes[\s\S]*Code 34 Subcode 102$/m,
    );
    assert.doesNotMatch(pool.read('hog2.log'), /^004 /m, 'no eviction: the end was the hold');
    await pool.run('drm', [String(c)]);
  });

  test('memory – a job within its limit runs to the end, with its usage in the job ad and event 006', async () => {
    // 100 MB against 400 MB; it ends when the test creates `go` (no timing in the test)
    pool.file(
      'fits.cjs',
      `const fs = require('fs');\nconst b = Buffer.alloc(100 * 1024 * 1024, 1);\nconst t = setInterval(() => { if (fs.existsSync('go')) { clearInterval(t); console.log(b.length); } }, 100);\n`,
    );
    pool.file(
      'fits.sub',
      `executable = ${process.execPath}\narguments = fits.cjs\nrequest_memory = 400\nlog = fits.log\nqueue\n`,
    );
    const c = await submit('fits.sub');
    // dq -af MemoryUsage shows the peak (MB) while the job runs
    const usage = await pool.waitFor('MemoryUsage of at least 100 MB', async () => {
      const r = await pool.run('dq', [
        String(c),
        '-af',
        'MemoryUsage',
        'ResidentSetSize',
        'ImageSize',
        'RemoteUserCpu',
      ]);
      const [mem, rss, image, cpu] = r.stdout.trim().split(/\s+/).map(Number);
      return mem! >= 100 ? { mem: mem!, rss: rss!, image: image!, cpu: cpu! } : undefined;
    });
    assert.ok(usage.rss >= 100 * 1024, `ResidentSetSize ${usage.rss} KB`);
    assert.equal(usage.mem, Math.ceil(usage.rss / 1024), 'MemoryUsage is ceiling(ResidentSetSize / 1024)');
    assert.ok(usage.image >= usage.rss, `ImageSize ${usage.image} KB`);
    assert.ok(usage.cpu >= 0, `RemoteUserCpu ${usage.cpu}`);
    assert.equal((await ad(c))?.JobStatus, 2, 'still running: within its limit');
    pool.file('go', '');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.JobStatus, 4);
    assert.equal(h!.ExitCode, 0);
    assert.ok(Number(h!.MemoryUsage) >= 100, `MemoryUsage ${String(h!.MemoryUsage)}`);
    assert.equal(h!.HoldReasonCode, undefined);
    const log = pool.read('fits.log');
    assert.match(log, /^006 [\s\S]*Image size of job updated: \d+/m);
    assert.match(log, /^005 /m);
  });
});
