// Leases and reconnection: the claims' leases renewed at their startds (a startd that forgot a claim, or
// cannot be reached for longer than the lease, lost its job), and after a restart every job recorded as
// running looked up at its startd and reconnected or given up. Reaches the schedd only through
// `LeasesSchedd` (it imports nothing of schedd.ts).
import type { Logger } from '../../lib/log.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import { connectionRefused } from '../../lib/rpc/status.js';
import { JobStatus } from '../../lib/job-status.js';
import type { UserLogWriter } from '../../lib/user-log/index.js';
import { jobKey, lit, type ClaimRef, type Job, type JobQueue, type LostRun } from './queue.js';
import { leaseClock, type Claim } from './claim.js';
import type { GangClaims } from './gang.js';
import type { EventBody } from './user-actions.js';

/** What lease renewal and reconnection need of the schedd. */
export interface LeasesSchedd {
  queue: JobQueue;
  log: Logger;
  userLog: UserLogWriter;
  claims: Map<string, Claim>;
  startd(address: string): StartdClient;
  /** JOB_LEASE_DURATION, seconds */
  lease(): number;
  /** the schedd's address (where the startds send their events) */
  address(): string;
  /** A startd's current addresses, by its name (from the collector's Machine ads; none when not known). */
  findStartd(startdName: string): Promise<string[]>;
  gangs: Pick<GangClaims, 'sweep' | 'restore' | 'settle'>;
  /** jobs whose exit a previous run of the schedd may have logged and not recorded */
  unsure: Set<string>;
  /**
   * give a run up (`gone`: its startd said it has neither the claim nor an exit to report; `logged`: its 024
   * is in the user log, so no 004)
   */
  lostRun(job: Job, reason: string, gone: boolean, logged?: boolean): void;
  logEvent(job: Job, e: EventBody): void;
  markRunning(job: Job, claim: Claim): void;
  dropStartingClaim(job: Job): void;
  wallClock(job: Job): Record<string, string | null>;
  armDuration(job: Job): void;
  onQueueChanged(): void;
}

/**
 * How long a renewal may go unanswered before the user logs of the startd's running jobs say they are
 * disconnected (022): half the call's 10 s deadline. HTCondor's shadow writes 022 the moment it finds its
 * connection to the starter gone; a schedd learns of a lost startd from its renewals, and a startd that
 * accepts the call and says nothing (hung, stopped, its host cut off) is lost as much as one that refuses it.
 */
export const RENEWAL_PATIENCE_MS = 5_000;

/** How many job leases a job waits for the unreachable startd of a run given up on before it may run again. */
const LOST_RUN_WAIT_LEASES = 10;

export class Leases {
  private renewing = new Set<string>();
  /** Claims whose job's user log has a 022 (disconnected) not yet followed by its 023 or 024. */
  private disconnected = new Map<string, Job>();

  constructor(private s: LeasesSchedd) {}

  /** Renew the leases of every claim, per startd; a startd that forgot a claim lost its job. */
  async renewLeases(): Promise<void> {
    this.s.gangs.sweep();
    const byStartd = new Map<string, Claim[]>();
    for (const c of this.s.claims.values()) {
      let l = byStartd.get(c.startd);
      if (!l) byStartd.set(c.startd, (l = []));
      l.push(c);
    }
    await Promise.all(
      [...byStartd].map(async ([addr, claims]) => {
        if (this.renewing.has(addr)) return;
        this.renewing.add(addr);
        const asked = leaseClock();
        const late = setTimeout(() => {
          for (const c of claims)
            if (c.job && c.job.claim?.id === c.id)
              this.disconnect(
                c.job,
                c.id,
                c.slot,
                c.startd,
                `the startd has not answered the renewal of the job lease for ${RENEWAL_PATIENCE_MS / 1000} s`,
              );
          this.s.userLog.flush();
        }, RENEWAL_PATIENCE_MS);
        late.unref();
        try {
          let r;
          try {
            r = await this.s.startd(addr).renew(
              claims.map((c) => c.id),
              this.s.lease(),
              this.s.address(),
            );
            // another startd at the claims' address (theirs moved, or is gone): not theirs to answer for
            if (!claims.some((c) => Leases.answersFor(r!.name, c.slot)))
              throw new Error(`the startd ${r.name} answers at ${addr}`);
          } catch (e) {
            // a startd restarted since has a new address (and none of these claims): ask it there, so the
            // jobs go back to idle at once instead of after the lease
            const moved = (await this.startdAddresses(addr, claims[0]!.slot)).filter((a) => a !== addr);
            if (!moved.length) throw e;
            r = await this.s.startd(moved[0]!).renew(
              claims.map((c) => c.id),
              this.s.lease(),
              this.s.address(),
            );
            for (const c of claims) if (Leases.answersFor(r.name, c.slot)) c.startd = moved[0]!;
          }
          const unknown = new Set(r.unknown);
          const unheard: Claim[] = [];
          for (const c of claims) {
            if (!Leases.answersFor(r.name, c.slot)) {
              unheard.push(c);
              continue;
            }
            if (!unknown.has(c.id)) {
              c.renewedAt = asked;
              this.reconnected(c, c.startd);
              continue;
            }
            this.s.claims.delete(c.id);
            if (c.job && c.job.claim?.id === c.id)
              this.giveUp(c.job, c.id, c.slot, `the startd ${c.slot} no longer has the claim`, true);
          }
          this.unheard(unheard, asked);
        } catch (e) {
          this.s.log.warn({ startd: addr, err: (e as Error).message }, 'lease renewal failed');
          this.unheard(claims, asked);
        } finally {
          clearTimeout(late);
          this.renewing.delete(addr);
        }
      }),
    );
    // a claim that ended otherwise (its job's exit, a removal) needs no 023 any more
    for (const [id, j] of this.disconnected) if (j.claim?.id !== id) this.disconnected.delete(id);
    await this.s.queue.commit();
    this.s.userLog.flush();
    this.s.onQueueChanged();
    void this.settleLostRuns();
  }

  private settling = false;
  /**
   * Runs given up on whose startd's host was found with no startd listening, since when (`leaseClock`, ms):
   * the one lease such a startd is waited for counts from then, not from the give-up (a startd out of reach
   * for longer, then restarted by its master, is given the time to come back and report the run's exit).
   */
  private refusedSince = new Map<string, number>();

  /**
   * The runs given up on whose exit may still come (`JobQueue.unsettledRuns`) are asked about at their
   * startds, again and again while any is left: one whose startd has neither the claim nor an exit to report
   * is gone, and its job may run again; one whose exit is on its way ("exited") waits for it, and one still
   * running (its startd was cut off) is stopped and waits for its end. A startd that cannot be reached is
   * waited for, at most LOST_RUN_WAIT_LEASES job leases: a host that never comes back must not keep its jobs
   * for ever (an exit that still comes later is then taken back, stopping the new run: takeBackLostRun).
   */
  async settleLostRuns(): Promise<void> {
    if (this.settling) return;
    this.settling = true;
    try {
      // (a schedd that stops closes the queue: the next one asks again)
      for (let attempt = 0; this.s.queue.open; attempt++) {
        const byStartd = new Map<string, Array<{ claim: string; run: LostRun; since: number }>>();
        for (const u of this.s.queue.unsettledRuns()) {
          const k = `${u.run.startd} ${u.run.slot}`;
          const l = byStartd.get(k);
          if (l) l.push(u);
          else byStartd.set(k, [u]);
        }
        // (the runs settled meanwhile, by their exit or otherwise, are not waited for any more)
        const waiting = new Set([...byStartd.values()].flat().map((u) => u.claim));
        for (const claim of this.refusedSince.keys()) if (!waiting.has(claim)) this.refusedSince.delete(claim);
        if (!byStartd.size) return;
        let changed = false;
        for (const runs of byStartd.values()) changed = (await this.settleAt(runs)) || changed;
        if (changed) await this.settle();
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)).unref());
      }
    } catch (e) {
      this.s.log.warn({ err: (e as Error).message }, 'could not settle the runs given up on (tried again later)');
    } finally {
      this.settling = false;
    }
  }

  /** Ask one startd about runs given up on there; true if any was settled. */
  private async settleAt(runs: Array<{ claim: string; run: LostRun; since: number }>): Promise<boolean> {
    const { startd, slot } = runs[0]!.run;
    let refused = true;
    for (const addr of await this.startdAddresses(startd, slot)) {
      let r;
      try {
        r = await this.s.startd(addr).claimStatus(
          runs.map((u) => u.claim),
          this.s.address(),
        );
      } catch (e) {
        refused &&= connectionRefused(e);
        continue;
      }
      // another startd at this address says nothing of the run (a startd is listening: the host is up)
      if (!Leases.answersFor(r.name, slot)) {
        refused = false;
        continue;
      }
      const state = new Map(r.claims.map((c) => [c.claim, c.state]));
      let changed = false;
      for (const { claim, run } of runs) {
        this.refusedSince.delete(claim);
        const s = state.get(claim) ?? 'unknown';
        if (s === 'exited') continue;
        if (s === 'running') {
          void this.s
            .startd(addr)
            .deactivate(claim, true, 'the schedd gave this run up')
            .catch(() => {});
          continue;
        }
        if (s === 'idle')
          void this.s
            .startd(addr)
            .release(claim)
            .catch(() => {});
        this.s.log.info(
          { cluster: run.cluster, proc: run.proc, slot: run.slot },
          'the run given up on is gone at its startd: the job may run again',
        );
        this.s.queue.forgetLostRun(claim);
        changed = true;
      }
      return changed;
    }
    // A host that answers with no startd listening at any address the startd had: it is not running (a
    // restarted one would be in the collector at its new address), and its keeper and spawner, which journal
    // the jobs' exits, went with it (a live one brings the startd back within seconds). Its run cannot report
    // an exit any more; only a startd out of reach (a partition, a frozen host) is waited for longer.
    const lease = this.s.lease() * 1000;
    const now = leaseClock();
    const expired = runs.filter((u) => {
      if (!refused) {
        this.refusedSince.delete(u.claim);
        return now - u.since > lease * LOST_RUN_WAIT_LEASES;
      }
      if (!this.refusedSince.has(u.claim)) this.refusedSince.set(u.claim, now);
      return now - this.refusedSince.get(u.claim)! > lease;
    });
    for (const { claim, run } of expired) {
      this.refusedSince.delete(claim);
      this.s.log.warn(
        { cluster: run.cluster, proc: run.proc, slot: run.slot },
        'the startd of a run given up on stayed out of reach: the job may run again',
      );
      this.s.queue.stopWaitingFor(claim);
    }
    return expired.length > 0;
  }

  /**
   * Claims whose startd did not answer: the startd kills a job whose lease ran out (counted from when it last
   * heard from us), so once that time has surely passed the job is run elsewhere. Never earlier, so there
   * are never two live runs.
   */
  private unheard(claims: Claim[], asked: number): void {
    for (const c of claims) {
      c.renewedAt ??= asked;
      if (c.job && c.job.claim?.id === c.id)
        this.disconnect(c.job, c.id, c.slot, c.startd, 'the startd did not answer the renewal of the job lease');
      if (leaseClock() - c.renewedAt <= this.s.lease() * 1000) continue;
      this.s.claims.delete(c.id);
      if (c.job && c.job.claim?.id === c.id)
        this.giveUp(
          c.job,
          c.id,
          c.slot,
          `the startd of ${c.slot} could not be reached for longer than the job lease`,
          false,
        );
    }
  }

  /**
   * The user log's 022 (`Job disconnected, attempting to reconnect`), once per loss of touch with a running
   * job's startd, as HTCondor's shadow writes it; 023 or 024 closes it.
   */
  private disconnect(job: Job, claim: string, slot: string, startd: string, reason: string): void {
    if (this.disconnected.has(claim) || (job.status !== JobStatus.Running && job.status !== JobStatus.Suspended))
      return;
    this.disconnected.set(claim, job);
    this.s.logEvent(job, { type: 'disconnected', reason, startdName: slot, startdAddress: startd });
  }

  /** The startd of a claim answered again: 023 (`Job reconnected to <slot>`) if a 022 was written. */
  private reconnected(c: Claim, addr: string): void {
    if (c.job && c.job.claim?.id === c.id) this.heardFrom(c.job, addr);
  }

  /**
   * The startd of a job reported on it (an exit, an eviction) or answered for its claim: after a 022, a 023
   * comes first, so the log never leaves a disconnection open.
   */
  heardFrom(job: Job, addr = job.claim?.startd ?? ''): void {
    const c = job.claim;
    if (!c || this.disconnected.get(c.id) !== job) return;
    this.disconnected.delete(c.id);
    this.s.logEvent(job, { type: 'reconnected', startdName: c.slot, startdAddress: addr || undefined });
  }

  /**
   * Give a run up. After a 022 its end is 024 (`Job reconnection failed`, the job rescheduled), as in
   * HTCondor, instead of the 004 a run given up on otherwise has.
   */
  private giveUp(job: Job, claim: string, slot: string, reason: string, gone: boolean): void {
    const logged = this.disconnected.delete(claim) && job.status !== JobStatus.Idle;
    if (logged) this.s.logEvent(job, { type: 'reconnect_failed', reason, startdName: slot });
    this.s.lostRun(job, reason, gone, logged);
  }

  /**
   * Whether a startd that answered with `name` speaks for the claims of `slot`: a startd gone from the collector
   * may have left its port to another startd of its host, whose "no such claim" says nothing of this one's run
   * (a startd of an older dsched sends no name, and is taken at its word).
   */
  static answersFor(name: string | undefined, slot: string): boolean {
    return !name || name === Leases.startdName(slot);
  }

  /** The startd a claim's slot belongs to: slot names are `slotN[_M]@<startd name>`. */
  static startdName(slot: string): string {
    const at = slot.indexOf('@');
    return at >= 0 ? slot.slice(at + 1) : '';
  }

  /**
   * Where a startd can be reached now: its current address in the collector (found by its name; a
   * restarted startd has a new port) first, then the address the claim was made at.
   */
  async startdAddresses(recorded: string, slot: string): Promise<string[]> {
    const name = Leases.startdName(slot);
    const current = name ? await this.s.findStartd(name).catch(() => [] as string[]) : [];
    return [...new Set([...current, recorded])];
  }

  /**
   * After a restart: every job the queue says is running is asked about at its startd. Still running →
   * the claim is rebuilt and the job keeps going; unknown there (a restarted startd knows none of the old
   * claims) → the job goes back to idle. This runs in the background: the schedd advertises and serves
   * meanwhile, and only the jobs of a startd that cannot be found wait, at most until the lease would
   * have ended.
   */
  async reconnect(): Promise<void> {
    const byStartd = new Map<string, Job[]>();
    for (const j of this.s.queue.jobs.values()) {
      if (!j.claim) {
        if (j.status === JobStatus.Running)
          this.s.queue.update(j, { RemoteHost: null, CurrentHosts: '0' }, JobStatus.Idle);
        continue;
      }
      if (
        j.status !== JobStatus.Running &&
        j.status !== JobStatus.Suspended &&
        j.status !== JobStatus.Idle &&
        j.status !== JobStatus.Removed &&
        j.status !== JobStatus.Held
      )
        continue;
      this.s.unsure.add(jobKey(j.cluster, j.proc));
      this.s.gangs.restore(j);
      // as HTCondor's schedd after a restart: 022, then 023 or 024 once its startd has answered
      this.disconnect(j, j.claim.id, j.claim.slot, j.claim.startd, 'the schedd restarted while the job ran');
      let l = byStartd.get(j.claim.startd);
      if (!l) byStartd.set(j.claim.startd, (l = []));
      l.push(j);
    }
    await this.s.queue.commit();
    this.s.onQueueChanged();
    void this.settleLostRuns();
    await Promise.all([...byStartd].map(([addr, jobs]) => this.reconnectStartd(addr, jobs)));
  }

  /** Look these jobs up at their startd and reconnect or give them up (after a restart, or an unanswered start). */
  async reconnectStartd(recorded: string, all: Job[]): Promise<void> {
    const claimOf = new Map(all.map((j) => [j, j.claim!]));
    // then a parallel job's other claims: held again if its first chunk runs, released if not
    try {
      await this.settleStartd(recorded, all, claimOf);
    } finally {
      for (const [j, c] of claimOf) await this.s.gangs.settle(j, c.id);
    }
  }

  private async settleStartd(recorded: string, all: Job[], claimOf: Map<Job, ClaimRef>): Promise<void> {
    const deadline = leaseClock() + this.s.lease() * 1000;
    const answered = new Set<Job>();
    // a job whose claim changed meanwhile (removed, held, its startd reported) is no longer ours to settle
    const pending = () =>
      all.filter(
        (j) =>
          !answered.has(j) &&
          this.s.queue.jobs.get(jobKey(j.cluster, j.proc)) === j &&
          j.claim?.id === claimOf.get(j)!.id,
      );
    for (let attempt = 0; ; attempt++) {
      for (const addr of await this.startdAddresses(recorded, all[0]!.claim?.slot ?? claimOf.get(all[0]!)!.slot)) {
        const jobs = pending();
        if (!jobs.length) return;
        let r;
        try {
          r = await this.s.startd(addr).claimStatus(
            jobs.map((j) => j.claim!.id),
            this.s.address(),
          );
        } catch {
          continue;
        }
        const state = new Map(r.claims.map((c) => [c.claim, c]));
        for (const j of jobs) {
          // another startd at this address knows nothing of this job's claim: not an answer
          if (!Leases.answersFor(r.name, claimOf.get(j)!.slot)) continue;
          answered.add(j);
          const c = state.get(j.claim!.id);
          // the startd's job on the claim is another one (an earlier job of a reused claim ended there): this
          // job never ran on it
          const other = c?.job && (Number(c.job.cluster) !== j.cluster || Number(c.job.proc) !== j.proc);
          this.reconnectJob(j, addr, !c || other ? 'unknown' : c.state);
        }
        await this.settle();
        if (!pending().length) return;
      }
      if (leaseClock() > deadline) {
        for (const j of pending())
          this.giveUp(
            j,
            j.claim!.id,
            j.claim!.slot,
            'the startd could not be reached after the schedd restarted',
            false,
          );
        await this.settle();
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }

  /** Commit, write the events, refresh the ads. */
  private async settle(): Promise<void> {
    await this.s.queue.commit();
    this.s.userLog.flush();
    this.s.onQueueChanged();
  }

  /** Rebuild (or drop) one job's claim from what its startd, found at `addr`, says about it. */
  private reconnectJob(j: Job, addr: string, s: string) {
    const claimRef = j.claim!;
    if (claimRef.startd !== addr) {
      j.claim = { ...claimRef, startd: addr };
      this.s.queue.update(
        j,
        j.status === JobStatus.Running || j.status === JobStatus.Suspended ? { StartdAddress: lit(addr) } : {},
      );
    }
    if (j.status === JobStatus.Idle) {
      // it was being started when the schedd stopped: running (or finished) there, or never started
      if (s === 'running' || s === 'exited') {
        const claim: Claim = {
          id: claimRef.id,
          startd: addr,
          slot: claimRef.slot,
          lastAc: j.ac,
          renewedAt: leaseClock(),
        };
        this.s.claims.set(claim.id, claim);
        j.matching = false;
        this.s.markRunning(j, claim);
      } else {
        this.s.dropStartingClaim(j);
        if (s === 'idle') {
          this.s.claims.delete(claimRef.id);
          void this.s
            .startd(addr)
            .release(claimRef.id)
            .catch(() => {});
        }
      }
      return;
    }
    if (s === 'unknown') {
      if (j.status === JobStatus.Removed) this.s.queue.finish(j, JobStatus.Removed, this.s.wallClock(j));
      else
        this.giveUp(
          j,
          claimRef.id,
          claimRef.slot,
          'the job was lost while the schedd was down (its startd no longer has the claim)',
          true,
        );
      return;
    }
    const claim: Claim = {
      id: claimRef.id,
      startd: addr,
      slot: claimRef.slot,
      job: j,
      lastAc: 0,
      renewedAt: leaseClock(),
    };
    this.s.claims.set(claim.id, claim);
    this.reconnected(claim, addr);
    if (s === 'running') this.s.unsure.delete(jobKey(j.cluster, j.proc));
    if (j.status === JobStatus.Running) this.s.armDuration(j);
    if (j.status === JobStatus.Removed)
      void this.s
        .startd(addr)
        .deactivate(claim.id, false, 'removed')
        .catch(() => {});
    this.s.log.info({ cluster: j.cluster, proc: j.proc, slot: claim.slot, state: s }, 'reconnected to running job');
  }
}
