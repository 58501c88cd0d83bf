// What PBS scripts parse, through the names `dsched shims install` writes: qstat -f's fields (exit_status and
// Exit_status of a finished job with -x), qstat -a/-n/-s's layout with each job's hosts and comment (-u, -i,
// -r and -w pick it too), and
// qselect's job ids (qdel $(qselect -u me -s H)).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('pbs scripts – qstat fields and qselect as scripts use them', () => {
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

  /** A shell command line in the work folder with the shims first on PATH, as a user's script runs it. */
  const sh = (line: string, env: Record<string, string> = {}) => {
    const r = spawnSync('sh', ['-c', line], {
      cwd: pool.work,
      env: { ...pool.env, PATH: `${bin}:${process.env.PATH}`, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const qsub = (script: string) => {
    const r = sh(`qsub ${script}`);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  test('pbs scripts – qstat -x -f JOBID: exit_status and Exit_status of a finished job, 256+N for signal N', async () => {
    pool.file('three.sh', '#!/bin/sh\n#PBS -N three\nexit 3\n', 0o755);
    pool.file('killed.sh', '#!/bin/sh\n#PBS -N killed\nkill -9 $$\n', 0o755);
    const three = qsub('three.sh');
    const killed = qsub('killed.sh');
    await pool.waitForHistory(Number(three.split('.')[0]), 1);
    await pool.waitForHistory(Number(killed.split('.')[0]), 1);
    const f = sh(`qstat -x -f ${three}`);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, new RegExp(`^Job Id: ${three.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(f.stdout, /^ {4}job_state = F$/m);
    // the lines scripts grep, in PBS Professional's spelling and Torque's
    assert.equal(sh(`qstat -x -f ${three} | grep Exit_status | awk '{print $3}'`).stdout, '3\n');
    assert.equal(sh(`qstat -x -f ${three} | grep exit_status | awk '{print $3}'`).stdout, '3\n');
    assert.equal(sh(`qstat -x -f ${killed} | grep Exit_status | awk '{print $3}'`).stdout, '265\n');
  });

  test('pbs scripts – qstat -a, -n and -s: the alternate layout, hosts and comment under each job', async () => {
    pool.file('long.sh', '#!/bin/sh\n#PBS -N longjob\n#PBS -l walltime=01:00:00\nsleep 300\n', 0o755);
    pool.file('held.sh', '#!/bin/sh\n#PBS -N heldjob\n#PBS -h\ntrue\n', 0o755);
    const long = qsub('long.sh');
    const held = qsub('held.sh');
    await pool.waitFor('the job to run', () => / R /.test(sh(`qstat ${long}`).stdout) || undefined);
    const a = sh(`qstat -a ${long} ${held}`);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^Job ID +Username +Queue +Jobname +SessID +NDS +TSK +Memory +Time +S +Time$/m);
    const row = (id: string) => new RegExp(`^${id.replace(/\./g, '\\.').slice(0, 15)}`, 'm');
    assert.match(a.stdout, row(long));
    // awk's fields as PBS scripts read them: 10 the state, 4 the name
    assert.equal(sh(`qstat -a ${long} | awk 'NR > 5 {print $4, $10}'`).stdout, 'longjob R\n');
    assert.match(sh(`qstat -a ${long} | awk 'NR > 5 {print $9}'`).stdout, /^01:00$/m);
    const n = sh(`qstat -n ${long}`).stdout.split('\n');
    const at = n.findIndex((l) => row(long).test(l));
    assert.match(n[at + 1]!, /^ {3}\S+\/\d+$/, n.join('\n'));
    const s = sh(`qstat -s ${held}`).stdout.split('\n');
    const hs = s.findIndex((l) => row(held).test(l));
    assert.match(s[hs + 1]!, /^ {3}job held: /, s.join('\n'));
    assert.equal(sh(`qdel ${long} ${held}`).code, 0);
    // the running one leaves the queue once its run has stopped: gone before the next test lists every job
    for (const id of [long, held]) await pool.waitForHistory(Number(id.split('.')[0]), 1);
  });

  test('pbs scripts – qstat -u, -i and -r show the alternate layout, as PBS’s qstat does; -w widens its columns', async () => {
    pool.file('wide.sh', '#!/bin/sh\n#PBS -N my-odd.name_1\n#PBS -h\ntrue\n', 0o755);
    const id = qsub('wide.sh');
    const row = new RegExp(`^${id.replace(/\./g, '\\.')} +root +workq +my-odd\\.na\\* +-- +1 +1 `, 'm');
    for (const line of [`qstat -u root`, `qstat -i ${id}`, `qstat -r -u root`]) {
      const r = sh(line);
      assert.equal(r.code, 0, r.stderr);
      if (line.includes('-r')) assert.doesNotMatch(r.stdout, row, 'held: not running');
      else {
        assert.match(r.stdout, /^Job ID {10}Username Queue {4}Jobname {4}SessID NDS TSK Memory Time {2}S Time$/m, line);
        assert.match(r.stdout, row, line);
      }
    }
    // PBS's wide widths: Job ID 30, Username, Queue and Jobname 15, SessID 8, NDS 4, TSK 5; no name cut
    const w = sh(`qstat -a -w ${id}`);
    assert.equal(w.code, 0, w.stderr);
    assert.match(
      w.stdout,
      /^Job ID {25}Username {8}Queue {11}Jobname {9}SessID {3}NDS {2}TSK {3}Memory Time {2}S Time$/m,
    );
    assert.match(
      w.stdout,
      new RegExp(`^${id.padEnd(30).replace(/\./g, '\\.')} root {12}workq {11}my-odd\\.name_1 {9}-- {4}1 {5}1 `, 'm'),
    );
    assert.equal(sh(`qdel ${id}`).code, 0);
    await pool.waitForHistory(Number(id.split('.')[0]), 1);
  });

  test('pbs scripts – qselect prints the ids qdel takes: -u, -s, -N; bad options are usage errors', async () => {
    pool.file('h.sh', '#!/bin/sh\n#PBS -N pick\n#PBS -h\ntrue\n', 0o755);
    pool.file('o.sh', '#!/bin/sh\n#PBS -N other\n#PBS -h\ntrue\n', 0o755);
    const pick = qsub('h.sh');
    const other = qsub('o.sh');
    assert.equal(sh('qselect -u root -s H').stdout, `${pick}\n${other}\n`);
    assert.equal(sh('qselect -N pick').stdout, `${pick}\n`);
    assert.equal(sh('qselect -u root -s R').stdout, '');
    assert.equal(sh('qselect -u nobody').stdout, '');
    const del = sh('qdel $(qselect -u root -N pick) && qselect -u root');
    assert.equal(del.code, 0, del.stderr);
    assert.equal(
      del.stdout
        .split('\n')
        .filter((l) => /^\d+\.\S+$/.test(l))
        .join('\n'),
      other,
    );
    const bad = sh('qselect -s Z');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-s takes job states among/);
    const quote = sh(`qselect -N 'a"b'`);
    assert.equal(quote.code, 2);
    assert.match(quote.stderr, /-N needs a plain value/);
    assert.equal(sh(`qdel ${other}`).code, 0);
  });
});
