// What HTCondor and PBS users and admins try first with their own scripts: LastJobStatus in condor_q -long
// (the status before the current one, which scripts and policies read); qstat of a subjob that is not there,
// named as it was typed (not as its array); nice_user jobs accounted to the group nice-user, served last;
// log_xml = true, whose log is text all the same, said at submit; coresize, the job's core file size limit;
// qsub -W umask.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { shimShell, TestPool } from './harness/pool.js';

describe('trial habits – HTCondor and PBS users', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });
  /** The HTCondor and PBS names in a folder of the pool's work folder; the folder. */
  const installShims = async (name: string) => {
    const bin = join(pool.work, name);
    assert.equal((await pool.run('dsched', ['shims', 'install', bin])).code, 0);
    return bin;
  };

  test('trial habits – LastJobStatus is the status a job had before its current one, in the queue and in history', async () => {
    pool.file('last.sub', `executable = /bin/sh\narguments = "-c 'touch started; exec sleep 300'"\nqueue\n`);
    const cluster = await pool.submit('last.sub');
    const ad = async () => (await pool.json('dq', [String(cluster)]))[0]!;
    // a job never changed from its first status has none, as in HTCondor
    await pool.waitFor('the job to start', () => pool.exists('started') || undefined);
    const running = await pool.waitFor('the job to be running', async () => {
      const a = await ad();
      return a.JobStatus === 2 ? a : undefined;
    });
    assert.equal(running.LastJobStatus, 1, 'running, from idle');
    assert.equal((await pool.run('dhold', [String(cluster)])).code, 0);
    const held = await ad();
    assert.equal(held.JobStatus, 5);
    assert.equal(held.LastJobStatus, 2, 'held, from running');
    // released, it must stay idle for us to see it so: no slot takes it any more
    assert.equal((await pool.run('dqedit', [String(cluster), 'Requirements', 'false'])).code, 0);
    assert.equal((await pool.run('drelease', [String(cluster)])).code, 0);
    // a release that comes before the held run has stopped takes effect once it has (the job stays held till
    // then, as the startd may be slow to stop it)
    const released = await pool.waitFor('the released job to be idle', async () => {
      const a = await ad();
      return a.JobStatus === 1 ? a : undefined;
    });
    assert.equal(released.LastJobStatus, 5, 'idle, from held');
    assert.equal((await pool.run('dhold', [String(cluster)])).code, 0);
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    const [gone] = await pool.waitForHistory(cluster, 1);
    assert.equal(gone!.JobStatus, 3);
    assert.equal(gone!.LastJobStatus, 5, 'removed, from held');
  });

  test('trial habits – a whole cluster released, held and removed at once gives each job its LastJobStatus', async () => {
    // no slot takes them: they stay idle once released
    pool.file('many.sub', 'executable = /bin/true\nrequirements = false\nhold = true\nqueue 3\n');
    const cluster = await pool.submit('many.sub');
    const statuses = async () =>
      (await pool.json('dq', [String(cluster)])).map((a) => [a.ProcId, a.JobStatus, a.LastJobStatus]);
    // submitted held: no status before
    assert.deepEqual(await statuses(), [
      [0, 5, undefined],
      [1, 5, undefined],
      [2, 5, undefined],
    ]);
    assert.equal((await pool.run('drelease', [String(cluster)])).code, 0);
    assert.deepEqual(await statuses(), [
      [0, 1, 5],
      [1, 1, 5],
      [2, 1, 5],
    ]);
    assert.equal((await pool.run('dhold', [String(cluster)])).code, 0);
    assert.deepEqual(await statuses(), [
      [0, 5, 1],
      [1, 5, 1],
      [2, 5, 1],
    ]);
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    const gone = await pool.waitForHistory(cluster, 3);
    assert.deepEqual(
      gone.map((a) => [a.JobStatus, a.LastJobStatus]),
      [
        [3, 5],
        [3, 5],
        [3, 5],
      ],
    );
  });

  test('trial habits – qstat of a subjob not in the queue names that subjob, and says when it has finished', async () => {
    const bin = await installShims('shims-subjob');
    pool.file('arr.sh', '#!/bin/sh\n#PBS -J 1-2\ntrue\n', 0o755);
    const q = shimShell(pool, bin, 'qsub -h arr.sh');
    assert.equal(q.code, 0, q.stderr);
    const array = q.stdout.trim();
    const [cluster, host] = [/^(\d+)/.exec(array)![1], array.replace(/^\d+\[\]\./, '')];
    const none = shimShell(pool, bin, `qstat ${cluster}[7]`);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `qstat: Unknown Job Id ${cluster}[7].${host}\n`);
    const held = shimShell(pool, bin, `qstat ${cluster}[1].${host}`);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, new RegExp(`^${cluster}\\[1\\]\\.\\S+ .* H `, 'm'));
    assert.equal(shimShell(pool, bin, `qrls ${array}`).code, 0);
    await pool.waitForHistory(Number(cluster), 2);
    const done = shimShell(pool, bin, `qstat -f ${cluster}[1]`);
    assert.equal(done.code, 1);
    assert.equal(
      done.stderr,
      `qstat: Unknown Job Id ${cluster}[1].${host}: the job has finished; qstat -x (dq -pbs -x) shows it\n`,
    );
    assert.equal(shimShell(pool, bin, `qstat -xf ${cluster}[1]`).code, 0);
  });

  test('trial habits – a nice_user job is accounted to nice-user.OWNER, a submitter the negotiator serves after everyone else', async () => {
    pool.file('nice.sub', 'executable = /bin/true\nnice_user = true\nqueue\n');
    const cluster = await pool.submit('nice.sub');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.NiceUser, true);
    assert.equal(ad!.AcctGroup, 'nice-user');
    assert.equal(ad!.AccountingGroup, `nice-user.${String(ad!.Owner)}`);
    // it was matched, so the negotiator has its account (charged at the match; -allusers: a job this short may
    // end before any usage is counted), with a factor that puts it behind any ordinary user
    const accounts = await pool.json('duserprio', ['-allusers']);
    const nice = accounts.find((a) => String(a.name).startsWith(`nice-user.${String(ad!.Owner)}@`));
    assert.ok(nice, JSON.stringify(accounts));
    assert.equal(nice.priority_factor, 10_000_000);
  });

  test('trial habits – log_xml = true warns at submit (the event log is text, which dwait reads)', async () => {
    pool.file('xml.sub', 'executable = /bin/true\nlog = x.log\nlog_xml = True\nqueue\n');
    const r = await pool.run('dsubmit', ['xml.sub']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: log_xml: the job event log is written in the text format only/);
    assert.equal((await pool.run('dwait', ['x.log'])).code, 0);
    assert.match(pool.read('x.log'), /^000 \(/);
  });

  test('trial habits – coresize is the job’s core file size limit, soft and hard, as its ulimit -c shows', async () => {
    // bash counts ulimit -c in KiB (sh in 512-byte blocks)
    pool.file(
      'core.sub',
      'executable = /bin/bash\narguments = "-c \'ulimit -c; ulimit -Hc\'"\n' +
        'output = core.out\ncoresize = 1048576\nqueue\n',
    );
    const r = await pool.run('dsubmit', ['core.sub']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /coresize/, 'taken without a warning');
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [done] = await pool.waitForHistory(cluster, 1);
    assert.equal(done!.ExitCode, 0);
    // a spawner that is not root cannot pass its own hard limit: the job gets that one when it is lower
    const hard = /^Max core file size\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const kib =
      process.getuid?.() === 0 || hard === 'unlimited' || Number(hard) >= 1048576
        ? '1024'
        : String(Math.floor(Number(hard) / 1024));
    assert.equal(pool.read('core.out'), `${kib}\n${kib}\n`);
  });

  test('trial habits – qsub -W umask=027 is the job’s umask and its output file’s, as PBS takes it', async () => {
    const bin = await installShims('shims-umask');
    pool.file('um.sh', '#!/bin/sh\n#PBS -W umask=027\n#PBS -o um.out\n#PBS -j oe\numask\n', 0o755);
    const q = shimShell(pool, bin, 'qsub um.sh');
    assert.equal(q.code, 0, q.stderr);
    assert.doesNotMatch(q.stderr, /umask/, 'taken without a warning');
    await pool.waitForHistory(Number(/^(\d+)/.exec(q.stdout)![1]), 1);
    assert.equal(pool.read('um.out'), '0027\n');
    assert.equal(statSync(join(pool.work, 'um.out')).mode & 0o777, 0o640);
    const bad = shimShell(pool, bin, 'qsub -W umask=999 um.sh');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /-W umask: expected an octal umask such as 022 or 077, found '999'/);
  });

  test('trial habits – condor_submit -name SCHEDD queues there; -spool and -remote, condor_vacate_job, condor_transfer_data and condor_config_val say what to do instead', async () => {
    const bin = await installShims('shims-condor');
    pool.file('named.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    // the schedd's ad reaches the collector on its own time: run alone, this test may come first
    const name = await pool.waitFor(
      'the schedd ad in the collector',
      async () => (await pool.run('dstatus', ['-schedd', '-af', 'Name'])).stdout.trim().split('\n')[0],
    );
    const ok = shimShell(pool, bin, `condor_submit -name ${name} named.sub`);
    assert.equal(ok.code, 0, ok.stderr);
    const cluster = Number(/cluster (\d+)/.exec(ok.stdout)![1]);
    assert.equal((await pool.json('dq', [String(cluster)])).length, 1);
    const none = shimShell(pool, bin, 'condor_submit -name nosuch named.sub');
    assert.equal(none.code, 2);
    assert.match(none.stderr, new RegExp(`no schedd named nosuch in the collector \\(${name}\\)`));
    for (const [line, says] of [
      ['condor_submit -spool named.sub', /^condor_submit: error\[USAGE\]: -spool: dsched spools no input files/],
      ['condor_submit -remote x named.sub', /-name SCHEDD for the schedd to queue to/],
      [`condor_vacate_job ${cluster}`, /condor_hold JOBID stops it, then condor_release JOBID/],
      [`condor_transfer_data ${cluster}`, /output comes back to the paths it names/],
      ['condor_config_val SCHEDD_NAME', /dsched config NAME/],
    ] as const) {
      const r = shimShell(pool, bin, line);
      assert.equal(r.code, 2, `${line}: ${r.stderr}`);
      assert.match(r.stderr, says, line);
    }
    assert.equal((await pool.json('dq', [String(cluster)])).length, 1, 'only the named submit queued a job');
    // a job not in the queue: condor_q points to condor_history, dsched's name to dhistory
    const gone = shimShell(pool, bin, 'condor_q -better-analyze 99999');
    assert.match(gone.stderr, /^condor_q: job 99999 is not in the queue \(finished jobs are in condor_history\)$/m);
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
  });
});
