// The job path's commits and exit policy, on a real queue file: a job's start (made `lazily`) is committed
// without an fsync unless other changes ride with it, and the exit policy is read from plain true/false
// texts (named in any case) without parsing the job's ad, and evaluated as before otherwise.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JobQueue, jobKey, lit, type Job } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { exitedEvent, makeSchedd } from './helpers.js';

function queueOne(queue: JobQueue, cluster: Record<string, string> = {}, proc: Record<string, string> = {}) {
  const id = queue.reserveCluster('alice');
  const [job] = queue.submit(
    id,
    'alice',
    { Owner: lit('alice'), JobStatus: String(JobStatus.Idle), Requirements: 'true', ...cluster },
    [proc],
  );
  return job!;
}

/** A queue on a file, with the synchronous levels its commits ran at. */
function recordingQueue(dir: string) {
  const db = openQueueDb(join(dir, 'queue.db'));
  const levels: string[] = [];
  const pragma = db.pragma.bind(db);
  db.pragma = ((source: string, opts?: never) => {
    if (/^synchronous\s*=/.test(source)) levels.push(source.replace(/.*=\s*/, ''));
    return pragma(source, opts);
  }) as typeof db.pragma;
  return { db, queue: new JobQueue(db), levels };
}

describe('schedd job path', () => {
  test('schedd job path – a start made lazily is committed without an fsync, and read back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsched-jobpath-'));
    try {
      const { db, queue, levels } = recordingQueue(dir);
      const job = queueOne(queue);
      job.claim = { id: 'claim-1', startd: '127.0.0.1:1', slot: 'slot1_1@unit' };
      queue.update(job, {});
      await queue.commit();
      assert.deepEqual(levels, [], 'the claim a job is being started on is written with an fsync');

      queue.lazily(() => queue.update(job, { NumJobStarts: '1' }, JobStatus.Running));
      queue.flush();
      assert.deepEqual(levels, ['NORMAL', 'FULL'], 'its start alone: no fsync, then back to FULL');
      assert.equal(db.pragma('synchronous', { simple: true }), 2, 'the connection is at FULL again');

      levels.length = 0;
      queue.lazily(() => queue.update(job, { JobCurrentStartDate: '1' }));
      queue.update(job, { RemoteUserCpu: '1' });
      queue.flush();
      assert.deepEqual(levels, [], 'a change made otherwise in the same commit makes it synchronous');

      queue.lazily(() => queue.update(job, { JobCurrentStartDate: '2' }));
      const committed = queue.commit();
      queue.flush();
      await committed;
      assert.deepEqual(levels, [], 'so does anyone waiting for the commit');

      const again = new JobQueue(openQueueDb(join(dir, 'queue.db')));
      const read = again.jobs.get(jobKey(job.cluster, job.proc))!;
      assert.equal(read.status, JobStatus.Running);
      assert.equal(read.attrs.NumJobStarts, '1');
      assert.equal(read.attrs.JobCurrentStartDate, '2');
      assert.equal(read.claim?.id, 'claim-1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('schedd job path – the next idle job of an autocluster is the best one, also after one came back out of order', () => {
    const queue = new JobQueue(openQueueDb(':memory:'));
    const id = queue.reserveCluster('alice');
    const jobs = queue.submit(
      id,
      'alice',
      { Owner: lit('alice'), JobStatus: String(JobStatus.Idle), Requirements: 'true' },
      [{}, {}, {}, {}, {}],
    );
    const ac = jobs[0]!.ac;
    const take = (from = ac) => {
      const j = queue.takeIdle(from)!;
      queue.update(j, {}, JobStatus.Running);
      return j.proc;
    };
    assert.deepEqual([take(), take()], [0, 1], 'a submission in order');
    // proc 0 is evicted: back to idle after procs 2-4, and first again
    queue.update(jobs[0]!, {}, JobStatus.Idle);
    assert.equal(jobs[0]!.ac, ac);
    assert.equal(take(), 0);
    // JobPrio makes another autocluster; in it too, the older job first though it came back later
    queue.update(jobs[4]!, { JobPrio: '5' });
    queue.update(jobs[0]!, { JobPrio: '5' }, JobStatus.Idle);
    const high = jobs[0]!.ac;
    assert.equal(jobs[4]!.ac, high);
    assert.notEqual(high, ac);
    assert.deepEqual([take(high), take(high), take()], [0, 4, 2]);
  });

  test('schedd job path – the exit policy: plain texts in any case, expressions evaluated with the exit status', async () => {
    const queue = new JobQueue(openQueueDb(':memory:'));
    const schedd = makeSchedd(queue);
    const exit = async (job: Job, code: number) => {
      const acked = await schedd.jobEvents([exitedEvent(job, job.claim!.id, String(job.cluster), code)], 'unit');
      assert.deepEqual(acked, [String(job.cluster)]);
    };
    const running = (cluster: Record<string, string>, proc: Record<string, string> = {}) => {
      const job = queueOne(queue, cluster, proc);
      const claim = { id: `claim-${job.cluster}`, startd: '127.0.0.1:1', slot: `slot1_${job.cluster}@unit`, lastAc: 0 };
      job.claim = claim;
      (schedd as unknown as { claims: Map<string, unknown> }).claims.set(claim.id, claim);
      queue.update(job, {}, JobStatus.Running);
      return job;
    };
    (schedd as unknown as { startd: () => unknown }).startd = () => ({
      deactivate: async () => {},
      release: async () => {},
    });
    try {
      const done = running({ OnExitRemove: 'true', OnExitHold: 'false' });
      await exit(done, 1);
      assert.equal(done.status, JobStatus.Completed);

      const lower = running({ OnExitRemove: 'true' }, { onexitremove: 'FALSE' });
      await exit(lower, 0);
      assert.equal(lower.status, JobStatus.Idle, 'the proc’s own onexitremove, in another case, is the one the ad has');

      const expr = running({ OnExitRemove: '(ExitCode == 0)' });
      await exit(expr, 1);
      assert.equal(expr.status, JobStatus.Idle, 'an expression sees the exit code');
      const expr0 = running({ OnExitRemove: '(ExitCode == 0)' });
      await exit(expr0, 0);
      assert.equal(expr0.status, JobStatus.Completed);

      const held = running({ onexithold: 'TRUE', OnExitHoldReason: '"told to"' });
      await exit(held, 0);
      assert.equal(held.status, JobStatus.Held);
      assert.equal(queue.value(held, 'HoldReason'), 'told to');
    } finally {
      schedd.close();
    }
  });
});
