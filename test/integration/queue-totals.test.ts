// The counts the schedd keeps as jobs change (dq -totals, the Submitter and Scheduler ads) equal the real
// counts of the queue through submissions, holds, releases, removals, completions and a kill -9 of the
// schedd; drm of a whole cluster (removed set-based) takes every job out and writes each one's event.
// Twenty thousand jobs: behaviour only, bench/big-queue.ts measures the times.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const HELD = 10_000;
const IDLE = 9_800;
const DONE = 200;

type Counts = { idle: number; running: number; held: number; total: number };

describe('queue totals – kept as jobs change', () => {
  let pool: TestPool;
  let held: number;
  let idle: number;
  let done: number;

  /** What the queue really holds, counted from every job's status. */
  async function real(): Promise<Counts> {
    const r = await pool.run('dq', ['-allusers', '-af', 'JobStatus']);
    assert.equal(r.code, 0, r.stderr);
    const st = r.stdout.split('\n').filter(Boolean).map(Number);
    return {
      idle: st.filter((s) => s === 1).length,
      running: st.filter((s) => s === 2).length,
      held: st.filter((s) => s === 5).length,
      total: st.length,
    };
  }

  /** dq -totals' line for all users. */
  async function totals(): Promise<Counts> {
    const r = await pool.run('dq', ['-totals', '-allusers']);
    assert.equal(r.code, 0, r.stderr);
    const m = /Total for all users: (\d+) jobs; \d+ completed, \d+ removed, (\d+) idle, (\d+) running, (\d+) held/.exec(
      r.stdout,
    );
    assert.ok(m, r.stdout);
    return { total: Number(m[1]), idle: Number(m[2]), running: Number(m[3]), held: Number(m[4]) };
  }

  /** The Submitter ad's counts (sent on each change: waited for, as it travels through the collector). */
  async function advertised(): Promise<Counts> {
    const r = await pool.run('dstatus', ['-submitters', '-af', 'IdleJobs', 'RunningJobs', 'HeldJobs']);
    assert.equal(r.code, 0, r.stderr);
    const [i, run, h] = r.stdout.trim().split(/\s+/).map(Number);
    return { idle: i!, running: run!, held: h!, total: i! + run! + h! };
  }

  /** Totals and ad agree with the real counts (nothing runs while this is checked: the running jobs are done). */
  async function agree(what: string, expect?: Partial<Counts>) {
    const r = await real();
    assert.equal(r.running, 0, `${what}: nothing runs`);
    if (expect) for (const [k, v] of Object.entries(expect)) assert.equal(r[k as keyof Counts], v, `${what}: ${k}`);
    assert.deepEqual(await totals(), r, `${what}: dq -totals`);
    await pool.waitFor(`${what}: the Submitter ad to say ${JSON.stringify(r)}`, async () => {
      const a = await advertised();
      return a.idle === r.idle && a.held === r.held && a.running === 0;
    });
  }

  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', `executable = /bin/true\nhold = true\nlog = held.log\nqueue ${HELD}\n`);
    pool.file('idle.sub', `executable = /bin/true\nrequirements = false\nqueue ${IDLE}\n`);
    pool.file('done.sub', `executable = /bin/true\nlog = done.log\nqueue ${DONE}\n`);
    held = await pool.submit('held.sub');
    idle = await pool.submit('idle.sub');
    done = await pool.submit('done.sub');
    await pool.waitForHistory(done, DONE, 300_000);
  });
  after(async () => {
    await pool?.stop();
  });

  test('after submissions and completions', async () => {
    await agree('submitted', { idle: IDLE, held: HELD, total: IDLE + HELD });
  });

  test('after holds, releases and removals of some jobs', async () => {
    const hold = await pool.run('dhold', ['-constraint', `ClusterId == ${idle} && ProcId < 1000`]);
    assert.equal(hold.code, 0, hold.stderr);
    const release = await pool.run('drelease', ['-constraint', `ClusterId == ${held} && ProcId < 500`]);
    assert.equal(release.code, 0, release.stderr);
    const rm = await pool.run('drm', [...Array.from({ length: 300 }, (_, i) => `${held}.${1000 + i}`), `${idle}.5000`]);
    assert.equal(rm.code, 0, rm.stderr);
    // the released jobs of the held cluster may run: wait until they are done
    await pool.waitForHistory(held, 300 + 500, 300_000);
    await agree('held, released, removed', { held: HELD - 500 - 300 + 1000, idle: IDLE - 1000 - 1 });
  });

  test('after a kill -9 of the schedd, the counts are rebuilt as they were', async () => {
    const before = await real();
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the schedd to answer', async () => (await pool.run('dq', ['-totals'])).code === 0);
    await agree('restarted', before);
  });

  test('drm of a whole cluster removes every job and writes each one its abort event', async () => {
    const queued = (await real()).total;
    const left = Number(
      (await pool.run('dq', [String(held), '-totals'])).stdout.match(/Total for query: (\d+) jobs/)?.[1],
    );
    assert.ok(left > 0);
    const rm = await pool.run('drm', [String(held)]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`^${left} job\\(s\\) marked for removal`, 'm'));
    assert.equal((await pool.run('dq', [String(held), '-af', 'ProcId'])).stdout, '', 'nothing of the cluster is left');
    await agree('cluster removed', { total: queued - left, held: 1000 });
    // every job of the cluster has left: its log says so once per job (300 removed before, the rest now)
    const aborted = pool
      .read('held.log')
      .split('\n')
      .filter((l) => l.startsWith('009 ')).length;
    assert.equal(aborted, 300 + left);
    const hist = await pool.run('dhistory', [String(held), '-af', 'ProcId', 'JobStatus', 'RemoveReason']);
    const removed = hist.stdout.split('\n').filter((l) => / 3 via drm/.test(l));
    assert.equal(removed.length, 300 + left);
    // a second drm finds nothing
    const again = await pool.run('drm', [String(held)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /JOB_NOT_FOUND/);
  });
});
