// The schedd's claim bookkeeping and walltime timer, on an in-memory queue: a job whose starting claim is
// dropped is offered for matching again, a walltime timer that fires early is armed again, a run given up on
// is remembered across a restart (its job waiting for it), and a step of the wall clock ends no lease.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, mock, test } from 'node:test';
import { leaseClock, type Claim } from '../../../daemons/schedd/claim.js';
import { JobQueue, jobKey, lit } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { DschedError } from '../../../lib/errors.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { exitedEvent, makeSchedd } from './helpers.js';

function queueOne(queue: JobQueue, attrs: Record<string, string> = {}) {
  const cluster = queue.reserveCluster('alice');
  const [job] = queue.submit(
    cluster,
    'alice',
    { Owner: lit('alice'), JobStatus: String(JobStatus.Idle), Requirements: 'true', ...attrs },
    [{}],
  );
  return job!;
}

describe('schedd claims', () => {
  afterEach(() => mock.timers.reset());

  test('schedd claims – an idle job whose starting claim is dropped after a restart is offered for matching again', async () => {
    const db = openQueueDb(':memory:');
    const first = new JobQueue(db);
    const job = queueOne(first);
    // the schedd stopped while it was starting the job on a startd that is gone now
    job.claim = { id: 'claim-1', startd: '127.0.0.1:1', slot: 'slot1_1@gone' };
    first.update(job, {});
    first.flush();

    const queue = new JobQueue(db);
    const again = queue.jobs.get(jobKey(job.cluster, job.proc))!;
    assert.equal(again.matching, true, 'not offered until its startd was asked');
    const schedd = makeSchedd(queue);
    try {
      await schedd.reconnect();
      assert.equal(again.claim, undefined);
      assert.equal(again.matching, false);
      assert.equal(again.status, JobStatus.Idle);
      assert.equal(queue.idleCount(again.ac), 1, 'counted idle and matchable');
    } finally {
      schedd.close();
    }
  });

  test('schedd walltime – a timer that fires before the walltime ran out is armed again and holds the job later', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const queue = new JobQueue(openQueueDb(':memory:'));
    const start = Math.floor(Date.now() / 1000);
    const job = queueOne(queue, { AllowedJobDuration: '3600' });
    queue.update(job, { JobCurrentStartDate: String(start) }, JobStatus.Running);
    const schedd = makeSchedd(queue, 300);
    (schedd as unknown as { policies: { armDuration(j: typeof job): void } }).policies.armDuration(job);
    // the timer fires while the clock says the hour has not passed (as a timer firing early does)
    mock.timers.tick(3601_000);
    assert.equal(job.status, JobStatus.Running, 'not held before its time');
    // by the time the re-armed timer fires, the job has run over
    queue.update(job, { JobCurrentStartDate: String(start - 7200) });
    mock.timers.tick(3601_000);
    assert.equal(job.status, JobStatus.Held);
    assert.match(String(queue.value(job, 'HoldReason')), /exceeded allowed job duration of 3600 seconds/);
    schedd.close();
  });
});

describe('schedd lost runs', () => {
  test('schedd lost runs – a run given up on is kept in the queue with the job’s return to idle, and read back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsched-lost-'));
    try {
      const file = join(dir, 'queue.db');
      const first = new JobQueue(openQueueDb(file));
      const job = queueOne(first);
      job.claim = { id: 'claim-1', startd: '127.0.0.1:1', slot: 'slot1_1@unit' };
      first.update(job, { JobCurrentStartDate: String(Math.floor(Date.now() / 1000)) }, JobStatus.Running);
      first.flush();
      const schedd = makeSchedd(first);
      (schedd as unknown as { events: { lostRun(j: typeof job, reason: string, gone: boolean): void } }).events.lostRun(
        job,
        'the startd could not be reached',
        false,
      );
      await first.commit();
      schedd.close();
      assert.equal(job.status, JobStatus.Idle);
      // its exit may still come: the job is not offered for matching until the run is settled
      assert.equal(job.unsettled, 'claim-1');
      assert.equal(first.idleCount(job.ac), 0);
      assert.equal(first.takeIdle(job.ac), undefined);

      const again = new JobQueue(openQueueDb(file));
      assert.deepEqual(again.lostRuns.get('claim-1'), {
        cluster: job.cluster,
        proc: job.proc,
        startd: '127.0.0.1:1',
        slot: 'slot1_1@unit',
      });
      // nor after a restart, until its startd is asked again
      const reread = again.jobs.get(jobKey(job.cluster, job.proc))!;
      assert.equal(reread.unsettled, 'claim-1');
      assert.deepEqual(
        [...again.unsettledRuns()].map((u) => u.claim),
        ['claim-1'],
      );
      assert.equal(again.takeIdle(reread.ac), undefined);
      again.forgetLostRun('claim-1');
      assert.equal(reread.unsettled, undefined, 'settled: the job may run again');
      assert.equal(again.takeIdle(reread.ac), reread);
      await again.commit();
      assert.equal(new JobQueue(openQueueDb(file)).lostRuns.size, 0, 'a settled run is forgotten for good');

      // the run of a job that has left the queue since is dropped when the queue is read
      again.loseRun('claim-2', { cluster: job.cluster, proc: job.proc, startd: '127.0.0.1:1', slot: 'slot1_1@unit' });
      again.finish(again.jobs.get(jobKey(job.cluster, job.proc))!, JobStatus.Removed);
      await again.commit();
      const third = new JobQueue(openQueueDb(file));
      assert.equal(third.lostRuns.size, 0);
      third.flush();
      assert.deepEqual(
        openQueueDb(file).prepare('SELECT COUNT(*) AS n FROM lost_runs').get(),
        { n: 0 },
        'and its row with the next commit',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('schedd lost runs – the late exit of a run given up on completes a job that is being started again, once', async () => {
    const queue = new JobQueue(openQueueDb(':memory:'));
    const job = queueOne(queue);
    queue.loseRun('claim-old', { cluster: job.cluster, proc: job.proc, startd: '127.0.0.1:1', slot: 'slot1_1@unit' });
    // its startd stayed out of reach for long enough: the job may run again
    queue.stopWaitingFor('claim-old');
    // matched again and being started on another claim (or still asking its startd after a restart)
    job.claim = { id: 'claim-new', startd: '127.0.0.1:1', slot: 'slot1_2@unit' };
    job.matching = true;
    queue.update(job, {});
    await queue.commit();
    const schedd = makeSchedd(queue);
    // the startd, as the schedd's client sees it: what it is asked to stop and release
    const asked: string[] = [];
    const startd = {
      deactivate: async (id: string) => void asked.push(`stop ${id}`),
      release: async (id: string) => void asked.push(`release ${id}`),
    };
    (schedd as unknown as { startd: () => typeof startd }).startd = () => startd;
    try {
      const acked = await schedd.jobEvents([exitedEvent(job, 'claim-old', '1')], 'unit');
      assert.deepEqual(acked, ['1']);
      assert.equal(queue.jobs.get(jobKey(job.cluster, job.proc)), undefined, 'the job left the queue');
      assert.equal(job.status, JobStatus.Completed);
      assert.equal(queue.lostRuns.size, 0);
      assert.ok(asked.includes('stop claim-new'), `the new start is stopped: ${asked.join(', ')}`);
    } finally {
      schedd.close();
    }
  });
  test('schedd lost runs – a startd out of reach, then found not listening, is waited for one lease from then: restarted by its master, it may still report the exit', async () => {
    const queue = new JobQueue(openQueueDb(':memory:'));
    const job = queueOne(queue);
    queue.loseRun('claim-old', { cluster: job.cluster, proc: job.proc, startd: '127.0.0.1:1', slot: 'slot1_1@unit' });
    const schedd = makeSchedd(queue, 6);
    const refused = new DschedError('DAEMON_UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1', {
      details: { connection: 'refused' },
    });
    (schedd as unknown as { startd: () => unknown }).startd = () => ({
      claimStatus: async () => {
        throw refused;
      },
    });
    type Run = { claim: string; since: number };
    const leases = (schedd as unknown as { leases: { settleAt(runs: Run[]): Promise<boolean> } }).leases;
    try {
      const [u] = [...queue.unsettledRuns()];
      // given up on two leases ago, its startd frozen meanwhile: killed now, its master is restarting it
      assert.equal(await leases.settleAt([{ ...u!, since: u!.since - 12_000 }]), false);
      assert.equal(job.unsettled, 'claim-old', 'the job still waits for that run');
    } finally {
      schedd.close();
    }
  });
});

describe('schedd lost runs, event log', () => {
  test('schedd lost runs – a late exit taken back logs the run’s end, not a second start: one execute event per run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsched-lost-log-'));
    const log = join(dir, 'job.log');
    const queue = new JobQueue(openQueueDb(':memory:'));
    // the log is written with its owner's rights: the user running the test owns this job
    const me = userInfo().username;
    const [job] = queue.submit(
      queue.reserveCluster(me),
      me,
      { Owner: lit(me), JobStatus: String(JobStatus.Idle), Requirements: 'true', UserLog: lit(log) },
      [{}],
    );
    const schedd = makeSchedd(queue);
    const s = schedd as unknown as {
      claims: Map<string, Claim>;
      claimed: { markRunning(j: NonNullable<typeof job>, c: Claim): void };
      events: { lostRun(j: NonNullable<typeof job>, reason: string, gone: boolean): void };
      startd: () => unknown;
    };
    s.startd = () => ({ release: async () => {}, deactivate: async () => {} });
    try {
      const claim: Claim = { id: 'claim-1', startd: '127.0.0.1:1', slot: 'slot1_1@unit', lastAc: 0 };
      s.claims.set(claim.id, claim);
      s.claimed.markRunning(job!, claim);
      await queue.commit();
      // its startd falls silent past the lease: the run is given up on, its exit may still come
      s.claims.delete(claim.id);
      s.events.lostRun(job!, 'the startd could not be reached', false);
      await queue.commit();
      assert.equal(job!.status, JobStatus.Idle);
      const acked = await schedd.jobEvents([exitedEvent(job!, 'claim-1', '1')], 'unit');
      assert.deepEqual(acked, ['1']);
      assert.equal(job!.status, JobStatus.Completed);
      const codes = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /^\d{3} \(/.test(l))
        .map((l) => l.slice(0, 3));
      assert.deepEqual(codes, ['001', '004', '005'], 'the run’s start once, its give-up, its end');
      assert.equal(queue.value(job!, 'NumJobStarts'), 1, 'one run, counted once');
    } finally {
      schedd.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('schedd leases', () => {
  afterEach(() => mock.timers.reset());

  test('schedd leases – a step of the wall clock does not give up a running job whose startd is silent for a moment', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const queue = new JobQueue(openQueueDb(':memory:'));
    const job = queueOne(queue);
    const schedd = makeSchedd(queue, 300);
    const claims = (schedd as unknown as { claims: Map<string, Claim> }).claims;
    const claim: Claim = {
      id: 'claim-1',
      startd: '127.0.0.1:1',
      slot: 'slot1_1@unit',
      lastAc: 0,
      renewedAt: leaseClock(),
    };
    claims.set(claim.id, claim);
    (schedd as unknown as { claimed: { markRunning(j: typeof job, c: Claim): void } }).claimed.markRunning(job, claim);
    await queue.commit();
    // the startd does not answer this once (busy, a network blip)
    const startd = {
      renew: async () => {
        throw new Error('deadline exceeded');
      },
      claimStatus: async () => {
        throw new Error('deadline exceeded');
      },
    };
    (schedd as unknown as { startd: () => typeof startd }).startd = () => startd;
    try {
      // the wall clock jumps an hour ahead (NTP, an admin's date): the lease, 300 s, has not passed
      mock.timers.setTime(Date.now() + 3_600_000);
      await schedd.renewLeases();
      assert.equal(job.status, JobStatus.Running, 'not given up');
      assert.ok(claims.has('claim-1'));
      assert.equal(queue.lostRuns.size, 0);
    } finally {
      schedd.close();
    }
  });
});
