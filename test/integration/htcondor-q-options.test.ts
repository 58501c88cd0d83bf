// condor_q's options as HTCondor users and their scripts type them, on a real pool: a job no slot takes (idle)
// and a held job. -idle, -cputime, -long:FORM, -wide:N, -stream-results and -expert; the options that mean
// nothing here are refused with the reason. The analyze options are tested with -analyze (analyze.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('htcondor q options', () => {
  let pool: TestPool;
  let idle: number;
  let held: number;
  before(async () => {
    pool = await TestPool.start();
    idle = await pool.submit(
      pool.file(
        'idle.sub',
        'executable = /bin/sleep\narguments = 59 1.0000000000000000000000000000\nrequirements = Machine == "nowhere"\nqueue\n',
      ),
    );
    held = await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n'));
  });
  after(async () => {
    await pool?.stop();
  });

  const dq = (args: string[]) => pool.output('dq', args);

  test('htcondor q options – -idle lists the idle jobs without ST, then the totals', async () => {
    const out = await dq(['-idle']);
    assert.match(out, /^ID +OWNER +SUBMITTED +RUN_TIME +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${idle}\\.0 +\\S+ +.* 0\\+00:00:00 +0 +\\S+ +sleep 59 1\\.0+$`, 'm'));
    assert.doesNotMatch(out, new RegExp(`^${held}\\.0 `, 'm'));
    assert.match(out, /^Total for query: 1 jobs; 0 completed, 0 removed, 1 idle, 0 running, 0 held, 0 suspended$/m);
  });

  test('htcondor q options – -cputime shows CPU_TIME in place of RUN_TIME, with -nobatch only', async () => {
    const out = await dq(['-nobatch', '-cputime']);
    assert.match(out, /^ID +OWNER +SUBMITTED +CPU_TIME +ST +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${held}\\.0 +\\S+ +.* 0\\+00:00:00 H `, 'm'));
    const bad = await pool.run('dq', ['-cputime']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-cputime goes with -nobatch or -idle/);
  });

  test('htcondor q options – -long:json, -long:xml, -long:new, -long:long print the whole ads in that form', async () => {
    assert.deepEqual(JSON.parse(await dq(['-long:json', String(idle)])), JSON.parse(await dq(['-json', String(idle)])));
    assert.equal(await dq(['-long:xml', String(idle)]), await dq(['-xml', String(idle)]));
    assert.equal(await dq(['-long:long', String(idle)]), await dq(['-long', String(idle)]));
    const lines = (await dq(['-long:new', String(idle), String(held)])).trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^\\[ .*\\bClusterId = ${idle}; .*\\bRequirements = .*"nowhere".* \\]$`));
    const bad = await pool.run('dq', ['-long:yaml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-long:yaml: the forms are long, json, xml and new/);
  });

  test('htcondor q options – -wide:N cuts lines at N columns, -stream-results and -expert change nothing', async () => {
    const wide = await dq(['-nobatch', '-wide']);
    assert.match(wide, /sleep 59 1.0000000000000000000000000000$/m);
    const cut = await dq(['-nobatch', '-wide:60']);
    assert.doesNotMatch(cut, /1\.0000000000000000000000000000/);
    const bad = await pool.run('dq', ['-wide:x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-wide:x: the width is a number of columns/);
    const ids = (args: string[]) => dq([...args, '-af', 'ClusterId']);
    assert.equal(await ids(['-stream-results', '-expert']), await ids([]));
  });

  test('htcondor q options – options with no meaning here are refused with the reason', async () => {
    for (const [args, why] of [
      [['-grid'], /-grid: dsched runs no grid universe jobs/],
      [['-factory'], /-factory: dsched has no late materialization/],
      [['-jobset'], /-jobset: dsched has no job sets/],
      [['-print-format', 'q.cpf'], /-print-format: print-format files are not read/],
      [['-jobads', 'ads.txt'], /-jobads: dq reads no file of job ads/],
      [['-slotads', 'ads.txt', '-analyze'], /-slotads: dq -analyze reads the slots from the collector/],
    ] as const) {
      const r = await pool.run('dq', [...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /Unknown argument/);
    }
  });
});
