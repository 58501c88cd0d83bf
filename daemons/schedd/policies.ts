// The periodic policies of the jobs in the queue (PeriodicRemove, PeriodicHold, PeriodicRelease) and their
// walltime (AllowedJobDuration), checked every PERIODIC_EXPR_INTERVAL and by a timer per running job. Reaches
// the schedd only through `PoliciesSchedd` (it imports nothing of schedd.ts).
import { isTrue } from '../../grammar/classad/index.js';
import { DschedError, type ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import { HoldCode, JobStatus } from '../../lib/job-status.js';
import { nowSeconds as now } from '../../lib/time.js';
import type { UserLogWriter } from '../../lib/user-log/index.js';
import { DEPENDENCY_HOLD } from './dependencies.js';
import { jobKey, type Job, type JobQueue } from './queue.js';
import { killsOnWalltime, walltimeMessage, WALLTIME_KILLED } from './pbs-walltime.js';
import { forEachJob, turn } from './query.js';
import { RELEASE_WHEN_STOPPED, type UserActions } from './user-actions.js';

/** What the policies need of the schedd. */
export interface PoliciesSchedd {
  queue: JobQueue;
  log: Logger;
  userLog: UserLogWriter;
  startd(address: string): StartdClient;
  /** holds, removals and releases, by the users' rules */
  actions: Pick<UserActions, 'hold' | 'actOne' | 'releaseIfAsked'>;
  /** PBS_WALLTIME_HOLD: hold #PBS jobs over their walltime instead of killing them */
  pbsWalltimeHold(): boolean;
  /** PERIODIC_EXPR_MAX_TIME_PER_OWNER in ms: the most one owner's jobs take of a pass */
  policyTimePerOwner(): number;
  onQueueChanged(): void;
}

/** The failures of the queue's storage: a turn that meets one fails whole, whichever job it was at. */
const STORAGE_FAILURES = new Set<ErrorCode>([
  'DISK_FULL',
  'OUT_OF_FILES',
  'QUEUE_BUSY',
  'QUEUE_IO_ERROR',
  'QUEUE_CORRUPT',
  'QUEUE_READONLY',
]);

/** Milliseconds of policy evaluation before the schedd serves others (a turn of its event loop). */
const POLICY_SLICE_MS = 10;

/** Whether a policy expression's text may ever be true (not absent, nor plainly false or undefined). */
const active = (v: string | undefined) => v !== undefined && v !== 'false' && v !== 'FALSE' && v !== 'undefined';

export class Policies {
  constructor(private s: PoliciesSchedd) {}

  /**
   * The periodic policy expressions, as HTCondor's schedd evaluates them: PeriodicRemove (any job),
   * PeriodicHold (idle or running), PeriodicRelease (held), and AllowedJobDuration (PBS walltime) for
   * running jobs. Jobs without such expressions cost one attribute lookup.
   */
  async periodicPolicies(): Promise<void> {
    // a walk of a big queue outlasting the interval is not started again over it (its outcome is this turn's)
    if (this.policyWalk) return this.policyWalk;
    this.policyWalk = this.evaluatePolicies();
    try {
      await this.policyWalk;
    } finally {
      this.policyWalk = undefined;
    }
  }
  private policyWalk: Promise<void> | undefined;
  private durationTimers = new Map<string, NodeJS.Timeout>();

  /**
   * One pass over the jobs with policies. Each owner's jobs take at most policyTimePerOwner of it: past that
   * the rest of them wait for the next pass, which begins with the first of them (a million of one user's
   * costly jobs took the schedd's time for days a pass, every other user's policies waiting behind them).
   */
  private async evaluatePolicies(): Promise<void> {
    const found = this.resumed(await this.policyJobs());
    const limit = this.s.policyTimePerOwner();
    const spent = new Map<string, number>();
    const stopped = new Map<string, Job>();
    let t = now();
    const kills: Array<Promise<unknown>> = [];
    let t0 = performance.now();
    for (const job of found) {
      // a slice per turn of the event loop: each job's expressions may take up to the ClassAd bounds (a tenth of
      // a second and more), and all of one user's jobs in one turn kept every user's calls out for minutes
      if (performance.now() - t0 > POLICY_SLICE_MS) {
        await turn();
        [t, t0] = [now(), performance.now()];
      }
      if (stopped.has(job.owner)) continue;
      // found over several turns: a job may have left the queue since
      if (this.s.queue.jobs.get(jobKey(job.cluster, job.proc)) !== job) continue;
      const t1 = performance.now();
      try {
        this.evaluateJob(job, t, kills);
      } catch (e) {
        // the queue cannot be written: this turn fails as a whole (and is logged as such)
        if (e instanceof DschedError && STORAGE_FAILURES.has(e.code)) throw e;
        this.unreadable(job, e);
      }
      const used = (spent.get(job.owner) ?? 0) + performance.now() - t1;
      spent.set(job.owner, used);
      if (used > limit) stopped.set(job.owner, job);
    }
    this.outOfTime(stopped, found, limit);
    await this.commitThenStop(kills);
  }

  /** Where each owner out of time in the last pass stopped: the next pass begins after that job. */
  private stoppedAt = new Map<string, Job>();

  /** `found` with each owner who ran out of time last pass starting after the job it stopped at. */
  private resumed(found: Job[]): Job[] {
    if (!this.stoppedAt.size) return found;
    const after = (j: Job) => {
      const at = this.stoppedAt.get(j.owner);
      return !at || j.cluster > at.cluster || (j.cluster === at.cluster && j.proc > at.proc);
    };
    return [...found.filter(after), ...found.filter((j) => !after(j))];
  }

  /** Keep where each owner stopped, and log an owner once when it first runs out of time (not every pass). */
  private outOfTime(stopped: Map<string, Job>, found: Job[], limit: number): void {
    const last = new Map<string, Job>();
    if (stopped.size) for (const j of found) last.set(j.owner, j);
    for (const [owner, job] of stopped) {
      // its last job in the pass was evaluated: nothing waits
      if (last.get(owner) === job) stopped.delete(owner);
      else if (!this.stoppedAt.has(owner))
        this.s.log.warn(
          { owner, limitSeconds: limit / 1000 },
          "owner's jobs out of time (PERIODIC_EXPR_MAX_TIME_PER_OWNER): their periodic policies go on in the next pass",
        );
    }
    this.stoppedAt = stopped;
  }

  /**
   * A job whose ad cannot be evaluated (a value no parser reads, kept in a queue an older version wrote) is
   * passed over and said once: it stopped the policies of every job after it in the queue, other users' too.
   */
  private unreadable(job: Job, e: unknown): void {
    const key = jobKey(job.cluster, job.proc);
    if (this.told.has(key)) return;
    if (this.told.size >= 10_000) this.told.clear();
    this.told.add(key);
    this.s.log.warn(
      { cluster: job.cluster, proc: job.proc, err: (e as Error)?.message },
      'periodic policies of the job cannot be evaluated; passed over',
    );
  }
  private told = new Set<string>();

  /** One job's turn of the periodic policies. */
  private evaluateJob(job: Job, t: number, kills: Array<Promise<unknown>>): void {
    const attr = (n: string) => job.attrs[n] ?? this.s.queue.clusters.get(job.cluster)?.attrs[n];
    if (job.status === JobStatus.Removed) return;
    if (job.attrs[RELEASE_WHEN_STOPPED] !== undefined) {
      if (!job.claim) this.s.actions.releaseIfAsked(job);
      return;
    }
    if (active(attr('PeriodicRemove')) && isTrue(this.s.queue.ad(job).evaluate('PeriodicRemove'))) {
      const r = this.s.actions.actOne(
        job,
        'remove',
        `The job attribute PeriodicRemove expression '${attr('PeriodicRemove')}' evaluated to TRUE`,
      );
      if (r && typeof r !== 'string') kills.push(r());
      return;
    }
    if (
      (job.status === JobStatus.Idle || job.status === JobStatus.Running) &&
      active(attr('PeriodicHold')) &&
      isTrue(this.s.queue.ad(job).evaluate('PeriodicHold'))
    ) {
      const ad = this.s.queue.ad(job);
      const custom = ad.lookupJS('PeriodicHoldReason');
      const reason =
        typeof custom === 'string' && custom
          ? custom
          : `The job attribute PeriodicHold expression '${attr('PeriodicHold')}' evaluated to TRUE`;
      this.s.actions.hold(job, reason, HoldCode.JobPolicy, Number(ad.lookupJS('PeriodicHoldSubCode') ?? 0) || 0);
      const k = this.stopJob(job, reason);
      if (k) kills.push(k);
      return;
    }
    if (
      job.status === JobStatus.Held &&
      this.s.queue.value(job, DEPENDENCY_HOLD) !== true &&
      active(attr('PeriodicRelease')) &&
      isTrue(this.s.queue.ad(job).evaluate('PeriodicRelease'))
    ) {
      if (!job.claim)
        this.s.actions.actOne(
          job,
          'release',
          `The job attribute PeriodicRelease expression '${attr('PeriodicRelease')}' evaluated to TRUE`,
        );
      return;
    }
    if (attr('AllowedJobDuration') !== undefined || attr('AllowedExecuteDuration') !== undefined)
      this.holdIfOverDuration(job, t, kills);
  }

  /**
   * The jobs with a policy expression of their own or from their cluster: a cluster without any costs one
   * look at each proc's own attributes, a slice of the queue per turn of the event loop (a million held jobs
   * took a quarter of a second at a time, and every query that came meanwhile waited for it).
   */
  private async policyJobs(): Promise<Job[]> {
    const out: Job[] = [];
    let cluster = -1;
    let shared = false;
    await forEachJob(
      this.s.queue,
      [],
      (j) => {
        if (j.cluster !== cluster) {
          cluster = j.cluster;
          const a = this.s.queue.clusters.get(cluster)?.attrs ?? {};
          shared =
            active(a.PeriodicRemove) ||
            active(a.PeriodicHold) ||
            active(a.PeriodicRelease) ||
            a.AllowedJobDuration !== undefined ||
            a.AllowedExecuteDuration !== undefined;
        }
        const o = j.attrs;
        if (
          shared ||
          o.PeriodicRemove !== undefined ||
          o.PeriodicHold !== undefined ||
          o.PeriodicRelease !== undefined ||
          o.AllowedJobDuration !== undefined ||
          o.AllowedExecuteDuration !== undefined ||
          o[RELEASE_WHEN_STOPPED] !== undefined
        )
          out.push(j);
      },
      () => false,
    );
    return out;
  }

  /** Make state changes durable (and their events written), then stop the processes they ended. */
  private async commitThenStop(kills: Array<Promise<unknown>>): Promise<void> {
    await this.s.queue.commit();
    this.s.userLog.flush();
    await Promise.all(kills);
    this.s.onQueueChanged();
  }

  /** A run-time bound of a job in seconds (AllowedJobDuration, AllowedExecuteDuration), or undefined: none. */
  private durationLimit(job: Job, attr: 'AllowedJobDuration' | 'AllowedExecuteDuration'): number | undefined {
    const limit = Number(this.s.queue.value(job, attr));
    return Number.isFinite(limit) && limit > 0 ? limit : undefined;
  }

  /**
   * Hold (and stop) a running job that has run longer than its AllowedJobDuration (HTCondor's code 46; a
   * #PBS job is killed instead, pbs-walltime.ts) or its AllowedExecuteDuration (code 47, as HTCondor holds
   * it). Both are counted from the job's start here, its input transfer included. True when it acted.
   */
  private holdIfOverDuration(job: Job, t: number, kills: Array<Promise<unknown>>): boolean {
    if (job.status !== JobStatus.Running || this.s.queue.value(job, WALLTIME_KILLED) !== undefined) return false;
    const limit = this.durationLimit(job, 'AllowedJobDuration');
    const started = Number(this.s.queue.value(job, 'JobCurrentStartDate') ?? t);
    const execute = this.durationLimit(job, 'AllowedExecuteDuration');
    if (execute !== undefined && t - started > execute && !(limit !== undefined && t - started > limit)) {
      const reason = `The job exceeded allowed execute duration of ${execute} seconds`;
      this.s.actions.hold(job, reason, HoldCode.JobExecuteExceeded, 0);
      const k = this.stopJob(job, reason);
      if (k) kills.push(k);
      return true;
    }
    if (limit !== undefined && t - started > limit) {
      if (killsOnWalltime(this.s.queue, job, this.s.pbsWalltimeHold())) {
        this.s.queue.update(job, { [WALLTIME_KILLED]: String(t - started) });
        const k = this.stopJob(job, walltimeMessage(t - started, limit));
        if (k) kills.push(k);
        this.s.log.info({ cluster: job.cluster, proc: job.proc, limit }, 'walltime exceeded: job killed');
        return true;
      }
      const reason = `The job exceeded allowed job duration of ${limit} seconds`;
      this.s.actions.hold(job, reason, HoldCode.JobDurationExceeded, 0);
      const k = this.stopJob(job, reason);
      if (k) kills.push(k);
      return true;
    }
    return false;
  }

  /**
   * A running job's AllowedJobDuration (or AllowedExecuteDuration) is checked when it runs out, as HTCondor's shadow times it: the
   * periodic evaluation alone (every PERIODIC_EXPR_INTERVAL) lets a job that exits before it overrun its
   * walltime and complete as a success.
   */
  armDuration(job: Job) {
    const key = jobKey(job.cluster, job.proc);
    this.disarmDuration(key);
    // the nearer of its bounds, the one that stops it
    const limit = Math.min(
      this.durationLimit(job, 'AllowedJobDuration') ?? Infinity,
      this.durationLimit(job, 'AllowedExecuteDuration') ?? Infinity,
    );
    const started = Number(this.s.queue.value(job, 'JobCurrentStartDate'));
    if (!Number.isFinite(limit) || !Number.isFinite(started)) return;
    const timer = setTimeout(
      () => {
        this.durationTimers.delete(key);
        const j = this.s.queue.jobs.get(key);
        if (!j) return;
        const kills: Array<Promise<unknown>> = [];
        if (!this.holdIfOverDuration(j, now(), kills)) {
          // a timer may fire a little early (timer slack, a busy loop): the limit has not run out yet, so
          // the timer is armed again instead of letting the job overrun its walltime unchecked
          if (j.status === JobStatus.Running) this.armDuration(j);
          return;
        }
        this.commitThenStop(kills).catch((e) =>
          this.s.log.error(
            { cluster: j.cluster, proc: j.proc, err: (e as Error).message },
            'walltime enforcement failed',
          ),
        );
      },
      Math.max(0, (started + limit + 1) * 1000 - Date.now()),
    );
    timer.unref();
    this.durationTimers.set(key, timer);
  }

  disarmDuration(key: string) {
    clearTimeout(this.durationTimers.get(key));
    this.durationTimers.delete(key);
  }

  /** Stop a held job's process if it runs (its claim is then reused or released when it exits). */
  private stopJob(job: Job, reason: string): Promise<unknown> | undefined {
    const c = job.claim;
    if (!c) return undefined;
    return this.s
      .startd(c.startd)
      .deactivate(c.id, false, reason)
      .catch((e) =>
        this.s.log.warn(
          { cluster: job.cluster, proc: job.proc, err: (e as Error).message },
          'could not reach the startd to stop the job',
        ),
      );
  }
}
