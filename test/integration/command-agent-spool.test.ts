// A large stdout leaves the command agent once, through a spool file in its socket folder that each launcher
// copies to its own stdout (cli/dsched-agent.ts, libexec/dcmd.c): identical queries at once must each get the
// whole answer, to files and to pipes, a reader that stops reading must hold up no one, nothing may stay in
// the folder, and launchers that take no spool file (protocol 1, or one that refuses it) get data frames.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Launcher } from './harness/agent.js';
import { rawDq, submitHeld } from './harness/agent-client.js';
import { runChild, TestPool } from './harness/pool.js';

/** The spool files in a launcher's socket folder. */
const spools = (l: Launcher) => readdirSync(l.socketDir).filter((f) => f.includes('.spool.'));

/** `dq args` through the launcher with its stdout the file `path` (as `dq args > path`). */
function dqToFile(l: Launcher, args: string[], path: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const fd = openSync(path, 'w');
    const child = spawn(join(l.bin, 'dq'), args, { cwd: l.pool.work, env: l.env, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('command agent – spool', () => {
  let pool: TestPool;
  let l: Launcher;
  let cluster: string;
  /** `dq CLUSTER -json` as the command run alone gives it: large enough to go through a spool file. */
  let alone: string;

  before(async () => {
    pool = await TestPool.start();
    l = new Launcher(pool);
    await l.waitForAgent();
    cluster = await submitHeld(l);
    alone = (await pool.run('dq', [cluster, '-json'])).stdout;
    assert.ok(alone.length > 256 << 10, `${alone.length} bytes: more than the agent sends in frames`);
  });
  after(async () => {
    l.close();
    await pool.stop();
  });

  test('spool – identical queries at once each get the whole answer, to files and to pipes; no file is left', async () => {
    const args = [cluster, '-json', '--debug'];
    const files = Array.from({ length: 4 }, (_, i) => join(pool.work, `out.${i}.json`));
    const [toFiles, toPipes] = await Promise.all([
      Promise.all(files.map((f) => dqToFile(l, args, f))),
      Promise.all(Array.from({ length: 4 }, () => l.run('dq', args))),
    ]);
    for (const [i, r] of toFiles.entries()) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stdout comes from a spool file/);
      assert.equal(readFileSync(files[i]!, 'utf8'), alone);
    }
    for (const r of toPipes) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stdout comes from a spool file/);
      assert.equal(r.stdout, alone);
    }
    // the name went before the exit codes were sent
    assert.deepEqual(spools(l), []);
  });

  test('spool – a reader that stops reading holds up no one, and its end leaves no file', async () => {
    const args = [cluster, '-json'];
    // a pipe never read: the launcher blocks once it is full
    const stuck = spawn(join(l.bin, 'dq'), args, { cwd: pool.work, env: l.env, stdio: ['ignore', 'pipe', 'pipe'] });
    stuck.stdout.pause();
    let stuckErr = '';
    stuck.stderr.on('data', (d) => (stuckErr += d));
    const ended = new Promise<number | null>((res) => stuck.on('close', (code) => res(code)));
    const others = await Promise.all(Array.from({ length: 3 }, () => l.run('dq', args)));
    for (const r of others) assert.deepEqual([r.code, r.stdout], [0, alone], r.stderr);
    // the reader goes: its launcher ends as the command would (SIGPIPE's status) and the file goes with it
    stuck.stdout.destroy();
    assert.equal(await ended, 141, stuckErr);
    await pool.waitFor('no spool file in the folder', () => spools(l).length === 0);
    const again = await l.run('dq', args);
    assert.equal(again.stdout, alone);
  });

  test('spool – a launcher copying a spool file does so as batch work (SCHED_BATCH), its answer whole', async () => {
    // its stdout a pipe read only once the policy is seen: the launcher is still copying then
    const dq = spawn(join(l.bin, 'dq'), [cluster, '-json', '--debug'], {
      cwd: pool.work,
      env: l.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dq.stdout.pause();
    let stderr = '';
    const spooled = new Promise<void>((res) =>
      dq.stderr.on('data', (d) => (stderr += d) && /stdout comes from a spool file/.test(stderr) && res()),
    );
    const ended = new Promise<number | null>((res) => dq.on('close', (code) => res(code)));
    await spooled;
    // /proc/PID/stat's 41st field is the scheduling policy: 3 is SCHED_BATCH
    const stat = readFileSync(`/proc/${dq.pid}/stat`, 'utf8');
    assert.equal(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38], '3', stderr);
    const out: Buffer[] = [];
    dq.stdout.on('data', (d: Buffer) => out.push(d));
    dq.stdout.resume();
    assert.equal(await ended, 0, stderr);
    assert.equal(Buffer.concat(out).toString(), alone);
  });

  test("spool – a query started after one of a shared run's launchers ended never gets that run's answer", async () => {
    const first = await submitHeld(l);
    const args = ['-json', '-constraint', `ClusterId >= ${first}`];
    // a reader that never reads holds the shared run's spool for as long as it may
    const stuck = spawn(join(l.bin, 'dq'), args, { cwd: pool.work, env: l.env, stdio: ['ignore', 'pipe', 'pipe'] });
    stuck.stdout.pause();
    const ended = new Promise<void>((res) => stuck.on('close', () => res()));
    const old = await l.run('dq', args);
    assert.equal(old.code, 0, old.stderr);
    // it has ended: what is submitted now is in the answer of the next identical query
    const later = await submitHeld(l, 1);
    const fresh = await l.run('dq', args);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(old.stdout, new RegExp(`"ClusterId": ${later},`));
    assert.match(fresh.stdout, new RegExp(`"ClusterId": ${later},`));
    stuck.stdout.destroy();
    await ended;
    await l.run('drm', [first]);
    await l.run('drm', [later]);
  });

  test("spool – stdout a shell's pipe, /dev/null, or a reader that leaves early (head) is served as by the command alone", async () => {
    // a pipe(2) and /dev/null take no copy_file_range: the launcher falls back to sendfile
    const sh = (script: string) =>
      runChild(
        '/bin/bash',
        ['-c', `set -o pipefail; ${script}`, join(l.bin, 'dq'), cluster],
        { env: l.env },
        pool.work,
      );
    const [piped, devNull, head] = await Promise.all([
      sh('"$0" "$1" -json --debug | cat'),
      sh('"$0" "$1" -json --debug > /dev/null'),
      sh('"$0" "$1" -json --debug | head -c 100; echo " ${PIPESTATUS[0]}"'),
    ]);
    for (const r of [piped, devNull, head]) assert.match(r.stderr, /stdout comes from a spool file/);
    assert.deepEqual([piped.code, piped.stdout], [0, alone], piped.stderr);
    assert.deepEqual([devNull.code, devNull.stdout], [0, ''], devNull.stderr);
    // the reader went after 100 bytes: the launcher ends with SIGPIPE's status, as the command alone does
    assert.equal(head.stdout, `${alone.slice(0, 100)} 141\n`, head.stderr);
    assert.deepEqual(spools(l), []);
  });

  test('spool – a query started after a dsubmit through the agent ended sees the job, though an identical one is still open', async () => {
    const first = await submitHeld(l);
    const args = ['-json', '-constraint', `ClusterId >= ${first}`, '--debug'];
    // a reader that never reads keeps its shared run open to identical queries for as long as it may
    const stuck = spawn(join(l.bin, 'dq'), args, { cwd: pool.work, env: l.env, stdio: ['ignore', 'pipe', 'pipe'] });
    stuck.stdout.pause();
    const taken = new Promise<void>((res) =>
      stuck.stderr.on('data', (d: Buffer) => /the agent at .* runs the command/.test(String(d)) && res()),
    );
    const ended = new Promise<void>((res) => stuck.on('close', () => res()));
    await taken;
    const later = await submitHeld(l, 1);
    const fresh = await l.run('dq', args);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, new RegExp(`"ClusterId": ${later},`));
    stuck.stdout.destroy();
    await ended;
    await l.run('drm', [first]);
    await l.run('drm', [later]);
  });

  test('spool – a launcher of protocol 1 gets data frames only', async () => {
    const r = await rawDq(l, 'dsched-agent 1', [cluster, '-json']);
    assert.equal(r.types, 'AOX');
    assert.equal(r.stdout, alone);
    assert.equal(r.code, 0);
  });

  test('spool – a launcher that refuses the spool file gets the bytes in frames, in order', async () => {
    let named = '';
    const r = await rawDq(l, 'dsched-agent 2', [cluster, '-json'], (name, reply) => {
      named = name;
      reply('N');
    });
    assert.match(named, /^agent-[0-9a-f]+\.spool\.\d+\.\d+$/);
    // (the first 64 KiB go in frames: one page or less)
    assert.match(r.types, /^AO?FODX$/);
    assert.equal(r.stdout, alone);
    assert.equal(r.code, 0);
    assert.deepEqual(spools(l), []);
  });

  test('spool – beyond DSCHED_AGENT_SPOOL_MAX the rest of the answer goes in frames, whole', async () => {
    // another agent: the variable is part of the configuration an agent serves
    // (the schedd's pages are at most ~128 KiB: the first goes to the file, a later one does not fit)
    const env = { DSCHED_AGENT_SPOOL_MAX: String(200 << 10) };
    await l.waitForAgent({ env });
    const r = await l.run('dq', [cluster, '-json', '--debug'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stdout comes from a spool file/);
    assert.equal(r.stdout, alone);
    assert.deepEqual(spools(l), []);
  });
});
