// A job whose stored ad holds a value no ClassAd parser reads (a queue an older version wrote; every writer now
// refuses such values) is passed over by the schedd's periodic policies, and said once in its log. Evaluating
// it once threw out of the whole pass, so no job after it in the queue, other users' included, had its
// periodic_remove / periodic_hold / periodic_release evaluated again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { TestPool } from './harness/pool.js';

describe('periodic policies beside an unreadable job', () => {
  let pool: TestPool;
  let bad = 0;
  before(async () => {
    pool = await TestPool.start();
    bad = await pool.submit(
      pool.file('bad.sub', 'executable = /bin/true\nhold = true\nperiodic_remove = Broken =?= 12345\nqueue\n'),
    );
    assert.equal((await pool.run('dsched', ['stop'])).code, 0);
    // as an older version could have written it
    const db = new Database(join(pool.home, 'spool', 'job_queue.db'));
    const row = db.prepare('SELECT ad FROM jobs WHERE cluster_id = ? AND proc_id = 0').get(bad) as { ad: string };
    const ad = JSON.parse(row.ad) as Record<string, string>;
    ad.Broken = '(1 +';
    db.prepare('UPDATE jobs SET ad = ? WHERE cluster_id = ? AND proc_id = 0').run(JSON.stringify(ad), bad);
    db.close();
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pool?.stop();
  });

  test('a later job’s periodic_remove still removes it; the unreadable job is left in the queue and named once in the log', async () => {
    const good = await pool.submit(
      pool.file('good.sub', 'executable = /bin/true\nhold = true\nperiodic_remove = true\nqueue\n'),
    );
    const [ad] = await pool.waitForHistory(good, 1);
    assert.equal(ad!.JobStatus, 3);
    assert.match(String(ad!.RemoveReason), /PeriodicRemove/);
    const log = join(pool.home, 'log', 'schedd.log');
    const told = await pool.waitFor('the schedd to name the job it passed over', () => {
      const lines = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"periodic policies of the job cannot be evaluated; passed over"'));
      return lines.length ? lines : undefined;
    });
    assert.equal(told.length, 1, told.join('\n'));
    assert.ok(told[0]!.includes(`"cluster":${bad},"proc":0`), told[0]);
    const q = await pool.run('dq', [String(bad), '-af', 'ClusterId']);
    assert.match(q.stdout, new RegExp(`^${bad}$`, 'm'), q.stdout + q.stderr);
  });
});
