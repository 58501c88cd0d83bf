// An execute host (DAEMON_LIST = STARTD) runs the native master instead of a node one: it starts, restarts
// and stops its startd as the node master does, its startd runs the central schedd's jobs, a startd outlives
// it by no more than its master pipe, and only who may signal it (root, the pool's owner) stops it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

/** A process that exited runs no more, reaped or not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

function masterPid(pool: TestPool): number {
  return Number(
    readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8')
      .trim()
      .split(/\s+/)[0],
  );
}

function programOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!;
}

describe('master – native, on an execute host', () => {
  let central: TestPool | undefined;
  let exec: TestPool | undefined;
  after(async () => {
    await exec?.stop();
    await central?.stop();
  });

  test('master – an execute host runs the native master, whose startd runs the central schedd’s jobs', async () => {
    central = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD', NEGOTIATOR_INTERVAL: '1' });
    exec = await central.startExecuteHost();
    const master = masterPid(exec);
    assert.match(programOf(master), /dist\/daemons\/master\/dsched-master$/);
    assert.ok(!existsSync(join(exec.home, 'run', 'master.address')), 'the native master serves no RPC');
    const st = await exec.run('dsched', ['status']);
    assert.equal(st.code, 0, st.stderr + st.stdout);
    assert.match(st.stdout, new RegExp(`^master +running +${master} +0 +SERVING`, 'm'));
    assert.match(st.stdout, /^startd +running +\d+ +0 +SERVING/m);

    // a job of the central schedd runs under it, and its end comes back
    const cluster = await central.submit('-', [], {
      input: 'executable = /bin/sh\narguments = "-c \'exit 7\'"\nqueue\n',
    });
    const [ad] = await central.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 7);
  });

  test('master – native: a killed startd is restarted, its exit shown by dsched status', async () => {
    const startd = exec!.daemonPid('startd');
    process.kill(startd, 'SIGKILL');
    const again = await exec!.waitForRestart('startd', startd);
    assert.equal(readFileSync(join(exec!.home, 'run', 'startd.pid'), 'utf8').split(' ')[0], String(again));
    const st = await exec!.run('dsched', ['status']);
    assert.match(st.stdout, /^startd +running +\d+ +1 +SERVING .*\(last exit: signal SIGKILL\)/m, st.stdout);
  });

  test('master – native: a user who may not signal it cannot stop it, and the pool is untouched', async () => {
    const master = masterPid(exec!);
    const startd = exec!.daemonPid('startd');
    for (const cmd of [['stop'], ['reconfig']]) {
      const r = await exec!.run('dsched', cmd, { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } });
      assert.notEqual(r.code, 0, `dsched ${cmd[0]} as nobody: ${r.stdout}`);
      assert.match(r.stderr, /error\[PERMISSION_DENIED\].*native master/, r.stderr);
    }
    assert.ok(alive(master) && alive(startd), 'the master and the startd still run');
    assert.equal(exec!.daemonPid('startd'), startd);
  });

  test('master – native, kill -9: its startd exits, and dsched start brings one up again', async () => {
    const master = masterPid(exec!);
    const startd = exec!.daemonPid('startd');
    process.kill(master, 'SIGKILL');
    await exec!.waitFor('the startd to exit with its master', () => !alive(startd));
    const st = await exec!.run('dsched', ['status']);
    assert.equal(st.code, 1);
    assert.match(st.stderr, /error\[POOL_NOT_RUNNING\]/);

    const r = await exec!.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const twice = await exec!.run('dsched', ['start']);
    assert.match(twice.stdout, /already running/);
    assert.notEqual(masterPid(exec!), master);
  });

  test('dsched stop – stops the native master and its startd', async () => {
    const master = masterPid(exec!);
    const startd = exec!.daemonPid('startd');
    const r = await exec!.run('dsched', ['stop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pool stopped/);
    assert.ok(!alive(master) && !alive(startd));
    for (const f of ['master.pid', 'master.state', 'startd.pid', 'startd.address'])
      assert.ok(!existsSync(join(exec!.home, 'run', f)), `run/${f} is gone`);
  });
});
