// The schedd evaluates every job's periodic policies (periodic_hold, periodic_remove, periodic_release), and
// each evaluation may take up to the ClassAd bounds (a tenth of a second and more). One user's jobs, all in one
// turn of the schedd, kept every user's calls out for as long as they took (minutes for a thousand jobs, every
// PERIODIC_EXPR_INTERVAL). Now the jobs are evaluated a slice at a time, the schedd serving others between, and
// an owner's jobs take at most PERIODIC_EXPR_MAX_TIME_PER_OWNER of a pass: a million of one user's costly jobs
// took the schedd's time for days, and another user's policies waited behind them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobQueue } from '../../daemons/schedd/queue.js';
import { openQueueDb } from '../../daemons/schedd/store/db.js';
import { JobStatus } from '../../lib/job-status.js';
import { withTurns } from '../unit/event-loop-turns.js';
import { makeSchedd } from '../unit/schedd/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-policy-turns-'));

describe('security – costly periodic policies', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("security – one user's costly periodic_hold takes at most that user's time of a pass; another user's job is held in it", async () => {
    const db = openQueueDb(join(dir, 'owners.db'));
    try {
      const q = new JobQueue(db);
      // any time at all is past a bound of 0 ms: one of nobody's jobs is evaluated per pass
      const schedd = makeSchedd(q, 0, { policyTimePerOwner: () => 0 });
      const costlyTrue = `size(replaceAll("x", "${'x'.repeat(60_000)}", "yy")) > 0`;
      const submit = (owner: string, hold: string, procs: number) => {
        const c = q.reserveCluster(owner);
        const attrs = {
          Owner: `"${owner}"`,
          ClusterId: String(c),
          JobStatus: String(JobStatus.Idle),
          Cmd: '"/bin/true"',
        };
        return q.submit(
          c,
          owner,
          { ...attrs, PeriodicHold: hold },
          Array.from({ length: procs }, (_, i) => ({ ProcId: String(i) })),
        );
      };
      const nobodys = submit('nobody', costlyTrue, 20);
      const [alices] = submit('alice', 'true', 1);
      const held = () => nobodys.filter((j) => j.status === JobStatus.Held).length;

      await schedd.periodicPolicies();
      assert.equal(alices!.status, JobStatus.Held, "alice's periodic_hold is evaluated in the same pass");
      assert.equal(held(), 1, "nobody's jobs past the first wait for the next pass");
      // the next pass goes on where nobody's time ran out
      await schedd.periodicPolicies();
      assert.equal(held(), 2);
    } finally {
      db.close();
    }
  });

  test("security – one user's costly periodic_hold lets the schedd serve others between jobs, and still holds", async () => {
    const db = openQueueDb(join(dir, 'q.db'));
    try {
      const q = new JobQueue(db);
      const schedd = makeSchedd(q);
      const costly = `size(replaceAll("x", "${'x'.repeat(60_000)}", "yy")) < 0`;
      const c = q.reserveCluster('nobody');
      const idle = { Owner: '"nobody"', ClusterId: String(c), JobStatus: String(JobStatus.Idle), Cmd: '"/bin/true"' };
      q.submit(
        c,
        'nobody',
        { ...idle, PeriodicHold: costly },
        Array.from({ length: 20 }, (_, i) => ({ ProcId: String(i) })),
      );
      const h = q.reserveCluster('nobody');
      const [held] = q.submit(h, 'nobody', { ...idle, ClusterId: String(h), PeriodicHold: 'true' }, [{ ProcId: '0' }]);
      // turns of the event loop while the policies are evaluated: another call's turn comes between jobs
      const { turns } = await withTurns(() => schedd.periodicPolicies());
      assert.ok(turns >= 10, `the event loop turned ${turns} times while 20 costly jobs were evaluated`);
      assert.equal(held!.status, JobStatus.Held, 'periodic_hold = true still holds its job');
    } finally {
      db.close();
    }
  });
});
