// The HTCondor and PBS names (`dsched shims install`) run through the commands' launcher, so a workflow tool's
// thousands of `qsub` calls are served by the command agent as dsubmit's are, and a cron line or a job with a
// bare PATH still finds the node the shims were made with (DSCHED_NODE).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Launcher } from './harness/agent.js';
import { TestPool } from './harness/pool.js';

let pool: TestPool;
let l: Launcher;
let bin: string;
before(async () => {
  pool = await TestPool.start();
  l = new Launcher(pool);
  bin = join(pool.work, 'shims');
  const r = await pool.run('dsched', ['shims', 'install', bin]);
  assert.equal(r.code, 0, r.stderr);
  pool.file('job.sh', '#!/bin/sh\n#PBS -N shimmed\n#PBS -h\n/bin/true\n', 0o755);
});
after(async () => {
  l.close();
  await pool?.stop();
});

/** A command line run by /bin/sh whose PATH holds the shims alone: no node on it. */
const sh = (line: string) => {
  const r = spawnSync('/bin/sh', ['-c', line], {
    cwd: pool.work,
    env: { ...l.env, PATH: bin },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('shims – qsub, condor_q, qstat and qselect run through the command agent with no node on PATH', async () => {
  // the first command starts the agent and runs without it; later ones are served by it
  const first = sh('qsub job.sh');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^\d+\.\S+\n$/);
  let served = false;
  for (const deadline = Date.now() + 60_000; !served && Date.now() < deadline;) {
    const r = sh('qsub --debug job.sh');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\S+\n$/);
    served = /the agent at .* runs the command/.test(r.stderr);
    if (!served) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(served, 'a qsub was served by the command agent');
  const q = sh('condor_q -af PbsJobName -allusers');
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^shimmed$/m);
  assert.ok(l.agents().length > 0);

  // qstat and qselect: dq with their options mapped, in the agent as in a process of their own
  for (const line of ['qstat', 'qselect']) assert.match(sh(`${line} --debug`).stderr, /the agent at .* runs/, line);
  for (const line of ['qstat', 'qstat -f', 'qstat -u nosuchuser', 'qselect -s H', 'qstat -Z']) {
    const warm = sh(line);
    const cold = sh(`DSCHED_AGENT=0 ${line}`);
    assert.deepEqual(warm, cold, line);
  }
  // an error of dq's own (a queue name it refuses) is reported as the command the user typed, both ways; so
  // are those of the names that run a dsched command with its own options (condor_q is dq, qsub dsubmit)
  for (const agent of ['', 'DSCHED_AGENT=0 ']) {
    const r = sh(`${agent}qselect -q 'a"b'`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^qselect: error\[USAGE\]: -queue: /, agent);
    const q = sh(`${agent}condor_q -nosuchoption`);
    assert.equal(q.code, 2, q.stderr);
    assert.match(q.stderr, /^condor_q: error\[USAGE\]: /, agent);
    const s = sh(`${agent}qsub -k oe job.sh`);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /^qsub: warning: -k oe: not supported/m, agent);
  }
  assert.match(sh('qstat').stdout, /shimmed/);
});
