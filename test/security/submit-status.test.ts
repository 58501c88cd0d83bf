// A job enters the queue idle or held. A local user (uid 65534) who submits jobs already "running" (with no run
// behind them) filled a batch queue's MAX_RUNNING for every user, so no one's job in that queue started; jobs
// queued completed or removed never left the queue. Such a submission is refused with a clear error and
// queues nothing, and other users' jobs run.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – the status a job is submitted with', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ QUEUES: 'short', DEFAULT_QUEUE: 'short', QUEUE_short_MAX_RUNNING: '2' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – a job submitted running, completed, removed or with a made-up status is refused', async () => {
    const { dir, put } = nobodyFolder(pool.work);
    for (const status of ['2', '3', '4', '6', '7', '99', '-1', '1.5', '"x"', 'undefined'])
      for (const where of ['cluster', 'proc']) {
        // a proc's own status: one that differs from the cluster's, as `queue … in` gives a proc its own value
        const text =
          where === 'cluster'
            ? `executable = /bin/sleep\narguments = 600\n+JobStatus = ${status}\nqueue 2\n`
            : `executable = /bin/sleep\narguments = 600\n+JobStatus = $(s)\nqueue s in (1, ${status})\n`;
        const r = await pool.run('dsubmit', [put('fake.sub', text)], { ...NOBODY, cwd: dir });
        assert.equal(r.code, 2, `${where} ${status}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stderr,
          /error\[SUBMIT_INVALID\]: JobStatus = .*: a job is queued idle \(1\) or held \(5\)/,
          `${where} ${status}: ${r.stderr}`,
        );
      }
    assert.deepEqual(await pool.json('dq', ['-allusers']), [], 'nothing was queued');
    // held is a status a job may be submitted with; root's jobs in the queue run
    const held = await pool.run('dsubmit', [put('held.sub', 'executable = /bin/true\nhold = true\nqueue\n')], {
      ...NOBODY,
      cwd: dir,
    });
    assert.equal(held.code, 0, held.stderr);
    writeFileSync(join(pool.work, 'root.sub'), 'executable = /bin/true\nqueue 2\n');
    const c = await pool.submit('root.sub');
    await pool.waitForHistory(c, 2);
  });
});
