// dtail (condor_tail): the last bytes of a running job's stdout or stderr; with -f each line as the job
// prints it, until the job ends (the test makes the job print a line only when it says so: what is waited
// for is the line, never a time); -maxbytes bounds every read, so a huge sparse file costs nothing.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveCli } from './harness/live-cli.js';
import { TestPool } from './harness/pool.js';

describe('dtail', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  const step = (n: number) => join(pool.work, `step${n}`);

  test('dtail -f – each line as the job prints it, stderr apart, and the end when the job ends', async () => {
    // (its stderr line first: once line1 is seen, oops1 is surely written)
    pool.file(
      'talk.sh',
      `#!/bin/sh\necho oops1 >&2\necho line1\nwhile [ ! -e ${step(1)} ]; do sleep 0.1; done\necho line2\nwhile [ ! -e ${step(2)} ]; do sleep 0.1; done\necho line3\n`,
      0o755,
    );
    pool.file('talk.sub', 'executable = talk.sh\noutput = talk.out\nerror = talk.err\nqueue\n');
    const cluster = await pool.submit('talk.sub');
    // started at once: a job not running yet is waited for
    const tail = new LiveCli(pool, 'dtail', ['-f', `${cluster}.0`]);
    try {
      await tail.output(/^line1\n$/m);
      const err = await pool.run('dtail', ['-stderr', `${cluster}.0`]);
      assert.equal(err.code, 0, err.stderr);
      assert.equal(err.stdout, 'oops1\n');
      assert.doesNotMatch(tail.stdout, /line2/);
      mkdirSync(step(1));
      await tail.output(/^line2\n/m);
      assert.doesNotMatch(tail.stdout, /line3/);
      mkdirSync(step(2));
      assert.equal(await tail.code(), 0, tail.stderr);
      assert.equal(tail.stdout, 'line1\nline2\nline3\n');
    } finally {
      tail.kill();
    }
  });

  test('dtail -maxbytes – the last bytes of a 20 GB sparse output, without reading the rest', async () => {
    const out = join(pool.work, 'big.out');
    pool.file(
      'big.sh',
      `#!/bin/sh\necho first\ntruncate -s 20G ${out}\necho last-line >> ${out}\ntouch ${join(pool.work, 'big-ready')}\nwhile [ ! -e ${step(3)} ]; do sleep 0.1; done\n`,
      0o755,
    );
    pool.file('big.sub', `executable = big.sh\noutput = ${out}\nqueue\n`);
    const cluster = await pool.submit('big.sub');
    await pool.waitFor(
      'the big output',
      async () => pool.exists('big-ready') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const r = await pool.run('dtail', ['-maxbytes', '10', `${cluster}.0`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'last-line\n');
    const dflt = await pool.run('dtail', [`${cluster}.0`]);
    assert.equal(dflt.stdout.length, 1024, "condor_tail's 1024 bytes by default");
    mkdirSync(step(3));
  });

  test('dtail – a job that is not running: idle or held, or not a job at all, says so', async () => {
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const held = await pool.submit('held.sub');
    const r = await pool.run('dtail', [`${held}.0`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[JOB_STATE\]: job \d+\.0 is held: only a running job's output can be read/);
    const f = await pool.run('dtail', ['-f', `${held}.0`]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /is held/);
    const none = await pool.run('dtail', ['99999.0']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /error\[JOB_NOT_FOUND\]/);
    const usage = await pool.run('dtail', ['a.b']);
    assert.equal(usage.code, 2);
    const help = await pool.run('dtail', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /dtail -f -stderr 12\.3/);
    await pool.run('drm', [String(held)]);
  });
});
