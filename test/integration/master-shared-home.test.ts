// A DSCHED_HOME shared between hosts (NFS) runs one pool: the master's lock is this host's kernel's, so the
// pid files name their host, and a master of another host that keeps run/master.pid recent (its heartbeat)
// holds the home. The other host is faked by the files it would write.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { alive, DIST, TestPool } from './harness/pool.js';

const OTHER = 'otherhost.example 0123456789abcdef0123456789abcdef 11111111-2222-3333-4444-555555555555';

/** run/master.pid as the master of another host writes it, heard from `ageS` seconds ago. */
function fakeOtherHost(pool: TestPool, ageS = 0): string {
  const run = join(pool.home, 'run');
  mkdirSync(run, { recursive: true });
  const path = join(run, 'master.pid');
  const text = `4242 12345 ${OTHER}\n`;
  writeFileSync(path, text);
  const t = new Date(Date.now() - ageS * 1000);
  utimesSync(path, t, t);
  return text;
}

describe('master – a home shared with another host', () => {
  const pools: TestPool[] = [];
  after(async () => {
    for (const p of pools) await p.stop();
  });

  test('dsched start, status and stop – refused while another host’s master holds the home, which is untouched', async () => {
    const pool = TestPool.create();
    pools.push(pool);
    const text = fakeOtherHost(pool);
    for (const cmd of ['start', 'status', 'stop']) {
      const r = await pool.run('dsched', [cmd]);
      assert.equal(r.code, 1, `dsched ${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[POOL_ON_OTHER_HOST\].*runs on host otherhost\.example \(master pid 4242/);
    }
    assert.equal(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8'), text);
    assert.deepEqual(
      readdirSync(join(pool.home, 'run')).filter((f) => f !== 'master.pid'),
      [],
      'no daemon started',
    );
  });

  test('native master – refuses a home whose pool another host runs', async () => {
    const pool = TestPool.create();
    pools.push(pool);
    fakeOtherHost(pool);
    mkdirSync(join(pool.home, 'log'), { recursive: true });
    const r = await runNative(pool);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[POOL_ON_OTHER_HOST\].*host otherhost\.example \(master pid 4242/);
  });

  test('master – takes over from another host whose heartbeat stopped, and stops when that host takes it back', async () => {
    const pool = TestPool.create();
    pools.push(pool);
    fakeOtherHost(pool, 600);
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pidFile = join(pool.home, 'run', 'master.pid');
    // (this master's pid may be 4242 too: pids wrap; the host in the file tells the records apart)
    assert.doesNotMatch(readFileSync(pidFile, 'utf8'), /otherhost/);
    const master = Number(readFileSync(pidFile, 'utf8').split(' ')[0]);
    assert.match(readFileSync(join(pool.home, 'log', 'master.log'), 'utf8'), /taking over the home/);
    const schedd = pool.daemonPid('schedd');

    // the other host comes back and takes the home: this master's next heartbeat sees it and stops the pool
    fakeOtherHost(pool);
    await pool.waitFor('the master to stop', () => !alive(master) && !alive(schedd), 60_000);
    assert.match(readFileSync(join(pool.home, 'log', 'master.log'), 'utf8'), /another master has taken this home over/);
  });

  test('native master – takes over from a stale host, keeps its heartbeat, and stops when another host takes over', async () => {
    const pool = TestPool.create();
    pools.push(pool);
    fakeOtherHost(pool, 600);
    mkdirSync(join(pool.home, 'log'), { recursive: true });
    const pidFile = join(pool.home, 'run', 'master.pid');
    let masterPid = 0;
    const done = runNative(pool, (pid) => (masterPid = pid));
    // (its pid may be the other host's 4242: pids wrap)
    await pool.waitFor('the native master to write its pid file', () => {
      const text = readFileSync(pidFile, 'utf8');
      return text.startsWith(`${masterPid} `) && !text.includes('otherhost');
    });
    const [, start, ...host] = readFileSync(pidFile, 'utf8').trim().split(' ');
    assert.match(start!, /^\d+$/);
    assert.equal(host.length, 3, 'host name, machine id, boot id');
    assert.notEqual(host.join(' '), OTHER);
    // its heartbeat renews the file's time
    const old = new Date(Date.now() - 30_000);
    utimesSync(pidFile, old, old);
    await pool.waitFor('a heartbeat', () => Date.now() - statSync(pidFile).mtimeMs < 20_000, 30_000);

    fakeOtherHost(pool);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(pool.home, 'log', 'master.log'), 'utf8'), /another master has taken this home over/);
    assert.ok(existsSync(pidFile), 'the other host’s pid file stays');
  });
});

/** The native master run in the foreground with one daemon (a sleeper), its lock unique to the test. */
function runNative(pool: TestPool, onSpawn?: (pid: number) => void) {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    const child = spawn(
      join(DIST, 'daemons', 'master', 'dsched-master'),
      [
        `dsched-test-${process.pid}-${Date.now()}`,
        join(pool.home, 'run'),
        join(pool.home, 'log'),
        '60',
        'sleeper',
        '/bin/sleep',
        '600',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    if (child.pid) onSpawn?.(child.pid);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}
