// Accounting groups named by a local user (uid 65534) of a root pool. Each accounting name ("group.user") is a
// submitter of its own: a Submitter ad at the collector, a fair-share record the negotiator keeps for good, and
// a priority that starts at the best. A user naming groups at will made 10,000 of each with one submission
// (`accounting_group = g$(Process)`), and one whose usage had made their priority poor took the best again by
// naming a new group. A user's job may join only a group of GROUP_NAMES; what the pool's groups allow still works.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – accounting groups a user names', { skip: needsRoot }, () => {
  let pool: TestPool;
  let dir: string; // nobody's
  let put: ReturnType<typeof nobodyFolder>['put'];
  const queued = async () => (await pool.json('dq', ['-allusers'])).map((a) => `${a.ClusterId}:${a.Owner}`).sort();
  before(async () => {
    pool = await TestPool.start({ GROUP_NAMES: 'group_a, group_a.sub' });
    ({ dir, put } = nobodyFolder(pool.work));
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – a submission may not make up accounting groups', async () => {
    const before = await queued();
    for (const [name, group, shown] of [
      ['many.sub', 'g$(Process)\nqueue 1000', 'g0'],
      ['long.sub', `${'x'.repeat(100_000)}\nqueue`, 'x'.repeat(80)],
      // a group below a pool's group is a group of its own, so no way around the list
      ['below.sub', 'group_a.fresh1\nqueue', 'group_a.fresh1'],
      ['dot.sub', '.\nqueue', '.'],
    ]) {
      const sub = put(name!, `executable = /bin/true\nhold = true\naccounting_group = ${group}\n`);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      assert.ok(
        r.stderr.includes(
          `error[PERMISSION_DENIED]: accounting group ${shown}${shown.length === 80 ? '…' : ''} is not one of this pool's groups (GROUP_NAMES: group_a, group_a.sub)`,
        ),
        `${name}: ${r.stderr.slice(0, 400)}`,
      );
    }
    // the attribute itself, in another spelling, is held to the same
    const ad = put('ad.sub', 'executable = /bin/true\nhold = true\n+accountinggroup = "made_up.nobody"\nqueue\n');
    const r = await pool.run('dsubmit', [ad], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /error\[PERMISSION_DENIED\]: accounting group made_up is not one of this pool's groups/);
    assert.deepEqual(await queued(), before, 'nothing was queued');
  });

  test("security – a user's job joins the pool's groups, in any case, the nice users', or none", async () => {
    for (const [name, group, acct] of [
      ['a.sub', 'accounting_group = group_a\n', 'group_a.nobody'],
      ['sub.sub', 'accounting_group = GROUP_A.sub\n', 'GROUP_A.sub.nobody'],
      ['none.sub', 'accounting_group_user = nobody\n', 'nobody'],
      // every pool has the nice users' group, served after everyone else: no fresh priority to be had there
      ['nice.sub', 'nice_user = true\n', 'nice-user.nobody'],
    ]) {
      const sub = put(name!, `executable = /bin/true\nhold = true\n${group}queue\n`);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
      assert.equal((await pool.json('dq', [String(cluster)]))[0]!.AccountingGroup, acct, name);
      const rm = await pool.run('drm', [String(cluster)], NOBODY);
      assert.equal(rm.code, 0, rm.stderr);
    }
  });
});
