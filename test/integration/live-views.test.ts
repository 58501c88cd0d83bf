// Live views over the schedd's job-change stream: dq -watch (condor_watch_q) follows a cluster to the end
// and exits 0, exits 1 for a held job (or as -exit says), and keeps going through a schedd restart; dwait
// waits on the stream too, through a schedd that dies, and with 100,000 job ids. Every step waits for the
// output or state it expects (a job waits for a file the test creates), never for a time.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveCli } from './harness/live-cli.js';
import { TestPool } from './harness/pool.js';
import { connectedTo } from './harness/processes.js';

describe('live views', () => {
  let pool: TestPool;
  let n = 0;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  /** A cluster of `count` jobs that each print a line and then wait until the returned `go()` is called. */
  const waitingCluster = async (count: number) => {
    const trigger = join(pool.work, `go${++n}`);
    pool.file(
      `wait${n}.sh`,
      `#!/bin/sh\necho started\nwhile [ ! -e ${trigger} ]; do sleep 0.1; done\necho finished\n`,
      0o755,
    );
    pool.file(`wait${n}.sub`, `executable = wait${n}.sh\noutput = wait${n}.$(Process).out\nqueue ${count}\n`);
    const cluster = await pool.submit(`wait${n}.sub`);
    return { cluster, go: () => mkdirSync(trigger) };
  };

  test('dq -watch – a progress bar for the cluster, a line per change, exit 0 once every job completed', async () => {
    const { cluster, go } = await waitingCluster(2);
    const watch = new LiveCli(pool, 'dq', ['-watch', String(cluster)]);
    try {
      await watch.output(new RegExp(`cluster ${cluster} \\[\\.+\\] +0%`));
      go();
      assert.equal(await watch.code(), 0, watch.stdout + watch.stderr);
      assert.match(watch.stdout, new RegExp(`cluster ${cluster} \\[#{20}\\] 100%  2 done, 0 failed`));
      assert.match(watch.stdout, /^Total: 2 jobs; 2 done, 0 failed, 0 running, 0 idle, 0 held$/m);
    } finally {
      watch.kill();
    }
  });

  test('dq -watch – a held job: exit 1 once the others are done; -exit any,held,N exits N at once', async () => {
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const held = await pool.submit('held.sub');
    const r = await pool.run('dq', ['-watch', String(held)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /0 done, 0 failed, 0 running, 0 idle, 1 held/);
    const { cluster, go } = await waitingCluster(1);
    const exit = await pool.run('dq', ['-watch', String(cluster), String(held), '-exit', 'any,held,7']);
    assert.equal(exit.code, 7, exit.stdout + exit.stderr);
    go();
    const bad = await pool.run('dq', ['-watch', '-exit', 'some,held']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error\[USAGE\].*GROUPER is all, any or none/);
    await pool.run('drm', [String(held)]);
  });

  test('dq -watch – keeps watching through a schedd restart (kill -9) and sees the jobs finish', async () => {
    const { cluster, go } = await waitingCluster(2);
    const watch = new LiveCli(pool, 'dq', ['-watch', String(cluster)]);
    try {
      await watch.output(new RegExp(`cluster ${cluster} \\[`));
      const schedd = pool.daemonPid('schedd');
      process.kill(schedd, 'SIGKILL');
      await watch.output(/the schedd is not answering: waiting for it/);
      await pool.waitForRestart('schedd', schedd);
      go();
      assert.equal(await watch.code(90_000), 0, watch.stdout + watch.stderr);
      assert.match(watch.stdout, /^Total: 2 jobs; 2 done, 0 failed/m);
    } finally {
      watch.kill();
    }
  });

  test('dwait – on the job-change stream: waits through a schedd that dies, then reports the jobs', async () => {
    const { cluster, go } = await waitingCluster(2);
    await pool.waitFor('the jobs to run', async () =>
      (await pool.json('dq', [String(cluster)])).every((a) => a.JobStatus === 2),
    );
    // the schedd stops answering, dwait connects to it (and waits), the schedd dies and comes back
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGSTOP');
    const wait = new LiveCli(pool, 'dwait', [String(cluster)]);
    try {
      await pool.waitFor('dwait to connect to the stopped schedd', () =>
        connectedTo(wait.child.pid!, pool.daemonAddress('schedd')),
      );
      process.kill(schedd, 'SIGKILL');
      await pool.waitForRestart('schedd', schedd);
      go();
      assert.equal(await wait.code(90_000), 0, wait.stdout + wait.stderr);
      assert.match(wait.stdout, new RegExp(`job ${cluster}\\.0 exited with code 0`));
      assert.match(wait.stdout, new RegExp(`job ${cluster}\\.1 exited with code 0`));
    } finally {
      wait.kill();
    }
  });

  test('dwait – 100,000 job ids travel on the stream request; it ends when the ones that exist are done', async () => {
    const { cluster, go } = await waitingCluster(2);
    const ids = Array.from({ length: 100_000 }, (_, i) => `${cluster}.${i}`);
    const wait = new LiveCli(pool, 'dwait', [...ids, '-wait', '120']);
    try {
      await pool.waitFor('dwait to connect', () => connectedTo(wait.child.pid!, pool.daemonAddress('schedd')));
      go();
      assert.equal(await wait.code(120_000), 0, wait.stdout + wait.stderr);
      assert.equal(wait.stdout.trim().split('\n').length, 2, wait.stdout);
    } finally {
      wait.kill();
    }
  });
});
