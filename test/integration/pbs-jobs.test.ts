// PBS jobs as a PBS user drives them: walltime enforced when it runs out (with the default, slow periodic
// evaluation), and the job ids dsubmit prints accepted by the other tools.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('pbs jobs', () => {
  let pool: TestPool;
  before(async () => {
    // the default interval: walltime must not wait for the periodic evaluation
    pool = await TestPool.start({ PERIODIC_EXPR_INTERVAL: '60' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('pbs jobs – a job that overruns its walltime is held when the walltime runs out, never completed', async () => {
    pool.file('over.sh', '#!/bin/sh\n#PBS -N over\n#PBS -l walltime=00:00:02\nsleep 8\necho finished\n', 0o755);
    const c = await pool.submit('over.sh');
    const ad = await pool.waitFor('the job to be held', async () => (await pool.json('dq', [String(c)])).find((a) => a.JobStatus === 5), 20_000);
    assert.equal(ad.HoldReasonCode, 46);
    assert.match(String(ad.HoldReason), /exceeded allowed job duration of 2 seconds/);
    await new Promise((r) => setTimeout(r, 8000));
    assert.deepEqual(await pool.json('dhistory', [String(c)]), [], 'the job did not complete');
    assert.equal(pool.read(`over.o${c}`), '', 'the script was stopped before it finished');
    await pool.run('drm', [String(c)]);
  });
});
