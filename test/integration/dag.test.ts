// DAGs run inside the pool with DAGMan's semantics: order, RETRY with POST scripts, ABORT-DAG-ON, VARS,
// category throttles, PRE_SKIP, rescue DAGs, drm of a DAG, and a schedd killed with -9 mid-DAG.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool } from './harness/pool.js';

/** A node job that appends "start X" / "end X" to order.txt around `work` (shell). */
const nodeJob = (name: string, work = 'sleep 1', extra = '') =>
  `universe = vanilla\nexecutable = /bin/sh\narguments = "-c 'echo start ${name} >> order.txt; ${work}; r=$?; echo end ${name} >> order.txt; exit $r'"\nlog = nodes.log\n${extra}queue\n`;

describe('dag', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '6', MEMORY: '6144' });
  });
  after(async () => {
    await pool?.stop();
  });

  async function runDag(dir: string, dag: string, args: string[] = []) {
    const r = await pool.run('dsubmit-dag', [...args, '--wait', dag], {
      cwd: join(pool.work, dir),
      timeoutMs: 120_000,
    });
    return r;
  }
  function sub(dir: string, name: string, text: string, mode = 0o644) {
    return pool.file(`${dir}/${name}`, text, mode);
  }
  function mkdir(dir: string) {
    pool.file(`${dir}/.keep`, '');
  }

  test('dag – the diamond runs A, then B and C, then D', async () => {
    const d = 'diamond';
    // the seed's DAG file, verbatim
    pool.file('diamond/.keep', '');
    sub(
      d,
      'simple.dag',
      '# Simple Condor DAG file\nJOB A a.job\nJOB B b.job\nJOB C c.job\nJOB D d.job\n\nPARENT A CHILD B C\nPARENT B C CHILD D \n',
    );
    for (const n of ['a', 'b', 'c', 'd']) sub(d, `${n}.job`, nodeJob(n.toUpperCase()));
    const r = await runDag(d, 'simple.dag');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /succeeded: 4\/4 nodes done/);
    const lines = pool.read(`${d}/order.txt`).trim().split('\n');
    const at = (l: string) => lines.indexOf(l);
    assert.ok(
      at('end A') < at('start B') &&
        at('end A') < at('start C') &&
        at('end B') < at('start D') &&
        at('end C') < at('start D'),
      lines.join(' | '),
    );
  });

  test('dag – a failing node is retried (RETRY 2) and its POST script decides; descendants of a failure never run', async () => {
    const d = 'retry';
    mkdir(d);
    // fails twice, succeeds on the third try (the attempt count lives in a file)
    sub(
      d,
      'flaky.sh',
      '#!/bin/sh\nn=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > tries\n[ $n -ge 3 ]\n',
      0o755,
    );
    sub(d, 'post.sh', '#!/bin/sh\necho "post $1 retry=$2 return=$3" >> post.txt\nexit $3\n', 0o755);
    sub(d, 'flaky.sub', `executable = flaky.sh\nlog = nodes.log\nqueue\n`);
    sub(d, 'never.sub', nodeJob('NEVER'));
    sub(d, 'bad.sub', nodeJob('BAD', 'exit 7'));
    sub(d, 'indep.sub', nodeJob('INDEP'));
    sub(
      d,
      'retry.dag',
      'JOB F flaky.sub\nRETRY F 2\nSCRIPT POST F post.sh $JOB $RETRY $RETURN\nJOB BAD bad.sub\nJOB NEVER never.sub\nPARENT BAD CHILD NEVER\nJOB INDEP indep.sub\n',
    );
    const r = await runDag(d, 'retry.dag');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(pool.read(`${d}/tries`).trim(), '3');
    assert.equal(
      pool.read(`${d}/post.txt`),
      'post F retry=0 return=1\npost F retry=1 return=1\npost F retry=2 return=0\n',
    );
    const order = pool.read(`${d}/order.txt`);
    assert.match(order, /end INDEP/);
    assert.doesNotMatch(order, /NEVER/);
    assert.ok(existsSync(join(pool.work, d, 'retry.dag.rescue001')), 'a rescue DAG is written');
    const rescue = readFileSync(join(pool.work, d, 'retry.dag.rescue001'), 'utf8');
    assert.match(rescue, /^DONE F$/m);
    assert.match(rescue, /^DONE INDEP$/m);
    assert.doesNotMatch(rescue, /^DONE BAD$/m);
    // the DAG job's output file (its Out) exists and tells which node failed and how
    const out = pool.read(`${d}/retry.dag.dagman.out`);
    assert.match(out, /DAG started/);
    assert.match(out, /Submitted node F: cluster \d+ \(1 proc\)/);
    assert.match(out, /POST script of node F failed with status 1/);
    assert.match(out, /Retrying node F \(retry 1 of 2\)/);
    assert.match(out, /Retrying node F \(retry 2 of 2\)/);
    assert.match(out, /POST script of node F completed successfully/);
    assert.match(out, /Node BAD job \(cluster \d+\) failed with return value 7/);
    assert.match(out, /ERROR: Node BAD failed: job failed with return value 7/);
    assert.match(out, /the following node\(s\) failed:\n\s+BAD \(cluster \d+\): job failed with return value 7/);
    assert.doesNotMatch(out, /^\s+F \(cluster/m, 'F succeeded in the end');
    assert.match(out, /Rescue DAG written to .*retry\.dag\.rescue001/);
    assert.match(out, /DAG manager exiting with status 1/);
  });

  test('dag – a missing PRE script: dagman.out says which file and the exit status, and names the failed node', async () => {
    const d = 'missing-pre';
    mkdir(d);
    sub(d, 'a.sub', nodeJob('A'));
    sub(d, 'm.dag', 'JOB A a.sub\nSCRIPT PRE A no-such-pre.sh $JOB\n');
    const r = await runDag(d, 'm.dag');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /0\/1 nodes done, 1 failed .*\n {2}why: \S*m\.dag\.dagman\.out$/m,
      'the summary points at the log that says why',
    );
    const out = pool.read(`${d}/m.dag.dagman.out`);
    const path = join(pool.work, d, 'no-such-pre.sh');
    assert.ok(out.includes(`PRE script of node A failed: ${path}: No such file or directory (exit status 127)`), out);
    assert.match(out, /Node A failed: PRE script failed with 127/);
    assert.match(out, /the following node\(s\) failed:\n\s+A: PRE script failed with 127/);
    assert.doesNotMatch(out, /Submitting node A/, 'the job of a node whose PRE script failed is not submitted');
  });

  test('dag – a rescue DAG is resumed: finished nodes do not run again', async () => {
    const d = 'rescue';
    mkdir(d);
    sub(d, 'one.sub', nodeJob('ONE'));
    sub(d, 'two.sub', nodeJob('TWO', 'test -f fixed'));
    sub(d, 'r.dag', 'JOB ONE one.sub\nJOB TWO two.sub\nPARENT ONE CHILD TWO\n');
    const first = await runDag(d, 'r.dag');
    assert.equal(first.code, 1);
    assert.ok(existsSync(join(pool.work, d, 'r.dag.rescue001')));
    pool.file(`${d}/fixed`, '');
    const second = await runDag(d, 'r.dag');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const order = pool.read(`${d}/order.txt`).trim().split('\n');
    assert.equal(order.filter((l) => l === 'start ONE').length, 1, 'ONE ran once');
    assert.equal(order.filter((l) => l === 'start TWO').length, 2, 'TWO ran again');
    // the second run says it is a rescue run, as DAGMan's log does
    const out = pool.read(`${d}/r.dag.dagman.out`);
    assert.match(out, /Running rescue DAG 1 \(.*r\.dag\.rescue001\)/);
    assert.equal((out.match(/Running rescue DAG/g) ?? []).length, 1, 'only the second run is a rescue run');
    assert.match(out, /All nodes completed successfully/);
  });

  test('dag – ABORT-DAG-ON stops the DAG with its RETURN value and removes running node jobs', async () => {
    const d = 'abort';
    mkdir(d);
    // "first success wins": the finder exits 3 when it has the answer; the others would run long
    sub(d, 'finder.sub', nodeJob('FINDER', 'sleep 1; exit 3'));
    sub(d, 'slow.sub', nodeJob('SLOW', 'sleep 60'));
    sub(d, 'after.sub', nodeJob('AFTER'));
    sub(
      d,
      'a.dag',
      'JOB FINDER finder.sub\nJOB SLOW slow.sub\nJOB AFTER after.sub\nPARENT FINDER CHILD AFTER\nABORT-DAG-ON FINDER 3 RETURN 0\n',
    );
    const r = await runDag(d, 'a.dag');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const order = pool.read(`${d}/order.txt`);
    assert.doesNotMatch(order, /end SLOW/);
    assert.doesNotMatch(order, /AFTER/);
    const slow = (await pool.json('dhistory', [])).filter((a) => String(a.Args ?? a.Arguments ?? '').includes('SLOW'));
    assert.ok(slow.length >= 1 && slow.every((a) => a.JobStatus === 3), 'the running node job was removed');
  });

  test('dag – VARS reach the node submit file; PRE_SKIP skips a node whose PRE script says so', async () => {
    const d = 'vars';
    mkdir(d);
    sub(
      d,
      'echo.sub',
      'executable = /bin/echo\narguments = "$(greeting) from $(JOB)"\noutput = $(JOB).out\nlog = nodes.log\nqueue\n',
    );
    sub(d, 'skip.sh', '#!/bin/sh\nexit 5\n', 0o755);
    sub(
      d,
      'v.dag',
      'JOB X echo.sub\nVARS X greeting="hello world"\nJOB S echo.sub\nVARS S greeting="should not run"\nSCRIPT PRE S skip.sh\nPRE_SKIP S 5\nJOB Y echo.sub\nVARS Y greeting="after skip"\nPARENT S CHILD Y\n',
    );
    const r = await runDag(d, 'v.dag');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(pool.read(`${d}/X.out`), 'hello world from X\n');
    assert.equal(pool.exists(`${d}/S.out`), false);
    assert.equal(pool.read(`${d}/Y.out`), 'after skip from Y\n');
  });

  test('dag – a category with MAXJOBS 2 never runs 3 at once (measured from the event log)', async () => {
    const d = 'throttle';
    mkdir(d);
    // the node jobs run until the test opens their gate, once two run at once: jobs of a fixed length could
    // each end before the next one started on a busy machine, and never show two at once
    const gate = join(pool.work, d, 'go');
    sub(
      d,
      'w.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -e ${gate} ]; do sleep 0.2; done'"\nlog = throttle.log\nqueue\n`,
    );
    const nodes = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6'];
    sub(d, 't.dag', nodes.map((n) => `JOB ${n} w.sub\nCATEGORY ${n} limited\n`).join('') + 'MAXJOBS limited 2\n');
    const running = (log: string) => {
      let now = 0;
      let peak = 0;
      for (const m of log.matchAll(/^(001|005) /gm)) {
        now += m[1] === '001' ? 1 : -1;
        peak = Math.max(peak, now);
      }
      return { now, peak };
    };
    const dag = runDag(d, 't.dag');
    await pool.waitFor(
      'two nodes to run at once',
      () => pool.exists(`${d}/throttle.log`) && running(pool.read(`${d}/throttle.log`)).now === 2,
    );
    sub(d, 'go', '');
    const r = await dag;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const log = pool.read(`${d}/throttle.log`);
    const { peak } = running(log);
    assert.equal((log.match(/^005 /gm) ?? []).length, 6);
    assert.ok(peak <= 2, `peak ${peak}`);
    assert.equal(peak, 2);
  });

  test("dag – a CONFIG file's DAGMAN_MAX_JOBS_SUBMITTED = 1 runs independent nodes one at a time, across a kill -9 of the schedd", async () => {
    const d = 'config';
    mkdir(d);
    const names = ['P', 'Q', 'R', 'S'];
    for (const n of names) sub(d, `${n}.sub`, nodeJob(n, 'sleep 1'));
    sub(d, 'dagman.cfg', '# this DAG only\nDAGMAN_MAX_JOBS_SUBMITTED = 1\nDAGMAN_MAX_SUBMIT_ATTEMPTS = 3\n');
    sub(d, 'c.dag', 'CONFIG dagman.cfg\n' + names.map((n) => `JOB ${n} ${n}.sub\n`).join(''));
    const r = await pool.run('dsubmit-dag', ['c.dag'], { cwd: join(pool.work, d) });
    assert.equal(r.code, 0, r.stderr);
    const dag = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor(
      'a node to start',
      () => pool.exists(`${d}/order.txt`) && /start/.test(pool.read(`${d}/order.txt`)),
    );
    process.kill(pool.daemonPid('schedd'), 'SIGKILL');
    const [ad] = await pool.waitForHistory(dag, 1, 120_000);
    assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
    // the nodes' own lines: never two started and not ended
    const order = pool.read(`${d}/order.txt`).trim().split('\n');
    let running = 0;
    let peak = 0;
    for (const l of order) {
      running += l.startsWith('start ') ? 1 : -1;
      peak = Math.max(peak, running);
    }
    assert.equal(order.filter((l) => l.startsWith('end ')).length, names.length, order.join(' | '));
    assert.equal(peak, 1, order.join(' | '));
  });

  test('dag – CONFIG settings dsched does not have are warned of with their file:line, at submit and in dagman.out', async () => {
    const d = 'unknownconfig';
    mkdir(d);
    sub(d, 'n.sub', nodeJob('N'));
    sub(d, 'u.cfg', 'DAGMAN_RETRY_SUBMIT_FIRST = false\nDAGMAN_SUBMIT_DELAY = 2\nMAX_JOBS = 3\n');
    sub(d, 'u.dag', 'JOB N n.sub\nCONFIG u.cfg\n');
    const cwd = join(pool.work, d);
    const r = await pool.run('dsubmit-dag', ['u.dag'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const cfg = join(cwd, 'u.cfg');
    const delay = `${cfg}:2: DAGMAN_SUBMIT_DELAY is not a setting dsched's DAG manager has`;
    const other = `${cfg}:3: MAX_JOBS is not a DAGMan setting; ignored`;
    assert.ok(r.stderr.includes(`warning: ${delay}`) && r.stderr.includes(`warning: ${other}`), r.stderr);
    assert.ok(!r.stderr.includes('DAGMAN_RETRY_SUBMIT_FIRST is'), 'a knob dsched has is taken without a word');
    const [ad] = await pool.waitForHistory(Number(/cluster (\d+)/.exec(r.stdout)![1]), 1);
    assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
    const out = pool.read(`${d}/u.dag.dagman.out`);
    assert.ok(out.includes(delay) && out.includes(other), out);
  });

  test('dag – a malformed CONFIG line is refused at submit with its file:line, and nothing is queued', async () => {
    const d = 'badconfig';
    mkdir(d);
    sub(d, 'n.sub', nodeJob('N'));
    sub(d, 'bad.cfg', 'DAGMAN_MAX_JOBS_IDLE = 10\nDAGMAN_MAX_JOBS_SUBMITTED 1\n');
    sub(d, 'other.cfg', 'DAGMAN_MAX_JOBS_IDLE = 10\n');
    sub(d, 'bad.dag', 'JOB N n.sub\nCONFIG bad.cfg\n');
    sub(d, 'good.dag', 'JOB N n.sub\nCONFIG other.cfg\n');
    const cwd = join(pool.work, d);
    const bad = await pool.run('dsubmit-dag', ['bad.dag'], { cwd });
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /error\[CONFIG_INVALID\]: expected `NAME = value`/);
    assert.ok(bad.stderr.includes(`--> ${join(cwd, 'bad.cfg')}:2:1`), bad.stderr);
    // --config naming another file than the DAG's CONFIG line: one CONFIG file per DAG, as in DAGMan
    const two = await pool.run('dsubmit-dag', ['--config', 'bad.cfg', 'good.dag'], { cwd });
    assert.equal(two.code, 2, two.stdout + two.stderr);
    assert.match(two.stderr, /error\[CONFIG_INVALID\]: --config .*bad\.cfg differs from the DAG's CONFIG .*other\.cfg/);
    const queued = await pool.json('dq', [
      '-allusers',
      '-constraint',
      'JobBatchName == "bad.dag" || JobBatchName == "good.dag"',
    ]);
    assert.deepEqual(queued, []);
  });

  test('dag – drm of the DAG removes its node jobs', async () => {
    const d = 'drm';
    mkdir(d);
    sub(d, 'long.sub', nodeJob('LONG', 'sleep 120'));
    sub(d, 'l.dag', 'JOB L1 long.sub\nJOB L2 long.sub\n');
    const r = await pool.run('dsubmit-dag', ['l.dag'], { cwd: join(pool.work, d) });
    assert.equal(r.code, 0, r.stderr);
    const dag = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor(
      'both nodes to run',
      async () =>
        (await pool.json('dq', ['-allusers', '-constraint', `DAGManJobId == ${dag} && JobStatus == 2`])).length === 2 ||
        undefined,
    );
    const rm = await pool.run('drm', [String(dag)]);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitFor(
      'the DAG and its nodes to leave the queue',
      async () => (await pool.json('dq', ['-allusers'])).length === 0 || undefined,
    );
    const hist = await pool.json('dhistory', ['-constraint', `DAGManJobId == ${dag} || ClusterId == ${dag}`]);
    assert.ok(
      hist.length >= 3 && hist.every((a) => a.JobStatus === 3),
      JSON.stringify(hist.map((a) => [a.ClusterId, a.JobStatus])),
    );
  });

  test('dag – the examples: split / run many / merge, and first success wins', async () => {
    for (const ex of ['split-merge', 'first-success'])
      cpSync(join(ROOT, 'examples', ex), join(pool.work, ex), { recursive: true });
    const sm = await runDag('split-merge', 'split-merge.dag');
    assert.equal(sm.code, 0, sm.stdout + sm.stderr);
    assert.equal(pool.read('split-merge/total.txt'), 'total 820\n');
    const fs = await runDag('first-success', 'first-success.dag');
    assert.equal(fs.code, 0, fs.stdout + fs.stderr);
    assert.equal(pool.read('first-success/search.2.out'), 'found the answer in part 2\n');
    const searchers = (await pool.json('dhistory', [])).filter((a) => /search\.sh/.test(String(a.Cmd)));
    assert.equal(searchers.filter((a) => a.JobStatus === 4).length, 1, 'only the finder completed');
    assert.ok(searchers.filter((a) => a.JobStatus === 3).length >= 1, 'the others were removed');
  });

  test('dag – kill -9 of the schedd mid-DAG: the DAG completes and every node runs exactly once', async () => {
    const d = 'crash';
    mkdir(d);
    const names = ['A', 'B', 'C', 'D', 'E', 'F'];
    for (const n of names) sub(d, `${n}.sub`, nodeJob(n, 'sleep 1'));
    sub(
      d,
      'c.dag',
      names.map((n) => `JOB ${n} ${n}.sub\n`).join('') + 'PARENT A CHILD B C\nPARENT B C CHILD D\nPARENT D CHILD E F\n',
    );
    const r = await pool.run('dsubmit-dag', ['c.dag'], { cwd: join(pool.work, d) });
    assert.equal(r.code, 0, r.stderr);
    const dag = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor(
      'node B or C to start',
      () => pool.exists(`${d}/order.txt`) && /start [BC]/.test(pool.read(`${d}/order.txt`)),
    );
    process.kill(pool.daemonPid('schedd'), 'SIGKILL');
    const [ad] = await pool.waitForHistory(dag, 1, 120_000);
    assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
    const order = pool.read(`${d}/order.txt`).trim().split('\n');
    for (const n of names)
      assert.equal(order.filter((l) => l === `start ${n}`).length, 1, `${n} ran once: ${order.join(' | ')}`);
  });
});
