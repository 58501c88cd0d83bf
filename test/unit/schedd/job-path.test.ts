// The job path's commits, on a real queue file: a job's start (made `lazily`) is committed without an fsync
// unless other changes ride with it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JobQueue, jobKey, lit } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';

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
});
