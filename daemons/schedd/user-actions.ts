// User actions on jobs (drm, dhold, drelease, dprio), job by job or set-based for whole clusters, and the
// holds and releases the rest of the schedd applies through the same rules. Reaches the schedd only through
// `ActionsSchedd` (it imports nothing of schedd.ts).
import { DschedError, type ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../../lib/rpc/auth.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import { connectionRefused } from '../../lib/rpc/status.js';
import { HoldCode, JobStatus, Universe } from '../../lib/job-status.js';
import type { UserLogEvent, UserLogWriter } from '../../lib/user-log/index.js';
import { DEPENDENCY_HOLD } from './dependencies.js';
import { jobKey, lit, type Job, type JobQueue, type Removal } from './queue.js';
import type { Claim } from './claim.js';
import type { JobFacts, MailEvent } from './notify.js';
import { MOVE_PIECE, RemovalMover, type MoverSchedd } from './removals.js';
import { jobPrioProblem } from './submit-checks.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the job's id and the time are filled in. */
export type EventBody = DistributiveOmit<UserLogEvent, 'cluster' | 'proc' | 'time'>;

/** Jobs a whole-cluster removal writes per transaction: the event loop runs between pieces. */
const REMOVE_PIECE = 50_000;

// A user hold on a job that waits for its dependency (dsubmit -h -W depend=…, or dhold): the reason and
// code it is held with once the dependency is met.
export const THEN_HOLD = 'HoldAfterDependency';
export const THEN_HOLD_CODE = 'HoldAfterDependencyCode';
// A release asked for while the run the job was held from is still stopping (its claim not yet given back):
// the reason, kept until the run has stopped and the job can go back to idle (as HTCondor's schedd takes a
// release while the job's shadow exits).
export const RELEASE_WHEN_STOPPED = 'ReleaseWhenStopped';
// PBS's operator (o) and system (s) holds an administrator placed (qhold -h o|s): the letters, as qstat -f's
// Hold_Types shows them. Only an administrator places or releases these (PBS's rule), whatever the command
// (qrls, drelease, condor_release); any other hold, an administrator's plain dhold included, its owner may
// release, as HTCondor's condor_release lets the owner or a queue super user.
export const PBS_HOLD_TYPES = 'PbsHoldTypes';

/** `u`, `o`, `s` in qhold -h / qrls -h's list: the administrator's letters among them, in PBS's order. */
const adminHoldTypes = (types: string): string => ['o', 's'].filter((t) => types.includes(t)).join('');

/** One job's answer to an action. */
export interface ActResult {
  job: Job;
  ok: boolean;
  error?: string;
  code?: ErrorCode;
}

/** What the user actions need of the schedd. */
export interface ActionsSchedd extends MoverSchedd {
  queue: JobQueue;
  log: Logger;
  userLog: UserLogWriter;
  claims: Map<string, Claim>;
  startd(address: string): StartdClient;
  logEvent(job: Job, e: EventBody): void;
  mail(ev: MailEvent, job: Job, extra?: Partial<JobFacts>): void;
  /** Keep events and mail in `after` until a change is committed (undefined: send them at once again). */
  defer(after: Array<() => void> | undefined): void;
  /** The wall-clock attributes of a run that ends now. */
  wallClock(job: Job): Record<string, string | null>;
  /** Remove a running DAG through its manager; false when no manager runs it. */
  removeDag(job: Job, reason: string): boolean;
  onQueueChanged(): void;
  /** JOB_LEASE_DURATION, seconds */
  lease(): number;
}

/** The codes of a startd that did not answer (hung, stopped, cut off): asked again, unlike its refusal. */
const SILENT: ReadonlySet<ErrorCode> = new Set(['TIMEOUT', 'DAEMON_UNREACHABLE']);

/** A job not acted on because the change could not be written. */
const refusal = (job: Job, e: unknown): ActResult => ({
  job,
  ok: false,
  error: (e as Error).message,
  code: e instanceof DschedError ? e.code : 'INTERNAL',
});

/** The command an action came from, for the reason recorded when the user gave none. */
const VIA: Record<string, string> = { remove: 'drm', forcex: 'drm -forcex' };

export class UserActions {
  /** The moves to history of large removals, in the background (removals.ts). */
  readonly mover: RemovalMover;

  constructor(private s: ActionsSchedd) {
    this.mover = new RemovalMover(s);
    for (const r of s.queue.removals) this.mover.add(r, true);
  }

  /** A held job whose run has now stopped goes back to idle if a release came while it stopped. */
  releaseIfAsked(job: Job): void {
    const reason = this.s.queue.value(job, RELEASE_WHEN_STOPPED);
    if (reason === undefined || job.status !== JobStatus.Held || job.claim) return;
    this.s.queue.update(job, { [RELEASE_WHEN_STOPPED]: null });
    if (this.actOne(job, 'release', String(reason)) === undefined)
      this.s.log.info({ cluster: job.cluster, proc: job.proc }, 'job released now that its run has stopped');
  }

  /** Hold a job: its hold reason and codes recorded, its event written. */
  hold(job: Job, reason: string, code: number, sub: number) {
    this.s.queue.update(
      job,
      {
        HoldReason: lit(reason),
        HoldReasonCode: String(code),
        HoldReasonSubCode: String(sub),
        [RELEASE_WHEN_STOPPED]: null,
      },
      JobStatus.Held,
    );
    this.s.logEvent(job, { type: 'held', reason, code, subCode: sub });
    // HTCondor mails a hold (notification = Error or Always) unless the owner asked for it
    if (code !== HoldCode.UserRequest && code !== HoldCode.SubmittedOnHold)
      this.s.mail('held', job, { holdReason: reason });
    this.s.log.info({ cluster: job.cluster, proc: job.proc, holdReason: reason }, 'job held');
  }

  async act(
    identity: Identity,
    action: string,
    jobs: Job[],
    reason: string,
    value = '',
  ): Promise<Array<{ job: Job; ok: boolean; error?: string; code?: ErrorCode }>> {
    const results: Array<{ job: Job; ok: boolean; error?: string; code?: ErrorCode }> = [];
    const kills: Array<() => Promise<unknown>> = [];
    const who = identity.name;
    // A thousand jobs at a time, each thousand all or nothing: its changes are committed before any event is
    // written, mail sent or job stopped, and a change that cannot be written (disk full) leaves those jobs
    // as they were. Between thousands other clients and the job path run.
    const after: Array<() => void> = [];
    const CHUNK = 1000;
    for (let start = 0; start < jobs.length; start += CHUNK) {
      if (start > 0) await new Promise((r) => setImmediate(r));
      const chunk = jobs.slice(start, start + CHUNK);
      const done = results.length;
      this.s.defer(after);
      try {
        this.s.queue.atomically(() => {
          for (const job of chunk) {
            if (this.s.queue.jobs.get(jobKey(job.cluster, job.proc)) !== job) {
              results.push({
                job,
                ok: false,
                error: `job ${job.cluster}.${job.proc} left the queue meanwhile`,
                code: 'JOB_NOT_FOUND',
              });
              continue;
            }
            if (!identity.admin && job.owner !== identity.name) {
              results.push({
                job,
                ok: false,
                error: `permission denied: job ${job.cluster}.${job.proc} belongs to ${job.owner}`,
                code: 'PERMISSION_DENIED',
              });
              continue;
            }
            const typed =
              action === 'hold' || action === 'release' ? this.holdTypes(identity, job, action, value) : undefined;
            if (typed) {
              results.push(typed === 'done' ? { job, ok: true } : { job, ok: false, ...typed });
              continue;
            }
            const r =
              action === 'prio'
                ? this.setPrio(job, value)
                : this.actOne(job, action, reason || `via ${VIA[action] ?? `d${action}`} (by user ${who})`);
            // a priority that is not a number is the request's fault; any other refusal is the job's state
            if (typeof r === 'string')
              results.push({ job, ok: false, error: r, code: action === 'prio' ? 'USAGE' : 'JOB_STATE' });
            else {
              results.push({ job, ok: true });
              if (r) kills.push(r);
              // the hold's PBS type goes with it: set by an administrator's qhold -h o|s, gone once released
              const admin = adminHoldTypes(value);
              if (action === 'hold' && admin) this.s.queue.update(job, { [PBS_HOLD_TYPES]: lit(admin) });
              if (action === 'release' && this.s.queue.value(job, PBS_HOLD_TYPES) !== undefined)
                this.s.queue.update(job, { [PBS_HOLD_TYPES]: null });
            }
          }
        });
      } catch (e) {
        // nothing done yet: the whole action is refused; else what was done stays and the rest is refused
        if (start === 0) throw e;
        results.length = done;
        for (const job of jobs.slice(start)) results.push(refusal(job, e));
        break;
      } finally {
        this.s.defer(undefined);
      }
    }
    for (const f of after) f();
    this.s.userLog.flush();
    // recorded and answered now: the runs stop in the background (stopRun), however long their startds take
    for (const k of kills) void k();
    this.s.onQueueChanged();
    return results;
  }

  /**
   * drm, dhold, drelease of whole clusters: the procs that need nothing but the change recorded (no claim, no
   * DAG, no dependency; see setBased) go set-based (JobQueue.removeProcs, changeProcs), REMOVE_PIECE at a
   * time with the event loop free in between, each piece all or nothing and its events written once it is
   * committed (a removal of more than MOVE_PIECE procs is committed removed, and they move to history in the
   * background, their events written as they go: removals.ts); the others, and the clusters of another owner,
   * take act()'s path, job by job (with its errors). Returns the jobs acted on set-based (a list per piece)
   * and act()'s results for the rest.
   */
  async actOnClusters(
    identity: Identity,
    action: 'remove' | 'hold' | 'release',
    clusters: number[],
    reason: string,
    value = '',
  ): Promise<{ done: Job[][]; results: ActResult[] }> {
    const why = reason || `via d${action === 'remove' ? 'rm' : action} (by user ${identity.name})`;
    const how = this.setBased(action, why);
    const done: Job[][] = [];
    const rest: Job[] = [];
    const failed: ActResult[] = [];
    const removals: Removal[] = [];
    for (const id of clusters) {
      const c = this.s.queue.clusters.get(id);
      if (!c) continue;
      const all = Array.from(this.s.queue.byCluster(id));
      if (!identity.admin && c.owner !== identity.name) {
        for (const j of all) rest.push(j);
        continue;
      }
      if (action === 'remove' && all.length > MOVE_PIECE) {
        // a large removal is committed in one row and answered; its procs go to history after (removals.ts)
        const plain: Job[] = [];
        for (const j of all) (how.plain(j) ? plain : rest).push(j);
        try {
          const r = this.s.queue.markRemoved(id, plain, why);
          if (r) {
            done.push(r.jobs);
            removals.push(r);
          }
        } catch (e) {
          // nothing done yet: the whole action is refused; else what was done stays and the rest is refused
          if (!done.length) throw e;
          for (const job of plain) failed.push(refusal(job, e));
        }
        continue;
      }
      for (let start = 0; start < all.length; start += REMOVE_PIECE) {
        if (start > 0) await new Promise((r) => setImmediate(r));
        // looked at again now: between pieces a job may have started or left the queue
        const piece: Job[] = [];
        for (const j of all.slice(start, start + REMOVE_PIECE)) {
          if (this.s.queue.jobs.at(j.cluster, j.proc) !== j) continue;
          if (how.plain(j)) piece.push(j);
          else rest.push(j);
        }
        if (!piece.length) continue;
        // their events and mail, read now and sent once the change is committed
        const after: Array<() => void> = [];
        this.s.defer(after);
        try {
          for (const j of piece) how.events(j);
        } finally {
          this.s.defer(undefined);
        }
        try {
          how.write(id, piece);
        } catch (e) {
          // nothing done yet: the whole action is refused; else what was done stays and the rest is refused
          if (!done.length) throw e;
          // (this piece's other jobs are in `rest`, act()'s to answer for)
          const refuse = (job: Job) =>
            this.s.queue.jobs.get(jobKey(job.cluster, job.proc)) === job && failed.push(refusal(job, e));
          for (const job of piece) refuse(job);
          for (const job of all.slice(start + REMOVE_PIECE)) refuse(job);
          break;
        }
        done.push(piece);
        if (action !== 'remove')
          this.s.log.info(
            { cluster: id, procs: piece.length, reason: why },
            action === 'hold' ? 'jobs held' : 'jobs released',
          );
        for (const f of after) f();
        this.s.userLog.flush();
      }
    }
    let results: ActResult[];
    try {
      results = rest.length ? await this.act(identity, action, rest, reason, value) : [];
    } finally {
      // committed: they move once this action is answered (or refused for the others)
      for (const r of removals) this.mover.add(r);
    }
    for (const f of failed) results.push(f);
    this.s.onQueueChanged();
    return { done, results };
  }

  /**
   * How an action goes set-based: which jobs qualify (those act() would change with nothing but their
   * attributes and an event: no claim to stop, no DAG, no dependency hold), their events, and the write.
   */
  private setBased(
    action: 'remove' | 'hold' | 'release',
    why: string,
  ): { plain: (j: Job) => boolean; events: (j: Job) => void; write: (cluster: number, piece: Job[]) => void } {
    const noRun = (j: Job) => !j.claim && !j.matching && this.s.queue.value(j, 'JobUniverse') !== Universe.Scheduler;
    if (action === 'remove')
      return {
        plain: (j) => noRun(j) && j.status !== JobStatus.Removed,
        events: (j) => {
          this.s.logEvent(j, { type: 'aborted', reason: why });
          this.s.mail('abort', j, { removeReason: why });
        },
        write: (cluster, piece) => this.s.queue.removeProcs(cluster, piece, why),
      };
    if (action === 'hold')
      return {
        plain: (j) => noRun(j) && j.status === JobStatus.Idle && this.s.queue.value(j, DEPENDENCY_HOLD) !== true,
        events: (j) => this.s.logEvent(j, { type: 'held', reason: why, code: HoldCode.UserRequest, subCode: 0 }),
        write: (cluster, piece) =>
          this.s.queue.changeProcs(
            cluster,
            [
              {
                jobs: piece,
                changes: {
                  HoldReason: lit(why),
                  HoldReasonCode: String(HoldCode.UserRequest),
                  HoldReasonSubCode: '0',
                  [RELEASE_WHEN_STOPPED]: null,
                },
              },
            ],
            JobStatus.Held,
          ),
      };
    return {
      // an administrator's hold type is checked job by job (holdTypes)
      plain: (j) =>
        noRun(j) &&
        j.status === JobStatus.Held &&
        this.s.queue.value(j, DEPENDENCY_HOLD) !== true &&
        this.s.queue.value(j, PBS_HOLD_TYPES) === undefined,
      events: (j) => this.s.logEvent(j, { type: 'released', reason: why }),
      write: (cluster, piece) => {
        // each job keeps the reason it was held for as LastHoldReason: one group per reason (most often one)
        const byReason = new Map<string, Job[]>();
        for (const j of piece) {
          const last = lit(String(this.s.queue.value(j, 'HoldReason') ?? ''));
          let g = byReason.get(last);
          if (!g) byReason.set(last, (g = []));
          g.push(j);
        }
        const changes = (last: string) => ({
          [RELEASE_WHEN_STOPPED]: null,
          HoldReason: null,
          HoldReasonCode: null,
          HoldReasonSubCode: null,
          LastHoldReason: last,
          ReleaseReason: lit(why),
        });
        this.s.queue.changeProcs(
          cluster,
          [...byReason].map(([last, jobs]) => ({ jobs, changes: changes(last) })),
          JobStatus.Idle,
        );
      },
    };
  }

  /**
   * PBS's hold types on a hold or release (`value`: qhold -h / qrls -h's letters, empty from dhold and
   * drelease): a refusal, 'done' when changing the job's hold types was all there was to do (another type added
   * to a held job, or one of two released), or undefined for the hold or release to go ahead.
   */
  private holdTypes(
    identity: Identity,
    job: Job,
    action: 'hold' | 'release',
    value: string,
  ): { error: string; code: ErrorCode } | 'done' | undefined {
    const id = `${job.cluster}.${job.proc}`;
    const asked = adminHoldTypes(value);
    if (asked && !identity.admin)
      return {
        error: `permission denied: only a pool administrator ${action === 'hold' ? 'places' : 'releases'} an operator (o) or system (s) hold; ${action === 'hold' ? 'qhold' : 'qrls'} -h u (the default) ${action === 'hold' ? 'holds' : 'releases'} your own job`,
        code: 'PERMISSION_DENIED',
      };
    const v = this.s.queue.value(job, PBS_HOLD_TYPES);
    const held = typeof v === 'string' ? v : '';
    if (action === 'hold') {
      // a held job takes an administrator's hold type besides the one it has, as PBS adds it to Hold_Types
      if (!asked || job.status !== JobStatus.Held) return undefined;
      this.s.queue.update(job, { [PBS_HOLD_TYPES]: lit(adminHoldTypes(held + asked)) });
      return 'done';
    }
    if (!held) return undefined;
    if (!identity.admin)
      return {
        error: `permission denied: job ${id} has an administrator's hold (PBS hold type ${held}, qhold -h ${held}); only a pool administrator releases it`,
        code: 'PERMISSION_DENIED',
      };
    // drelease (no types named) releases every hold; qrls -h releases the types it names
    if (!value) return undefined;
    const left = [...held].filter((t) => !value.includes(t)).join('');
    if (left === held)
      return { error: `job ${id} has hold type ${held}: qrls -h ${held} releases it`, code: 'JOB_STATE' };
    if (!left) return undefined;
    this.s.queue.update(job, { [PBS_HOLD_TYPES]: lit(left) });
    return 'done';
  }

  /** dprio: a job's priority among its owner's jobs (higher runs first); `+N`/`-N` change it. */
  private setPrio(job: Job, value: string): string | undefined {
    // +N / -N change the priority; N, or =N (which may be negative: condor_prio -p -5), sets it
    const m = /^(=-?|[+-]?)(\d+)$/.exec(value.trim());
    if (!m) return `job ${job.cluster}.${job.proc}: priority '${value}' is not a whole number (or +N / -N)`;
    const n = Number(m[2]);
    const prio = m[1] === '+' ? job.prio + n : m[1] === '-' ? job.prio - n : m[1] === '=-' ? -n : n;
    const problem = jobPrioProblem(prio);
    if (problem) return `job ${job.cluster}.${job.proc}: priority ${prio}: ${problem}`;
    this.s.queue.update(job, { JobPrio: String(prio) });
    return undefined;
  }

  /**
   * Stop the run of a job just removed or held, in the background: the change is committed and answered
   * first, and the job shows X (or H) until its startd confirms with the run's end, as HTCondor shows a
   * removal pending. A startd that does not answer (hung, stopped, cut off) is asked again, with backoff,
   * while the job still holds this claim and for at most twice the job lease: by then the lease has given
   * the run up (leases.ts), or it is settled here. A startd that answers with a refusal has no such run.
   */
  private async stopRun(job: Job, claim: string, reason: string): Promise<void> {
    const until = performance.now() + 2 * this.s.lease() * 1000;
    let waitMs = 1000;
    for (;;) {
      const c = job.claim;
      if (c?.id !== claim || this.s.queue.jobs.at(job.cluster, job.proc) !== job) return;
      try {
        await this.s.startd(c.startd).deactivate(claim, false, reason);
        return;
      } catch (e) {
        // nobody listening at its address is a startd gone (a restarted one serves elsewhere and reaped its
        // predecessor's jobs), not one that is slow to answer
        const silent = e instanceof DschedError && SILENT.has(e.code) && !connectionRefused(e);
        if (silent && performance.now() + waitMs < until) {
          this.s.log.warn(
            { cluster: job.cluster, proc: job.proc, err: (e as Error).message, retryInMs: waitMs },
            'the startd did not answer the request to stop the job; asking again',
          );
          await new Promise((r) => setTimeout(r, waitMs).unref());
          waitMs = Math.min(10_000, waitMs * 2);
          continue;
        }
        // gone, or it has no such run: nothing that we can reach runs the job any more; settle it now (unless
        // its end was reported meanwhile)
        if (job.claim?.id !== claim || this.s.queue.jobs.at(job.cluster, job.proc) !== job) return;
        this.s.log.warn(
          { cluster: job.cluster, proc: job.proc, err: (e as Error).message },
          'could not reach the startd to stop the job',
        );
        this.s.claims.delete(claim);
        job.claim = undefined;
        job.matching = false;
        if (job.status === JobStatus.Removed) {
          this.s.logEvent(job, { type: 'aborted', reason });
          this.s.queue.finish(job, JobStatus.Removed, this.s.wallClock(job));
        } else this.releaseIfAsked(job);
        this.s.onQueueChanged();
        return;
      }
    }
  }

  /**
   * The claim of a job forced out of the queue (-forcex): its startd is asked to end the run and free the
   * slot, again while it does not answer, for as long as stopRun would; the job's exit, if it comes, is a
   * claim the schedd no longer knows.
   */
  private async releaseForced(startd: string, claim: string): Promise<void> {
    const until = Date.now() + 2 * this.s.lease() * 1000;
    for (let waitMs = 1000; ; waitMs = Math.min(10_000, waitMs * 2)) {
      try {
        await this.s.startd(startd).release(claim);
        return;
      } catch (e) {
        const silent = e instanceof DschedError && SILENT.has(e.code) && !connectionRefused(e);
        if (!silent || Date.now() + waitMs >= until) return;
        await new Promise((r) => setTimeout(r, waitMs).unref());
      }
    }
  }

  /** One action on one job: an error text, or the kill to start once it is committed (or undefined). */
  actOne(job: Job, action: string, reason: string): string | (() => Promise<unknown>) | undefined {
    const kill = () => {
      const c = job.claim;
      if (!c) return undefined;
      return () => this.stopRun(job, c.id, reason);
    };
    switch (action) {
      case 'remove': {
        if (job.status === JobStatus.Removed) return `job ${job.cluster}.${job.proc} is already being removed`;
        if (this.s.queue.value(job, 'JobUniverse') === Universe.Scheduler) {
          // a running DAG: its node jobs go, its FINAL node runs, a rescue DAG is written, then it leaves
          this.s.queue.update(job, { RemoveReason: lit(reason) }, JobStatus.Removed);
          if (this.s.removeDag(job, reason)) return undefined;
        }
        if (job.claim) {
          this.s.queue.update(job, { RemoveReason: lit(reason) }, JobStatus.Removed);
          return kill();
        }
        this.s.logEvent(job, { type: 'aborted', reason });
        this.s.mail('abort', job, { removeReason: reason });
        this.s.queue.finish(job, JobStatus.Removed, { RemoveReason: lit(reason) });
        return undefined;
      }
      case 'forcex': {
        // condor_rm -forcex: a job removed (X) whose run has not stopped yet (its startd does not answer)
        // leaves the queue now; the startd is told to end the run and free the slot, if it listens
        if (job.status !== JobStatus.Removed)
          return `job ${job.cluster}.${job.proc} is not in the X state (being removed) to be forcibly removed; remove it first`;
        if (this.s.queue.value(job, 'JobUniverse') === Universe.Scheduler)
          return `job ${job.cluster}.${job.proc} is a DAG being removed: it leaves once its node jobs have gone`;
        const c = job.claim;
        if (c) this.s.claims.delete(c.id);
        job.claim = undefined;
        job.matching = false;
        this.s.logEvent(job, { type: 'aborted', reason: String(this.s.queue.value(job, 'RemoveReason') ?? reason) });
        this.s.queue.finish(job, JobStatus.Removed, this.s.wallClock(job));
        this.s.log.info({ cluster: job.cluster, proc: job.proc }, 'removed job forced out of the queue');
        return c ? () => this.releaseForced(c.startd, c.id) : undefined;
      }
      case 'hold': {
        if (this.s.queue.value(job, DEPENDENCY_HOLD) === true) {
          if (this.s.queue.value(job, THEN_HOLD) !== undefined) return `job ${job.cluster}.${job.proc} is already held`;
          this.s.queue.update(job, { [THEN_HOLD]: lit(reason), [THEN_HOLD_CODE]: String(HoldCode.UserRequest) });
          return undefined;
        }
        if (job.status === JobStatus.Held && this.s.queue.value(job, RELEASE_WHEN_STOPPED) !== undefined) {
          // the release asked for while it stopped is withdrawn: the job stays held
          this.s.queue.update(job, { [RELEASE_WHEN_STOPPED]: null });
          return undefined;
        }
        if (job.status === JobStatus.Held) return `job ${job.cluster}.${job.proc} is already held`;
        if (this.s.queue.value(job, 'JobUniverse') === Universe.Scheduler && job.status === JobStatus.Running)
          return `job ${job.cluster}.${job.proc} is a running DAG; remove it instead (its rescue DAG resumes it)`;
        if (job.status === JobStatus.Removed) return `job ${job.cluster}.${job.proc} is being removed`;
        this.hold(job, reason, HoldCode.UserRequest, 0);
        return kill();
      }
      case 'release': {
        if (job.status !== JobStatus.Held) return `job ${job.cluster}.${job.proc} is not held`;
        if (this.s.queue.value(job, DEPENDENCY_HOLD) === true && this.s.queue.value(job, THEN_HOLD) !== undefined) {
          // the user's hold is lifted; the dependency hold stays until its condition holds
          this.s.queue.update(job, { [THEN_HOLD]: null, [THEN_HOLD_CODE]: null });
          return undefined;
        }
        if (this.s.queue.value(job, DEPENDENCY_HOLD) === true)
          return `job ${job.cluster}.${job.proc} waits for its dependency (${String(this.s.queue.value(job, 'PbsDepend'))}); it is released when that holds`;
        if (job.claim) {
          if (this.s.queue.value(job, RELEASE_WHEN_STOPPED) !== undefined)
            return `job ${job.cluster}.${job.proc} is already being released`;
          this.s.queue.update(job, { [RELEASE_WHEN_STOPPED]: lit(reason) });
          return undefined;
        }
        this.s.queue.update(
          job,
          {
            [RELEASE_WHEN_STOPPED]: null,
            HoldReason: null,
            HoldReasonCode: null,
            HoldReasonSubCode: null,
            LastHoldReason: lit(String(this.s.queue.value(job, 'HoldReason') ?? '')),
            ReleaseReason: lit(reason),
          },
          JobStatus.Idle,
        );
        this.s.logEvent(job, { type: 'released', reason });
        return undefined;
      }
      default:
        return `unknown action ${action}`;
    }
  }
}
