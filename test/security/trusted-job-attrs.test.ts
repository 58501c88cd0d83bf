// Job attributes the pool trusts to say whose a job is and what it was admitted with, attacked by a local user
// (uid 65534) of a root pool: a running job's chirp cannot change what its owner may not change with dqedit
// (its queue's walltime, its files, its DAG, its fair-share name), and a submission cannot account a job to
// another user's fair share or make it a node of another user's DAG. Each attempt is refused with a clear
// error and nothing is changed or queued; what a user may do (chirp Progress, their own group, their own DAG)
// still works.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – trusted job attributes', { skip: needsRoot }, () => {
  let pool: TestPool;
  let dir: string; // nobody's
  let put: ReturnType<typeof nobodyFolder>['put'];
  const queued = async () => (await pool.json('dq', ['-allusers'])).map((a) => `${a.ClusterId}:${a.Owner}`).sort();
  before(async () => {
    pool = await TestPool.start({
      QUEUES: 'short',
      DEFAULT_QUEUE: 'short',
      QUEUE_short_MAX_WALLTIME: '0:10:00',
      GROUP_NAMES: 'group_a',
    });
    ({ dir, put } = nobodyFolder(pool.work));
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – a job's chirp cannot change its walltime, files, DAG or fair-share name", async () => {
    const attempts: Array<[string, string]> = [
      ['AllowedJobDuration', '100000'],
      ['Out', '"/tmp/elsewhere.out"'],
      ['UserLog', '"/tmp/elsewhere.log"'],
      ['TransferOutputRemaps', '"x = /tmp/x"'],
      ['DAGManJobId', '1'],
      ['AcctGroupUser', '"root"'],
      ['BatchQueue', '"other"'],
      ['NumJobStarts', '0'],
      ['requestmemory', '1'],
    ];
    put(
      'chirp.sh',
      [
        '#!/bin/sh',
        ...attempts.map(
          ([a, v]) => `dchirp set_job_attr ${a} '${v}' 2>> refused.txt && echo "${a} accepted" >> refused.txt`,
        ),
        'dchirp set_job_attr Progress 1',
        'echo done > done.txt',
        'sleep 600',
        '',
      ].join('\n'),
      0o755,
    );
    const sub = put('chirp.sub', 'executable = chirp.sh\noutput = chirp.out\nlog = chirp.log\nqueue\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const before = (await pool.json('dq', [String(cluster)]))[0]!;
    // Progress is chirped after the refused ones, so once the schedd has it, it would have had them too
    const ad = await pool.waitFor('the job to chirp its Progress', async () =>
      existsSync(join(dir, 'done.txt'))
        ? (await pool.json('dq', [String(cluster)])).find((a) => a.Progress === 1)
        : undefined,
    );
    const said = readFileSync(join(dir, 'refused.txt'), 'utf8');
    for (const [attr] of attempts) {
      assert.doesNotMatch(said, new RegExp(`^${attr} accepted`, 'm'), said);
      assert.match(said, new RegExp(`error\\[PERMISSION_DENIED\\]: chirp: a job may not change its ${attr}`), said);
    }
    for (const attr of ['AllowedJobDuration', 'Out', 'UserLog', 'TransferOutputRemaps', 'DAGManJobId', 'BatchQueue'])
      assert.deepEqual(ad[attr], before[attr], attr);
    assert.equal(ad.AllowedJobDuration, 600, "the queue's walltime stands");
    assert.equal(ad.AcctGroupUser, undefined);
    const rm = await pool.run('drm', [String(cluster)], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
  });

  test("security – a submission cannot account a job to another user's fair share", async () => {
    const before = await queued();
    for (const [name, text] of [
      ['user.sub', 'accounting_group_user = root\n'],
      ['group-user.sub', 'accounting_group = group_a\naccounting_group_user = root\n'],
      ['ad.sub', '+AccountingGroup = "root"\n'],
      ['ad-group.sub', '+AccountingGroup = "group_a.root"\n'],
      ['spelling.sub', 'accounting_group = group_a\n+accountinggroup = "group_a.root"\n'],
      ['acct-user.sub', '+AcctGroupUser = "root"\n'],
      ['expr.sub', '+AccountingGroup = strcat("ro", "ot")\n'],
    ]) {
      const sub = put(name!, `executable = /bin/true\nhold = true\n${text}queue\n`);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        /error\[PERMISSION_DENIED\]: \w+ = .* accounts the job to (user root|no user): a job is accounted to its owner \(nobody\)/,
        `${name}: ${r.stderr}`,
      );
    }
    assert.deepEqual(await queued(), before, 'nothing was queued');
    // a group of the pool's, with oneself as its user, is accepted
    const ok = put('own.sub', 'executable = /bin/true\nhold = true\naccounting_group = group_a\nqueue\n');
    const r = await pool.run('dsubmit', [ok], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    assert.equal((await pool.json('dq', [String(cluster)]))[0]!.AccountingGroup, 'group_a.nobody');
    await pool.run('drm', [String(cluster)], NOBODY);
  });

  test("security – a submission cannot make a job a node of another user's DAG", async () => {
    // root's DAG job (its node stays held, so the DAG stays queued), and the cluster a next DAG would get
    writeFileSync(join(pool.work, 'root-node.sub'), 'executable = /bin/true\nhold = true\nqueue\n');
    writeFileSync(join(pool.work, 'root.dag'), 'JOB A root-node.sub\n');
    const d = await pool.run('dsubmit-dag', [join(pool.work, 'root.dag')]);
    assert.equal(d.code, 0, d.stderr);
    const dag = Number(/cluster (\d+)/.exec(d.stdout)![1]);
    const before = await pool.waitFor("root's DAG to queue its node", async () => {
      const q = await queued();
      return q.length >= 2 ? q : undefined;
    });
    for (const target of [dag, dag + 100]) {
      const sub = put(
        'squat.sub',
        `executable = /bin/true\n+DAGManJobId = ${target}\n+DAGNodeName = "A"\n+DAGNodeRetry = 0\nqueue\n`,
      );
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 1, `${target}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`error\\[PERMISSION_DENIED\\]: DAGManJobId = ${target} is not a DAG of nobody's`),
        r.stderr,
      );
    }
    assert.deepEqual(await queued(), before, 'nothing was queued');
    await pool.run('drm', [String(dag)]);
    // a user's own DAG still queues its nodes
    put('node.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const own = put('own.dag', 'JOB A node.sub\n');
    const o = await pool.run('dsubmit-dag', [own], { ...NOBODY, cwd: dir });
    assert.equal(o.code, 0, o.stderr);
    const ownDag = Number(/cluster (\d+)/.exec(o.stdout)![1]);
    const node = await pool.waitFor("nobody's DAG to queue its node", async () =>
      (await pool.json('dq', ['-allusers'])).find((a) => a.DAGManJobId === ownDag),
    );
    assert.equal(node.Owner, 'nobody');
    await pool.run('drm', [String(ownDag)], NOBODY);
  });
});
