// drm of a cluster larger than a move piece answers once the removal is committed; its jobs show as removed
// until they have moved to history in the background. A schedd killed (-9) right after the drm resumes the
// move when it starts again: every job ends in history, removed, and its abort event is in the log once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MOVE_PIECE } from '../../daemons/schedd/removals.js';
import { TestPool } from './harness/pool.js';

const JOBS = MOVE_PIECE + 1500;

describe('drm of a large cluster – moved to history in the background, resumed after kill -9', () => {
  let pool: TestPool;
  let cluster: number;

  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', `executable = /bin/true\nhold = true\nlog = held.log\nqueue ${JOBS}\n`);
    cluster = await pool.submit('held.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  test('the jobs show removed, then every one is in history with one abort event, across a kill -9', async () => {
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`${JOBS} job\\(s\\) marked for removal`));
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the schedd to answer', async () => (await pool.run('dq', ['-totals'])).code === 0);
    // whatever is still queued is shown removed, never held again
    const status = await pool.run('dq', [String(cluster), '-af', 'JobStatus']);
    assert.equal(status.code, 0, status.stderr);
    assert.ok(
      status.stdout
        .split('\n')
        .filter(Boolean)
        .every((s) => s === '3'),
      'queued jobs of the cluster are removed (X)',
    );
    await pool.waitFor(
      'every job to have moved to history',
      async () => (await pool.run('dq', [String(cluster), '-af', 'ProcId'])).stdout === '',
    );
    const hist = await pool.run('dhistory', [String(cluster), '-af', 'ProcId', 'JobStatus', 'RemoveReason']);
    assert.equal(hist.code, 0, hist.stderr);
    const rows = hist.stdout.trim().split('\n');
    assert.equal(rows.length, JOBS);
    assert.equal(new Set(rows.map((r) => r.split(' ')[0])).size, JOBS, 'each job once');
    assert.ok(
      rows.every((r) => / 3 via drm \(by user root\)$/.test(r)),
      'removed, with the reason',
    );
    const aborts = new Map<string, number>();
    for (const line of pool.read('held.log').split('\n')) {
      const m = /^009 \(\d+\.(\d+)\.\d+\)/.exec(line);
      if (m) aborts.set(m[1]!, (aborts.get(m[1]!) ?? 0) + 1);
    }
    assert.equal(aborts.size, JOBS, 'every job has its abort event');
    assert.deepEqual(new Set(aborts.values()), new Set([1]), 'each exactly once');
  });
});
