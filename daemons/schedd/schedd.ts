// The schedd's behaviour: turning matches into claims, running jobs on them (and reusing a claim for the
// next idle job of the same autocluster, so a busy pool skips renegotiation), recording what the startds
// report, user actions, leases, and reconnecting to running jobs after a restart. The Schedd is the
// composition root: it wires the parts that do most of it (claims.ts, user-actions.ts, policies.ts,
// leases.ts, job-events.ts, gang.ts), each given a narrow interface to the queue and the rest, and keeps
// the submissions, job dependencies, mail and the job event log.
import { jobUmask } from '../../lib/umask.js';
import { NO_ACCOUNT_ID, runAsOwner, runAsOwnerCached } from '../../lib/users.js';
import type { FileChunk } from '../../lib/rpc/generated/dsched/v1/FileChunk.js';
import { checkEventLogs, checkJobFiles } from './job-files.js';
import {
  canonicalizeNames,
  checkExpression,
  checkJobPrio,
  checkProcId,
  checkLiteral,
  checkNamedOwners,
  checkSubmittedStatus,
  checkUmask,
} from './submit-checks.js';
import { limits as classadLimits } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../../lib/rpc/auth.js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import type { JobEvent__Output } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';
import type { Match__Output } from '../../lib/rpc/generated/dsched/v1/Match.js';
import { checkDagJob, type DagRunner } from './dag-runner.js';
import { DEPENDENCY_HOLD, Dependencies, parseDepend, placeBefore } from './dependencies.js';
import { JobQueue, SUBMIT_PIECE, jobKey, lit, litValue, type Job } from './queue.js';
import type { Claim } from './claim.js';
import { HoldCode, JobStatus, Universe } from '../../lib/job-status.js';
import { nowSeconds as now } from '../../lib/time.js';
import { UserLogWriter, type UserLogEvent } from '../../lib/user-log/index.js';
import { Mailer, checkNotifyUser, type JobFacts, type MailEvent } from './notify.js';
import { GangClaims } from './gang.js';
import { THEN_HOLD, THEN_HOLD_CODE, UserActions, type ActResult, type EventBody } from './user-actions.js';
import { Policies } from './policies.js';
import { Leases } from './leases.js';
import { JobEvents } from './job-events.js';
import { Claims } from './claims.js';

export interface ScheddOptions {
  name: string;
  address: string;
  hostName: string;
  lease: () => number;
  isAdmin: (user: string) => boolean;
  creds: ClientCredentials;
  maxProcs: () => number;
  /** MAX_JOBS_PER_OWNER: the most jobs one user may have in the queue (none: no limit) */
  maxJobsPerOwner?: () => number;
  mailCommand: () => string;
  /** where an evicted job's checkpoint files wait for its next run (when_to_transfer_output = ON_EXIT_OR_EVICT) */
  spool: string;
  /** MAX_SPOOLED_OUTPUT: bytes of one evicted job's output the spool keeps */
  maxSpooled?: () => number;
  /** the pool's own directories ($DSCHED_HOME, the challenge directory): no user's job may name a file there */
  protectedDirs?: string[];
  /** GROUP_NAMES: the accounting groups a user's job may join (none: no group) */
  accountingGroups?: () => readonly string[];
  /** A startd's current addresses, by its name (from the collector's Machine ads). */
  findStartd?: (startdName: string) => Promise<string[]>;
  /** PBS_WALLTIME_HOLD: hold #PBS jobs over their walltime as HTCondor does, instead of killing them as PBS does */
  pbsWalltimeHold?: () => boolean;
  /** PERIODIC_EXPR_MAX_TIME_PER_OWNER in ms (none: no bound) */
  policyTimePerOwner?: () => number;
  /** Admit a submission to its batch queue (queue-policy.ts): fills Queue and defaults, or throws why not. */
  admit?: (owner: string, cluster: Record<string, string>, procs: Array<Record<string, string>>) => void;
}

export class Schedd {
  readonly claims = new Map<string, Claim>();
  private startds = new Map<string, StartdClient>();
  readonly userLog: UserLogWriter;
  /** Called when idle/running counts may have changed (the submitter ads need refreshing). */
  onQueueChanged: () => void = () => {};

  constructor(
    readonly queue: JobQueue,
    private log: Logger,
    private opts: ScheddOptions,
  ) {
    this.mailer = new Mailer(opts.mailCommand, log);
    this.userLog = new UserLogWriter({
      onError: (path, err, kept) =>
        log.warn(
          { path, err: err.message, kept },
          kept ? 'cannot write the job event log yet' : 'cannot write the job event log',
        ),
    });
    this.deps = new Dependencies(queue);
    // what the parts below share of the schedd
    const core = {
      queue: this.queue,
      log: this.log,
      userLog: this.userLog,
      claims: this.claims,
      startd: (a: string) => this.startd(a),
      onQueueChanged: () => this.onQueueChanged(),
    };
    this.actions = new UserActions({
      ...core,
      logEvent: (j, e) => this.logEvent(j, e),
      mail: (ev, j, extra) => this.mail(ev, j, extra),
      defer: (after) => (this.deferred = after),
      fileOwner: (j) => this.fileOwner(j),
      wallClock: (j) => this.wallClock(j),
      removeDag: (j, reason) => this.dags?.remove(j, reason) ?? false,
      lease: () => this.opts.lease(),
    });
    this.policies = new Policies({
      ...core,
      actions: this.actions,
      pbsWalltimeHold: () => this.opts.pbsWalltimeHold?.() ?? false,
      policyTimePerOwner: () => this.opts.policyTimePerOwner?.() ?? Infinity,
    });
    this.gangs = new GangClaims({
      queue: this.queue,
      log: this.log,
      claims: this.claims,
      startd: (a) => this.startd(a),
      claimRequest: (job, slot, id, extra) => ({
        slot,
        job: { attrs: { ...this.queue.merged(job), ...extra } },
        schedd: this.opts.name,
        schedd_address: this.opts.address,
        lease: this.opts.lease(),
        activate: false,
        claim: id,
      }),
      beginStart: (j) => this.claimed.beginStart(j),
      recordStarting: (j, c) => this.claimed.recordStarting(j, c),
      startMayHaveHappened: (jobs, a, e) => this.claimed.startMayHaveHappened(jobs, a, e),
      markRunning: (j, c) => this.claimed.markRunning(j, c),
      address: () => this.opts.address,
      startdAddresses: (a, slot) => this.leases.startdAddresses(a, slot),
      releaseClaim: (c, kill) => this.claimed.releaseClaim(c, kill),
      pinStartdHost: (a, h) => this.pinStartdHost(a, h),
      onQueueChanged: () => this.onQueueChanged(),
    });
    this.claimed = new Claims({
      queue: this.queue,
      log: this.log,
      claims: this.claims,
      startd: (a) => this.startd(a),
      pinStartdHost: (a, h) => this.pinStartdHost(a, h),
      gangs: this.gangs,
      name: () => this.opts.name,
      address: () => this.opts.address,
      lease: () => this.opts.lease(),
      reconnectStartd: (a, jobs) => this.leases.reconnectStartd(a, jobs),
      armDuration: (j) => this.policies.armDuration(j),
      logEvent: (j, e) => this.logEvent(j, e),
      mail: (ev, j) => this.mail(ev, j),
      onQueueChanged: () => this.onQueueChanged(),
    });
    this.leases = new Leases({
      ...core,
      lease: () => this.opts.lease(),
      address: () => this.opts.address,
      findStartd: (name) => this.opts.findStartd?.(name) ?? Promise.resolve([]),
      gangs: this.gangs,
      unsure: this.unsure,
      lostRun: (j, reason, gone, logged) => this.events.lostRun(j, reason, gone, logged),
      logEvent: (j, e) => this.logEvent(j, e),
      markRunning: (j, c) => this.claimed.markRunning(j, c),
      dropStartingClaim: (j) => this.claimed.dropStartingClaim(j),
      wallClock: (j) => this.wallClock(j),
      armDuration: (j) => this.policies.armDuration(j),
    });
    this.events = new JobEvents({
      ...core,
      name: () => this.opts.name,
      spool: () => this.opts.spool,
      maxSpooled: () => this.opts.maxSpooled?.() ?? Infinity,
      starting: (key) => this.claimed.starting.get(key),
      gangs: this.gangs,
      unsure: this.unsure,
      quiet: this.quiet,
      actions: this.actions,
      fileOwner: (j) => this.fileOwner(j),
      logEvent: (j, e) => this.logEvent(j, e),
      mail: (ev, j, extra) => this.mail(ev, j, extra),
      mailLater: (ev, j, extra) => this.mailLater(ev, j, extra),
      wallClock: (j) => this.wallClock(j),
      markRunning: (j, c, retaken) => this.claimed.markRunning(j, c, retaken),
      pickNext: (c) => this.claimed.pickNext(c),
      dropStartingClaim: (j) => this.claimed.dropStartingClaim(j),
      releaseClaim: (c, kill) => this.claimed.releaseClaim(c, kill),
      startOnClaims: (a, items) => this.claimed.startOnClaims(a, items),
      disarmDuration: (key) => this.policies.disarmDuration(key),
      startdAddresses: (a, slot) => this.leases.startdAddresses(a, slot),
      heardFrom: (j) => this.leases.heardFrom(j),
    });
    // a job's events reach its log before the queue records the change they describe: a crash in between
    // leaves the change unrecorded (the startd reports it again), never a completed job without its
    // terminate event
    queue.beforeWrite = () => this.userLog.flushOrThrow();
    queue.onFlushed = (changed) => {
      for (const w of this.watchers) w(changed);
      this.settleDependents(new Set(changed.map((j) => j.cluster)));
      this.dags?.onJobsChanged(changed);
    };
  }

  private deps: Dependencies;
  /** drm, dhold, drelease, dprio, and the holds and releases of policies and job events (user-actions.ts) */
  private actions: UserActions;
  /** PeriodicRemove/Hold/Release and walltime (policies.ts) */
  private policies: Policies;
  /** lease renewal and reconnection after a restart (leases.ts) */
  private leases: Leases;
  /** what the startds report, and the files they move (job-events.ts) */
  private events: JobEvents;
  private mailer: Mailer;
  /** parallel jobs: all their slots claimed before the first chunk starts (gang.ts) */
  private gangs: GangClaims;
  /** matches claimed, jobs started on claims, claims reused and released (claims.ts) */
  private claimed: Claims;
  /** Mail the job's owner (or notify_user) if the job asked to be told about this event. */
  private mail(ev: MailEvent, job: Job, extra: Partial<JobFacts> = {}) {
    const send = this.mailLater(ev, job, extra);
    if (this.deferred) this.deferred.push(send);
    else send();
  }

  /** While a user action is being applied: its events and mail, sent only once it is committed. */
  private deferred: Array<() => void> | undefined;

  /** The mail of `mail`, with the facts read now and sent when the returned function is called. */
  private mailLater(ev: MailEvent, job: Job, extra: Partial<JobFacts> = {}): () => void {
    const notification = Number(this.queue.value(job, 'JobNotification') ?? 0) || 0;
    const points = this.queue.value(job, 'PbsMailPoints');
    if (!notification && typeof points !== 'string') return () => {};
    const start = Number(this.queue.value(job, 'JobCurrentStartDate') ?? 0);
    const facts: JobFacts = {
      id: `${job.cluster}.${job.proc}`,
      owner: job.owner,
      cmd: String(this.queue.value(job, 'Cmd') ?? ''),
      host: String(this.queue.value(job, 'RemoteHost') ?? this.queue.value(job, 'LastRemoteHost') ?? ''),
      notification,
      mailPoints: typeof points === 'string' ? points : undefined,
      notifyUser:
        typeof this.queue.value(job, 'NotifyUser') === 'string'
          ? String(this.queue.value(job, 'NotifyUser'))
          : undefined,
      runSeconds: start ? Math.max(0, now() - start) : undefined,
      ...extra,
    };
    return () => this.mailer.send(ev, facts);
  }
  /** The DAG manager of DAG jobs (set by main once the store is open). */
  dags: DagRunner | undefined;

  /** Put a job on hold (policy or failure decided outside the normal job flow). */
  holdJob(job: Job, reason: string, code: number): void {
    this.actions.hold(job, reason, code, 0);
    this.onQueueChanged();
  }

  /** A job that ran inside the schedd (a DAG) has ended. */
  finishLocalJob(job: Job, status: number, changes: Record<string, string | null>, exitCode: number): void {
    if (status === JobStatus.Removed)
      this.logEvent(job, { type: 'aborted', reason: String(this.queue.value(job, 'RemoveReason') ?? 'removed') });
    else this.logEvent(job, { type: 'terminated', normal: true, returnValue: exitCode });
    this.queue.finish(job, status, { ...this.wallClock(job), ...changes, JobCurrentStartDate: null });
    this.onQueueChanged();
  }

  /** Release or remove the jobs waiting on these clusters, as their condition now says ('all': after a restart). */
  settleDependents(clusters: Iterable<number> | 'all'): void {
    if (clusters !== 'all') {
      this.settleWaiting([...new Set([...clusters].flatMap((c) => this.deps.dependents(c)))]);
      return;
    }
    const waiting = [...this.queue.jobs.values()].filter(
      (j) => j.status === JobStatus.Held && this.queue.value(j, DEPENDENCY_HOLD) === true,
    );
    for (const j of waiting) this.deps.note(j);
    this.settleWaiting(waiting);
  }

  /** Release or remove these jobs held for their dependency, as their condition now says. */
  private settleWaiting(waiting: Job[]): void {
    for (const job of waiting) {
      const text = this.queue.value(job, 'PbsDepend');
      if (typeof text !== 'string') continue;
      const { verdict, why } = this.deps.evaluate(parseDepend(text));
      const thenHold = this.queue.value(job, THEN_HOLD);
      if (verdict === 'ready' && typeof thenHold === 'string') {
        // the dependency is met, the user's hold (dsubmit -h, dhold) remains: drelease starts the job
        const code = Number(this.queue.value(job, THEN_HOLD_CODE)) || HoldCode.UserRequest;
        this.queue.update(job, {
          HoldReason: lit(thenHold),
          HoldReasonCode: String(code),
          HoldReasonSubCode: '0',
          [DEPENDENCY_HOLD]: null,
          [THEN_HOLD]: null,
          [THEN_HOLD_CODE]: null,
        });
        this.log.info({ cluster: job.cluster, proc: job.proc }, 'dependency satisfied: job stays held by its user');
      } else if (verdict === 'ready') {
        this.queue.update(
          job,
          { HoldReason: null, HoldReasonCode: null, HoldReasonSubCode: null, [DEPENDENCY_HOLD]: null },
          JobStatus.Idle,
        );
        this.logEvent(job, { type: 'released', reason: 'dependency satisfied' });
        this.log.info({ cluster: job.cluster, proc: job.proc }, 'dependency satisfied: job released');
      } else if (verdict === 'never') {
        // PBS deletes a job whose dependency can never be satisfied; the reason stays in its history
        this.logEvent(job, { type: 'aborted', reason: why });
        this.queue.finish(job, JobStatus.Removed, { RemoveReason: lit(why), [DEPENDENCY_HOLD]: null });
        this.log.info({ cluster: job.cluster, proc: job.proc, reason: why }, 'dependency can never hold: job removed');
      } else if (this.queue.value(job, 'HoldReason') !== why) this.queue.update(job, { HoldReason: lit(why) });
    }
    if (waiting.length) this.onQueueChanged();
  }

  private watchers = new Set<(changed: Job[]) => void>();
  /** Be told of every committed change (dwait, DAGs). Returns the unsubscribe function. */
  watch(fn: (changed: Job[]) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** The host each startd address belongs to, from the Machine ads the negotiator matched. */
  private startdHosts = new Map<string, string>();
  private pinStartdHost(address: string, host: string) {
    if (this.startdHosts.get(address) === host) return;
    this.startdHosts.set(address, host);
    // a channel pinned to another host (or to none) is replaced; calls in flight on it finish there
    this.startds.delete(address);
  }

  startd(address: string): StartdClient {
    let c = this.startds.get(address);
    if (!c) this.startds.set(address, (c = new StartdClient(address, this.opts.creds, this.startdHosts.get(address))));
    return c;
  }

  /**
   * Jobs whose exit a previous run of the schedd may have logged and not recorded (killed in between: the
   * log is written first), and jobs whose exit is being recorded again now, its events logged already.
   */
  private unsure = new Set<string>();
  private quiet = new Set<string>();

  private logEvent(job: Job, e: EventBody) {
    const path = this.queue.value(job, 'UserLog');
    if (typeof path !== 'string' || !path || this.quiet.has(jobKey(job.cluster, job.proc))) return;
    const event = { ...e, cluster: job.cluster, proc: job.proc, time: now() } as UserLogEvent;
    const owner = this.fileOwner(job);
    if (this.deferred) this.deferred.push(() => this.userLog.write(path, event, owner));
    else this.userLog.write(path, event, owner);
  }

  // ---- submission ----

  /** Queue a submission at once (a DAG's node; small ones). */
  submit(
    identity: Identity,
    clusterId: number,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>>,
  ): Job[] {
    this.checkOwnerRoom(identity.name, procs.length);
    const steps = this.submission(identity, clusterId, clusterAttrs, procs);
    for (;;) {
      const n = steps.next();
      if (n.done) return n.value;
    }
  }

  /**
   * Queue a submission a piece at a time, the event loop free between pieces: a million procs are checked,
   * written and logged without holding up other clients, the job path, or the keepalive of the submitter's
   * own connection. Acknowledged (resolved) once the whole submission is committed.
   */
  async submitPaced(
    identity: Identity,
    clusterId: number,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>> | number,
  ): Promise<Job[]> {
    // a count: that many procs with nothing of their own (checked against the limit before any is made)
    if (typeof procs === 'number') procs = this.plainProcs(procs);
    const owner = identity.name;
    const n = procs.length;
    this.checkOwnerRoom(owner, n);
    // counted as queued while it is written, so that submissions running side by side cannot all pass
    this.submitting.set(owner, (this.submitting.get(owner) ?? 0) + n);
    try {
      const steps = this.submission(identity, clusterId, clusterAttrs, procs);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      const left = this.submitting.get(owner)! - n;
      if (left > 0) this.submitting.set(owner, left);
      else this.submitting.delete(owner);
    }
  }

  /** Procs of each owner's paced submissions being written: counted with the owner's queued jobs. */
  private submitting = new Map<string, number>();

  /**
   * Refuse a submission that would give its owner more than MAX_JOBS_PER_OWNER jobs in the queue: one user
   * repeating the largest submission would otherwise fill the schedd's memory and disk for every user.
   */
  private checkOwnerRoom(owner: string, n: number): void {
    const max = this.opts.maxJobsPerOwner?.();
    if (max === undefined) return;
    let queued = this.submitting.get(owner) ?? 0;
    for (const c of this.queue.ownerCounts(owner)) queued += c;
    if (queued + n > max)
      throw new DschedError(
        'TOO_MANY_JOBS',
        `${owner} has ${queued} jobs in the queue and this submission adds ${n}; a user may have at most ${max} (MAX_JOBS_PER_OWNER)`,
      );
  }

  /** Refuse a submission of `n` procs before any of them is received (MAX_JOBS_PER_SUBMISSION). */
  checkSubmissionSize(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.opts.maxProcs()) throw this.tooMany(n);
  }

  private tooMany(n: number): DschedError {
    return new DschedError(
      'SUBMIT_QUEUE',
      `the submission queues ${n} jobs; at most ${this.opts.maxProcs()} are allowed (MAX_JOBS_PER_SUBMISSION)`,
    );
  }

  private plainProcs(count: number): Array<Record<string, string>> {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.opts.maxProcs()) throw this.tooMany(count);
    return Array.from({ length: count }, (_, i) => ({ ProcId: String(i) }));
  }

  /** The work of a submission, yielding between pieces of SUBMIT_PIECE procs. */
  private *submission(
    identity: Identity,
    clusterId: number,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>>,
  ): Generator<void, Job[]> {
    if (procs.length === 0) throw new DschedError('SUBMIT_QUEUE', 'the submission queues no jobs');
    if (procs.length > this.opts.maxProcs()) throw this.tooMany(procs.length);
    checkDagJob(clusterAttrs, procs);
    const owner = identity.name;
    const known = runAsOwner(owner);
    // the files made at submit (the event log) are made under the umask the submission records
    const rights = known && { ...known, umask: jobUmask(litValue(clusterAttrs.Umask)) };
    const pieces = (function* () {
      for (let start = 0; start < procs.length; start += SUBMIT_PIECE)
        yield { start, piece: procs.slice(start, start + SUBMIT_PIECE) };
    })();
    for (const { start, piece } of pieces) {
      if (start > 0) yield;
      // an attribute no ClassAd parser could read back would break every later look at the queue; a mail
      // address is an argument of the MAIL command; a job enters the queue idle or held
      for (const attrs of start === 0 ? [clusterAttrs, ...piece] : piece) {
        canonicalizeNames(attrs);
        for (const [name, text] of Object.entries(attrs)) {
          if (text.length > classadLimits.maxInputChars)
            throw new DschedError(
              'INPUT_TOO_LARGE',
              `attribute ${name} is ${text.length} characters long; an attribute may have at most ${classadLimits.maxInputChars} (keep large data in a file the job reads)`,
            );
          checkExpression(name, text);
          checkLiteral(name, text);
          checkNotifyUser(name, text, 'SUBMIT_INVALID');
          checkSubmittedStatus(name, text);
          checkUmask(name, text, 'SUBMIT_INVALID');
          checkJobPrio(name, text, 'SUBMIT_INVALID');
        }
      }
      if (!identity.admin) {
        checkJobFiles(clusterAttrs, piece, rights, this.opts.protectedDirs ?? []);
        checkNamedOwners(
          owner,
          start === 0 ? [clusterAttrs, ...piece] : piece,
          (c) => this.queue.clusters.get(c)?.owner,
          this.opts.accountingGroups?.() ?? [],
        );
      }
      checkEventLogs(start === 0 ? [clusterAttrs, ...piece] : piece, rights);
    }
    const qdate = now();
    const attrs: Record<string, string> = {
      ...clusterAttrs,
      Owner: lit(owner),
      User: lit(`${owner}@${this.opts.hostName}`),
      ClusterId: String(clusterId),
      QDate: String(qdate),
      EnteredCurrentStatus: String(qdate),
      NumJobStarts: '0',
      NumJobCompletions: '0',
      // dq's DONE column counts the procs that already left the queue from it, as condor_q does
      TotalSubmitProcs: String(procs.length),
      RemoteWallClockTime: '0.0',
      MyType: lit('Job'),
      TargetType: lit('Machine'),
    };
    attrs.JobStatus ??= String(JobStatus.Idle);
    // Per-proc attributes may not override who owns the job or when it was queued.
    const fixed = new Set(['owner', 'user', 'clusterid', 'qdate']);
    const procAttrs: Array<Record<string, string>> = [];
    for (let i = 0; i < procs.length; i++) {
      if (i > 0 && i % SUBMIT_PIECE === 0) yield;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(procs[i]!)) if (!fixed.has(k.toLowerCase())) out[k] = v;
      checkProcId(out, i);
      const proc = i;
      out.ProcId = String(proc);
      out.GlobalJobId = lit(`${this.opts.name}#${clusterId}.${proc}#${qdate}`);
      procAttrs.push(out);
    }
    if (procs.length > SUBMIT_PIECE) yield;
    this.opts.admit?.(owner, attrs, procAttrs);
    // -W depend=…: the named jobs must exist; the new jobs wait held until the condition holds
    const dependText = litValue(attrs.PbsDepend);
    const deps = typeof dependText === 'string' && dependText ? parseDepend(dependText) : [];
    this.deps.validate(deps);
    // -W depend=beforeok:12 places afterok:<this cluster> on job 12 (which waits with on:1) once this is queued
    const before = this.deps.beforeTargets(deps, owner);
    // a job whose clauses are all before ones waits for nothing itself
    const waits = deps.some((d) => !d.type.startsWith('before'));
    if (waits) {
      // held at submit too (qsub -h -W depend=…): PBS keeps the user hold once the dependency is met
      if (attrs.JobStatus === String(JobStatus.Held))
        Object.assign(attrs, {
          [THEN_HOLD]: attrs.HoldReason ?? lit('submitted on hold'),
          [THEN_HOLD_CODE]: attrs.HoldReasonCode ?? String(HoldCode.SubmittedOnHold),
        });
      Object.assign(attrs, {
        JobStatus: String(JobStatus.Held),
        HoldReason: lit(`waiting for dependency ${dependText}`),
        HoldReasonCode: '0',
        HoldReasonSubCode: '0',
        [DEPENDENCY_HOLD]: 'true',
      });
    }
    const jobs = yield* this.queue.submission(clusterId, owner, attrs, procAttrs);
    for (let i = 0; i < jobs.length; i++) {
      if (i > 0 && i % SUBMIT_PIECE === 0) yield;
      const j = jobs[i]!;
      this.logEvent(j, { type: 'submit', host: this.opts.address });
      if (j.status === JobStatus.Held && !waits) {
        const reason = String(this.queue.value(j, 'HoldReason') ?? 'submitted on hold');
        this.logEvent(j, { type: 'held', reason, code: HoldCode.SubmittedOnHold, subCode: 0 });
      }
    }
    // the submit events are in the log before dsubmit returns (condor_submit writes them itself), so
    // `dsubmit job.sub && dwait job.log` finds the jobs
    this.userLog.flush();
    this.log.info({ cluster: clusterId, procs: jobs.length, user: owner }, 'cluster submitted');
    // only the new jobs can change with this submission (a dependency must name jobs that exist already)
    if (waits) {
      for (const j of jobs) this.deps.note(j);
      this.settleWaiting(jobs);
    }
    for (const { type, jobs: targets } of before) {
      for (const t of targets) {
        const text = this.queue.value(t, 'PbsDepend');
        const placed = typeof text === 'string' ? placeBefore(text, type, clusterId) : undefined;
        if (placed === undefined) continue; // a second before dependency of this submission on the same job
        this.queue.update(t, { PbsDepend: lit(placed) });
        this.deps.note(t);
      }
      this.settleWaiting(targets);
    }
    // a watcher of the whole queue (the web daemon) learns of new jobs too, not only of changes: a piece at
    // a time, as it sends a message per job
    for (let i = 0; i < jobs.length; i += SUBMIT_PIECE) {
      if (i > 0) yield;
      const piece = jobs.length > SUBMIT_PIECE ? jobs.slice(i, i + SUBMIT_PIECE) : jobs;
      for (const w of this.watchers) w(piece);
      for (const j of piece)
        if (this.dags && j.status === JobStatus.Idle && this.queue.value(j, 'JobUniverse') === Universe.Scheduler)
          this.dags.start(j);
    }
    this.onQueueChanged();
    return jobs;
  }

  // ---- matches and claims (claims.ts) ----

  /** Claim and start the jobs the negotiator matched (Claims.matched). */
  matched(matches: Match__Output[]): Promise<void> {
    return this.claimed.matched(matches);
  }

  /** The negotiator's reservation for a parallel job (Claims.reserve). */
  reserve(slots: string[], start: number): void {
    this.claimed.reserve(slots, start);
  }

  private wallClock(job: Job): Record<string, string | null> {
    const start = Number(this.queue.value(job, 'JobCurrentStartDate') ?? now());
    const prev = Number(this.queue.value(job, 'RemoteWallClockTime') ?? 0);
    const run = Math.max(0, now() - start);
    return {
      RemoteWallClockTime: (prev + run).toFixed(1),
      LastRemoteHost: lit(job.claim?.slot ?? ''),
      RemoteHost: null,
      StartdAddress: null,
      CurrentHosts: '0',
    };
  }

  /** Who the schedd reads and writes a job's files as (undefined: as itself, when it is not root). */
  fileOwner(job: Job): ReturnType<typeof runAsOwner> {
    try {
      const who = runAsOwnerCached(job.owner);
      return who && { ...who, umask: jobUmask(this.queue.value(job, 'Umask')) };
    } catch {
      // an owner whose account has gone since it submitted: its files are handled as a uid no one has, so
      // they reach nothing of anyone's (neither root's nor nobody's), and the exits of others' jobs go on
      return { uid: NO_ACCOUNT_ID, gid: NO_ACCOUNT_ID, groups: [NO_ACCOUNT_ID], name: job.owner };
    }
  }

  /** JobEvents from a startd on `callerHost` (JobEvents.jobEvents). */
  jobEvents(events: JobEvent__Output[], callerHost: string): Promise<string[]> {
    return this.events.jobEvents(events, callerHost);
  }

  /** FetchInput: the input files of a job starting on a claim (JobEvents.sendInput). */
  sendInput(
    claimId: string,
    id: { cluster: number; proc: number },
    sink: (c: FileChunk) => Promise<void>,
    callerHost: string,
    expanded: Record<string, string> = {},
  ): Promise<void> {
    return this.events.sendInput(claimId, id, sink, callerHost, expanded);
  }

  /** The periodic policy expressions of every job that has one (Policies.periodicPolicies). */
  periodicPolicies(): Promise<void> {
    return this.policies.periodicPolicies();
  }

  /** drm, dhold, drelease, dprio of these jobs, job by job (UserActions.act). */
  act(identity: Identity, action: string, jobs: Job[], reason: string, value = ''): Promise<ActResult[]> {
    return this.actions.act(identity, action, jobs, reason, value);
  }

  /** drm, dhold, drelease of whole clusters, set-based where it can (UserActions.actOnClusters). */
  actOnClusters(
    identity: Identity,
    action: 'remove' | 'hold' | 'release',
    clusters: number[],
    reason: string,
    value = '',
  ): Promise<{ done: Job[][]; results: ActResult[] }> {
    return this.actions.actOnClusters(identity, action, clusters, reason, value);
  }

  // ---- leases and reconnection (leases.ts) ----

  /** Renew the leases of every claim, per startd (Leases.renewLeases). */
  renewLeases(): Promise<void> {
    return this.leases.renewLeases();
  }

  /** After a restart: reconnect to the jobs recorded as running (Leases.reconnect). */
  reconnect(): Promise<void> {
    return this.leases.reconnect();
  }

  close() {
    for (const c of this.startds.values()) c.close();
  }
}
