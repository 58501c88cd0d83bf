// Torque and PBS scripts as users bring them from their old cluster: what a script asks for with the old
// resource words must run as PBS Pro would run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneAtATime, oneAtATimeScript } from './harness/one-at-a-time.js';
import { TestPool } from './harness/pool.js';

const asRoot = process.getuid?.() === 0;

describe('torque habits', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  /** qstat as `dsched shims install` writes it into pool.work/DIR, run through sh as a user types it. */
  async function qstatShim(dir: string) {
    const bin = join(pool.work, dir);
    assert.equal((await pool.run('dsched', ['shims', 'install', bin])).code, 0);
    return (args: string) =>
      spawnSync('sh', ['-c', `qstat ${args}`], {
        cwd: pool.work,
        env: { ...pool.env, PATH: `${bin}:${process.env.PATH}` },
        encoding: 'utf8',
        timeout: 60_000,
      });
  }

  test('torque habits – -l nodes=2:ppn=2 is two chunks of 2 cpus (a parallel job, scattered unless -l place says otherwise), not one job of 4 cpus', async () => {
    // the common MPI script: $PBS_NODEFILE has one line per process, ppn of them per host
    const script = '#!/bin/sh\n#PBS -N mpi\n#PBS -l nodes=2:ppn=2\necho NCPUS=$NCPUS\nwc -l < $PBS_NODEFILE\n';
    pool.file('scattered.sh', script, 0o755);
    const dry = await pool.run('dsubmit', ['--dry-run', 'scattered.sh']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stderr, /one job on one host/, 'no warning: it is what the script asked for');
    assert.match(dry.stdout, /MachineCount = 2\b/);
    assert.match(dry.stdout, /RequestCpus = 2\b/);
    assert.match(dry.stdout, /GangPlacement = "scatter"/);

    // on this one-host pool the chunks may share the host only when the script says so
    pool.file('free.sh', script.replace('#PBS -N mpi\n', '#PBS -N mpi\n#PBS -l place=free\n'), 0o755);
    const c = await pool.submit('free.sh');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(ad!.MachineCount, 2);
    assert.equal(ad!.RequestCpus, 2);
    assert.equal(pool.read(`mpi.o${c}`), 'NCPUS=2\n4\n');
  });

  test("pbs habits – qstat -f and -a show a parallel job's resources as PBS totals them: nodes=2:ppn=2 is ncpus 4, nodect 2, its select and place", async () => {
    const qstat = await qstatShim('shims-parallel');
    pool.file('wide.sh', '#!/bin/sh\n#PBS -l nodes=2:ppn=2\n#PBS -l mem=300mb\ntrue\n', 0o755);
    const id = (await pool.run('dsubmit', ['-h', 'wide.sh'])).stdout.trim();
    const f = qstat(`-xf ${id}`).stdout;
    for (const line of [
      'Resource_List.ncpus = 4',
      'Resource_List.mem = 600mb',
      'Resource_List.nodect = 2',
      'Resource_List.place = scatter',
      'Resource_List.select = 2:ncpus=2:mem=300mb',
    ])
      assert.match(f, new RegExp(`^ {4}${line.replace(/\./g, '\\.')}$`, 'm'), f);
    const a = qstat(`-xa ${id}`).stdout;
    assert.match(a, new RegExp(`^${id.replace(/\./g, '\\.')} .* 2 +4 +600mb `, 'm'), a);
    await pool.run('drm', [id]);
    // queued, on a pool of one host it can never fit (one chunk per host): the comment says where to read why
    const waits = (await pool.run('dsubmit', ['wide.sh'])).stdout.trim();
    const comment = `Not Running: waiting for a slot (dq -better-analyze ${waits} says why)`;
    assert.match(qstat(`-f ${waits}`).stdout, new RegExp(`^ {4}comment = ${comment.replace(/[.()]/g, '\\$&')}$`, 'm'));
    const s = qstat(`-s ${waits}`).stdout;
    assert.ok(s.includes(`\n   ${comment}\n`), s);
    assert.match(
      (await pool.run('dq', ['-better-analyze', waits])).stdout,
      /^Why: it is a parallel job of 2 chunks \(place=scatter/m,
    );
    await pool.run('drm', [waits]);
  });

  test('pbs habits – -W depend=beforeok:A places afterok on A (submitted with depend=on:1): A runs after B succeeds, is removed after B fails', async () => {
    pool.file('a.sh', '#!/bin/sh\n#PBS -N a\necho A ran\n', 0o755);
    pool.file('ok.sh', '#!/bin/sh\n#PBS -N ok\necho B ok\n', 0o755);
    pool.file('fail.sh', '#!/bin/sh\n#PBS -N fail\nexit 3\n', 0o755);

    const a = await pool.submit('a.sh', ['-W', 'depend=on:1']);
    const [waiting] = await pool.json('dq', [String(a)]);
    assert.equal(waiting!.JobStatus, 5, 'waits for a before dependency to be placed on it');
    const b = await pool.submit('ok.sh', ['-W', `depend=beforeok:${a}`]);
    const [bAd] = await pool.waitForHistory(b, 1);
    assert.equal(bAd!.ExitCode, 0);
    const [aAd] = await pool.waitForHistory(a, 1);
    assert.equal(aAd!.ExitCode, 0);
    assert.ok(Number(aAd!.JobStartDate) >= Number(bAd!.CompletionDate), 'A started once B had finished');
    assert.equal(pool.read(`a.o${a}`), 'A ran\n');

    const a2 = await pool.submit('a.sh', ['-W', 'depend=on:1']);
    const failing = await pool.submit('fail.sh', ['-W', `depend=beforeok:${a2}`]);
    await pool.waitForHistory(failing, 1);
    const [removed] = await pool.waitForHistory(a2, 1);
    assert.equal(removed!.JobStatus, 3, 'PBS deletes the job whose dependency can never hold');
    assert.match(String(removed!.RemoveReason), new RegExp(`afterok:${failing} can never be satisfied`));
  });

  test('pbs habits – a before dependency on a job not submitted with depend=on, or not in the queue, is refused and nothing is queued', async () => {
    pool.file('held.sh', '#!/bin/sh\ntrue\n', 0o755);
    const plain = await pool.submit('held.sh', ['-h']);
    const before = (await pool.json('dq', [])).length;
    const r = await pool.run('dsubmit', ['-W', `depend=beforeany:${plain}`, 'held.sh']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /error\[USAGE\]: dependency beforeany:\d+: job \d+\.0 was not submitted to wait for it \(qsub -W depend=on:1\)/,
    );
    const gone = await pool.run('dsubmit', ['-W', 'depend=beforeok:99999', 'held.sh']);
    assert.equal(gone.code, 1, gone.stderr);
    assert.match(gone.stderr, /error\[JOB_NOT_FOUND\]/);
    assert.equal((await pool.json('dq', [])).length, before, 'nothing queued');
    const [still] = await pool.json('dq', [String(plain)]);
    assert.equal(still!.PbsDepend, undefined, 'the named job is untouched');
  });

  test('pbs habits – qstat shows an array as one line C[], -t adds its subjobs, -J shows array jobs only', async () => {
    const qstat = await qstatShim('shims');
    pool.file('arr.sh', '#!/bin/sh\n#PBS -N arr\n#PBS -J 1-2\ntrue\n', 0o755);
    pool.file('single.sh', '#!/bin/sh\n#PBS -N single\ntrue\n', 0o755);
    const arr = await pool.submit('arr.sh', ['-h']);
    const single = await pool.submit('single.sh', ['-h']);
    // as PBS's qstat: the array is one line, C[], its subjobs after it only with -t
    const plain = qstat('');
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`^${arr}\\[\\]\\.\\S+ +arr .* H `, 'm'), plain.stdout);
    assert.doesNotMatch(plain.stdout, new RegExp(`^${arr}\\[\\d`, 'm'), plain.stdout);
    const t = qstat('-t');
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`^${arr}\\[\\]\\.\\S+ +arr `, 'm'));
    assert.match(t.stdout, new RegExp(`^${arr}\\[1\\]\\.\\S+ +arr `, 'm'));
    assert.match(t.stdout, new RegExp(`^${arr}\\[2\\]\\.\\S+ +arr `, 'm'));
    assert.match(t.stdout, new RegExp(`^${single}\\.\\S+ +single `, 'm'));
    const j = qstat('-J');
    assert.equal(j.status, 0, j.stderr);
    assert.match(j.stdout, new RegExp(`^${arr}\\[\\]`, 'm'));
    assert.doesNotMatch(j.stdout, new RegExp(`^${arr}\\[1\\]`, 'm'));
    assert.doesNotMatch(j.stdout, /single/);
    await pool.run('drm', [String(arr), String(single)]);
  });

  test('pbs habits – qstat C[I] shows that subjob alone; qstat -f C[] shows the array itself (its paths with ^array_index^, its range and counts)', async () => {
    const qstat = await qstatShim('shims-f');
    pool.file('arrf.sh', '#!/bin/sh\n#PBS -N arrf\n#PBS -J 1-3\ntrue\n', 0o755);
    const arr = await pool.submit('arrf.sh', ['-h']);
    const one = qstat(`'${arr}[2]'`);
    assert.equal(one.status, 0, one.stderr);
    const ids = [...one.stdout.matchAll(/^(\d\S*) /gm)].map((m) => m[1]!.replace(/\..*/, ''));
    assert.deepEqual(ids, [`${arr}[2]`], one.stdout);
    // the array and a subjob named together: both lines
    const both = qstat(`'${arr}[]' '${arr}[2]'`);
    assert.match(both.stdout, new RegExp(`^${arr}\\[\\]\\.`, 'm'), both.stdout);

    const f = qstat(`-f '${arr}[]'`);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, new RegExp(`^Job Id: ${arr}\\[\\]\\.`, 'm'));
    assert.match(f.stdout, new RegExp(`Output_Path = \\S+:${pool.work}/arrf\\.o${arr}\\.\\^array_index\\^\n`));
    assert.match(f.stdout, new RegExp(`Error_Path = \\S+:${pool.work}/arrf\\.e${arr}\\.\\^array_index\\^\n`));
    assert.match(f.stdout, /^ {4}array = True$/m);
    assert.match(f.stdout, /^ {4}array_indices_submitted = 1-3$/m);
    assert.match(f.stdout, /^ {4}array_state_count = Queued:3 Running:0 Exiting:0 Expired:0$/m);
    assert.doesNotMatch(f.stdout, /array_index = |PBS_JOBID=|PBS_ARRAY_INDEX=/, 'nothing of one subjob');
    assert.match(f.stdout, /PBS_ARRAY_ID=/);
    const sub = qstat(`-f '${arr}[2]'`);
    assert.match(sub.stdout, new RegExp(`Output_Path = \\S+:${pool.work}/arrf\\.o${arr}\\.2\n`));
    assert.match(sub.stdout, /^ {4}array_index = 2$/m);
    assert.doesNotMatch(sub.stdout, /array = True/);
    await pool.run('drm', [String(arr)]);
  });

  test('pbs habits – qsub -I (interactive) is refused at once, script or not, with what to do instead; nothing is queued', async () => {
    pool.file('inter.sh', '#!/bin/sh\ntrue\n', 0o755);
    const before = (await pool.json('dq', ['-allusers'])).length;
    // no script: qsub -I would otherwise wait for one on standard input
    for (const args of [['-I'], ['-I', '-l', 'walltime=1:00:00', 'inter.sh'], ['-X', 'inter.sh']]) {
      const r = await pool.run('dsubmit', args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[USAGE\]: -[IX]: interactive jobs are not supported by dsched; .*dtail -f/);
    }
    // a job's own argument after -- is no option of qsub's
    const echo = await pool.run('dsubmit', ['-h', '--', '/bin/echo', '-I']);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal((await pool.json('dq', ['-allusers'])).length, before + 1);
    await pool.run('drm', [echo.stdout.trim()]);
  });

  test("pbs habits – qsig, qmove, qorder, qrerun, qmsg, tracejob and an admin's qmgr and pbsnodes say they are not supported and what to do instead (exit 2), and touch no job", async () => {
    const bin = join(pool.work, 'shims-refuse');
    assert.equal((await pool.run('dsched', ['shims', 'install', bin])).code, 0);
    pool.file('kept.sh', '#!/bin/sh\ntrue\n', 0o755);
    const id = (await pool.run('dsubmit', ['-h', 'kept.sh'])).stdout.trim();
    for (const [line, says] of [
      [`qsig -s TERM ${id}`, /qdel JOBID/],
      [`qmove other ${id}`, /-q QUEUE/],
      [`qorder ${id} ${id}`, /qalter -p/],
      [`qrerun ${id}`, /qhold JOBID, then qrls JOBID/],
      [`qmsg hello ${id}`, /no message/],
      [`tracejob ${id}`, /qstat -xf JOBID/],
      [`qmgr -c 'list queue workq'`, /dsched config -v QUEUES .*dsched reconfig/],
      ['pbsnodes -a', /dstatus .*dsched drain HOST/],
    ] as const) {
      const r = spawnSync('sh', ['-c', line], {
        cwd: pool.work,
        env: { ...pool.env, PATH: `${bin}:${process.env.PATH}` },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 2, `${line}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^${line.split(' ')[0]}: error\\[USAGE\\]: dsched `), line);
      assert.match(r.stderr, says, line);
    }
    const [ad] = await pool.json('dq', [id]);
    assert.equal(ad!.JobStatus, 5, 'still held, in its queue');
    await pool.run('drm', [id]);
  });

  test('torque habits – -t 1-3%1 runs at most one subjob at a time (the %N limit), and all of them', async () => {
    pool.file(
      'one.sh',
      `#!/bin/sh\n#PBS -N one\n#PBS -t 1-3%1\n${oneAtATimeScript(pool.work, 'one', '$PBS_ARRAYID')}`,
      0o755,
    );
    await assertOneAtATime(pool, await pool.submit('one.sh'), 'one', ['1', '2', '3']);
  });

  test('pbs habits – qstat -f Hold_Types: u for a job its owner held (qsub -h), s for one the system holds (waiting for a dependency)', async () => {
    const qstat = await qstatShim('shims-holds');
    pool.file('ht.sh', '#!/bin/sh\ntrue\n', 0o755);
    const held = (await pool.run('dsubmit', ['-h', 'ht.sh'])).stdout.trim();
    const waits = (await pool.run('dsubmit', ['-W', `depend=afterok:${held}`, 'ht.sh'])).stdout.trim();
    assert.match(qstat(`-f ${held}`).stdout, /^ {4}Hold_Types = u$/m);
    const w = qstat(`-f ${waits}`).stdout;
    assert.match(w, /^ {4}job_state = H$/m, w);
    assert.match(w, /^ {4}Hold_Types = s$/m, w);
    await pool.run('drm', [held, waits]);
  });

  test(
    "pbs habits – an administrator's qhold -h o is released only by an administrator (the owner's qrls, drelease and condor_release are refused); a plain hold by an administrator the owner may release, as HTCondor lets",
    { skip: !asRoot && "needs root (the job is uid 65534's)" },
    async () => {
      const bin = join(pool.work, 'shims-admin-holds');
      assert.equal((await pool.run('dsched', ['shims', 'install', bin])).code, 0);
      /** A command line as a user types it: as root (the pool's administrator here) or as nobody, the job's owner. */
      const sh = (line: string, owner = false) => {
        const r = spawnSync('sh', ['-c', line], {
          cwd: pool.work,
          env: { ...pool.env, PATH: `${bin}:${process.env.PATH}`, ...(owner ? { USER: 'nobody', HOME: '/tmp' } : {}) },
          encoding: 'utf8',
          timeout: 60_000,
          ...(owner ? { uid: 65534, gid: 65534 } : {}),
        });
        return { code: r.status, out: r.stdout, err: r.stderr };
      };
      pool.file('adm.sh', '#!/bin/sh\nsleep 600\n', 0o755);
      const sub = sh('qsub adm.sh', true);
      assert.equal(sub.code, 0, sub.err);
      const job = sub.out.trim();

      // -h is PBS's hold types, not help: the owner may not place an administrator's hold
      const own = sh(`qhold -h o ${job}`, true);
      assert.equal(own.code, 1, own.out);
      assert.match(
        own.err,
        /^qhold: error\[PERMISSION_DENIED\]: .*only a pool administrator places an operator \(o\)/m,
      );
      assert.match(sh(`qstat -f ${job}`).out, /^ {4}Hold_Types = n$/m, 'nothing held');

      assert.equal(sh(`qhold -h o ${job}`).code, 0);
      assert.match(sh(`qstat -f ${job}`).out, /^ {4}Hold_Types = o$/m);
      assert.equal(sh('qselect -u nobody -h o').out, `${job}\n`);
      assert.equal(sh('qselect -u nobody -h u').out, '', 'not an owner hold');
      assert.match(
        sh(`condor_q -better-analyze ${job}`, true).out,
        /^Why: it is held by a pool administrator \(PBS hold type o: .*\); only an administrator releases it/m,
      );
      const adminHold = /error\[PERMISSION_DENIED\]: .*has an administrator's hold \(PBS hold type o/;
      for (const [line, why] of [
        [`qrls ${job}`, adminHold],
        [`condor_release ${job}`, adminHold],
        [`qrls -h o ${job}`, /error\[PERMISSION_DENIED\]: .*only a pool administrator releases an operator \(o\)/],
      ] as const) {
        const r = sh(line, true);
        assert.equal(r.code, 1, line);
        assert.match(r.err, why, line);
      }
      const drelease = await pool.run('drelease', [job], {
        uid: 65534,
        gid: 65534,
        env: { USER: 'nobody', HOME: '/tmp' },
      });
      assert.equal(drelease.code, 1, drelease.stdout);
      assert.match(sh(`qstat -f ${job}`).out, /^ {4}Hold_Types = o$/m, 'still held');
      // PBS's qrls releases the owner's hold unless told otherwise, the administrator's too
      const plain = sh(`qrls ${job}`);
      assert.equal(plain.code, 1);
      assert.match(plain.err, /error\[JOB_STATE\]: job \S+ has hold type o: qrls -h o releases it/);
      assert.equal(sh(`qrls -h o ${job}`).code, 0);
      assert.doesNotMatch(sh(`qstat -f ${job}`).out, /Hold_Types = o/);

      // condor_hold by an administrator: condor_release by the owner (HTCondor's rule), qrls too
      assert.equal(sh(`condor_hold ${job}`).code, 0);
      const released = sh(`condor_release ${job}`, true);
      assert.equal(released.code, 0, released.err);
      assert.equal(sh(`qdel ${job}`, true).code, 0);
    },
  );
});
