// Command lines HTCondor and PBS users bring from their manuals and old scripts, run through the names
// `dsched shims install` writes, and the submit commands they take for granted: each does what those
// systems document, or is refused with a usage error that changes nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { shimShell, TestPool } from './harness/pool.js';

describe('old command lines', () => {
  let pool: TestPool;
  let bin: string;
  before(async () => {
    pool = await TestPool.start();
    bin = join(pool.work, 'shims');
    const r = await pool.run('dsched', ['shims', 'install', bin]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pool?.stop();
  });

  const sh = (line: string) => shimShell(pool, bin, line);

  test('old command lines – qstat takes its letters grouped: -fx ID is -f -x ID, -xf too; an unknown letter is still refused', async () => {
    pool.file('done.sh', '#!/bin/sh\n#PBS -N done\nexit 3\n', 0o755);
    const id = sh('qsub done.sh').stdout.trim();
    assert.match(id, /^\d+\.\S+$/);
    await pool.waitForHistory(Number(id.split('.')[0]), 1);
    for (const flags of ['-fx', '-xf']) {
      const f = sh(`qstat ${flags} ${id}`);
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stdout, new RegExp(`^Job Id: ${id.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(f.stdout, /^ {4}job_state = F$/m);
      assert.match(f.stdout, /^ {4}Exit_status = 3$/m);
      // where it ran, in exec_host's form, as PBS's qstat -x keeps it for a finished job
      assert.match(f.stdout, /^ {4}exec_host = \S+\/\d+$/m);
    }
    const without = sh(`qstat -f ${id}`);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /Unknown Job Id \d+: the job has finished; qstat -x \(dq -pbs -x\) shows it$/m);
    const listed = sh(`qstat -x1 ${id}`);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, / done +\S+ +\S+ F workq$/m);
    const bad = sh(`qstat -fz ${id}`);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown option -fz/);
  });

  test('old command lines – qdel -W force removes the job; another -W, or -W for qhold, is a usage error that changes nothing', async () => {
    pool.file('long.sh', '#!/bin/sh\n#PBS -N long\nsleep 300\n', 0o755);
    const id = sh('qsub long.sh').stdout.trim();
    const cluster = Number(id.split('.')[0]);
    const wrong = sh(`qdel -W nonsense ${id}; echo "exit $?"; qhold -W force ${id}; echo "exit $?"`);
    assert.match(wrong.stdout, /^exit 2\nexit 2\n$/);
    assert.match(wrong.stderr, /qdel: error\[USAGE\]: -W nonsense: only -W force is taken/);
    assert.match(wrong.stderr, /qhold: error\[USAGE\]: -W force: qhold takes no -W/);
    const [still] = await pool.json('dq', [String(cluster)]);
    assert.notEqual(still!.JobStatus, 5, 'not held');
    const d = sh(`qdel -W force ${id}`);
    assert.equal(d.code, 0, d.stderr);
    const [gone] = await pool.waitForHistory(cluster, 1);
    assert.equal(gone!.JobStatus, 3);
  });

  test("old command lines – qalter changes a held job's walltime, memory, cpus and priority; what it cannot change is a usage error that changes nothing", async () => {
    pool.file('wait.sh', '#!/bin/sh\n#PBS -N wait\n#PBS -h\n#PBS -l walltime=1:00:00\ntrue\n', 0o755);
    const id = sh('qsub wait.sh').stdout.trim();
    const a = sh(`qalter -l walltime=00:30:00,mem=2gb -p 5 ${id}`);
    assert.equal(a.code, 0, a.stderr);
    // PBS's qalter prints nothing when it succeeds
    assert.equal(a.stdout, '');
    const s = sh(`qalter -l select=1:ncpus=2:mem=512mb ${id}`);
    assert.equal(s.code, 0, s.stderr);
    const f = sh(`qstat -f ${id}`).stdout;
    assert.match(f, /^ {4}Resource_List\.walltime = 00:30:00$/m);
    assert.match(f, /^ {4}Resource_List\.mem = 512mb$/m);
    assert.match(f, /^ {4}Resource_List\.ncpus = 2$/m);
    assert.match(f, /^ {4}Priority = 5$/m);
    for (const [args, why] of [
      ['-N other', /-N is not changed by qalter here/],
      ['-l nodes=2', /nodes is not changed by qalter here/],
      ['-l select=2:ncpus=1', /only a select of one chunk/],
      ['-l walltime=soon', /walltime 'soon' is not a duration/],
      ['', /say what to change/],
    ] as const) {
      const r = sh(`qalter ${args} ${id}`);
      assert.equal(r.code, 2, `qalter ${args}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
    assert.equal(sh(`qstat -f ${id}`).stdout, f, 'nothing changed');
    // a job that is not there is named as the command the user typed
    const none = sh('qalter -p 6 99999');
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /^qalter: error\[JOB_NOT_FOUND\]: job 99999 is not in the queue/m);
    await pool.run('drm', [id]);
  });

  test('old command lines – condor_qedit and condor_tail are among the names; condor_qedit changes a queued job', async () => {
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const c = await pool.submit('held.sub');
    const e = sh(`condor_qedit ${c} JobPrio 7`);
    assert.equal(e.code, 0, e.stderr);
    const [ad] = await pool.json('dq', [String(c)]);
    assert.equal(ad!.JobPrio, 7);
    const t = sh('condor_tail --help');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /dtail/);
    await pool.run('drm', [String(c)]);
  });

  test("old command lines – condor_wait exits 0 once every job of its log has ended, however it ended, as HTCondor's does; dwait still says whether they succeeded", async () => {
    pool.file('fails.sub', 'executable = /bin/sh\narguments = "-c \'exit 3\'"\nlog = fails.log\nqueue\n');
    const c = await pool.submit('fails.sub');
    const w = sh('condor_wait -wait 120 fails.log');
    assert.equal(w.code, 0, w.stdout + w.stderr);
    // HTCondor's one line, which scripts (and their tests) expect; dwait says how each job ended
    assert.equal(w.stdout, 'All jobs done.\n');
    const d = await pool.run('dwait', ['fails.log']);
    assert.equal(d.code, 1, d.stdout + d.stderr);
    assert.match(d.stdout, new RegExp(`^job ${c}\\.0 exited with code 3$`, 'm'));
    pool.file('never.sub', 'executable = /bin/true\nhold = true\nlog = never.log\nqueue\n');
    await pool.submit('never.sub');
    const t = sh('condor_wait -wait 1 never.log');
    assert.equal(t.code, 1, 'gave up: 1, as condor_wait');
    assert.match(t.stderr, /error\[TIMEOUT\]/);
    await pool.run('drm', ['-all']);
    assert.equal(sh('condor_wait -wait 60 never.log').code, 0, 'removed counts as ended');
  });

  test('old command lines – condor_wait -num 1 returns once one job of its log has ended, the others still queued; -num past the jobs of the log is refused', async () => {
    pool.file('num-held.sub', 'executable = /bin/true\nhold = true\nlog = num.log\nqueue\n');
    pool.file('num-ends.sub', 'executable = /bin/true\nlog = num.log\nqueue\n');
    const held = await pool.submit('num-held.sub');
    await pool.submit('num-ends.sub');
    const w = sh('condor_wait -wait 120 -num 1 num.log');
    assert.equal(w.code, 0, w.stdout + w.stderr);
    assert.equal(w.stdout, 'Specified number of jobs (1) done.\n');
    const [ad] = await pool.json('dq', [String(held)]);
    assert.equal(ad!.JobStatus, 5, 'the held job is still waiting');
    const past = sh('condor_wait -num 3 num.log');
    assert.equal(past.code, 2);
    assert.match(past.stderr, /-num 3: a whole number from 1 to the 2 job\(s\) waited for/);
    await pool.run('drm', [String(held)]);
  });

  test('old command lines – condor_submit -batch-name names the batch of every job; a #PBS script is told to use -N', async () => {
    pool.file('two.sub', 'executable = /bin/true\nbatch_name = from_file\nqueue 2\n');
    const s = sh('condor_submit -batch-name "nightly run" two.sub');
    assert.equal(s.code, 0, s.stderr);
    const c = Number(/submitted to cluster (\d+)\./.exec(s.stdout)![1]);
    const ads = await pool.waitForHistory(c, 2);
    assert.deepEqual(
      ads.map((a) => a.JobBatchName),
      ['nightly run', 'nightly run'],
    );
    pool.file('p.sh', '#!/bin/sh\n#PBS -N p\ntrue\n', 0o755);
    const before = (await pool.json('dq', [])).length;
    const p = sh('qsub -batch-name x p.sh');
    assert.equal(p.code, 2);
    assert.match(p.stderr, /error\[USAGE\]: -batch-name is for submit descriptions; a #PBS job is named with -N/);
    const nl = sh(`condor_submit -batch-name "$(printf 'a\\nexecutable = /bin/false')" two.sub`);
    assert.equal(nl.code, 2);
    assert.match(nl.stderr, /-batch-name takes a name on one line/);
    assert.equal((await pool.json('dq', [])).length, before, 'nothing queued');
  });

  test('old command lines – allowed_execute_duration holds a job that runs longer, with code 47 and the reason in the event log', async () => {
    pool.file(
      'slow.sub',
      'executable = /bin/sleep\narguments = 300\nallowed_execute_duration = 2\nlog = slow.log\nqueue\n',
    );
    const c = await pool.submit('slow.sub');
    const ad = await pool.waitFor('the job to be held', async () => {
      const [j] = await pool.json('dq', [String(c)]);
      return j?.JobStatus === 5 ? j : undefined;
    });
    assert.equal(ad.HoldReasonCode, 47);
    assert.equal(ad.HoldReason, 'The job exceeded allowed execute duration of 2 seconds');
    await pool.waitFor('the hold event', () =>
      /Job was held\.\n\tThe job exceeded allowed execute duration/.test(pool.read('slow.log')),
    );
    assert.match(pool.read('slow.log'), /Code 47 Subcode 0/);
    await pool.run('drm', [String(c)]);
  });
});
