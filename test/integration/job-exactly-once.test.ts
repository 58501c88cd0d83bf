// A job that ran to its end is recorded once and never started again, whatever dies meanwhile: a start
// request whose answer was lost, a startd stopped just after a job ended (before it heard of the end), a
// startd or a whole host killed after a job ended but before the startd read the end from its spawner
// (the spawner's exit journal), and a host crash while a job's output waits in its sandbox. Each fault is made at a chosen point (a process
// stopped with SIGSTOP, kill -9), and the test waits for events, never for a time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, DIST, TestPool } from './harness/pool.js';
import { journaled, keeperOf, processes, spawnerOf } from './harness/processes.js';
import { eventCodes, withoutReconnects } from './harness/user-log.js';

/** A job that records each run in `name.runs` and ends once `name.go` exists. */
function waitingJob(pool: TestPool, name: string, extra = ''): string {
  const go = join(pool.work, `${name}.go`);
  return pool.file(
    `${name}.sub`,
    `executable = /bin/sh\narguments = "-c 'echo run >> ${join(pool.work, `${name}.runs`)}; echo hello; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done'"\n` +
      `log = ${name}.log\n${extra}queue\n`,
  );
}

/**
 * The job's events, without a disconnection its startd recovered from (022 then 023, logged when a lease
 * renewal falls while a daemon is stopped or restarting): these tests count the runs and the ends.
 */
function events(pool: TestPool, log: string, cluster: number): string[] {
  return withoutReconnects(eventCodes(pool, log, cluster));
}

/** The daemon killed comes back and the job `name` (its ends counted in `name.done`) completes, once. */
async function completesOnceAfterRestart(pool: TestPool, daemon: string, pid: number, cluster: number, name: string) {
  await pool.waitForRestart(daemon, pid);
  const [ad] = await pool.waitForHistory(cluster, 1);
  assert.equal(ad!.JobStatus, 4);
  assert.equal(ad!.ExitCode, 0);
  assert.equal(pool.read(`${name}.done`), 'done\n', 'the job ran to its end once');
}

/**
 * SIGKILL to each of `pids`, as a host crash ends them: one that went with another killed just before (the
 * spawner and its keeper end when the startd above them dies, and a loaded machine may run them between two of
 * these kills) is gone, as in a crash.
 */
function crash(pids: number[]) {
  for (const pid of pids)
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
}

function logged(pool: TestPool, daemon: string, text: string): boolean {
  const f = join(pool.home, 'log', `${daemon}.log`);
  return existsSync(f) && readFileSync(f, 'utf8').includes(text);
}

describe('exactly once', () => {
  let pool: TestPool;
  before(async () => {
    // a long lease: nothing in these tests may wait for it; a long kill grace: a stopping startd waits for
    // its jobs' ends to be reported
    pool = await TestPool.start({ JOB_LEASE_DURATION: '300', KILL_GRACE: '15' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('exactly once – a start request whose answer never came is looked up at the startd, not taken for a refusal', async () => {
    // the spawner stopped: the startd takes the claim and waits for the job's process, past the schedd's deadline
    const spawner = spawnerOf(pool);
    process.kill(spawner, 'SIGSTOP');
    let cluster: number;
    try {
      cluster = await pool.submit(waitingJob(pool, 'lost'));
      await pool.waitFor(
        'the schedd to give up waiting for the answer',
        () => logged(pool, 'schedd', 'did not answer in time'),
        90_000,
      );
    } finally {
      process.kill(spawner, 'SIGCONT');
    }
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('lost.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    writeFileSync(join(pool.work, 'lost.go'), '');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('lost.runs'), 'run\n', 'the job ran once');
    assert.deepEqual(events(pool, 'lost.log', cluster), ['000', '001', '005']);
  });

  test('exactly once – a job that ended just before its startd was stopped completes, rather than being evicted and run again', async () => {
    const cluster = await pool.submit(waitingJob(pool, 'ended'));
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('ended.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    // the job ends while its spawner is stopped: the startd cannot hear of it yet
    const spawner = spawnerOf(pool);
    const job = processes().find((p) => p.ppid === spawner)!.pid;
    process.kill(spawner, 'SIGSTOP');
    let stopping: Promise<unknown> | undefined;
    try {
      writeFileSync(join(pool.work, 'ended.go'), '');
      await pool.waitFor('the job to end', () => processes().find((p) => p.pid === job)?.state === 'Z');
      // the pool is stopped: the startd evicts what it thinks runs, then waits for the ends to be reported
      stopping = pool.run('dsched', ['stop']);
      await pool.waitFor('the startd to stop its jobs', () => logged(pool, 'startd', 'stopping job'));
    } finally {
      process.kill(spawner, 'SIGCONT');
    }
    const stopped = (await stopping) as { code: number; stderr: string };
    assert.equal(stopped.code, 0, stopped.stderr);
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(pool.read('ended.runs'), 'run\n', 'the job ran once');
    assert.deepEqual(events(pool, 'ended.log', cluster), ['000', '001', '005']);
  });

  /**
   * Run a job, stop its startd (SIGSTOP: it reads nothing from its spawner, as a busy startd reads late), let
   * the job end (the spawner reaps it and journals its end), then `kill` what the case kills and bring the
   * pool back with `restart`. The job must complete exactly once.
   */
  async function endsWhileStartdStopped(
    name: string,
    kill: (startd: number, spawner: number, keeper: number) => void,
    restart: (startd: number) => Promise<void>,
  ) {
    const cluster = await pool.submit(waitingJob(pool, name));
    await pool.waitFor(
      'the job to run',
      async () => pool.exists(`${name}.runs`) && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const startd = pool.daemonPid('startd');
    const spawner = spawnerOf(pool);
    const keeper = keeperOf(pool);
    // named by the spawner's keeper, the process the startd started
    const journal = join(pool.home, 'run', `spawner-${keeper}.exits`);
    process.kill(startd, 'SIGSTOP');
    try {
      writeFileSync(join(pool.work, `${name}.go`), '');
      await pool.waitFor('the spawner to journal the end', () => journaled(journal, cluster, '"exitCode"'));
      kill(startd, spawner, keeper);
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await restart(startd);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read(`${name}.runs`), 'run\n', 'the job ran once');
    assert.deepEqual(events(pool, `${name}.log`, cluster), ['000', '001', '005']);
    await pool.waitFor('the spawner journal to be taken over', () => !existsSync(journal));
  }

  test('exactly once – a job that ended while its startd was stopped completes once after the startd is killed', async () => {
    // the master starts the startd again
    await endsWhileStartdStopped(
      'unread',
      (startd) => process.kill(startd, 'SIGKILL'),
      async (startd) => void (await pool.waitForRestart('startd', startd)),
    );
  });

  test('exactly once – a job that ended while its startd was stopped completes once after a host crash', async () => {
    await endsWhileStartdStopped(
      'unread-crash',
      (startd, spawner, keeper) => {
        const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
        crash([
          ...['collector', 'negotiator', 'schedd'].map((d) => pool.daemonPid(d)),
          startd,
          spawner,
          keeper,
          master,
        ]);
      },
      async () => {
        const r = await pool.run('dsched', ['start']);
        assert.equal(r.code, 0, r.stderr);
      },
    );
  });

  /**
   * Run a job, stop its spawner (SIGSTOP: a loaded spawner is late to reap), let the job end (a zombie, not
   * reaped yet), then `kill` what the case kills, let the spawner run again if it lives, and wait for
   * `restarted`. The job must complete exactly once.
   */
  async function endsUnreaped(
    name: string,
    kill: (startd: number, spawner: number) => void,
    restarted: (startd: number) => Promise<unknown>,
  ) {
    const cluster = await pool.submit(waitingJob(pool, name));
    await pool.waitFor(
      'the job to run',
      async () => pool.exists(`${name}.runs`) && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const startd = pool.daemonPid('startd');
    const spawner = spawnerOf(pool);
    const job = processes().find((p) => p.ppid === spawner)!.pid;
    process.kill(spawner, 'SIGSTOP');
    try {
      writeFileSync(join(pool.work, `${name}.go`), '');
      await pool.waitFor('the job to end', () => processes().find((p) => p.pid === job)?.state === 'Z');
      kill(startd, spawner);
    } finally {
      if (alive(spawner)) process.kill(spawner, 'SIGCONT');
    }
    await restarted(startd);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read(`${name}.runs`), 'run\n', 'the job ran once');
    assert.deepEqual(events(pool, `${name}.log`, cluster), ['000', '001', '005']);
  }

  test('exactly once – a job that ended while its spawner was behind completes once after the startd is killed', async () => {
    // the spawner hears of the job's end and of its startd's death at once
    await endsUnreaped(
      'unreaped',
      (startd) => process.kill(startd, 'SIGKILL'),
      (startd) => pool.waitForRestart('startd', startd),
    );
  });

  test('exactly once – a job that ended just before its spawner was killed, not yet reaped, completes once', async () => {
    // its keeper reaps the job and journals its end; the startd takes it from there
    await endsUnreaped(
      'keeper',
      (_, spawner) => process.kill(spawner, 'SIGKILL'),
      async () => {},
    );
  });

  test('exactly once – a job whose spawner is killed dies with it, runs again, and completes once', async () => {
    const go = join(pool.work, 'orphan.go');
    // a line at the start of each run and one at its end: the killed run never ends, the next one ends once
    pool.file(
      'orphan.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> orphan.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done; echo done >> orphan.done'"\nlog = orphan.log\nqueue\n`,
    );
    const cluster = await pool.submit('orphan.sub');
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('orphan.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const spawner = spawnerOf(pool);
    const job = processes().find((p) => p.ppid === spawner)!.pid;
    process.kill(spawner, 'SIGKILL');
    // no process of the job is left to end unobserved: its main process goes with the spawner
    await pool.waitFor('the job to die with its spawner', () => !alive(job));
    await pool.waitFor(
      'the job to run again',
      async () =>
        pool.read('orphan.runs') === 'run\nrun\n' && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    assert.ok(!pool.exists('orphan.done'), 'the first run never reached its end');
    writeFileSync(go, '');
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('orphan.done'), 'done\n', 'the job ran to its end once');
    assert.equal(events(pool, 'orphan.log', cluster).filter((e) => e === '005').length, 1);
  });

  test('exactly once – a host crash while a finished job’s output waits in its sandbox: the output comes back and the job completes once', async () => {
    // it runs in a sandbox (should_transfer_files): what it prints comes back when the schedd fetches it
    const cluster = await pool.submit(
      waitingJob(pool, 'out', 'should_transfer_files = YES\ntransfer_executable = false\noutput = out.stdout\n'),
    );
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('out.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    // the schedd cannot fetch the output nor record the exit: it is stopped when the job ends
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGSTOP');
    writeFileSync(join(pool.work, 'out.go'), '');
    const journal = join(pool.home, 'run', 'startd-exits.journal');
    await pool.waitFor('the startd to journal the exit', () => journaled(journal, cluster, '"exited"'));
    const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
    crash([
      ...['collector', 'negotiator', 'schedd', 'startd'].map((d) => pool.daemonPid(d)),
      spawnerOf(pool),
      keeperOf(pool),
      master,
    ]);

    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('out.runs'), 'run\n', 'the job ran once');
    assert.equal(pool.read('out.stdout'), 'hello\n', 'its output came back');
    assert.deepEqual(events(pool, 'out.log', cluster), ['000', '001', '005']);
  });
});

describe('exactly once, short lease', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ JOB_LEASE_DURATION: '6' });
  });
  after(async () => {
    await pool?.stop();
  });

  /**
   * A job ends while its startd is stopped; the schedd gives its run up at the lease (the job back to idle,
   * nothing to run it on); `meanwhile` runs; then the startd is killed, and its successor reports the end
   * from the spawner's journal: that end is the job's one completion.
   */
  async function lateExit(name: string, meanwhile: () => Promise<void>) {
    const go = join(pool.work, `${name}.go`);
    // a line at the start of each run and one at its end: a second run may start, never end
    pool.file(
      `${name}.sub`,
      `executable = /bin/sh\narguments = "-c 'echo run >> ${name}.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done; echo done >> ${name}.done'"\nlog = ${name}.log\nqueue\n`,
    );
    const cluster = await pool.submit(`${name}.sub`);
    await pool.waitFor(
      'the job to run',
      async () => pool.exists(`${name}.runs`) && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      writeFileSync(go, '');
      await pool.waitFor('the job to end', () => pool.exists(`${name}.done`));
      await pool.waitFor(
        'the schedd to give the job up',
        async () => (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 1,
        120_000,
      );
      await meanwhile();
      process.kill(startd, 'SIGKILL');
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await completesOnceAfterRestart(pool, 'startd', startd, cluster, name);
    const log = pool.read(`${name}.log`);
    assert.equal(log.split('\n').filter((l) => l.startsWith('005 ')).length, 1, log);
    // one run: its start once, however late its end came
    assert.equal(log.split('\n').filter((l) => l.startsWith('001 ')).length, 1, log);
  }

  test('exactly once – the exit of a job the schedd gave up on (its startd silent past the lease) is its completion when the startd reports it after a restart', async () => {
    await lateExit('late', async () => {});
  });

  test('exactly once – the late exit of a run given up on is its completion also when the schedd was killed between the give-up and the exit', async () => {
    // the give-up is in the queue's database, not only in the schedd's memory
    await lateExit('givenup', async () => {
      const schedd = pool.daemonPid('schedd');
      process.kill(schedd, 'SIGKILL');
      await pool.waitForRestart('schedd', schedd);
      await pool.waitFor('the restarted schedd to answer', async () => (await pool.json('dq', [])).length > 0);
    });
  });
});

describe('exactly once, a second machine', () => {
  let pool: TestPool;
  let other: string | undefined;
  let second: ChildProcess | undefined;
  before(async () => {
    // one slot per machine: the frozen startd's last ad offers nothing, the second machine one slot
    pool = await TestPool.start({ JOB_LEASE_DURATION: '6', NUM_CPUS: '1' });
  });
  after(async () => {
    if (second && second.exitCode === null && second.signalCode === null) {
      if (second.exitCode === null && second.signalCode === null) {
        second.kill('SIGTERM');
        await new Promise((r) => second!.once('exit', r));
      }
    }
    await pool?.stop();
    if (other) rmSync(other, { recursive: true, force: true });
  });

  /** Another startd of this host, in a home of its own, named `name`, reporting to the pool's collector. */
  function startSecondStartd(name: string): ChildProcess {
    other = mkdtempSync(join(tmpdir(), 'dsched-second-'));
    cpSync(join(pool.home, 'host'), join(other, 'host'), { recursive: true });
    writeFileSync(
      join(other, 'config'),
      `COLLECTOR_HOST = ${pool.daemonAddress('collector')}\nSTARTD_NAME = ${name}\nNUM_CPUS = 1\nUPDATE_INTERVAL = 1\n` +
        'STARTD_LAUNCHERS = process\nKILL_GRACE = 2\n',
    );
    return spawn(process.execPath, [join(DIST, 'cli', 'dsched.js'), 'startd'], {
      env: { ...pool.env, DSCHED_HOME: other },
      stdio: 'ignore',
    });
  }

  test('exactly once – a job whose run was given up on (its startd silent) waits for that run to be settled instead of running on a free machine, and its late exit is its one completion', async () => {
    const go = join(pool.work, 'frozen.go');
    // a line at the start of each run and one at its end: once `go` exists, any further run ends at once
    const job = (name: string) =>
      pool.file(
        `${name}.sub`,
        `executable = /bin/sh\narguments = "-c 'echo run >> ${name}.runs; i=0; while [ ! -e ${go} ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done; echo done >> ${name}.done'"\nlog = ${name}.log\nqueue\n`,
      );
    const cluster = await pool.submit(job('frozen'));
    await pool.waitFor(
      'the job to run',
      async () => pool.exists('frozen.runs') && (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2,
    );
    const startd = pool.daemonPid('startd');
    process.kill(startd, 'SIGSTOP');
    try {
      // the job ends while its startd hears nothing: its spawner journals the end
      writeFileSync(go, '');
      await pool.waitFor('the job to end', () => pool.exists('frozen.done'));
      await pool.waitFor(
        'the schedd to give the run up',
        async () => (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 1,
        120_000,
      );
      // a machine with a free slot joins; a job of the same autocluster submitted now would come second to
      // the older one (oldest first): once it has run there, the given-up job had every chance to run too
      second = startSecondStartd('second');
      const witness = await pool.submit(job('witness'));
      // (the second startd starts first: a node process on a loaded machine)
      const [w] = await pool.waitForHistory(witness, 1, 180_000);
      assert.match(String(w!.LastRemoteHost), /@second/, 'the witness ran on the second machine');
      assert.equal(pool.read('frozen.runs'), 'run\n', 'the job given up on did not run again');
      assert.equal((await pool.json('dq', [String(cluster)]))[0]?.JobStatus, 1, 'it waits, idle');
      // the second machine goes: the schedd waits a lease for the killed startd's successor (how long that one
      // takes to start on a loaded machine is not this test's to know), and the job can only be matched again
      // there, where the exit is reported before the startd serves
      if (second.exitCode === null && second.signalCode === null) {
        second.kill('SIGTERM');
        await new Promise((r) => second!.once('exit', r));
      }
      // the silent startd dies; its successor reports the end it finds in the spawner's journal
      process.kill(startd, 'SIGKILL');
    } finally {
      if (alive(startd)) process.kill(startd, 'SIGCONT');
    }
    await completesOnceAfterRestart(pool, 'startd', startd, cluster, 'frozen');
    assert.equal(pool.read('frozen.runs'), 'run\n', 'the job ran once');
    // the give-up (022 disconnected, 024 reconnection failed), then the completion, once and last
    const codes = events(pool, 'frozen.log', cluster);
    assert.deepEqual(codes.slice(0, 4), ['000', '001', '022', '024'], codes.join(' '));
    assert.equal(codes.filter((e) => e === '005').length, 1, codes.join(' '));
    assert.equal(codes.filter((e) => e === '001').length, 1, codes.join(' '));
    assert.equal(codes.at(-1), '005', codes.join(' '));
  });
});
