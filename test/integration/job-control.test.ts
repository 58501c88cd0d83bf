// Users act on jobs: drm kills a running job's processes; nobody acts on another user's jobs; the daemons
// refuse calls that carry no pool token.
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { alive, TestPool } from './harness/pool.js';

describe('job control', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('drm – removing a running job kills its process', async () => {
    pool.file(
      'sleep.sub',
      `executable = /bin/sh\narguments = "-c 'echo $$ > pid.txt; exec sleep 300'"\nlog = sleep.log\nqueue\n`,
    );
    const r = await pool.run('dsubmit', ['sleep.sub']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const pid = await pool.waitFor(
      'the job to start',
      () => (pool.exists('pid.txt') && Number(pool.read('pid.txt').trim())) || undefined,
    );
    assert.ok(alive(pid));
    const running = await pool.waitFor('the job to be running', async () =>
      (await pool.json('dq', [String(cluster)])).find((j) => j.JobStatus === 2),
    );
    assert.equal(running.CurrentHosts, 1, 'a running job occupies one host');
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /1 job\(s\) marked for removal/);
    await pool.waitFor('the job process to die', () => !alive(pid));
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 3);
    assert.equal(ad!.CurrentHosts, 0);
    assert.equal(ad!.NumJobCompletions, 0, 'a removed job did not exit of its own accord');
    assert.match(pool.read('sleep.log'), /^009 /m);
  });

  test('drelease – a job released while the run it was held from is still stopping goes back to idle once that run has stopped', async () => {
    // the job takes its time to stop: on SIGTERM it waits for go.flag, so the release surely comes while it stops
    pool.file(
      'stopper.sh',
      "#!/bin/sh\ntrap 'touch term.flag; while [ ! -e go.flag ]; do sleep 0.1; done; exit 0' TERM\ntouch started.flag\nwhile :; do sleep 1 & wait $!; done\n",
      0o755,
    );
    pool.file('stopper.sub', 'executable = stopper.sh\njob_max_vacate_time = 600\nlog = stopper.log\nqueue\n');
    const cluster = await pool.submit('stopper.sub');
    await pool.waitFor('the job to run', () => pool.exists('started.flag'));
    assert.equal((await pool.run('dhold', [`${cluster}.0`])).code, 0);
    await pool.waitFor('the job to be told to stop', () => pool.exists('term.flag'));
    const rel = await pool.run('drelease', [`${cluster}.0`]);
    assert.equal(rel.code, 0, `a release while the job stops is taken: ${rel.stderr}`);
    const [held] = await pool.json('dq', [`${cluster}.0`]);
    assert.equal(held!.JobStatus, 5, 'held until its run has stopped');
    pool.file('go.flag', '');
    await pool.waitFor('the job to be idle or running again', async () =>
      [1, 2].includes(Number((await pool.json('dq', [`${cluster}.0`]))[0]?.JobStatus)),
    );
    assert.match(pool.read('stopper.log'), /^012 [\s\S]*^013 /m, 'held, then released, in the user log');
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    await pool.waitForHistory(cluster, 1);
  });

  test('drm – an unknown job id is an error', async () => {
    const r = await pool.run('drm', ['99999.0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^drm: error\[JOB_NOT_FOUND\]: job 99999\.0 is not in the queue$/m);
  });

  test('dq – the batch view counts procs that finished and left the queue as DONE', async () => {
    pool.file('batch.sub', `executable = /bin/true\nqueue\nhold = true\nqueue 2\n`);
    const r = await pool.run('dsubmit', ['batch.sub']);
    assert.equal(r.code, 0, r.stderr);
    const c = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitForHistory(c, 1);
    const q = await pool.run('dq', []);
    assert.match(q.stdout, new RegExp(`ID: ${c}\\s+\\S+\\s+\\S+\\s+1\\s+_\\s+_\\s+2\\s+3\\s`), q.stdout);
    await pool.run('drm', [String(c)]);
  });

  test('usage – a number option given a word is a usage error, not "no limit"', async () => {
    for (const [cmd, args] of [
      ['dhistory', ['-limit', 'abc']],
      ['dq', ['-limit', 'ten']],
      ['dwait', ['1', '-wait', 'soon']],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 2, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[USAGE\]: -(limit|wait) needs a number/);
    }
  });

  test(
    'drm – another user may not remove my job',
    { skip: process.getuid?.() !== 0 && 'needs root to run a command as another user' },
    async () => {
      pool.file('mine.sub', `executable = /bin/sleep\narguments = 300\nqueue\n`);
      const r = await pool.run('dsubmit', ['mine.sub']);
      const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
      const rm = await pool.run('drm', [String(cluster)], {
        uid: 65534,
        gid: 65534,
        env: { USER: 'nobody', HOME: '/tmp' },
      });
      assert.equal(rm.code, 1, rm.stdout + rm.stderr);
      assert.match(
        rm.stderr,
        new RegExp(`^drm: error\\[PERMISSION_DENIED\\]: permission denied: job ${cluster}\\.0 belongs to root$`, 'm'),
      );
      const q = await pool.json('dq', [String(cluster)]);
      assert.equal(q.length, 1, 'the job must still be queued');
      assert.notEqual(q[0]!.JobStatus, 3);
      const own = await pool.run('drm', [String(cluster)]);
      assert.equal(own.code, 0, own.stderr);
    },
  );

  test("hold – a job whose executable, input or output cannot be opened is held with HTCondor's code, the errno as subcode, and the file named", async () => {
    pool.file('gone.sh', '#!/bin/sh\n', 0o755);
    pool.file('gone.in', 'x\n');
    pool.file('outdir/keep', '');
    pool.file(
      'cant.sub',
      `executable = /bin/cat\ninput = gone.in\nhold = true\nqueue\nexecutable = gone.sh\ninput =\nqueue\nexecutable = /bin/true\noutput = outdir/job.out\nqueue\n`,
    );
    const r = await pool.run('dsubmit', ['cant.sub']);
    assert.equal(r.code, 0, r.stderr);
    // each change of executable starts a cluster, as condor_submit's
    const clusters = [...r.stdout.matchAll(/cluster (\d+)/g)].map((m) => m[1]!);
    assert.equal(clusters.length, 3, r.stdout);
    rmSync(join(pool.work, 'gone.in'));
    rmSync(join(pool.work, 'gone.sh'));
    rmSync(join(pool.work, 'outdir'), { recursive: true });
    assert.equal((await pool.run('drelease', clusters)).code, 0);
    const held = await pool.waitFor('the three jobs to be held again', async () => {
      const ads = await pool.json('dq', clusters);
      return ads.filter((a) => a.JobStatus === 5 && a.HoldReasonCode !== 15).length === 3 ? ads : undefined;
    });
    const [input, exe, output] = clusters.map((c) => held.find((a) => a.ClusterId === Number(c))!);
    assert.equal(input!.HoldReasonCode, 8);
    assert.equal(input!.HoldReasonSubCode, 2);
    assert.match(
      String(input!.HoldReason),
      /Failed to open '.*gone\.in' as standard input: No such file or directory \(errno 2\)/,
    );
    assert.equal(exe!.HoldReasonCode, 6);
    assert.equal(exe!.HoldReasonSubCode, 2);
    assert.match(String(exe!.HoldReason), /gone\.sh/);
    assert.equal(output!.HoldReasonCode, 7);
    assert.equal(output!.HoldReasonSubCode, 2);
    assert.match(String(output!.HoldReason), /Failed to open '.*outdir\/job\.out' as standard output/);
    await pool.run('drm', clusters);
  });

  test("dprio and duserprio – job priority and the submitters' fair share", async () => {
    pool.file('prio.sub', `executable = /bin/sleep\narguments = 30\nhold = true\nqueue 2\n`);
    const r = await pool.run('dsubmit', ['prio.sub']);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    assert.equal((await pool.run('dprio', ['-p', '7', `${cluster}.1`])).code, 0);
    assert.equal((await pool.run('dprio', ['+2', `${cluster}.0`])).code, 0);
    const af = await pool.run('dq', [String(cluster), '-af:j', 'JobPrio']);
    assert.match(af.stdout, new RegExp(`^${cluster}\\.0 2$`, 'm'));
    assert.match(af.stdout, new RegExp(`^${cluster}\\.1 7$`, 'm'));
    const bad = await pool.run('dprio', ['-p', 'high', String(cluster)]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^dprio: error\[USAGE\]: -p high: the priority is a whole number/m);
    // a job already held is in the wrong state for dhold
    const again = await pool.run('dhold', [`${cluster}.0`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`^dhold: error\\[JOB_STATE\\]: job ${cluster}\\.0 is already held$`, 'm'));
    const up = await pool.run('duserprio', ['-allusers']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Effective Priority/);
    const set = await pool.run('duserprio', ['-setfactor', 'someone@pool', '10']);
    assert.equal(set.code, 0, set.stderr);
    const after = await pool.run('duserprio', ['-allusers', '-json']);
    assert.ok(
      (JSON.parse(after.stdout) as Array<{ name: string; priority_factor: number }>).some(
        (s) => s.name === 'someone@pool' && s.priority_factor === 10,
      ),
    );
    await pool.run('drm', [String(cluster)]);
  });

  test('auth – an RPC without a pool token is refused', async () => {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds());
    try {
      await assert.rejects(
        client.query({ ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0 }),
        (e: { code?: string }) => e.code === 'UNAUTHENTICATED',
      );
      const forged = new ScheddClient(
        pool.daemonAddress('schedd'),
        pool.creds('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkYWVtb246eCIsImV4cCI6OTk5OTk5OTk5OX0.AAAA'),
      );
      await assert.rejects(forged.jobEvents([]), (e: { code?: string }) => e.code === 'UNAUTHENTICATED');
      forged.close();
    } finally {
      client.close();
    }
    // the pool's keys are its owner's alone
    assert.equal(statSync(join(pool.home, 'ca', 'token.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(pool.home, 'ca', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(pool.home, 'host', 'host.key')).mode & 0o777, 0o600);
  });
});
