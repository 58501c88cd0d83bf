// A master killed with kill -9 takes its daemons with it, the next `dsched start` brings up exactly one
// working pool, and `dsched stop` stops daemons a dead master left behind without ever signalling a
// process that merely reuses a recorded pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

/** A process that exited runs no more, reaped or not (a killed daemon's new parent may reap it late). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd'];

function masterPid(pool: TestPool): number {
  return Number(
    readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8')
      .trim()
      .split(/\s+/)[0],
  );
}

describe('master death', () => {
  let pool: TestPool;
  after(async () => {
    await pool?.stop();
  });

  test('master – kill -9: its daemons exit and dsched start brings up exactly one working pool', async () => {
    pool = await TestPool.start();
    const master = masterPid(pool);
    const pids = DAEMONS.map((d) => pool.daemonPid(d));
    process.kill(master, 'SIGKILL');
    await pool.waitFor('the daemons to exit with their master', () => pids.every((p) => !alive(p)));

    const st = await pool.run('dsched', ['status']);
    assert.equal(st.code, 1);
    assert.match(st.stderr, /error\[POOL_NOT_RUNNING\]/);

    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const again = await pool.run('dsched', ['start']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already running/);
    const s = await pool.run('dsched', ['status']);
    assert.equal(s.code, 0, s.stderr);
    for (const d of DAEMONS)
      assert.match(s.stdout, new RegExp(`^${d} +running +\\d+ +0 `, 'm'), `${d} runs, never restarted:\n${s.stdout}`);

    pool.file('hello.sub', 'executable = /bin/echo\narguments = after the restart\noutput = hello.out\nqueue\n');
    const cluster = await pool.submit('hello.sub');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('hello.out'), 'after the restart\n');
  });

  test('dsched stop – stops a daemon its dead master left behind, never a process that reuses a recorded pid', async () => {
    // a process that is not a daemon, recorded under a daemon's name with another start time: what a pid
    // file looks like once the kernel has handed its pid to someone else
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const schedd = pool.daemonPid('schedd');
      // a stopped schedd cannot notice its master died: it stays behind as an orphan
      process.kill(schedd, 'SIGSTOP');
      const others = ['collector', 'negotiator', 'startd'].map((d) => pool.daemonPid(d));
      process.kill(masterPid(pool), 'SIGKILL');
      await pool.waitFor('the other daemons to exit with their master', () => others.every((p) => !alive(p)));
      writeFileSync(join(pool.home, 'run', 'negotiator.pid'), `${stranger.pid} 1\n`);

      const st = await pool.run('dsched', ['status']);
      assert.equal(st.code, 1);
      assert.match(st.stderr, /error\[POOL_NOT_RUNNING\].*schedd \(pid \d+\)/);

      const r = await pool.run('dsched', ['stop']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`schedd \\(pid ${schedd}\\)`));
      // SIGKILL was sent; the kernel takes a moment to tear the process down
      await pool.waitFor('the orphaned schedd to be gone', () => !alive(schedd));
      assert.ok(alive(stranger.pid!), 'the process reusing a recorded pid was left alone');
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
