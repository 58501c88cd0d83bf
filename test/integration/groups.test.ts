// Accounting groups with quotas on a real pool: jobs of a group whose quota is 1 cpu never run at the same
// time although the pool has 4 free cpus; other jobs run beside them; duserprio shows the groups.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

/** The most jobs running at once according to a user log (001 starts a run; 004, 005, 009 end one). */
function peakRunning(log: string): { peak: number; starts: number; ends: number } {
  let running = 0;
  let peak = 0;
  let starts = 0;
  let ends = 0;
  for (const m of log.matchAll(/^(001|004|005|009) /gm)) {
    if (m[1] === '001') {
      running++;
      starts++;
    } else {
      running--;
      ends++;
    }
    peak = Math.max(peak, running);
  }
  return { peak, starts, ends };
}

describe('groups', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({
      GROUP_NAMES: 'group_a, group_b',
      GROUP_QUOTA_group_a: '1',
      GROUP_QUOTA_group_b: '2',
      GROUP_ACCEPT_SURPLUS_group_b: 'true',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string) => pool.submit(file);

  test('groups – two jobs of a group with a quota of 1 cpu never overlap while 4 cpus are free', async () => {
    pool.file('a.sub', 'executable = /bin/sleep\narguments = 2\naccounting_group = group_a\nlog = a.log\nqueue 2\n');
    const c = await submit('a.sub');
    // the jobs carry their group, and run one after the other
    const q = await pool.json('dq', [String(c)]);
    assert.equal(q[0]!.AcctGroup, 'group_a');
    await pool.waitForHistory(c, 2);
    const { peak, starts, ends } = peakRunning(pool.read('a.log'));
    assert.equal(starts, 2);
    assert.equal(ends, 2);
    assert.equal(peak, 1, `peak ${peak} in\n${pool.read('a.log')}`);
  });

  test('groups – a group that accepts surplus runs past its quota on idle cpus', async () => {
    // the jobs run until the test opens their gate, once more than the quota run at once: jobs of a fixed
    // length could each end before the next one started on a busy machine
    const gate = join(pool.work, 'b.go');
    pool.file(
      'b.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -e ${gate} ]; do sleep 0.2; done'"\naccounting_group = group_b\nlog = b.log\nqueue 4\n`,
    );
    const c = await submit('b.sub');
    await pool.waitFor(
      'more group_b jobs to run at once than its quota of 2',
      async () => (await pool.json('dq', [String(c)])).filter((a) => a.JobStatus === 2).length > 2,
    );
    pool.file('b.go', '');
    await pool.waitForHistory(c, 4);
    const { peak } = peakRunning(pool.read('b.log'));
    assert.ok(peak > 2, `group_b (quota 2, surplus) should use the 4 idle cpus; peak ${peak}\n${pool.read('b.log')}`);
  });

  test('groups – duserprio shows the groups of the submitters and the quotas', async () => {
    const up = await pool.run('duserprio', ['-allusers']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Group/);
    assert.match(up.stdout, /^group_a\.\S+@\S+\s+group_a\s/m);
    const quotas = await pool.run('duserprio', ['-quotas']);
    assert.equal(quotas.code, 0, quotas.stderr);
    assert.match(quotas.stdout, /^group_a\s+1\.00\s+1\.00\s+no\s/m);
    assert.match(quotas.stdout, /^group_b\s+2\.00\s+2\.00\s+yes\s/m);
  });
});
