// PBS jobs as a PBS user drives them: walltime enforced when it runs out, PBS's way (killed) or HTCondor's (held) (with the default, slow periodic
// evaluation), and the job ids dsubmit prints accepted by the other tools.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('pbs jobs', () => {
  let pool: TestPool;
  before(async () => {
    // the default interval: walltime must not wait for the periodic evaluation
    pool = await TestPool.start({ PERIODIC_EXPR_INTERVAL: '60' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('pbs jobs – a job over its walltime is killed as PBS kills it: exit status 271, the message in its error file, afternotok runs', async () => {
    pool.file('over.sh', '#!/bin/sh\n#PBS -N over\n#PBS -l walltime=00:00:02\nsleep 60\necho finished\n', 0o755);
    const c = await pool.submit('over.sh');
    pool.file('notok.sh', '#!/bin/sh\n#PBS -N notok\necho ran after the failure\n', 0o755);
    pool.file('ok.sh', '#!/bin/sh\n#PBS -N ok\necho must not run\n', 0o755);
    const notok = await pool.submit('notok.sh', ['-W', `depend=afternotok:${c}`]);
    const ok = await pool.submit('ok.sh', ['-W', `depend=afterok:${c}`]);
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.JobStatus, 4, 'killed and finished, not held');
    assert.equal(ad!.ExitCode, 271, 'PBS reports 256 + SIGTERM');
    assert.equal(ad!.ExitBySignal, false);
    assert.match(pool.read(`over.e${c}`), /^=>> PBS: job killed: walltime \d+ exceeded limit 2$/m);
    assert.doesNotMatch(pool.read(`over.o${c}`), /finished/);
    const [dep] = await pool.waitForHistory(notok, 1);
    assert.equal(dep!.ExitCode, 0);
    assert.equal(pool.read(`notok.o${notok}`), 'ran after the failure\n');
    const [never] = await pool.waitForHistory(ok, 1);
    assert.equal(never!.JobStatus, 3, 'afterok on a killed job can never hold: removed');
  });

  test("pbs jobs – PBS_WALLTIME_HOLD = true keeps HTCondor's hold (code 46) for #PBS jobs", async () => {
    await pool.reconfigure('PBS_WALLTIME_HOLD = true\n', ['schedd']);
    pool.file('held.sh', '#!/bin/sh\n#PBS -N held\n#PBS -l walltime=00:00:02\nsleep 60\necho finished\n', 0o755);
    const c = await pool.submit('held.sh');
    const ad = await pool.waitFor('the job to be held', async () =>
      (await pool.json('dq', [String(c)])).find((a) => a.JobStatus === 5),
    );
    assert.equal(ad.HoldReasonCode, 46);
    assert.match(String(ad.HoldReason), /exceeded allowed job duration of 2 seconds/);
    await pool.run('drm', [String(c)]);
  });

  test("pbs jobs – dsubmit -- PROGRAM ARGS runs the command as a job (qsub's form); dq -pbs and dq -pbs -f show it as qstat does", async () => {
    const r = await pool.run('dsubmit', [
      '-h',
      '-N',
      'hello',
      '-l',
      'walltime=1:00',
      '--',
      '/usr/bin/python3',
      '-c',
      "print('Hello, dsched!')",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^\d+\.\S+$/);
    const c = Number(id.split('.')[0]);
    const table = await pool.run('dq', ['-pbs']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^Job id\s+Name\s+User\s+Time Use S Queue$/);
    assert.match(lines[1]!, /^-{16} {2}-{16} -{16} {2}-{8} - -{5}$/);
    assert.ok(
      lines.some((l) =>
        new RegExp(
          `^${id.replace(/\./g, '\\.').slice(0, 16)}\\s+hello\\s+${userInfo().username}\\s+00:00:00 H workq$`,
        ).test(l),
      ),
      table.stdout,
    );
    const full = await pool.run('dq', ['-pbs', '-f', id]);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, new RegExp(`^Job Id: ${id.replace(/\./g, '\\.')}$`, 'm'));
    for (const re of [
      /^ {4}Job_Name = hello$/m,
      /^ {4}job_state = H$/m,
      /^ {4}queue = workq$/m,
      /^ {4}Resource_List\.walltime = 00:01:00$/m,
      /^ {4}Hold_Types = u$/m,
      /^ {4}Output_Path = \S+:\/\S+\/hello\.o\d+$/m,
    ])
      assert.match(full.stdout, re);
    const unknown = await pool.run('dq', ['-pbs', '-f', '99999']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown Job Id 99999/);
    assert.equal((await pool.run('drelease', [id])).code, 0);
    const [done] = await pool.waitForHistory(c, 1);
    assert.equal(done!.ExitCode, 0);
    assert.equal(pool.read(`hello.o${c}`), 'Hello, dsched!\n');
    const both = await pool.run('dsubmit', ['x.sh', '--', '/bin/true']);
    assert.equal(both.code, 2, 'a file and a command: a usage error');
  });

  test('pbs jobs – the ids dsubmit prints (C.host, C[].host, C[I].host) name jobs for drelease, dq and drm', async () => {
    pool.file('arr.sh', '#!/bin/sh\n#PBS -N arr\n#PBS -J 1-3\n#PBS -h\necho "index $PBS_ARRAY_INDEX"\n', 0o755);
    const r = await pool.run('dsubmit', ['arr.sh']);
    assert.equal(r.code, 0, r.stderr);
    const arrayId = r.stdout.trim();
    assert.match(arrayId, /^\d+\[\]\.\S+$/);
    const c = Number(arrayId.split('[')[0]);
    const subjob = arrayId.replace('[]', '[2]');
    const rel = await pool.run('drelease', [subjob]);
    assert.equal(rel.code, 0, rel.stderr);
    assert.match(rel.stdout, /^1 job\(s\) released/);
    const [done] = await pool.waitForHistory(c, 1);
    assert.equal(done!.PbsArrayIndex, 2, 'only the subjob with index 2 was released');
    assert.equal(pool.read(`arr.o${c}.2`), 'index 2\n');
    const held = await pool.json('dq', [arrayId]);
    assert.deepEqual(held.map((a) => a.PbsArrayIndex).sort(), [1, 3]);
    // qstat shows the array as one line, its subjobs only with -t (dq -pbs -pbs-subjobs) or when named
    const esc = (id: string) => id.replace(/[.[\]]/g, '\\$&');
    const table = (await pool.run('dq', ['-pbs'])).stdout;
    assert.match(table, new RegExp(`^${esc(arrayId)} +arr +\\S+ +[\\d:]+ H `, 'm'), table);
    assert.doesNotMatch(table, /^\d+\[\d+\]/m, table);
    const t = (await pool.run('dq', ['-pbs', '-pbs-subjobs'])).stdout;
    const listed = [...t.matchAll(/^(\S+) /gm)].map((m) => m[1]).filter((id) => id!.startsWith(`${c}[`));
    assert.deepEqual(listed, [arrayId, arrayId.replace('[]', '[1]'), arrayId.replace('[]', '[3]')], t);
    // with -x the finished subjob is listed too, as X (PBS Pro's state of a finished subjob; F is for jobs)
    const tx = (await pool.run('dq', ['-pbs', '-pbs-subjobs', '-x'])).stdout;
    assert.match(tx, new RegExp(`^${esc(arrayId.replace('[]', '[2]'))} +arr +\\S+ +[\\d:]+ X `, 'm'), tx);
    assert.match(
      (await pool.run('dq', ['-pbs', arrayId.replace('[]', '[3]')])).stdout,
      new RegExp(`^${esc(arrayId.replace('[]', '[3]'))} `, 'm'),
    );
    const rm = await pool.run('drm', [arrayId]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /^2 job\(s\) marked for removal/);

    pool.file('one.sh', '#!/bin/sh\n#PBS -h\ntrue\n', 0o755);
    const one = (await pool.run('dsubmit', ['one.sh'])).stdout.trim();
    assert.match(one, /^\d+\.\S+$/);
    const rmOne = await pool.run('drm', [one]);
    assert.equal(rmOne.code, 0, rmOne.stderr);
    const [removed] = await pool.waitForHistory(Number(one.split('.')[0]), 1);
    assert.equal(removed!.JobStatus, 3);
  });

  test('pbs jobs – Torque -t, -p and -I are taken on the dsubmit command line as on #PBS lines', async () => {
    pool.file('t.sh', '#!/bin/sh\necho "$PBS_ARRAYID"\n', 0o755);
    const r = await pool.run('dsubmit', ['--dry-run', '--json', '-t', '1-2', '-p', '5', 't.sh']);
    assert.equal(r.code, 0, r.stderr);
    const ads = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.deepEqual(
      ads.map((a) => a.PbsArrayIndex),
      ['1', '2'],
    );
    assert.equal(ads[0]!.JobPrio, '5');
    const i = await pool.run('dsubmit', ['-I', 't.sh']);
    assert.equal(i.code, 2);
    assert.match(
      i.stderr,
      /-I: interactive jobs are not supported by dsched/,
      'a known qsub option, not an unknown one',
    );
  });

  test("pbs jobs – a qsub option's value may follow its letter at once (-lwalltime=…, -joe), as qsub's getopt takes it; condor_submit's -verbose is not -v", async () => {
    pool.file('g.sh', '#!/bin/sh\ntrue\n', 0o755);
    const r = await pool.run('dsubmit', [
      '--dry-run',
      '--json',
      '-Nnamed',
      '-lwalltime=00:10:00',
      '-joe',
      '-J1-2',
      '-p5',
      'g.sh',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ads = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.deepEqual(
      ads.map((a) => a.PbsArrayIndex),
      ['1', '2'],
    );
    assert.equal(ads[0]!.PbsJobName, '"named"');
    assert.equal(ads[0]!.AllowedJobDuration, '600');
    assert.equal(ads[0]!.JobPrio, '5');
    assert.equal(ads[0]!.Out, ads[0]!.Err, '-joe joins the error stream to the output');
    const v = await pool.run('dsubmit', ['--dry-run', '-verbose', 'g.sh']);
    assert.equal(v.code, 2);
    assert.match(v.stderr, /unknown option -verbose/);
  });

  test('pbs jobs – $PBS_NODEFILE names this host once per MPI process; HOME, USER, NCPUS and OMP_NUM_THREADS are set as MoM sets them', async () => {
    pool.file(
      'mpi.sh',
      '#!/bin/sh\n#PBS -N mpi\n#PBS -l select=1:ncpus=2:mpiprocs=2\ncat "$PBS_NODEFILE"\necho "$USER $LOGNAME $HOME $NCPUS $OMP_NUM_THREADS"\n',
      0o755,
    );
    const c = await pool.submit('mpi.sh');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, pool.read(`mpi.e${c}`));
    const lines = pool.read(`mpi.o${c}`).trim().split('\n');
    const vars = lines.pop();
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l !== '' && l === lines[0]));
    const me = userInfo();
    assert.equal(vars, `${me.username} ${me.username} ${me.homedir} 2 2`);
    // the job's own -v wins
    const v = await pool.submit('mpi.sh', ['-v', 'OMP_NUM_THREADS=1']);
    await pool.waitForHistory(v, 1);
    assert.match(pool.read(`mpi.o${v}`), / 2 1\n$/);
  });

  test('pbs jobs – the job runs the script as submitted, even when the file is rewritten or removed before it runs', async () => {
    const script = (n: number) => `#!/bin/sh\n#PBS -N gen\n#PBS -h\necho "case ${n}"\n`;
    const ids: number[] = [];
    for (const n of [1, 2]) {
      pool.file('gen.sh', script(n), 0o755);
      ids.push(await pool.submit('gen.sh'));
    }
    pool.file('gen.sh', '#!/bin/sh\necho "rewritten"\n', 0o755);
    for (const c of ids) assert.equal((await pool.run('drelease', [String(c)])).code, 0);
    for (const [i, c] of ids.entries()) {
      const [ad] = await pool.waitForHistory(c, 1);
      assert.equal(ad!.ExitCode, 0, pool.read(`gen.e${c}`));
      assert.equal(pool.read(`gen.o${c}`), `case ${i + 1}\n`);
    }
    pool.file('gone.sh', script(3).replace('-N gen', '-N gone'), 0o644);
    const g = await pool.submit('gone.sh');
    rmSync(join(pool.work, 'gone.sh'));
    await pool.run('drelease', [String(g)]);
    await pool.waitForHistory(g, 1);
    assert.equal(
      pool.read(`gone.o${g}`),
      'case 3\n',
      'a script that is not executable runs through its #! interpreter, from the copy',
    );
  });

  test('pbs jobs – an -o or -e file that cannot be opened holds the job naming the file', async () => {
    pool.file('nodir.sh', '#!/bin/sh\necho hi\n', 0o755);
    const o = await pool.submit('nodir.sh', ['-o', 'missing/out.txt']);
    const e = await pool.submit('nodir.sh', ['-e', 'missing/err.txt']);
    for (const [c, what] of [
      [o, 'output'],
      [e, 'error'],
    ] as const) {
      const ad = await pool.waitFor(`job ${c} to be held`, async () =>
        (await pool.json('dq', [String(c)])).find((a) => a.JobStatus === 5),
      );
      assert.equal(ad.HoldReasonCode, 7);
      assert.equal(ad.HoldReasonSubCode, 2, 'the errno, as HTCondor');
      assert.equal(
        ad.HoldReason,
        `Failed to open '${join(pool.work, `missing/${what === 'output' ? 'out' : 'err'}.txt`)}' as standard ${what}: No such file or directory (errno 2)`,
      );
    }
    await pool.run('drm', [String(o), String(e)]);
  });

  test('pbs jobs – a script that cannot be read is a clear error, not an internal one', async () => {
    const r = await pool.run('dsubmit', ['no-such-job.sh']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^dsubmit: error\[SUBMIT_FILE\]: cannot read 'no-such-job.sh': no such file$/m);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  test('pbs jobs – a job held at submit (-h) or by dhold while it waits for a dependency stays held when the dependency is met', async () => {
    pool.file('dep.sh', '#!/bin/sh\nsleep 2\n', 0o755);
    // the job depended on runs until the test opens its gate (bounded): on a loaded machine a fixed sleep
    // could end, and release the dependents, before the holds below are given
    const gate = join(pool.work, 'dep.gate');
    pool.file('gated.sh', `#!/bin/sh\nfor i in $(seq 600); do [ -e ${gate} ] && exit 0; sleep 0.1; done\n`, 0o755);
    const a = await pool.submit('gated.sh');
    const h = await pool.submit('dep.sh', ['-h', '-W', `depend=afterok:${a}`]);
    const d = await pool.submit('dep.sh', ['-W', `depend=afterok:${a}`]);
    assert.equal((await pool.run('dhold', [String(d), '-reason', 'not yet'])).code, 0);
    pool.file('dep.gate', '');
    await pool.waitForHistory(a, 1);
    const held = async (c: number) =>
      pool.waitFor(`job ${c} to be held by its user`, async () =>
        (await pool.json('dq', [String(c)])).find((x) => x.JobStatus === 5 && x.DependencyHold !== true),
      );
    const hAd = await held(h);
    assert.equal(hAd.HoldReasonCode, 15);
    assert.match(String(hAd.HoldReason), /submitted on hold/);
    const dAd = await held(d);
    assert.equal(dAd.HoldReasonCode, 1);
    assert.equal(dAd.HoldReason, 'not yet');
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await pool.json('dhistory', [String(h), String(d)]), [], 'neither ran');
    assert.equal((await pool.run('drelease', [String(h), String(d)])).code, 0);
    await pool.waitForHistory(h, 1);
    await pool.waitForHistory(d, 1);
  });
});
