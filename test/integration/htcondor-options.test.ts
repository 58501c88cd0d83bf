// condor_q's and condor_status's options as HTCondor users and their scripts type them, on a real pool: a job
// no slot takes (idle), a held job and a running one. dq -idle, -cputime, -long:FORM, -wide:N, -stream-results
// and -expert; dstatus -run, -server, -state, -any, -negotiator, -sort, -limit, -long:FORM, -attributes, -xml;
// drm, dhold and drelease -name; the options that mean nothing here are refused with the reason. dq's analyze
// options are tested with -analyze (analyze.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('htcondor options', () => {
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
    // it runs until the pool stops (dstatus -run and -state show its slot): a job of a fixed length could
    // end before them on a loaded machine
    const running = await pool.submit(
      pool.file('run.sub', `executable = /bin/sh\narguments = "-c 'while :; do sleep 1; done'"\nqueue\n`),
    );
    await pool.waitFor('a job to run', async () => (await pool.json('dq', [String(running)]))[0]?.JobStatus === 2);
    // and its slot to be in the collector as claimed
    await pool.waitFor('the claimed slot', async () => /Claimed/.test(await pool.output('dstatus', ['-af', 'State'])));
  });
  after(async () => {
    await pool?.stop();
  });

  const dq = (args: string[]) => pool.output('dq', args);

  test('htcondor options – dq -idle lists the idle jobs without ST, then the totals', async () => {
    const out = await dq(['-idle']);
    assert.match(out, /^ID +OWNER +SUBMITTED +RUN_TIME +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${idle}\\.0 +\\S+ +.* 0\\+00:00:00 +0 +\\S+ +sleep 59 1\\.0+$`, 'm'));
    assert.doesNotMatch(out, new RegExp(`^${held}\\.0 `, 'm'));
    assert.match(out, /^Total for query: 1 jobs; 0 completed, 0 removed, 1 idle, 0 running, 0 held, 0 suspended$/m);
  });

  test('htcondor options – dq -cputime shows CPU_TIME in place of RUN_TIME, with -nobatch only', async () => {
    const out = await dq(['-nobatch', '-cputime']);
    assert.match(out, /^ID +OWNER +SUBMITTED +CPU_TIME +ST +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${held}\\.0 +\\S+ +.* 0\\+00:00:00 H `, 'm'));
    const bad = await pool.run('dq', ['-cputime']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-cputime goes with -nobatch or -idle/);
  });

  test('htcondor options – dq -long:json, -long:xml, -long:new, -long:long print the whole ads in that form', async () => {
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

  test('htcondor options – dq -wide:N cuts lines at N columns, -stream-results and -expert change nothing', async () => {
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

  test('htcondor options – an option by the start of its name, as HTCondor takes it: -const, -nob, -constrain, -better', async () => {
    const out = await dq(['-const', `ClusterId == ${idle}`, '-nob']);
    assert.match(out, /^ID +OWNER +SUBMITTED +RUN_TIME +ST +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${idle}\\.0 `, 'm'));
    assert.doesNotMatch(out, new RegExp(`^${held}\\.0 `, 'm'));
    assert.match(await dq(['-better', `${idle}.0`]), /Requirements/);
    const st = await pool.run('dstatus', ['-constrain', 'Cpus > 0', '-af', 'Name']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^slot\S+@/m);
    // fewer than three letters, or the start of several options, is no option
    for (const word of ['-co', '-w']) {
      const r = await pool.run('dq', [word]);
      assert.equal(r.code, 2, `${word}: ${r.stdout}`);
      assert.match(r.stderr, /error\[USAGE\]: Unknown argument/);
    }
  });

  test('htcondor options – an option typed with a dash that is not - (as documents print them) is a usage error that says so', async () => {
    pool.file('dash.sh', '#!/bin/sh\ntrue\n', 0o755);
    for (const [cmd, args, typed] of [
      ['dstatus', ['\u2013constrain', 'Cpus > 0'], '-constrain'],
      ['dq', ['\u2013nobatch'], '-nobatch'],
      ['dsubmit', ['\u2013q', 'workq', 'dash.sh'], '-q'],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 2, `${cmd}: ${r.stdout}`);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[USAGE\\]: '\u2013\\S+' begins with U\\+2013, a dash that is not '-' .*: type ${typed}$`,
          'm',
        ),
      );
    }
    // a word that is no option's name is read as before
    assert.doesNotMatch((await pool.run('dq', ['\u2013zzz'])).stderr, /a dash that is not/);
  });

  test('htcondor options – dq options with no meaning here are refused with the reason', async () => {
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

  const dstatus = (args: string[]) => pool.output('dstatus', args);

  test("htcondor options – dstatus -run, -server, -state: condor_status's other slot tables", async () => {
    const run = await dstatus(['-run']);
    assert.match(run, /^Name +OpSys +Arch +LoadAv +RemoteUser +ClientMachine$/m);
    assert.match(run, /^slot1_1@\S+ +LINUX +X86_64 +\d+\.\d{3} +\S+ +\S+$/m);
    assert.doesNotMatch(run, /^slot1@/m);
    const server = await dstatus(['-server']);
    assert.match(server, /^Name +OpSys +Arch +LoadAv +Memory +Disk +Mips +KFlops$/m);
    assert.match(server, /^slot1@\S+ +LINUX +X86_64 +\d+\.\d{3} +\d+ +\d+ +\d+ +\d+$/m);
    const state = await dstatus(['-state']);
    assert.match(state, /^Name +Cpu +Mem +LoadAv +KbdIdle +State +StateTime +Activ +ActvtyTime$/m);
    assert.match(state, /^slot1_1@\S+ +1 +\d+ +\d+\.\d{3} .*Claimed +\d+\+\d\d:\d\d:\d\d +Busy +\d+\+/m);
  });

  test('htcondor options – dstatus -any, -negotiator, -sort, -limit', async () => {
    const any = await dstatus(['-any']);
    assert.match(any, /^MyType +TargetType +Name$/m);
    for (const type of ['Machine', 'Scheduler', 'Negotiator', 'Submitter'])
      assert.match(any, new RegExp(`^${type} `, 'm'));
    assert.match(await dstatus(['-negotiator', '-af', 'MyType']), /^Negotiator$/m);
    const byMemory = (await dstatus(['-sort', 'Memory', '-af', 'Memory'])).trim().split('\n').map(Number);
    assert.ok(byMemory.length >= 2);
    assert.deepEqual(
      byMemory,
      [...byMemory].sort((x, y) => x - y),
    );
    const reverse = (await dstatus(['-sort', '0 - Memory', '-af', 'Memory'])).trim().split('\n').map(Number);
    assert.deepEqual(reverse, [...byMemory].reverse());
    assert.equal((await dstatus(['-limit', '1', '-af', 'Name'])).trim().split('\n').length, 1);
  });

  test('htcondor options – dstatus -long:json, -attributes, -xml, and the options refused with the reason (and dwait -num)', async () => {
    const ads = JSON.parse(await dstatus(['-long:json', '-attributes', 'Name,State'])) as Array<
      Record<string, unknown>
    >;
    assert.ok(ads.length >= 2);
    for (const ad of ads) assert.deepEqual(Object.keys(ad).sort(), ['Name', 'State']);
    const xml = await dstatus(['-xml', '-attributes', 'Name']);
    assert.match(xml, /^<\?xml version="1\.0"\?>/);
    assert.match(xml, /<a n="Name"><s>slot1@\S+<\/s><\/a>/);
    for (const [opt, why] of [
      ['-master', /-master: the masters put no ads in the collector/],
      ['-grid', /-grid: dsched runs no grid universe jobs/],
      ['-long:yaml', /-long:yaml: the forms are long, json and xml/],
    ] as const) {
      const r = await pool.run('dstatus', [opt]);
      assert.equal(r.code, 2, opt);
      assert.match(r.stderr, why);
    }
    // condor_wait's -num N: the N is not taken for a job id, and a whole cluster's jobs are not counted
    const num = await pool.run('dwait', ['-num', '1', String(idle)]);
    assert.equal(num.code, 2);
    assert.match(num.stderr, /-num counts the jobs of a log file, or the CLUSTER\.PROC ids named one by one/);
  });

  test('htcondor options – drm, dhold and drelease -name SCHEDD act on the jobs of that schedd', async () => {
    const name = (await pool.output('dstatus', ['-schedd', '-af', 'Name'])).trim();
    // a job no slot takes: it stays in the queue, released or not
    const c = await pool.submit('idle.sub');
    for (const [cmd, said] of [
      ['dhold', /^1 job\(s\) held\.$/m],
      ['drelease', /^1 job\(s\) released\.$/m],
      ['drm', /^1 job\(s\) marked for removal\.$/m],
    ] as const)
      assert.match(await pool.output(cmd, ['-name', name, String(c)]), said);
    const r = await pool.run('drm', ['-name', 'no-such-schedd', String(c)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-name: no schedd named no-such-schedd/);
  });
  test('htcondor options – an option given without its value is a usage error, and nothing is acted on', async () => {
    // `condor_hold 12 -constraint $EMPTY` held all of cluster 12; condor_q listed every job
    for (const [cmd, args, said] of [
      ['dhold', [String(idle), '-constraint'], /-constraint needs a value/],
      ['dq', ['-constraint'], /-constraint needs a value/],
      ['dq', [String(idle), '-af'], /-af needs a value/],
      ['dq', ['-format', '%d'], /-format needs a format and an expression/],
      ['dhistory', ['-match'], /-match needs a value/],
      ['dstatus', ['-limit'], /-limit needs a value/],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 2, `${cmd} ${args.join(' ')}`);
      assert.match(r.stderr, said);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.equal((await pool.json('dq', [String(idle)]))[0]?.JobStatus, 1);
  });

  test('htcondor options – -constraint, -attributes and -format take their own values: job ids may follow them', async () => {
    // condor_rm -constraint EXPR 12 took 12 for a second expression and acted on every job EXPR matched
    assert.equal(await dq(['-constraint', 'JobStatus == 5', String(idle), '-af', 'ClusterId']), '');
    assert.equal(await dq(['-constraint', 'JobStatus == 1', String(idle), '-af', 'ClusterId']), `${idle}\n`);
    const none = await pool.run('drelease', ['-constraint', 'JobStatus == 5', String(idle)]);
    assert.equal(none.code, 1);
    assert.equal((await pool.json('dq', [String(held)]))[0]?.JobStatus, 5);
    const long = await dq(['-long', '-attributes', 'ClusterId,JobStatus', String(idle)]);
    assert.equal(long, `ClusterId = ${idle}\nJobStatus = 1\n`);
    assert.equal(await dq(['-format', '%d.', 'ClusterId', '-format', '%d\\n', 'ProcId', String(idle)]), `${idle}.0\n`);
    // condor_q -format takes one expression: a second conversion is refused, not filled with the first value
    const r = await pool.run('dq', ['-format', '%d.%d\\n', 'ClusterId', 'ProcId']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-format '%d\.%d\\n' has 2 conversions, but each -format prints one expression/);
    assert.match(r.stderr, /-format '%d\.' ClusterId -format '%d\\n' ProcId/);
  });

  test('htcondor options – dprio -p sets a priority, a negative one too; a bare +N / -N changes it', async () => {
    assert.match(await pool.output('dprio', ['-p', '-5', String(idle)]), /^1 job\(s\) now have priority -5\.$/m);
    assert.equal((await pool.json('dq', [String(idle)]))[0]?.JobPrio, -5);
    // each job's priority changes by 7: the message names no priority the jobs do not have
    assert.match(await pool.output('dprio', ['+7', String(idle)]), /^1 job\(s\) had their priority raised by 7\.$/m);
    assert.equal((await pool.json('dq', [String(idle)]))[0]?.JobPrio, 2);
    assert.match(await pool.output('dprio', ['-p', '+3', String(idle)]), /^1 job\(s\) now have priority 3\.$/m);
    assert.match(await pool.output('dprio', ['-1', String(idle)]), /^1 job\(s\) had their priority lowered by 1\.$/m);
    assert.equal((await pool.json('dq', [String(idle)]))[0]?.JobPrio, 2);
    const r = await pool.run('dprio', ['-p', '1.5', String(idle)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-p 1\.5: the priority is a whole number/);
  });
  test('htcondor options – -constraint Owner == alice (unquoted) warns that alice is an attribute, not the name', async () => {
    const r = await pool.run('dq', ['-constraint', 'Owner == alice', '-af', 'ClusterId']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^dq: warning: -constraint compares Owner with an attribute named alice, not with the name "alice" \(write Owner == "alice"\)$/m,
    );
    const quoted = await pool.run('dq', ['-constraint', 'Owner =!= "alice" && Owner == User', '-af', 'ClusterId']);
    assert.equal(quoted.stderr, '');
  });
  test('htcondor options – dstatus -constraint Machine == node1 (unquoted) warns too, and the quoted one finds the slots', async () => {
    const [slot] = await pool.json('dstatus', []);
    const host = String(slot!.Machine);
    // a bare word (a host name with a dot or a dash would not parse as one word)
    const r = await pool.run('dstatus', ['-constraint', 'Machine == node1 && State == Unclaimed', '-af', 'Name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    for (const [attr, name] of [
      ['Machine', 'node1'],
      ['State', 'Unclaimed'],
    ])
      assert.match(
        r.stderr,
        new RegExp(
          `^dstatus: warning: -constraint compares ${attr} with an attribute named ${name}, not with the name "${name}" \\(write ${attr} == "${name}"\\)$`,
          'm',
        ),
      );
    const quoted = await pool.run('dstatus', [
      '-constraint',
      `Machine == "${host}" && Name =!= Machine`,
      '-af',
      'Name',
    ]);
    assert.equal(quoted.code, 0, quoted.stderr);
    assert.equal(quoted.stderr, '');
    assert.notEqual(quoted.stdout, '');
  });
  test('htcondor options – -pool HOST is refused by every command with how to reach another pool, and nothing is queued', async () => {
    pool.file('pool.sub', 'executable = /bin/true\nqueue\n');
    const before = (await pool.json('dq', ['-allusers'])).length;
    for (const [cmd, args] of [
      ['dq', []],
      ['dstatus', []],
      ['dhistory', []],
      ['drm', ['1']],
      ['dsubmit', ['pool.sub']],
    ] as const) {
      const r = await pool.run(cmd, ['-pool', 'cm.example.com', ...args]);
      assert.equal(r.code, 2, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^${cmd}: error\\[USAGE\\]: -pool: .*DSCHED_HOME`, 'm'), cmd);
    }
    assert.equal((await pool.json('dq', ['-allusers'])).length, before, 'nothing queued');
  });
  test('htcondor options – condor_submit -dry-run FILE job.sub writes the ads to FILE (- for stdout) and queues nothing; -dry-run job.sub prints them', async () => {
    pool.file('dry.sub', 'executable = /bin/echo\narguments = $(Item)\nqueue 1 in (a, b)\n');
    const before = (await pool.json('dq', ['-allusers'])).length;
    const r = await pool.run('dsubmit', ['-dry-run', 'dry.ad', 'dry.sub', 'extra=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2 job(s) dry-run to cluster 1.\n');
    assert.match(pool.read('dry.ad'), /^Args = "a"$[\s\S]*^Args = "b"$/m);
    const dash = await pool.run('dsubmit', ['-dry-run', '-', 'dry.sub']);
    assert.equal(dash.code, 0, dash.stderr);
    assert.match(dash.stdout, /^Cmd = "\/bin\/echo"$/m);
    const plain = await pool.run('dsubmit', ['-dry-run', 'dry.sub']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, dash.stdout, 'no file: the ads on stdout');
    assert.equal((await pool.json('dq', ['-allusers'])).length, before, 'nothing queued');
  });
});
