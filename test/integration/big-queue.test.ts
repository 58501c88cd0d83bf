// A queue of twenty thousand jobs (held, so nothing runs): dq lists them all, a watch sends each one's state
// before it says it is up to date, drm of the cluster removes them all (shown removed until they have moved to
// history), and dhistory and dwait take every id
// (they travel as lists, not as one expression). Behaviour only: bench/big-queue.ts measures the times.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from './harness/pool.js';

const JOBS = 20_000;

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
});
