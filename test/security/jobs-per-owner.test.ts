// One submission is bounded (MAX_JOBS_PER_SUBMISSION), but a local user (uid 65534) could repeat the largest
// one until the schedd's memory and disk were full for every user. A user may have at most MAX_JOBS_PER_OWNER
// jobs in the queue: a submission past it is refused whole with TOO_MANY_JOBS (submissions written side by
// side count each other), and other users submit as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – jobs per owner', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ MAX_JOBS_PER_OWNER: '100000' });
  });
  after(async () => {
    await pool?.stop();
  });

  const total = async (user?: string) => {
    const r = await pool.run('dq', ['-totals', ...(user ? [user] : ['-allusers'])]);
    assert.equal(r.code, 0, r.stderr);
    return Number(/Total for query: (\d+) jobs/.exec(r.stdout)![1]);
  };

  test('security – past MAX_JOBS_PER_OWNER a submission is refused whole, also two at once; other users go on', async () => {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    try {
      // two submissions larger than a piece each (the schedd writes them a piece at a time), side by side
      const held = { Cmd: '"/bin/true"', JobStatus: '5', Iwd: '"/tmp"' };
      const both = await Promise.allSettled(
        [0, 1].map(async () => {
          const { cluster } = await client.newCluster();
          return client.rpc.unary('Submit', { cluster, cluster_attrs: held, count: 60_000 }, { deadlineMs: 300_000 });
        }),
      );
      const refused = both.filter((r) => r.status === 'rejected');
      assert.equal(refused.length, 1, JSON.stringify(both.map((r) => r.status)));
      const e = (refused[0] as PromiseRejectedResult).reason as unknown;
      assert.ok(e instanceof DschedError && e.code === 'TOO_MANY_JOBS', String(e));
      assert.equal(await total('nobody'), 60_000);
    } finally {
      client.close();
    }

    // the CLI says why, and queues nothing
    const { dir, put } = nobodyFolder(pool.work);
    const sub = put('many.sub', 'executable = /bin/true\nhold = true\nqueue 40001\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /error\[TOO_MANY_JOBS\]: nobody has 60000 jobs in the queue and this submission adds 40001/);
    assert.equal(await total('nobody'), 60_000);
    // up to the limit is fine
    const fits = await pool.run('dsubmit', [put('fits.sub', 'executable = /bin/true\nhold = true\nqueue 40000\n')], {
      ...NOBODY,
      cwd: dir,
    });
    assert.equal(fits.code, 0, fits.stderr);
    assert.equal(await total('nobody'), 100_000);

    // another user's submission is not counted against them
    pool.file('root.sub', 'executable = /bin/true\nhold = true\nqueue 3\n');
    await pool.submit('root.sub');
    assert.equal(await total(), 100_003);
  });
});
