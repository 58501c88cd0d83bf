// Matches become claims and claims run jobs: a match from the negotiator is claimed and activated at its
// startd in one request (the claim recorded durably before it is asked, so a crash in between loses
// nothing), and a claim freed by an exit is given the next idle job of its autocluster with no negotiation
// (one ActivateClaims per startd for a batch of exits). The negotiator's reservation for a parallel job
// keeps its slots from that reuse, except for jobs sure to end before it starts (backfill).
import { randomBytes } from 'node:crypto';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { hostOfName, sameHost } from '../../lib/rpc/authz.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import { neverConnected } from '../../lib/rpc/status.js';
import type { Match__Output } from '../../lib/rpc/generated/dsched/v1/Match.js';
import { JobStatus } from '../../lib/job-status.js';
import { nowSeconds as now } from '../../lib/time.js';
import { leaseClock, ReservedSlots, type Claim } from './claim.js';
import { gangHostAttrs, type GangClaims } from './gang.js';
import type { MailEvent } from './notify.js';
import { jobKey, lit, type Job, type JobQueue } from './queue.js';
import type { EventBody } from './user-actions.js';

/** What the claims need of the rest of the schedd. */
export interface ClaimsDeps {
  queue: JobQueue;
  log: Logger;
  claims: Map<string, Claim>;
  startd: (address: string) => StartdClient;
  pinStartdHost: (address: string, host: string) => void;
  gangs: GangClaims;
  name: () => string;
  address: () => string;
  lease: () => number;
  /** ask a startd that gave no answer which of these jobs run there (Leases.reconnectStartd) */
  reconnectStartd: (startdAddr: string, jobs: Job[]) => Promise<void>;
  armDuration: (job: Job) => void;
  logEvent: (job: Job, e: EventBody) => void;
  mail: (ev: MailEvent, job: Job) => void;
  onQueueChanged: () => void;
}

export class Claims {
  /** the slots the negotiator keeps for a parallel job: their claims are not reused */
  private reserved = new ReservedSlots();

  constructor(private s: ClaimsDeps) {}

  /** The negotiator's reservation for this cycle (Matched), and when it is expected to start (0: unknown). */
  reserve(slots: string[], start: number): void {
    if (this.reserved.set(slots, start))
      this.s.log.info(
        { slots: slots.slice(0, 20), start: start || undefined },
        slots.length ? 'slots reserved for a parallel job' : 'reservation for a parallel job ended',
      );
  }

  async matched(matches: Match__Output[]): Promise<void> {
    const work: Promise<void>[] = [];
    for (const m of matches) {
      if (m.gang?.length) {
        work.push(
          this.s.gangs
            .claim(Number(m.autocluster), m.gang)
            .catch((e) =>
              this.s.log.error(
                { autocluster: m.autocluster, err: (e as Error).message },
                'could not start the parallel job',
              ),
            ),
        );
        continue;
      }
      for (let i = 0; i < Math.max(1, m.count); i++) {
        const job = this.s.queue.takeIdle(Number(m.autocluster));
        if (!job) break;
        if (m.host) this.s.pinStartdHost(m.startd, m.host);
        work.push(
          this.claimAndStart(job, m.slot, m.startd).catch((e) => {
            // the queue could not be written (disk full): the job waits for another match
            if (job.status === JobStatus.Idle && !job.claim) job.matching = false;
            this.s.log.error(
              { cluster: job.cluster, proc: job.proc, err: (e as Error).message },
              'could not start the job',
            );
          }),
        );
      }
    }
    await Promise.all(work);
  }

  /**
   * Jobs whose start request is in flight. A short job can end, and its exit event arrive, before the
   * startd's reply to the start request does: such an event waits for the reply instead of being lost.
   */
  readonly starting = new Map<string, Promise<void>>();

  beginStart(job: Job): () => void {
    let done!: () => void;
    const key = jobKey(job.cluster, job.proc);
    const p = new Promise<void>((r) => (done = r));
    this.starting.set(key, p);
    return () => {
      if (this.starting.get(key) === p) this.starting.delete(key);
      done();
    };
  }

  private async claimAndStart(job: Job, slot: string, startdAddr: string): Promise<void> {
    const client = this.s.startd(startdAddr);
    const started = this.beginStart(job);
    try {
      // the claim is recorded (durably) before the startd is asked, so a crash in between loses nothing
      const id = randomBytes(24).toString('base64url');
      try {
        await this.recordStarting(job, { id, startd: startdAddr, slot });
      } catch (e) {
        this.dropStartingClaim(job);
        throw e;
      }
      let reply;
      try {
        reply = await client.requestClaim({
          slot,
          job: { attrs: this.s.queue.merged(job) },
          schedd: this.s.name(),
          schedd_address: this.s.address(),
          lease: this.s.lease(),
          activate: true,
          claim: id,
        });
      } catch (e) {
        if (this.startMayHaveHappened([job], startdAddr, e)) return;
        job.matching = false;
        await this.recordStarting(job, undefined);
        this.s.log.info({ cluster: job.cluster, proc: job.proc, slot, err: (e as Error).message }, 'claim refused');
        this.s.onQueueChanged();
        return;
      }
      const claim: Claim = {
        id: reply.claim,
        startd: startdAddr,
        slot: reply.slot,
        lastAc: job.ac,
        renewedAt: leaseClock(),
      };
      this.s.claims.set(claim.id, claim);
      // the slot's host (from its ad, which the collector checked against its startd) is who may report on
      // the claim: a dynamic slot said to be on another host is not taken
      if (!sameHost(hostOfName(reply.slot), hostOfName(slot))) {
        this.s.log.warn(
          { cluster: job.cluster, proc: job.proc, slot, replied: reply.slot },
          'claim refused: the startd named a slot of another host',
        );
        job.matching = false;
        await this.releaseClaim(claim, true);
        await this.recordStarting(job, undefined);
        this.s.onQueueChanged();
        return;
      }
      job.matching = false;
      if (job.status !== JobStatus.Idle || !this.s.queue.jobs.has(jobKey(job.cluster, job.proc))) {
        // removed or held while the claim was being made: stop it again
        await this.releaseClaim(claim, true);
        return;
      }
      this.markRunning(job, claim);
    } finally {
      started();
    }
  }

  /**
   * A start request (RequestClaim with activation, ActivateClaim) that got no answer (a timeout, a broken
   * connection, the startd killed meanwhile) may have started the job: taking it for a refusal would run
   * the job again while its first run goes on or its exit is on its way. The claim stays recorded and the
   * job is looked up at its startd, as after a restart of the schedd. Returns false for a real refusal.
   */
  startMayHaveHappened(jobs: Job[], startdAddr: string, e: unknown): boolean {
    const code = e instanceof DschedError ? e.code : undefined;
    if (code !== undefined && code !== 'DAEMON_UNREACHABLE' && code !== 'TIMEOUT' && code !== 'INTERNAL') return false;
    // no connection at all: the request never left
    if (neverConnected(e)) return false;
    for (const job of jobs)
      this.s.log.warn(
        { cluster: job.cluster, proc: job.proc, startd: startdAddr, err: (e as Error).message },
        'no answer to the start request: asking the startd whether the job runs',
      );
    void this.s
      .reconnectStartd(startdAddr, jobs)
      .catch((err) =>
        this.s.log.error(
          { startd: startdAddr, jobs: jobs.length, err: (err as Error).message },
          'could not settle the jobs',
        ),
      );
    return true;
  }

  /**
   * Forget the claim an idle job was being started on. It is offered for matching again: a job left
   * marked as matching without a claim is never counted idle nor matched again.
   */
  dropStartingClaim(job: Job) {
    job.claim = undefined;
    job.matching = false;
    this.s.queue.update(job, {});
  }

  /** Record (or forget) the claim an idle job is being started on, and wait until that is on disk. */
  async recordStarting(job: Job, claim: { id: string; startd: string; slot: string } | undefined): Promise<void> {
    job.claim = claim;
    if (!claim) job.matching = false;
    this.s.queue.update(job, {});
    await this.s.queue.commit();
  }

  /**
   * The job runs on the claim. `retaken`: its run was given up on and its late exit has come; that run's start
   * is in the event log and counted already, so one run has one execute event (and one begin mail).
   */
  markRunning(job: Job, claim: Claim, retaken = false) {
    claim.job = job;
    claim.lastAc = job.ac || claim.lastAc;
    job.claim = { id: claim.id, startd: claim.startd, slot: claim.slot };
    const t = String(now());
    const starts = Number(this.s.queue.value(job, 'NumJobStarts') ?? 0) + (retaken ? 0 : 1);
    const changes: Record<string, string | null> = {
      RemoteHost: lit(claim.slot),
      StartdAddress: lit(claim.startd),
      CurrentHosts: '1',
      ...gangHostAttrs(this.s.queue, job),
      JobCurrentStartDate: t,
      NumJobStarts: String(starts),
      LastMatchTime: t,
    };
    if (this.s.queue.value(job, 'JobStartDate') === undefined) changes.JobStartDate = t;
    // the claim it runs on is on disk already (recordStarting, pickNext's commit): no fsync for this
    this.s.queue.lazily(() => this.s.queue.update(job, changes, JobStatus.Running));
    this.s.armDuration(job);
    if (retaken) return;
    this.s.logEvent(job, { type: 'execute', host: claim.startd, slotName: claim.slot });
    this.s.mail('begin', job);
    // per job, and told by the event log and the history already: only when debugging
    this.s.log.debug({ cluster: job.cluster, proc: job.proc, slot: claim.slot }, 'job started');
  }

  /** The next idle job of the claim's autocluster, marked as being started on it (not yet committed). */
  pickNext(claim: Claim): Job | undefined {
    claim.job = undefined;
    let next = claim.lastAc && this.reserved.mayReuse(claim.slot) ? this.s.queue.takeIdle(claim.lastAc) : undefined;
    // on a reserved slot, only a job sure to end before the reservation starts (backfill)
    if (next && !this.reserved.mayRun(claim.slot, this.s.queue.value(next, 'AllowedJobDuration'))) {
      this.dropStartingClaim(next);
      next = undefined;
    }
    if (next) {
      next.claim = { id: claim.id, startd: claim.startd, slot: claim.slot };
      this.s.queue.update(next, {});
    }
    return next;
  }

  /**
   * Start the jobs chosen (and recorded) for freed claims of one startd, with one request for all of them:
   * the exits of a batch of job events free several claims of a startd at once. A job that cannot start
   * goes back to idle and its claim is released; the others run.
   */
  async startOnClaims(startdAddr: string, items: Array<{ claim: Claim; next: Job }>): Promise<void> {
    const started = items.map(({ next }) => this.beginStart(next));
    try {
      let errors: string[];
      try {
        const r = await this.s
          .startd(startdAddr)
          .activateMany(items.map(({ claim, next }) => ({ claim: claim.id, job: this.s.queue.merged(next) })));
        errors = items.map((_, i) => r.errors[i] ?? 'the startd did not answer for this claim');
      } catch (e) {
        // no answer is no refusal: the startd may have started them (asked with ClaimStatus)
        if (
          this.startMayHaveHappened(
            items.map(({ next }) => next),
            startdAddr,
            e,
          )
        )
          return;
        errors = items.map(() => (e as Error).message);
      }
      let failed = false;
      items.forEach(({ claim, next }, i) => {
        next.matching = false;
        if (errors[i]) {
          failed = true;
          next.claim = undefined;
          this.s.queue.update(next, {});
          this.s.log.info({ cluster: next.cluster, proc: next.proc, err: errors[i] }, 'claim reuse failed');
          void this.releaseClaim(claim, false);
        } else if (next.status !== JobStatus.Idle || !this.s.queue.jobs.has(jobKey(next.cluster, next.proc))) {
          // removed or held while it was being started: stop it again
          void this.releaseClaim(claim, true);
        } else this.markRunning(next, claim);
      });
      if (failed) {
        await this.s.queue.commit();
        this.s.onQueueChanged();
      }
    } finally {
      for (const done of started) done();
    }
  }

  async releaseClaim(claim: Claim, kill: boolean): Promise<void> {
    this.s.claims.delete(claim.id);
    this.s.gangs.sweep();
    const c = this.s.startd(claim.startd);
    try {
      if (kill) await c.deactivate(claim.id, true, 'job left the queue');
      await c.release(claim.id);
    } catch (e) {
      this.s.log.warn(
        { slot: claim.slot, err: (e as Error).message },
        'could not release claim (the lease will end it)',
      );
    }
  }
}
