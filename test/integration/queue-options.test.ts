// condor_q's options as users and scripts type them, against a real pool: -attributes, -held, -hold/-run with
// -totals, -limit with -af, -currentrun/-cumulative-time, -io, -goodput, -dag, -userlog, -name and -global.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('queue options – dq as condor_q users call it', () => {
  let pool: TestPool;
  let held: number;
  let running: number;
  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    pool.file('run.sub', 'executable = /bin/sleep\narguments = 600\nlog = run.log\nqueue\n');
    held = await pool.submit('held.sub');
    running = await pool.submit('run.sub');
    await pool.waitFor(
      'the sleep job to run',
      async () => (await pool.json('dq', [String(running)]))[0]?.JobStatus === 2 || undefined,
    );
  });
  after(async () => {
    await pool?.stop();
  });

  const dq = async (args: string[]) => {
    const r = await pool.run('dq', args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('queue options – shell completion offers the new options', async () => {
    for (const [word, option] of [
      ['--glo', '--global'],
      ['--attr', '--attributes'],
      ['--user', '--userlog'],
      ['--goo', '--goodput'],
      ['--curr', '--currentrun'],
    ]) {
      const r = await pool.run('dq', ['--get-yargs-completions', 'dq', word!]);
      assert.ok(r.stdout.split('\n').includes(option!), `${word}: ${r.stdout}`);
    }
  });

  test('queue options – -attributes A,B with -json, -long and -xml: those attributes only', async () => {
    assert.deepEqual(await pool.json('dq', [String(held), '-attributes', 'ClusterId,JobStatus']), [
      { ClusterId: held, JobStatus: 5 },
    ]);
    const long = await dq([String(held), '-l', '-attributes', 'JobStatus', '-attributes', 'Owner']);
    assert.deepEqual(long.trim().split('\n').sort(), ['JobStatus = 5', 'Owner = "root"']);
    assert.equal(
      await dq([String(held), '-xml', '-attributes', 'ClusterId,JobStatus,Owner']),
      '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n<c>\n' +
        `    <a n="ClusterId"><i>${held}</i></a>\n    <a n="JobStatus"><i>5</i></a>\n    <a n="Owner"><s>root</s></a>\n` +
        '</c>\n</classads>\n',
    );
    // with a table or -af it changes nothing, as condor_q
    assert.equal(await dq([String(held), '-attributes', 'Owner', '-af', 'ClusterId']), `${held}\n`);
  });

  test('queue options – -held is -hold; -hold -totals and -run -totals count only those', async () => {
    assert.match(await dq(['-held']), new RegExp(`^ *${held}\\.0 +root .*hold`, 'mi'));
    const ht = await dq(['-hold', '-totals']);
    assert.match(ht, /Total for query: 1 jobs; 0 completed, 0 removed, 0 idle, 0 running, 1 held/);
    assert.doesNotMatch(ht, new RegExp(`${held}\\.0`));
    const rt = await dq(['-run', '-totals']);
    assert.match(rt, /Total for query: 1 jobs; 0 completed, 0 removed, 0 idle, 1 running, 0 held/);
    assert.equal(await dq(['-limit', '1', '-af', 'ClusterId']), `${held}\n`);
  });

  test('queue options – -currentrun and -cumulative-time are taken, not both', async () => {
    assert.match(await dq(['-run', '-currentrun']), new RegExp(`^ *${running}\\.0 +root `, 'm'));
    assert.match(await dq(['-nobatch', '-cumulative-time']), new RegExp(`^ *${running}\\.0 +root `, 'm'));
    const both = await pool.run('dq', ['-currentrun', '-cumulative-time']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /mutually exclusive/);
  });

  test('queue options – -io and -goodput: their columns, a line per job', async () => {
    const io = await dq(['-io']);
    assert.match(io, /^ID +OWNER +RUNS +ST +INPUT +OUTPUT +RATE +MISC/m);
    assert.match(io, new RegExp(`^ *${running}\\.0 +root +1 +R +\\d`, 'm'));
    assert.match(io, new RegExp(`^ *${held}\\.0 +root +0 +H +0\\.0 B +0\\.0 B +0\\.0 B/s`, 'm'));
    assert.match(io, /Total for query: 2 jobs/);
    const gp = await dq(['-goodput']);
    assert.match(gp, /^ID +OWNER +SUBMITTED +RUN_TIME +GOODPUT +CPU_UTIL +Mb\/s/m);
    assert.match(
      gp,
      new RegExp(`^ *${held}\\.0 +root .*\\[\\?\\?\\?\\?\\?\\] +\\[\\?\\?\\?\\?\\?\\] +\\[\\?\\?\\?\\?\\?\\]`, 'm'),
    );
  });

  test('queue options – -userlog FILE: the jobs its event log shows still queued, no schedd asked', async () => {
    assert.equal(await dq(['-userlog', 'run.log', '-af', 'ClusterId', 'JobStatus']), `${running} 2\n`);
    const table = await dq(['-userlog', 'run.log', '-nobatch']);
    assert.match(table, new RegExp(`^ *${running}\\.0 +root .* R `, 'm'));
    assert.doesNotMatch(table, /-- Schedd:/);
    // works with no pool at all: the log is the whole source
    const r = await pool.run('dq', ['-userlog', join(pool.work, 'run.log'), '-af', 'ClusterId'], {
      env: { DSCHED_HOME: '/nonexistent' },
    });
    assert.equal(r.stdout, `${running}\n`, r.stderr);
    const bad = await pool.run('dq', ['-userlog', 'run.log', '-global']);
    assert.equal(bad.code, 2);
  });

  test('queue options – -name SCHEDD and -global list that schedd, every schedd, with its banner', async () => {
    const [ad] = await pool.json('dstatus', ['-schedd']);
    const name = String(ad!.Name);
    const named = await dq(['-name', name, '-nobatch']);
    assert.match(named, new RegExp(`-- Schedd: ${name.replace(/\./g, '\\.')} `));
    assert.match(named, new RegExp(`^ *${running}\\.0 `, 'm'));
    assert.equal(await dq(['-global', '-af', 'ClusterId']), `${held}\n${running}\n`);
    const none = await pool.run('dq', ['-name', 'no-such-schedd']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /-name: no schedd named no-such-schedd in the collector/);
  });

  test('queue options – -dag lists node jobs under their DAGMan job, |-NODE in OWNER', async () => {
    const d = join(pool.work, 'dag');
    mkdirSync(d);
    pool.file('dag/node.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    pool.file('dag/d.dag', 'JOB ALPHA node.sub\nJOB BETA node.sub\n');
    const r = await pool.run('dsubmit-dag', ['d.dag'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const dag = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor(
      'both nodes to be queued',
      async () => (await pool.json('dq', ['-constraint', `DAGManJobId == ${dag}`])).length === 2 || undefined,
    );
    const lines = (await dq(['-dag', '-constraint', `ClusterId == ${dag} || DAGManJobId == ${dag}`])).split('\n');
    const at = lines.findIndex((l) => new RegExp(`^ *${dag}\\.0 +root `).test(l));
    assert.ok(at > 0, lines.join('\n'));
    assert.match(lines[at + 1]!, /^ *\d+\.0 +\|-ALPHA /);
    assert.match(lines[at + 2]!, /^ *\d+\.0 +\|-BETA /);
    assert.equal((await pool.run('drm', [String(dag)])).code, 0);
  });
});
