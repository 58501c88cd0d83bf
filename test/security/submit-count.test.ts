// A submission may say "this many procs with nothing of their own" instead of listing them: a count past
// MAX_JOBS_PER_SUBMISSION, negative or absurd, from any user, is refused with SUBMIT_QUEUE before a single
// proc is made, and nothing is queued.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

describe('submission counts', () => {
  let pool: TestPool;
  let client: ScheddClient;
  before(async () => {
    pool = await TestPool.start({ MAX_JOBS_PER_SUBMISSION: '1000' });
    client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
  });
  after(async () => {
    client?.close();
    await pool?.stop();
  });

  for (const count of [2_147_483_647, 1001, -5]) {
    test(`a count of ${count} is refused with SUBMIT_QUEUE and queues nothing`, async () => {
      const { cluster } = await client.newCluster();
      const attrs = { Cmd: '"/bin/true"', JobStatus: '5' };
      const e = await client.rpc.unary('Submit', { cluster, cluster_attrs: attrs, count }, { deadlineMs: 60_000 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(e instanceof DschedError, String(e));
      assert.equal(e.code, 'SUBMIT_QUEUE', e.message);
      const totals = await pool.run('dq', ['-totals', '-allusers']);
      assert.equal(totals.code, 0, totals.stderr);
      assert.match(totals.stdout, /Total for all users: 0 jobs;/);
    });
  }

  test('a count within the limit queues that many procs, numbered from 0', async () => {
    const { cluster } = await client.newCluster();
    const r = await client.submit(
      Number(cluster),
      { Cmd: '"/bin/true"', JobStatus: '5', Iwd: '"/tmp"' },
      Array.from({ length: 1000 }, (_, i) => ({ ProcId: String(i) })),
    );
    assert.equal(r.procs, 1000);
    const ids = await pool.run('dq', ['-allusers', String(cluster), '-af', 'ProcId']);
    assert.deepEqual(
      ids.stdout.trim().split('\n').map(Number),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});
