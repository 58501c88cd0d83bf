// A personal pool runs real jobs: per-proc output files, the job's environment, exit codes told truthfully.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('submit – jobs really run', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('submit – a Queue 20 cluster writes each proc its own output file', async () => {
    pool.file(
      'array.sub',
      `# twenty procs, each says who it is
universe   = vanilla
executable = /bin/sh
arguments  = "-c 'echo proc $(Process) of cluster $(Cluster)'"
output     = out.$(Process).txt
error      = err.$(Process).txt
log        = array.log
queue 20
`,
    );
    const r = await pool.run('dsubmit', ['array.sub']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^20 job\(s\) submitted to cluster (\d+)\.$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const cluster = Number(m[1]);
    const hist = await pool.waitForHistory(cluster, 20);
    assert.equal(hist.length, 20);
    for (const ad of hist) {
      assert.equal(ad.JobStatus, 4);
      assert.equal(ad.ExitCode, 0);
    }
    for (let p = 0; p < 20; p++) assert.equal(pool.read(`out.${p}.txt`), `proc ${p} of cluster ${cluster}\n`);
    const log = pool.read('array.log');
    assert.equal((log.match(/^000 /gm) ?? []).length, 20);
    assert.equal((log.match(/^001 /gm) ?? []).length, 20);
    assert.equal((log.match(/Normal termination \(return value 0\)/g) ?? []).length, 20);
  });

  test('submit – the job environment reaches the process', async () => {
    pool.file(
      'env.sub',
      `executable  = /usr/bin/env
environment = "MYVAR1=foo MYVAR2='bar baz'"
output      = env.out
queue
`,
    );
    const r = await pool.run('dsubmit', ['env.sub']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitForHistory(cluster, 1);
    const out = pool.read('env.out');
    assert.match(out, /^MYVAR1=foo$/m);
    assert.match(out, /^MYVAR2=bar baz$/m);
  });

  test('submit – a job exiting 2 is never shown as a success', async () => {
    pool.file('exit2.sub', `executable = /bin/sh\narguments = "-c 'exit 2'"\nlog = exit2.log\nqueue\n`);
    const r = await pool.run('dsubmit', ['exit2.sub']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 2);
    assert.equal(ad!.ExitBySignal, false);
    assert.match(pool.read('exit2.log'), /\(1\) Normal termination \(return value 2\)/);
    const table = await pool.run('dhistory', [String(cluster)]);
    assert.equal(table.code, 0);
    assert.doesNotMatch(table.stdout, /success/i);
  });

  test('submit – a job killed by a signal records the signal', async () => {
    pool.file('segv.sub', `executable = /bin/sh\narguments = "-c 'kill -SEGV $$'"\nlog = segv.log\nqueue\n`);
    const r = await pool.run('dsubmit', ['segv.sub']);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitBySignal, true);
    assert.equal(ad!.ExitSignal, 11);
    assert.match(pool.read('segv.log'), /\(0\) Abnormal termination \(signal 11\)/);
  });

  test('submit – a broken submit file is refused whole with file:line:column', async () => {
    pool.file('broken.sub', `executable = /bin/true\narguments = "unterminated\nqueue 5\n`);
    const r = await pool.run('dsubmit', ['broken.sub']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken\.sub:2:\d+/);
    const q = await pool.json('dq', ['-allusers']);
    assert.equal(q.length, 0, 'nothing may be queued');
  });

  test('submit – an attribute too large for a ClassAd is refused whole; the queue stays readable', async () => {
    pool.file('big.sub', `executable = /bin/true\n+Big = "${'x'.repeat(1_100_000)}"\nqueue 2\n`);
    const r = await pool.run('dsubmit', ['big.sub']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /INPUT_TOO_LARGE.*attribute Big is \d+ characters long/);
    const q = await pool.run('dq', ['-allusers', '-json']);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(JSON.parse(q.stdout || '[]'), [], 'nothing may be queued');
  });

  test('dwait – as condor_wait, takes the job event log and waits for the jobs it records', async () => {
    pool.file('w.sub', `executable = /bin/sh\narguments = "-c 'sleep 1; exit $(Process)'"\nlog = w.log\nqueue 2\n`);
    const c = await pool.submit('w.sub');
    const all = await pool.run('dwait', ['w.log']);
    assert.equal(all.code, 1, 'job 1 exited 1');
    assert.match(all.stdout, new RegExp(`job ${c}\\.0 exited with code 0`));
    assert.match(all.stdout, new RegExp(`job ${c}\\.1 exited with code 1`));
    const one = await pool.run('dwait', ['w.log', `${c}.0`]);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.doesNotMatch(one.stdout, new RegExp(`${c}\\.1`));
    const none = await pool.run('dwait', ['nothere.log']);
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /"nothere\.log" is neither a job id .* nor a job event log file: \/\S+\/nothere\.log does not exist/,
    );
  });

  test('submit – -queue gives the queue statement of a file without one, up to the next option, as condor_submit -queue', async () => {
    pool.file('noq.sub', 'executable = /bin/echo\narguments = $(Item)\n');
    const r = await pool.run('dsubmit', ['--dry-run', '--json', 'noq.sub', '-queue', 'in', '(x', 'y)']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as Array<Record<string, string>>).map((a) => a.Args),
      ['"x"', '"y"'],
    );
    // its words end at the next option, as condor_submit's: options may follow it
    const then = await pool.run('dsubmit', ['--dry-run', '--json', 'noq.sub', '-queue', '2', '-batch-name', 'b q']);
    assert.equal(then.code, 0, then.stderr);
    assert.deepEqual(
      (JSON.parse(then.stdout) as Array<Record<string, string>>).map((a) => a.JobBatchName),
      ['"b q"', '"b q"'],
    );
    pool.file('hasq.sub', 'executable = /bin/true\nqueue\n');
    const both = await pool.run('dsubmit', ['hasq.sub', '-queue', '2']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /hasq\.sub has its own queue statement/);
  });

  test('submit – `-` reads the submit description from standard input, as condor_submit -', async () => {
    const r = await pool.run('dsubmit', ['-', '-a', 'output = stdin.$(Process).out'], {
      input: 'executable = /bin/sh\narguments = "-c \'echo from stdin $(Process)\'"\nqueue 2\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/^2 job\(s\) submitted to cluster (\d+)\.$/m.exec(r.stdout)![1]);
    await pool.waitForHistory(cluster, 2);
    assert.equal(pool.read('stdin.0.out'), 'from stdin 0\n');
    assert.equal(pool.read('stdin.1.out'), 'from stdin 1\n');
  });

  test('submit – a changed executable starts a new cluster, one line each, as condor_submit prints them', async () => {
    pool.file(
      'two.sub',
      'hold = true\nexecutable = /bin/true\nqueue 2\nexecutable = /bin/echo\narguments = hi\nqueue\n',
    );
    const r = await pool.run('dsubmit', ['two.sub']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^2 job\(s\) submitted to cluster (\d+)\.\n1 job\(s\) submitted to cluster (\d+)\.\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const [a, b] = [Number(m[1]), Number(m[2])];
    assert.ok(b > a, `${b} after ${a}`);
    const ads = (await pool.json('dq', ['-allusers', `${a}`, `${b}`])) as Array<Record<string, unknown>>;
    assert.deepEqual(
      ads.map((ad) => [ad.ClusterId, ad.ProcId, ad.Cmd]).sort(),
      [
        [a, 0, '/bin/true'],
        [a, 1, '/bin/true'],
        [b, 0, '/bin/echo'],
      ].sort(),
    );
    const dry = await pool.run('dsubmit', ['--dry-run', '--json', 'two.sub']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(
      (JSON.parse(dry.stdout) as Array<Record<string, string>>).map((ad) => [ad.ClusterId, ad.ProcId]),
      [
        ['1', '0'],
        ['1', '1'],
        ['2', '0'],
      ],
    );
    await pool.run('drm', [String(a), String(b)]);
  });

  test('submit – a description of several clusters is queued all or nothing: an error in a later one leaves none queued', async () => {
    const none = async (mark: string) => {
      const q = await pool.json('dq', ['-allusers', '-constraint', `Mark == "${mark}"`]);
      assert.deepEqual(q, [], `jobs of ${mark} are still queued`);
    };
    // an error found as the later cluster's procs are made (an item that gives no expression)
    pool.file(
      'bad-item.sub',
      'executable = /bin/true\n+Mark = "mc-item"\nqueue\nexecutable = /bin/echo\nrequirements = $(Item)\nqueue 1 in (TARGET.Memory >)\n',
    );
    const item = await pool.run('dsubmit', ['bad-item.sub']);
    assert.equal(item.code, 2, item.stdout + item.stderr);
    assert.match(item.stderr, /error\[SUBMIT_INVALID\]: requirements: .*\n--> bad-item\.sub:5:16/);
    assert.equal(item.stdout, '', 'nothing said submitted');
    await none('mc-item');
    assert.deepEqual(
      await pool.json('dhistory', ['-constraint', 'Mark == "mc-item"']),
      [],
      'nothing was queued at all',
    );
    // refused by the schedd once the first cluster was queued: that one is removed again, and said so
    pool.file(
      'refused.sub',
      'executable = /bin/true\n+Mark = "mc-refused"\nhold = true\nqueue\nexecutable = /bin/echo\n+JobStatus = 4\nqueue\n',
    );
    const refused = await pool.run('dsubmit', ['refused.sub']);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.equal(refused.stdout, '', 'nothing said submitted');
    assert.match(
      refused.stderr,
      /^dsubmit: cluster \d+ of this submission was queued before the error and removed again$/m,
    );
    assert.match(refused.stderr, /error\[SUBMIT_INVALID\]: JobStatus = 4/);
    await none('mc-refused');
  });

  test('submit – a submit file that does not exist is a bad-input error, not an internal one', async () => {
    const r = await pool.run('dsubmit', ['missing.sub']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[SUBMIT_FILE\]: cannot read 'missing\.sub': no such file/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });
});
