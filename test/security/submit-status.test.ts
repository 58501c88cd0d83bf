// A job enters the queue idle or held. A local user (uid 65534) who submits jobs already "running" (with no run
// behind them) filled a batch queue's MAX_RUNNING for every user, so no one's job in that queue started; jobs
// queued completed or removed never left the queue. Such a submission is refused with a clear error and
// queues nothing, and other users' jobs run.
// A job's id and priority are numbers the schedd and the negotiator act on too. nobody chose their jobs' ProcIds: a
// job N.-1 (the id every command and job-change stream reads as "the whole cluster"), 7.1E+300, and two procs of
// one id (which failed inside the queue's database, INTERNAL); and queued JobPrio = 1e308, -1e308 and
// real("NaN"), where HTCondor keeps a C int. Each is refused with a clear error and queues nothing.
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

  test('security – a proc id other than its place in the submission, or an absurd priority, is refused', async () => {
    const { dir, put } = nobodyFolder(pool.work, 'numbers');
    const queued = (await pool.json('dq', ['-allusers'])).length;
    const head = 'executable = /bin/sleep\narguments = 600\nhold = true\n';
    const refused: Array<[string, RegExp]> = [
      [
        '+ProcId = $(p)\nqueue p in (-1)\n',
        /ProcId = -1: the schedd numbers a cluster's jobs 0, 1, 2, …; this one is 0/,
      ],
      ['+ProcId = $(p)\nqueue p in (0, 0)\n', /ProcId = 0: .* this one is 1/],
      ['+ProcId = $(p)\nqueue p in (0, 1e300)\n', /ProcId = 1e300: .* this one is 1/],
      [
        '+JobPrio = 1e308\nqueue\n',
        /JobPrio = 1e308: a job's priority is a whole number from -2147483648 to 2147483647/,
      ],
      ['+jobprio = $(p)\nqueue p in (1, -1e308)\n', /jobprio = -1e308: a job's priority is a whole number/],
      ['priority = 2147483648\nqueue\n', /JobPrio = 2147483648: a job's priority is a whole number/],
      ['+JobPrio = real("NaN")\nqueue\n', /JobPrio = real\("NaN"\): a job's priority is a whole number/],
    ];
    for (const [text, why] of refused) {
      const r = await pool.run('dsubmit', [put('n.sub', head + text)], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 2, `${text}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[SUBMIT_INVALID\]: /, text);
      assert.match(r.stderr, why, text);
    }
    assert.equal((await pool.json('dq', ['-allusers'])).length, queued, 'nothing was queued');

    // ids as dsubmit numbers them and a priority within an int are queued; dqedit and dprio keep it within one
    const ok = await pool.run('dsubmit', [put('ok.sub', `${head}priority = -2147483648\nqueue 2\n`)], {
      ...NOBODY,
      cwd: dir,
    });
    assert.equal(ok.code, 0, ok.stderr);
    const cluster = Number(/cluster (\d+)/.exec(ok.stdout)![1]);
    const edit = await pool.run('dqedit', [String(cluster), 'JobPrio', '1e308'], { ...NOBODY, cwd: dir });
    assert.notEqual(edit.code, 0, edit.stdout);
    assert.match(edit.stderr, /JobPrio = 1e308: a job's priority is a whole number/);
    const prio = await pool.run('dprio', ['-1', String(cluster)], { ...NOBODY, cwd: dir });
    assert.notEqual(prio.code, 0, prio.stdout);
    assert.match(prio.stderr, /priority -2147483649: a job's priority is a whole number/);
    const ads = await pool.json('dq', ['-allusers', String(cluster)]);
    assert.deepEqual(
      ads.map((a) => [a.ProcId, a.JobPrio]),
      [
        [0, -2147483648],
        [1, -2147483648],
      ],
    );
  });
});
