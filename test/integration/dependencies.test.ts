// PBS-style dependencies between plain jobs: the seed's diamond as a script of dependent qsubs, and
// afterok / afternotok / afterany with a failing job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, ROOT, TestPool } from './harness/pool.js';

describe('dependencies', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('depend – the seed diamond (dag.sh with qsub -W depend=afterok) runs A, then B and C, then D', async () => {
    // the seed's job.sh, recording when each node starts and ends
    pool.file(
      'job.sh',
      '#!/bin/bash\necho "start $PBS_JOBNAME" >> "$PBS_O_WORKDIR/order.txt"\nsleep 1\necho "end $PBS_JOBNAME" >> "$PBS_O_WORKDIR/order.txt"\n',
      0o755,
    );
    pool.file('dag.sh', readFileSync(join(ROOT, 'test', 'fixtures', 'submit', 'dag.sh'), 'utf8'), 0o755);
    const bin = join(pool.work, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'qsub'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(DIST, 'cli', 'dsubmit.js')}" "$@"\n`,
    );
    chmodSync(join(bin, 'qsub'), 0o755);
    const r = spawnSync('bash', ['dag.sh'], {
      cwd: pool.work,
      env: { ...pool.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Submitted job D as \d+\.\S+/);
    await pool.waitFor(
      'all four jobs to finish',
      async () => (await pool.json('dhistory', [])).length >= 4 || undefined,
      120_000,
    );
    const lines = pool.read('order.txt').trim().split('\n');
    const at = (l: string) => lines.indexOf(l);
    assert.ok(at('end A') < at('start B') && at('end A') < at('start C'), lines.join(' | '));
    assert.ok(at('end B') < at('start D') && at('end C') < at('start D'), lines.join(' | '));
    const hist = await pool.json('dhistory', []);
    assert.ok(hist.every((a) => a.ExitCode === 0 && a.JobStatus === 4));
  });

  test('depend – afterok on a failed job removes the dependent with the reason; afternotok and afterany run', async () => {
    pool.file('fail.sub', `executable = /bin/sh\narguments = "-c 'sleep 1; exit 3'"\nqueue\n`);
    pool.file('echo.sub', `executable = /bin/echo\narguments = $(tag)\noutput = $(tag).out\nqueue\n`);
    const f = await pool.run('dsubmit', ['fail.sub']);
    const failed = Number(/cluster (\d+)/.exec(f.stdout)![1]);
    const sub = async (type: string, tag: string) => {
      const r = await pool.run('dsubmit', ['-W', `depend=${type}:${failed}`, 'echo.sub', `tag=${tag}`]);
      assert.equal(r.code, 0, r.stderr);
      return Number(/cluster (\d+)/.exec(r.stdout)![1]);
    };
    const ok = await sub('afterok', 'ok');
    const notok = await sub('afternotok', 'notok');
    const any = await sub('afterany', 'any');
    const waiting = await pool.json('dq', [String(ok)]);
    if (waiting.length) {
      assert.equal(waiting[0]!.JobStatus, 5);
      assert.match(String(waiting[0]!.HoldReason), /waiting for dependency afterok/);
    }
    const [okAd] = await pool.waitForHistory(ok, 1);
    assert.equal(okAd!.JobStatus, 3);
    assert.match(
      String(okAd!.RemoveReason),
      new RegExp(`afterok:${failed} can never be satisfied: job ${failed}\\.0 exited with 3`),
    );
    // qstat -x -f's comment says so, not the hold it was removed from ("waiting for dependency")
    const f2 = await pool.output('dq', ['-pbs', '-x', '-f', String(ok)]);
    assert.match(
      f2,
      new RegExp(
        `^    comment = dependency afterok:${failed} can never be satisfied: job ${failed}\\.0 exited with 3$`,
        'm',
      ),
    );
    await pool.waitForHistory(notok, 1);
    await pool.waitForHistory(any, 1);
    assert.equal(pool.read('notok.out'), 'notok\n');
    assert.equal(pool.read('any.out'), 'any\n');
    assert.equal(pool.exists('ok.out'), false);
  });

  test('depend – a dependency on a job that does not exist is refused and nothing is queued', async () => {
    pool.file('x.sub', `executable = /bin/true\nqueue\n`);
    const r = await pool.run('dsubmit', ['-W', 'depend=afterok:424242', 'x.sub']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /424242/);
  });
});
