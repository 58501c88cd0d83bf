// What an admin coming from HTCondor types to look after a pool: condor_restart's dsched restart, and a
// central manager that later runs jobs too.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, homeProcesses, START_BACKSTOP_MS, TestPool } from './harness/pool.js';
import { eventCodes, withoutReconnects } from './harness/user-log.js';

describe('admin commands', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('admin commands – dsched restart stops every daemon and starts new ones; a job running across it runs again and completes', async () => {
    const go = join(pool.work, 'go');
    pool.file(
      'wait.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> wait.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done'"\nlog = wait.log\nqueue\n`,
    );
    const c = await pool.submit('wait.sub');
    // running at the schedd too (its start answered), not only at the startd: the eviction is of a running job
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('wait.runs') && (await pool.json('dq', [String(c)]))[0]?.JobStatus === 2,
    );
    const before = Object.fromEntries(['master', 'schedd', 'startd'].map((d) => [d, pool.daemonPid(d)]));
    const r = await pool.run('dsched', ['restart'], { timeoutMs: START_BACKSTOP_MS });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pool stopped[\s\S]*pool started/);
    for (const [d, pid] of Object.entries(before)) {
      // the old master gives up its pid file as the last thing it does: its process may take a moment more to end
      await pool.waitFor(`the old ${d} (pid ${pid}) to be gone`, () => !alive(pid));
      assert.notEqual(pool.daemonPid(d), pid, `a new ${d}`);
    }
    const status = await pool.run('dsched', ['status']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    // evicted by the stop, as condor_restart evicts: it runs again, then finishes once
    await pool.waitFor('the job to run again', () => pool.read('wait.runs') === 'run\nrun\n');
    pool.file('go', '');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('wait.runs'), 'run\nrun\n');
    // the schedd heard of the eviction before it stopped (the startds stop first): its log says so, not that
    // the job was lost while the schedd was down
    const log = pool.read('wait.log');
    assert.match(
      log,
      new RegExp(`^004 \\(0*${c}\\.000\\.000\\) .* Job was evicted\\.\n[^]*?Reason: the startd was shut down$`, 'm'),
    );
    // (a renewal left unanswered a few seconds on a loaded machine and recovered from, 022 then 023, is no part of it)
    const codes = withoutReconnects(eventCodes(pool, 'wait.log', c));
    assert.deepEqual(
      codes.filter((e) => e === '022' || e === '024'),
      [],
      codes.join(' '),
    );
  });

  test('admin commands – dsched drain of a machine not in the pool is error[MACHINE_NOT_FOUND], exit 1', async () => {
    const r = await pool.run('dsched', ['drain', 'no-such-host']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^dsched: error\[MACHINE_NOT_FOUND\]: no machine named no-such-host is in the pool\n {2}hint: dstatus lists the machines\n$/,
    );
  });

  test('admin commands – a job waiting for a drained machine is analysed as such, and runs once the drain ends', async () => {
    // dq -analyze said every slot that could run it was busy, sending the user to wait on other users' jobs
    const pslot = async () => (await pool.json('dstatus', ['-constraint', 'PartitionableSlot']))[0];
    const machine = String((await pslot())!.Machine);
    const d = await pool.run('dsched', ['drain', machine, '-reason', 'kernel upgrade']);
    assert.equal(d.code, 0, d.stderr);
    await pool.waitFor('the machine to be drained', async () => (await pslot())?.State === 'Drained');
    const c = await pool.submit(pool.file('drained.sub', 'executable = /bin/true\nqueue\n'));
    const r = await pool.run('dq', ['-analyze', `${c}.0`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Why: the slot that can run it is drained by an administrator \(slot1@\S+: kernel upgrade\), taking no new jobs: it waits until the drain ends \(dsched drain NAME -cancel\)/m,
    );
    assert.match(r.stdout, /^ {2}1 of those is drained by an administrator and takes no new jobs/m);
    const cancel = await pool.run('dsched', ['drain', machine, '-cancel']);
    assert.equal(cancel.code, 0, cancel.stderr);
    await pool.waitForHistory(c, 1);
  });

  test('admin commands – dsched config show / reload, typed as other tools spell them, say what does that here (exit 1)', async () => {
    const show = await pool.run('dsched', ['config', 'show']);
    assert.equal(show.code, 1);
    assert.equal(
      show.stderr,
      'dsched: show is not defined (dsched config with no name shows every value, -v where each comes from)\n',
    );
    const reload = await pool.run('dsched', ['config', 'reload']);
    assert.equal(reload.code, 1);
    assert.match(
      reload.stderr,
      /^dsched: reload is not defined \(dsched reconfig makes every daemon re-read the configuration\)\n$/,
    );
    const all = await pool.run('dsched', ['config']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^UPDATE_INTERVAL = /m);
  });
});

describe('admin commands – dsched stop of a pool whose schedd hangs', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('admin commands – dsched stop with the schedd stopped (SIGSTOP): its master kills it after the grace time and stops the collector after it, leaving nothing running', async () => {
    process.kill(pool.daemonPid('schedd'), 'SIGSTOP');
    const r = await pool.run('dsched', ['stop'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    // the master stopped every daemon itself: dsched stop found none left by a master that gave up
    assert.doesNotMatch(r.stdout, /left by a master/);
    assert.match(r.stdout, /pool stopped/);
    await pool.waitFor('every process of the pool to be gone', () => homeProcesses(pool.home).length === 0);
  });
});

describe('admin commands – a central manager that later runs jobs too', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('admin commands – STARTD added to DAEMON_LIST of the central host: after dsched restart its slots are in the pool and run jobs', async () => {
    const key = readFileSync(join(pool.home, 'host', 'host.key'), 'utf8');
    appendFileSync(join(pool.home, 'config'), 'DAEMON_LIST = COLLECTOR, NEGOTIATOR, SCHEDD, STARTD\n');
    const r = await pool.run('dsched', ['restart'], { timeoutMs: START_BACKSTOP_MS });
    assert.equal(r.code, 0, r.stderr);
    // no warning: the central host gives itself the new role. (On a loaded machine dsched start may rightly
    // say that it still waits for a daemon to serve, or that the slot ads have not reached the collector yet:
    // the job below shows that they have.)
    const said = r.stderr
      .split('\n')
      .filter(
        (l) =>
          l &&
          !/^dsched: (still waiting for |warning: the collector\b.* has not taken this host's slot ads yet)/.test(l),
      );
    assert.deepEqual(said, [], 'no warning: the central host gives itself the new role');
    // the collector refused the startd's ads for ever when the certificate lacked the startd role
    pool.file('one.sub', 'executable = /bin/echo\narguments = ran\noutput = one.out\nqueue\n');
    const c = await pool.submit('one.sub');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('one.out'), 'ran\n');
    assert.equal(readFileSync(join(pool.home, 'host', 'host.key'), 'utf8'), key, "the host's key is kept");
    assert.doesNotMatch(pool.logs(), /Machine ads come from a startd/);
  });
});
