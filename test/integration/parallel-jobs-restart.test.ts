// Parallel jobs and the schedd's claims, on the network-namespace pool (harness/netns.ts, one cpu per execute
// host): a schedd killed -9 while a 3-host job runs finds all its chunks again, or, when one of them is gone,
// stops the job, kills its ranks and runs it again whole; the slots reserved for a waiting 3-host job are
// not taken by the schedd reusing its claims for a stream of small jobs, and are backfilled only by jobs
// whose walltime ends before the reservation can start.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { processStartTime } from '../../lib/pid-file.js';
import { NETNS_TEST_BACKSTOP_MS, NetnsPool, netnsUnavailable } from './harness/netns.js';

const unavailable = netnsUnavailable();
if (unavailable) console.log(`# parallel job restart tests skipped: ${unavailable}`);
const skip = unavailable ? `cannot make network namespaces: ${unavailable}` : false;

const HEAD = '#!/bin/sh\n#PBS -l select=3:ncpus=1\n#PBS -l place=scatter\n#PBS -o gang.out\n#PBS -e gang.err\n';

/**
 * A process as first seen: its pid and start time. Pids wrap within minutes during the suite: a pid alive
 * later may be another process's.
 */
function seen(pid: number): { pid: number; start?: string } {
  return { pid, start: processStartTime(pid) };
}

/** Whether the process seen still runs (not a zombie, nor another process given its pid since). */
function alive(p: { pid: number; start?: string }): boolean {
  return p.start !== undefined && processStartTime(p.pid) === p.start;
}

/** Lines of a file the job writes (none yet: []). */
function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : [];
}

describe('parallel jobs and the schedd', () => {
  let pool: NetnsPool | undefined;
  afterEach(async () => {
    const leaks = (await pool?.stop()) ?? [];
    pool = undefined;
    assert.deepEqual(leaks, [], 'every daemon stops on SIGTERM and leaves nothing running');
  });

  /** A directory every job may write in: the job and its ranks leave their marks there. */
  function marks(p: NetnsPool): string {
    const d = join(p.root, 'marks');
    mkdirSync(d);
    chmodSync(d, 0o1777);
    return d;
  }

  /** A loop of the job's that waits (bounded) for the test's go-ahead. */
  const untilGo = (d: string) => `i=0; while [ ! -e ${d}/go ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done`;

  async function restartSchedd(p: NetnsPool) {
    await p.kill9('central', 'schedd');
    await p.startDaemon(p.central, 'schedd');
  }

  test(
    'parallel jobs and the schedd – a schedd killed -9 while a 3-host job runs reconnects to every chunk: the ranks go on and the job ends once, whole',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      // a lease long enough to outlast the schedd's restart on a loaded machine
      pool = await NetnsPool.start({
        execHosts: 3,
        config: { JOB_LEASE_DURATION: '120' },
        execConfig: { NUM_CPUS: '1', MEMORY: '1024' },
      });
      const p = pool;
      const d = marks(p);
      const c = await p.submit(
        'gang.sh',
        `${HEAD}dsched-rank /bin/sh -c 'echo $$ > ${d}/rank$DSCHED_PROCNO; ${untilGo(d)}; echo "rank $DSCHED_PROCNO $PWD"'\necho "ranks done: $?"\n`,
      );
      // (a rank's file holds its pid once written: the shell creates it empty first)
      await p.waitFor('both ranks to run', () => [1, 2].every((n) => lines(join(d, `rank${n}`)).length === 1), 120_000);
      const pids = [1, 2].map((n) => seen(Number(lines(join(d, `rank${n}`))[0])));

      await restartSchedd(p);
      await p.waitFor(
        'the schedd to find every chunk again',
        () => p.logRecords('central', 'schedd').some((r) => r.msg === 'reconnected to every chunk of the parallel job'),
        90_000,
      );
      assert.ok(pids.every(alive), 'no rank was killed');
      const [running] = await p.json('dq', [String(c)]);
      assert.equal(running!.JobStatus, 2, 'the job runs on');

      writeFileSync(join(d, 'go'), '');
      const [ad] = await p.waitForHistory(c, 1, 90_000);
      assert.equal(ad!.JobStatus, 4);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'gang.err'), 'utf8'));
      assert.equal(ad!.NumJobStarts, 1, 'started once');
      const out = readFileSync(join(p.work, 'gang.out'), 'utf8');
      assert.match(out, /^rank 1 .*\/exec\d\/execute\//m);
      assert.match(out, /^rank 2 .*\/exec\d\/execute\//m);
      assert.match(out, /^ranks done: 0$/m);
      await p.waitFor('every slot to be unclaimed again', async () =>
        (await p.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
      );
    },
  );

  test(
    'parallel jobs and the schedd – a chunk lost while the schedd was down: the job is stopped, its rank killed, and it runs again whole',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({
        execHosts: 3,
        config: { JOB_LEASE_DURATION: '120' },
        execConfig: { NUM_CPUS: '1', MEMORY: '1024' },
      });
      const p = pool;
      const d = marks(p);
      // chunk 1 runs a rank; chunk 2's slot is only claimed. Each run leaves its first chunk's and its rank's
      // pids and the hosts.
      const c = await p.submit(
        'gang.sh',
        `${HEAD}echo $$ >> ${d}/first\ncp "$PBS_NODEFILE" ${d}/nodes\ndsched-rank -n 1 /bin/sh -c 'echo $$ >> ${d}/rank1; ${untilGo(d)}' &\n${untilGo(d)}\nwait\necho finished\n`,
      );
      await p.waitFor('the first run and its rank', () => lines(join(d, 'rank1')).length === 1, 120_000);
      const firstRun = [...lines(join(d, 'first')), ...lines(join(d, 'rank1'))].map((l) => seen(Number(l)));
      const chunk2 = lines(join(d, 'nodes'))[2]!;

      // while the schedd is down, the startd of chunk 2 dies and comes back: it no longer has the claim
      await p.kill9('central', 'schedd');
      await p.kill9(chunk2, 'startd');
      await p.startDaemon(p.host(chunk2), 'startd');
      await p.startDaemon(p.central, 'schedd');

      await p.waitFor(
        'the job to run again, whole',
        () => lines(join(d, 'rank1')).length === 2 && lines(join(d, 'first')).length === 2,
        180_000,
      );
      // waited for, not looked at once: the first run's kills and the second run's start come from different hosts
      await p.waitFor('the first run and its rank to be killed', () => !firstRun.some(alive));
      writeFileSync(join(d, 'go'), '');
      const [ad] = await p.waitForHistory(c, 1, 90_000);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'gang.err'), 'utf8'));
      assert.equal(ad!.NumJobStarts, 2, 'run again once, whole');
      assert.match(readFileSync(join(p.work, 'gang.out'), 'utf8'), /^finished$/m);
      assert.ok(
        p
          .logRecords('central', 'schedd')
          .some((r) => r.msg === 'parallel job lost some of its slots while the schedd was down'),
      );
      await p.waitFor('every slot to be unclaimed again', async () =>
        (await p.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
      );
    },
  );

  test(
    'parallel jobs and the schedd – a stream of small jobs reusing their claims does not starve a 3-host job: the reserved slots drain',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({ execHosts: 3, execConfig: { NUM_CPUS: '1', MEMORY: '1024' } });
      const p = pool;
      const d = marks(p);
      // one autocluster of small jobs that never runs dry before the parallel job has run: each run fails
      // until the parallel job has left its mark, and on_exit_remove puts it back in the queue. Reusing the
      // claims for them would keep every host busy for ever (the wait for the parallel job would time out);
      // a fixed number of short jobs instead raced the reservation against a loaded machine.
      writeFileSync(join(p.work, 'small.sh'), `#!/bin/sh\nsleep 1\ntest -e ${d}/gang\n`, { mode: 0o755 });
      const small = await p.submit(
        'small.sub',
        'executable = small.sh\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 128\non_exit_remove = ExitCode == 0\nqueue 12\n',
      );
      await p.waitFor(
        'a small job on every host',
        async () => (await p.json('dq', [String(small)])).filter((j) => j.JobStatus === 2).length === 3,
        120_000,
      );
      const gang = await p.submit('gang.sh', `${HEAD}touch ${d}/gang\ncat "$PBS_NODEFILE"\n`);
      const [ad] = await p.waitForHistory(gang, 1, 180_000);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'gang.err'), 'utf8'));
      assert.deepEqual(readFileSync(join(p.work, 'gang.out'), 'utf8').trim().split('\n').sort(), [
        'exec1',
        'exec2',
        'exec3',
      ]);
      const r = await p.run('drm', [String(small)]);
      assert.equal(r.code, 0, r.stderr);
    },
  );

  test(
    'parallel jobs and the schedd – backfill: on the slots reserved for a 3-host job, jobs whose walltime ends before it can start run; a job without one waits',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({ execHosts: 3, execConfig: { NUM_CPUS: '2', MEMORY: '2048' } });
      const p = pool;
      const d = marks(p);
      // one cpu of each host busy for up to ten minutes (a bound the reservation counts on) until the go-ahead
      writeFileSync(join(p.work, 'blocker.sh'), `#!/bin/sh\n${untilGo(d)}\n`, { mode: 0o755 });
      const blockers = await p.submit(
        'blockers.sub',
        'executable = blocker.sh\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 128\nallowed_job_duration = 600\nqueue 3\n',
      );
      await p.waitFor(
        'the blockers to run',
        async () => (await p.json('dq', [String(blockers)])).filter((j) => j.JobStatus === 2).length === 3,
        120_000,
      );
      const gang = await p.submit(
        'gang.sh',
        '#!/bin/sh\n#PBS -l select=3:ncpus=2\n#PBS -l place=scatter\n#PBS -o gang.out\n#PBS -e gang.err\ncat "$PBS_NODEFILE"\n',
      );
      await p.waitFor(
        'the reservation',
        () =>
          p
            .logRecords('central', 'schedd')
            .some((r) => r.msg === 'slots reserved for a parallel job' && typeof r.start === 'number'),
        120_000,
      );

      // short jobs (a 2-minute walltime) and one without a walltime, told apart by their memory too
      const short = await p.submit(
        'short.sub',
        'executable = /bin/true\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 100\nallowed_job_duration = 120\nqueue 4\n',
      );
      const unbounded = await p.submit(
        'unbounded.sub',
        'executable = /bin/true\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 101\nqueue\n',
      );
      await p.waitForHistory(short, 4, 120_000);
      const [g] = await p.json('dq', [String(gang)]);
      assert.equal(g!.JobStatus, 1, 'the parallel job still waits for its slots');
      const [u] = await p.json('dq', [String(unbounded)]);
      assert.equal(u!.JobStatus, 1, 'the job without a walltime waits');
      assert.equal(u!.NumJobStarts ?? 0, 0);

      writeFileSync(join(d, 'go'), '');
      const [ad] = await p.waitForHistory(gang, 1, 120_000);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'gang.err'), 'utf8'));
      assert.deepEqual(readFileSync(join(p.work, 'gang.out'), 'utf8').trim().split('\n').sort(), [
        'exec1',
        'exec2',
        'exec3',
      ]);
      await p.waitForHistory(unbounded, 1, 120_000);
    },
  );
});
