// The HTCondor and PBS command names (`dsched shims install DIR`) run the seed's own scripts unchanged:
// condor_submit simple.job, condor_wait on its log, condor_q / condor_history / condor_status; the PBS
// diamond (dag.sh: A=`qsub -N A job.sh`, -W depend=afterok), qstat's columns, qdel. Only the seed's
// Python path is adapted to this machine. Also: drm of a job that is not there says error[JOB_NOT_FOUND],
// and jobs find dchirp on their PATH.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, shimShell, TestPool } from './harness/pool.js';

const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'submit', name), 'utf8');
const NAMES = [
  'condor_submit',
  'condor_q',
  'condor_rm',
  'condor_status',
  'condor_wait',
  'condor_history',
  'qsub',
  'qstat',
  'qdel',
];

describe('HTCondor and PBS command names', () => {
  let pool: TestPool;
  let bin: string;
  before(async () => {
    pool = await TestPool.start();
    bin = join(pool.work, 'shims');
  });
  after(async () => {
    await pool?.stop();
  });

  const sh = (line: string) => shimShell(pool, bin, line);

  test('names – dsched shims install writes each name, and will not replace files without --force', async () => {
    const r = await pool.run('dsched', ['shims', 'install', bin]);
    assert.equal(r.code, 0, r.stderr);
    for (const n of NAMES) assert.ok(statSync(join(bin, n)).mode & 0o111, `${n} is executable`);
    const again = await pool.run('dsched', ['shims', 'install', bin]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /error\[USAGE\]: .* already has condor_submit/);
    assert.equal((await pool.run('dsched', ['shims', 'install', bin, '--force'])).code, 0);
  });

  test('names – each name says its own name in --version and in the usage line of --help', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const n of [
      'condor_submit',
      'condor_q',
      'condor_rm',
      'condor_status',
      'condor_history',
      'condor_prio',
      'qsub',
      'qdel',
    ]) {
      const v = sh(`${n} --version`);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout, `${n} (dsched) ${version}\n`);
      const h = sh(`${n} --help`);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, new RegExp(`^usage: ${n} `), `${n} --help`);
    }
    // the names run in a process of their own say their own name in their errors too, as qsub does
    for (const [line, own] of [
      ['condor_wait no-such.log', 'dwait'],
      ['condor_submit_dag no-such.dag', 'dsubmit-dag'],
      ['condor_prio -p 5 999999', 'dprio'],
      ['condor_qedit 999999 Foo 1', 'dqedit'],
      ['condor_tail 999999', 'dtail'],
      ['condor_userprio -setprio', 'duserprio'],
      ['condor_chirp get_job_attr Foo', 'dchirp'],
    ] as const) {
      const name = line.split(' ')[0]!;
      const r = sh(line);
      assert.notEqual(r.code, 0, line);
      assert.match(r.stderr, new RegExp(`^${name}: error\\[`, 'm'), `${line}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, new RegExp(`\\b${own}\\b`), `${line}: ${r.stderr}`);
    }
    // qsub's second usage line (the -- PROGRAM form) too
    assert.match(sh('qsub --help').stdout, /^ {7}qsub \[PBS options\] -- PROGRAM/m);
  });

  test('names – the seed simple.job through condor_submit, condor_wait, condor_history, condor_q, condor_status', () => {
    pool.file('simple.job', fixture('simple.job').replace('/usr/local/bin/python3.5', '/usr/bin/python3'));
    const s = sh('condor_submit simple.job');
    assert.equal(s.code, 0, s.stderr);
    const m = /^1 job\(s\) submitted to cluster (\d+)\.$/m.exec(s.stdout);
    assert.ok(m, `condor_submit's line that tools parse: ${s.stdout}`);
    const w = sh('condor_wait -wait 120 simple.log');
    assert.equal(w.code, 0, w.stdout + w.stderr);
    assert.equal(pool.read('simple_stdout.txt'), 'Hello, HTCondor!\n');
    const h = sh(`condor_history ${m[1]} -af ClusterId ExitCode`);
    assert.equal(h.stdout, `${m[1]} 0\n`);
    assert.equal(sh('condor_q -nobatch').code, 0);
    const st = sh('condor_status -af Cpus');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^\d+$/m);
  });

  test('names – the seed simple.dag through condor_submit_dag, waited on with condor_wait simple.dag.dagman.log', () => {
    const dag = 'JOB A a.job\nJOB B b.job\nJOB C c.job\nJOB D d.job\nPARENT A CHILD B C\nPARENT B C CHILD D\n';
    pool.file('seeddag/simple.dag', dag);
    for (const n of ['a', 'b', 'c', 'd'])
      pool.file(`seeddag/${n}.job`, fixture('a.job').replace(/job A/, `job ${n.toUpperCase()}`).replace(/a_/, `${n}_`));
    // C fails first: the DAG's log records its end, and the rescue DAG runs what is left
    pool.file('seeddag/c.job', pool.read('seeddag/c.job').replace('/bin/echo', '/bin/false'));
    const s = sh('cd seeddag && condor_submit_dag simple.dag');
    assert.equal(s.code, 0, s.stderr);
    const cluster = /^1 job\(s\) submitted to cluster (\d+)\.$/m.exec(s.stdout)?.[1];
    assert.ok(cluster, s.stdout);
    const w = sh('cd seeddag && condor_wait -wait 120 simple.dag.dagman.log');
    assert.equal(w.code, 0, w.stdout + w.stderr);
    const log = pool.read('seeddag/simple.dag.dagman.log');
    assert.match(log, new RegExp(`^000 \\(0*${cluster}\\.000\\.000\\) .* Job submitted`, 'm'));
    assert.match(log, /^\s+\(1\) Normal termination \(return value 1\)$/m, 'the DAG failed: its exit code');
    pool.file('seeddag/c.job', pool.read('seeddag/c.job').replace('/bin/false', '/bin/echo'));
    const again = sh('cd seeddag && condor_submit_dag simple.dag && condor_wait -wait 120 simple.dag.dagman.log');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(pool.read('seeddag/simple.dag.dagman.log'), /\(1\) Normal termination \(return value 0\)/);
    assert.equal(pool.read('seeddag/d_stdout.txt'), 'I am job D\n');
  });

  test('names – the seed diamond dag.sh through qsub; qstat -x shows the finished jobs in PBS columns', async () => {
    pool.file('job.sh', fixture('job.sh'), 0o755);
    pool.file('dag.sh', fixture('dag.sh'), 0o755);
    const r = sh('bash dag.sh');
    assert.equal(r.code, 0, r.stderr);
    const ids = [...r.stdout.matchAll(/(\d+)\.[\w.-]+/g)].map((x) => x[0]);
    assert.match(r.stdout, /^Submitted job A as \d+\.\S+$/m);
    assert.match(r.stdout, /^Submitted job D as \d+\.\S+$/m);
    const cluster = Number(ids.at(-1)!.split('.')[0]);
    await pool.waitForHistory(cluster, 1, 120_000);
    pool.file('later.sh', '#!/bin/sh\n#PBS -N later\n#PBS -h\ntrue\n', 0o755);
    const later = sh('qsub later.sh').stdout.trim();
    const x = sh('qstat -x');
    assert.equal(x.code, 0, x.stderr);
    for (const name of ['A', 'B', 'C', 'D'])
      assert.match(x.stdout, new RegExp(`^\\S+ +${name} +\\S+ +\\d+:\\d\\d:\\d\\d F workq$`, 'm'), x.stdout);
    // as PBS lists them: queued and finished jobs together, in job id order (oldest first)
    assert.match(
      x.stdout,
      new RegExp(`^${later.replace(/\./g, '\\.')} +later +\\S+ +00:00:00 H workq$`, 'm'),
      x.stdout,
    );
    const listed = [...x.stdout.matchAll(/^(\d+)\.\S+ /gm)].map((l) => Number(l[1]));
    assert.deepEqual(
      listed,
      [...listed].sort((a, b) => a - b),
      x.stdout,
    );
    assert.deepEqual(listed.slice(-5), [...ids.map((i) => Number(i.split('.')[0])), Number(later.split('.')[0])]);
    assert.equal(sh(`qdel ${later}`).code, 0);
    // a finished job is shown with -x, as PBS's qstat; without it PBS says the id is unknown
    const f = sh(`qstat -x -f ${ids[0]}`);
    assert.equal(f.code, 0, f.stderr);
    const gone = sh(`qstat -f ${ids[0]}`);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /^qstat: Unknown Job Id /m, "as PBS's qstat says it");
  });

  test('names – qsub prints the id qdel takes; qdel of a job that is not there is error[JOB_NOT_FOUND]', () => {
    pool.file('long.sh', '#!/bin/sh\nsleep 300\n', 0o755);
    const s = sh('qsub long.sh');
    assert.equal(s.code, 0, s.stderr);
    const id = s.stdout.trim();
    assert.match(id, /^\d+\.\S+$/, 'qsub prints only the job id');
    const q = sh('qstat');
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^Job id +Name +User +Time Use S Queue$/m);
    assert.match(
      q.stdout,
      new RegExp(`^${id.replace(/\./g, '\\.')} +long\\.sh +root +00:00:\\d\\d [QR] workq$`, 'm'),
      q.stdout,
    );
    assert.match(sh(`qstat -u root`).stdout, new RegExp(`^${id.replace(/\./g, '\\.')} `, 'm'));
    const d = sh(`qdel ${id}`);
    assert.equal(d.code, 0, d.stderr);
    // PBS's qdel prints nothing when it succeeds; condor_rm (drm) says what it did
    assert.equal(d.stdout, '');
    const h = sh('qsub -h long.sh');
    assert.equal(h.code, 0, h.stderr);
    const rls = sh(`qrls ${h.stdout.trim()}`);
    assert.equal(rls.code, 0, rls.stderr);
    assert.equal(rls.stdout, '');
    const rm = sh(`condor_rm ${h.stdout.trim().split('.')[0]}`);
    assert.match(rm.stdout, /^1 job\(s\) marked for removal\.$/m, rm.stderr);
    const missing = sh('qdel 999999; echo "exit $?"; condor_rm 999999.3');
    // each reports under the name the user typed
    assert.match(missing.stderr, /^qdel: error\[JOB_NOT_FOUND\]: job 999999 is not in the queue$/m);
    assert.match(missing.stderr, /^condor_rm: error\[JOB_NOT_FOUND\]: job 999999\.3 is not in the queue$/m);
    assert.match(missing.stdout, /^exit 1$/m);
  });

  test('names – qsub -W block=true prints the id, waits for the job and exits with its exit code', () => {
    pool.file('fail3.sh', '#!/bin/sh\necho failing\nexit 3\n', 0o755);
    const b = sh('J=$(qsub -W block=true fail3.sh); echo "exit $? id $J"; qstat -x -f "$J" | grep Exit_status');
    assert.match(b.stdout, /^exit 3 id \d+\.\S+$/m, b.stdout + b.stderr);
    // the job has ended when qsub returns: PBS's record of it says so
    assert.match(b.stdout, /^ +Exit_status = 3$/m, b.stdout);
    // in the script too, and an array: the exit code of the subjob that failed
    pool.file(
      'arr5.sh',
      '#!/bin/sh\n#PBS -J 0-3\n#PBS -W block=true\n[ "$PBS_ARRAY_INDEX" = 2 ] && exit 5\nexit 0\n',
      0o755,
    );
    const a = sh('qsub arr5.sh; echo "exit $?"');
    assert.match(a.stdout, /^\d+\[\]\.\S+\nexit 5$/m, a.stdout + a.stderr);
    pool.file('ok.sh', '#!/bin/sh\ntrue\n', 0o755);
    assert.equal(sh('qsub -W block=true ok.sh').code, 0);
    const bad = sh('qsub -W block=maybe ok.sh');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^qsub: error\[PBS_SYNTAX\]: -W block: expected true or false, found 'maybe'$/m);
  });

  test('names – a job finds dchirp on its PATH without getenv', async () => {
    pool.file('where.sub', 'executable = /bin/sh\narguments = "-c \'command -v dchirp\'"\noutput = where.out\nqueue\n');
    const c = await pool.submit('where.sub');
    await pool.waitForHistory(c, 1);
    const path = pool.read('where.out').trim();
    assert.match(path, /\/libexec\/dchirp$/);
    assert.ok(existsSync(path));
  });
});
