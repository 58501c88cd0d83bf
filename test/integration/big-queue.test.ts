// A queue of twenty thousand jobs (held, so nothing runs): dq lists them all, a watch sends each one's state
// before it says it is up to date, drm of the cluster removes them all (shown removed until they have moved to
// history), and dhistory and dwait take every id (they travel as lists, not as one expression). A schedd killed
// (-9) right after a drm resumes the move to history, each abort event logged once; dwait on the log of a
// cluster just removed returns once every abort event is written. Behaviour only:
// bench/big-queue.ts measures the times.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { MOVE_PIECE } from '../../daemons/schedd/removals.js';
import { TestPool, type RunResult } from './harness/pool.js';

const JOBS = 20_000;
/** a cluster just larger than a piece of a removal's move to history */
const LARGE = MOVE_PIECE + 1500;

/** `dq -af JobStatus` of a cluster being removed: every job still queued shows removed. */
function shownRemoved(r: RunResult, what: string) {
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .every((s) => s === '3'),
    what,
  );
}

describe('a queue of twenty thousand jobs', () => {
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

  test('dq -af ClusterId ProcId lists every job, in order', async () => {
    const r = await pool.run('dq', ['-af', 'ClusterId', 'ProcId']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, JOBS);
    lines.forEach((l, i) => assert.equal(l, `${cluster} ${i}`));
  });

  test('dq -json, -nobatch and -totals agree on the count', async () => {
    assert.equal((await pool.json('dq', [])).length, JOBS);
    const nobatch = await pool.run('dq', ['-nobatch']);
    assert.equal(nobatch.code, 0, nobatch.stderr);
    assert.equal(nobatch.stdout.split('\n').filter((l) => l.startsWith(`${cluster}.`)).length, JOBS);
    const totals = await pool.run('dq', ['-totals']);
    assert.match(
      totals.stdout,
      new RegExp(`Total for query: ${JOBS} jobs; 0 completed, 0 removed, 0 idle, 0 running, ${JOBS} held, 0 suspended`),
    );
    assert.match(totals.stdout, new RegExp(`Total for all users: ${JOBS} jobs;`));
  });

  test('a watch of the cluster sends every job once, then says it is up to date', async () => {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    try {
      const stream = client.watchJobs([{ cluster, proc: -1 }]);
      const seen = new Set<number>();
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (m: { id?: { cluster: number; proc: number } }) => {
          if (m.id?.proc === -1) return resolve();
          assert.equal(Number(m.id?.cluster), cluster);
          seen.add(Number(m.id?.proc));
        });
        stream.on('error', reject);
        stream.on('end', () => reject(new Error('the watch ended')));
      });
      stream.cancel();
      assert.equal(seen.size, JOBS);
    } finally {
      client.close();
    }
  });

  test('dq with a thousand and more ids', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => `${cluster}.${i * 2}`);
    const r = await pool.run('dq', [...ids, '-af', 'ProcId']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1500);
  });

  test('drm of the cluster removes every job; dhistory and dwait take every id', async () => {
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`${JOBS} job\\(s\\) marked for removal`));
    // the removal is committed at once; the jobs show as removed until they have moved to history
    const left = await pool.run('dq', ['-totals']);
    assert.match(left.stdout, /Total for query: (\d+) jobs; 0 completed, \1 removed, 0 idle, 0 running, 0 held/);
    await pool.waitFor(
      'nothing left in the queue',
      async () => (await pool.run('dq', ['-af', 'ClusterId'])).stdout === '',
    );

    const ids = Array.from({ length: JOBS }, (_, i) => `${cluster}.${i}`);
    const hist = await pool.waitFor('every job in history', async () => {
      const r = await pool.run('dhistory', [...ids, '-af', 'ProcId', 'JobStatus']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      return lines.length === JOBS ? lines : undefined;
    });
    assert.ok(
      hist.every((l) => / 3$/.test(l)),
      'every job was removed',
    );

    // removed jobs did not succeed: dwait says so for each one, and exits 1
    const wait = await pool.run('dwait', [...ids, '-wait', '60']);
    assert.equal(wait.code, 1, wait.stderr);
    assert.equal(
      wait.stdout
        .trim()
        .split('\n')
        .filter((l) => /was removed/.test(l)).length,
      JOBS,
    );
    const byLog = await pool.run('dwait', ['held.log', '-wait', '60']);
    assert.equal(byLog.code, 1, byLog.stderr);
    assert.doesNotMatch(byLog.stderr, /too large/i);
    assert.equal(byLog.stdout.trim().split('\n').length, JOBS);
  });

  test('right after a drm, dq shows the jobs removed and dwait on their log returns once every abort event is written', async () => {
    pool.file('gone.sub', `executable = /bin/true\nhold = true\nlog = gone.log\nqueue ${LARGE}\n`);
    const cluster = await pool.submit('gone.sub');
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    // while the removal moves them to history a piece at a time
    const [wait, status] = await Promise.all([
      pool.run('dwait', ['gone.log', '-wait', '120'], { timeoutMs: 150_000 }).then((r) => ({
        ...r,
        aborts: pool.read('gone.log').split('\n009 ').length - 1,
      })),
      pool.run('dq', [String(cluster), '-af', 'JobStatus']),
    ]);
    shownRemoved(status, 'what is still queued shows removed (X)');
    assert.equal(wait.code, 1, `removed jobs did not succeed: ${wait.stderr}`);
    assert.equal(wait.aborts, LARGE, 'every abort event was in the log when dwait returned');
    assert.equal(wait.stdout.split('\n').filter((l) => /was removed/.test(l)).length, LARGE);
  });

  test('drm, then kill -9 of the schedd: the jobs show removed, then each is in history with one abort event', async () => {
    pool.file('large.sub', `executable = /bin/true\nhold = true\nlog = large.log\nqueue ${LARGE}\n`);
    const cluster = await pool.submit('large.sub');
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`${LARGE} job\\(s\\) marked for removal`));
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the schedd to answer', async () => (await pool.run('dq', ['-totals'])).code === 0);
    // whatever is still queued is shown removed, never held again
    const status = await pool.run('dq', [String(cluster), '-af', 'JobStatus']);
    shownRemoved(status, 'queued jobs of the cluster are removed (X)');
    await pool.waitFor(
      'every job to have moved to history',
      async () => (await pool.run('dq', [String(cluster), '-af', 'ProcId'])).stdout === '',
    );
    const hist = await pool.run('dhistory', [String(cluster), '-af', 'ProcId', 'JobStatus', 'RemoveReason']);
    assert.equal(hist.code, 0, hist.stderr);
    const rows = hist.stdout.trim().split('\n');
    assert.equal(rows.length, LARGE);
    assert.equal(new Set(rows.map((r) => r.split(' ')[0])).size, LARGE, 'each job once');
    assert.ok(
      rows.every((r) => / 3 via drm \(by user root\)$/.test(r)),
      'removed, with the reason',
    );
    const aborts = new Map<string, number>();
    for (const line of pool.read('large.log').split('\n')) {
      const m = /^009 \(\d+\.(\d+)\.\d+\)/.exec(line);
      if (m) aborts.set(m[1]!, (aborts.get(m[1]!) ?? 0) + 1);
    }
    assert.equal(aborts.size, LARGE, 'every job has its abort event');
    assert.deepEqual(new Set(aborts.values()), new Set([1]), 'each exactly once');
  });
});
