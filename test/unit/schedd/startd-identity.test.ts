// schedd – a startd's "no such claim" counts only from the claim's own startd: one gone from the collector (or
// restarted on another port) may have left its port to another startd of its host, which knows nothing of the
// run. The answer carries the startd's name; the lease renewal, the settling of a run given up on and the
// reconnection after a restart each compare it with the claim's (its slot's `@name`) before they take the run
// as gone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { leaseClock, type Claim } from '../../../daemons/schedd/claim.js';
import { JobQueue, lit, type Job } from '../../../daemons/schedd/queue.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { JobStatus } from '../../../lib/job-status.js';
import { makeSchedd } from './helpers.js';

const SLOT = 'slot1_1@exec1';

function runningJob(queue: JobQueue): Job {
  const [job] = queue.submit(
    queue.reserveCluster('alice'),
    'alice',
    { Owner: lit('alice'), JobStatus: String(JobStatus.Idle), Requirements: 'true' },
    [{}],
  );
  job!.claim = { id: 'claim-1', startd: '127.0.0.1:1', slot: SLOT };
  queue.update(job!, { JobCurrentStartDate: String(Math.floor(Date.now() / 1000)) }, JobStatus.Running);
  return job!;
}

/** Who answers at the claim's address, the name it gives, and whether its "unknown" means the run is gone. */
const ANSWERS = [
  ['another startd at its old port', 'exec2', false],
  ['its own startd', 'exec1', true],
] as const;

interface Internals {
  claims: Map<string, Claim>;
  startd: () => unknown;
  leases: {
    settleAt(runs: Array<{ claim: string; run: unknown; since: number }>): Promise<boolean>;
    reconnectStartd(addr: string, jobs: Job[]): Promise<void>;
  };
}

/** A schedd (lease in seconds) whose one job runs on claim-1, and a startd stand-in answering as `startd`. */
function withStartd(lease: number, startd: Record<string, unknown>) {
  const queue = new JobQueue(openQueueDb(':memory:'));
  const job = runningJob(queue);
  const schedd = makeSchedd(queue, lease);
  const s = schedd as unknown as Internals;
  s.startd = () => startd;
  return { queue, job, schedd, s };
}

const unknownTo = (name: string) => async () => ({ claims: [{ claim: 'claim-1', state: 'unknown' }], name });

describe('schedd – the startd that answers is the claim’s', () => {
  for (const [who, name, gone] of ANSWERS)
    test(`schedd leases – "unknown" from ${who} ${gone ? 'ends' : 'does not end'} the run`, async () => {
      const { job, schedd, s } = withStartd(300, { renew: async () => ({ unknown: ['claim-1'], name }) });
      s.claims.set('claim-1', {
        id: 'claim-1',
        startd: '127.0.0.1:1',
        slot: SLOT,
        job,
        lastAc: 0,
        renewedAt: leaseClock(),
      });
      try {
        await schedd.renewLeases();
        assert.equal(job.status, gone ? JobStatus.Idle : JobStatus.Running);
        assert.equal(s.claims.has('claim-1'), !gone);
      } finally {
        schedd.close();
      }
    });

  for (const [who, name, gone] of ANSWERS)
    test(`schedd lost runs – "unknown" from ${who} ${gone ? 'settles' : 'does not settle'} a run given up on`, async () => {
      const { queue, job, schedd, s } = withStartd(300, { claimStatus: unknownTo(name), release: async () => {} });
      const run = { cluster: job.cluster, proc: job.proc, startd: '127.0.0.1:1', slot: SLOT };
      queue.loseRun('claim-1', run);
      try {
        await s.leases.settleAt([{ claim: 'claim-1', run, since: leaseClock() }]);
        assert.equal(queue.lostRuns.has('claim-1'), !gone);
      } finally {
        schedd.close();
      }
    });

  for (const [who, name, gone] of ANSWERS)
    test(`schedd reconnect – "unknown" from ${who} ${gone ? 'loses' : 'keeps waiting for'} the run`, async () => {
      // lease 0: the startd is waited for no longer than one look
      const { queue, job, schedd, s } = withStartd(0, { claimStatus: unknownTo(name) });
      try {
        await s.leases.reconnectStartd('127.0.0.1:1', [job]);
        assert.equal(job.status, JobStatus.Idle);
        // a run its own startd does not know is gone; one no startd of its own answered for may still end
        assert.equal(queue.lostRuns.has('claim-1'), !gone);
      } finally {
        schedd.close();
      }
    });
});
