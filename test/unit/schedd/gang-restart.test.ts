// A parallel job's claims across a restart of the schedd (daemons/schedd/gang.ts), on an in-memory queue and
// startds that answer as told: the job goes on only if every claim is still held; else every other claim is
// released (its rank killed) and the job is stopped, to run again whole. And a reservation keeps claims on
// its slots from being reused (claim.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GangClaims, followerClaimId, type GangSchedd } from '../../../daemons/schedd/gang.js';
import { RESERVATION_MS, ReservedSlots, type Claim } from '../../../daemons/schedd/claim.js';
import { JobQueue, lit, type Job } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { createLogger } from '../../../lib/log.js';

const STARTDS = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'];
const SLOTS = ['slot1@exec1', 'slot1@exec2', 'slot1@exec3'];

/** A queue holding one parallel job whose first chunk's claim is recorded, as the schedd leaves it. */
function gangJob(status: number): { queue: JobQueue; job: Job } {
  const queue = new JobQueue(openQueueDb(':memory:'));
  const cluster = queue.reserveCluster('alice');
  const [job] = queue.submit(
    cluster,
    'alice',
    {
      Owner: lit('alice'),
      JobStatus: String(JobStatus.Idle),
      Requirements: 'true',
      MachineCount: '3',
      GangPlacement: lit('scatter'),
    },
    [{}],
  );
  queue.update(
    job!,
    { GangSlots: `{${SLOTS.map(lit).join(', ')}}`, GangStartds: `{${STARTDS.map(lit).join(', ')}}` },
    status,
  );
  job!.claim = { id: 'leader-claim-id-0123456789', startd: STARTDS[0]!, slot: 'slot1_1@exec1' };
  return { queue, job: job! };
}

/** The schedd's side as gang.ts sees it, with startds whose claims are `held` (by claim id: its state). */
function fakeSchedd(queue: JobQueue, held: Map<string, string>) {
  const calls: string[] = [];
  const claims = new Map<string, Claim>();
  const s: GangSchedd = {
    queue,
    log: createLogger('schedd', undefined, 'silent'),
    claims,
    startd: (addr) =>
      ({
        claimStatus: async (ids: string[]) => ({
          claims: ids.map((id) => ({ claim: id, state: held.get(id) ?? 'unknown' })),
        }),
        deactivate: async (id: string) => void calls.push(`deactivate ${addr} ${id}`),
        release: async (id: string) => void calls.push(`release ${addr} ${id}`),
      }) as never,
    claimRequest: () => ({}) as never,
    beginStart: () => () => {},
    recordStarting: async () => {},
    startMayHaveHappened: () => false,
    markRunning: () => {},
    releaseClaim: async (c, kill) => {
      claims.delete(c.id);
      calls.push(`${kill ? 'kill+release' : 'release'} ${c.startd} ${c.id}`);
    },
    pinStartdHost: () => {},
    onQueueChanged: () => {},
    address: () => '10.0.0.9:1',
    startdAddresses: async (a) => [a],
  };
  return { s, calls, claims };
}

describe('schedd gangs across a restart', () => {
  const followers = (leader: string) => [1, 2].map((n) => followerClaimId(leader, n));

  test('schedd gangs across a restart – a gang being claimed when the schedd stopped: every other claim is released, its rank killed', async () => {
    const { queue, job } = gangJob(JobStatus.Idle);
    const [f1, f2] = followers(job.claim!.id);
    const { s, calls } = fakeSchedd(queue, new Map([[f1!, 'idle']]));
    const gangs = new GangClaims(s);
    gangs.restore(job);
    assert.equal(gangs.isRestoring(f1!), true, 'a rank event meanwhile waits');
    // the first chunk was found not started (its claim dropped): the job is idle again
    job.claim = undefined;
    await gangs.settle(job, 'leader-claim-id-0123456789');
    assert.deepEqual(calls.sort(), [`kill+release ${STARTDS[1]} ${f1}`, `kill+release ${STARTDS[2]} ${f2}`]);
    assert.equal(gangs.isFollower(f1!), false);
  });

  test('schedd gangs across a restart – a running gang whose startds hold every claim goes on, its claims held (and renewed) again', async () => {
    const { queue, job } = gangJob(JobStatus.Running);
    const [f1, f2] = followers(job.claim!.id);
    const { s, calls, claims } = fakeSchedd(
      queue,
      new Map([
        [f1!, 'running'],
        [f2!, 'idle'],
      ]),
    );
    const gangs = new GangClaims(s);
    gangs.restore(job);
    claims.set(job.claim!.id, { ...job.claim!, lastAc: 0, job });
    await gangs.settle(job, job.claim!.id);
    assert.deepEqual(calls, [], 'nothing stopped, nothing released');
    assert.deepEqual([...claims.keys()].sort(), [job.claim!.id, f1, f2].sort());
    assert.equal(gangs.isFollower(f2!), true);
    assert.equal(gangs.isRestoring(f2!), false);
  });

  test('schedd gangs across a restart – a running gang one of whose claims is gone is stopped; its other claims go once its first chunk has', async () => {
    const { queue, job } = gangJob(JobStatus.Running);
    const [f1, f2] = followers(job.claim!.id);
    const { s, calls, claims } = fakeSchedd(queue, new Map([[f1!, 'running']]));
    const gangs = new GangClaims(s);
    gangs.restore(job);
    claims.set(job.claim!.id, { ...job.claim!, lastAc: 0, job });
    await gangs.settle(job, job.claim!.id);
    assert.deepEqual(
      calls,
      [`release ${STARTDS[0]} ${job.claim!.id}`],
      'the first chunk is stopped, its claim released',
    );
    // its end is an eviction: the job runs again, whole
    const ended = {
      claim: job.claim!.id,
      type: 'exited',
      exit_code: 0,
      exit_by_signal: true,
      exit_signal: 9,
    } as Parameters<GangClaims['leaderEvent']>[0];
    assert.equal(gangs.leaderEvent(ended).type, 'evicted');
    assert.match(gangs.leaderEvent(ended).message, /lost its slot slot1@exec3/);
    assert.equal(claims.has(f2!), false);
    // its end (evicted) takes its claim away: the rank still running on the other claim is killed
    claims.delete(job.claim!.id);
    gangs.sweep();
    assert.deepEqual(calls.slice(1), [`kill+release ${STARTDS[1]} ${f1}`]);
  });

  test("schedd gangs across a restart – only a parallel job's own record is trusted: a job that is no gang, or whose first slot is not its claim's host, is not taken for one", async () => {
    const { queue, job } = gangJob(JobStatus.Running);
    const { s, calls } = fakeSchedd(queue, new Map());
    const gangs = new GangClaims(s);
    queue.update(job, { MachineCount: '2' });
    gangs.restore(job);
    assert.equal(gangs.isFollower(followerClaimId(job.claim!.id, 1)), false, 'MachineCount is not the number of slots');
    queue.update(job, { MachineCount: '3' });
    job.claim = { ...job.claim!, slot: 'slot1_1@elsewhere' };
    gangs.restore(job);
    assert.equal(gangs.isFollower(followerClaimId(job.claim!.id, 1)), false, 'the first slot is on another host');
    await gangs.settle(job, job.claim!.id);
    assert.deepEqual(calls, []);
  });

  test("schedd gangs across a restart – the other claims' ids are derived from the first one's, distinct and not guessable from the ad", () => {
    const ids = followers('leader-claim-id-0123456789');
    assert.equal(new Set(ids).size, 2);
    assert.notEqual(ids[0], followerClaimId('another-leader-claim-id-xx', 1));
    for (const id of ids) assert.match(id!, /^[A-Za-z0-9_-]{40,}$/);
  });
});

describe('schedd reservations', () => {
  test('schedd reservations – a claim on a reserved partitionable slot (any of its dynamic slots) is not reused; others are', () => {
    const r = new ReservedSlots();
    assert.equal(r.holds('slot1_3@exec1'), false, 'nothing reserved yet');
    r.set(['slot1@exec1', 'slot1@exec2']);
    assert.equal(r.holds('slot1_3@exec1'), true);
    assert.equal(r.holds('slot1_12@exec2'), true);
    assert.equal(r.holds('slot1_3@exec3'), false);
    assert.equal(r.holds('slot1_3@exec10'), false);
    assert.equal(r.mayReuse('slot1_3@exec1'), false, 'its start unknown: no backfill');
    assert.equal(r.mayReuse('slot1_3@exec3'), true);
    r.set([]);
    assert.equal(r.holds('slot1_3@exec1'), false, 'the reservation ended');
  });

  test('schedd reservations – backfill: a claim on a reserved slot takes a job sure to end before the reservation starts, and no other', () => {
    const r = new ReservedSlots();
    r.set(['slot1@exec1'], Math.floor(Date.now() / 1000) + 3600);
    assert.equal(r.mayReuse('slot1_3@exec1'), true);
    assert.equal(r.mayRun('slot1_3@exec1', 600), true);
    assert.equal(r.mayRun('slot1_3@exec1', 7200), false);
    assert.equal(r.mayRun('slot1_3@exec1', undefined), false, 'a job without a bound waits');
    assert.equal(r.mayRun('slot1_3@exec2', undefined), true, 'not reserved');
  });

  test('schedd reservations – one no negotiator sends again lapses after its time, whatever a wall clock set back says', (t) => {
    let mono = 1000;
    let wall = Date.UTC(2026, 0, 1);
    t.mock.method(performance, 'now', () => mono);
    t.mock.method(Date, 'now', () => wall);
    const r = new ReservedSlots();
    r.set(['slot1@exec1']);
    // an admin's `date` sets the clock an hour back; the negotiator is gone and sends nothing more
    wall -= 3_600_000;
    mono += RESERVATION_MS + 1;
    wall += RESERVATION_MS + 1;
    assert.equal(r.holds('slot1_3@exec1'), false, 'the reservation lapsed');
    assert.equal(r.mayReuse('slot1_3@exec1'), true);
  });
});
