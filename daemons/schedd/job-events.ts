// What the startds report of the jobs they run (started, updates, suspended, exited, failed, evicted) and
// the files they move for them (input sent, output fetched before an exit is recorded): the job's state,
// its exit policy (OnExitHold, OnExitRemove), its event log and mail, and the freed claims reused or
// released. Reaches the schedd only through `EventsSchedd` (it imports nothing of schedd.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errnoText, receiveFiles, sendFiles } from '../../lib/transfer.js';
import type { runAsOwner } from '../../lib/users.js';
import type { FileChunk } from '../../lib/rpc/generated/dsched/v1/FileChunk.js';
import { filledInputs, inputEntries, outputDest, RunBytes } from './transfer.js';
import { isPlainLiteral, isTrue, parseExpr, type ClassAd } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import {
  attrsChars,
  IMMUTABLE_JOB_ATTRS,
  isResourceRequest,
  MAX_JOB_ATTRS_CHARS,
  PROTECTED_JOB_ATTRS,
} from '../../lib/job-attrs.js';
import type { Logger } from '../../lib/log.js';
import { hostOfName, sameHost } from '../../lib/rpc/authz.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { JobEvent__Output } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';
import { jobKey, type Job, type JobQueue } from './queue.js';
import type { Claim } from './claim.js';
import { HoldCode, JobStatus } from '../../lib/job-status.js';
import { nowSeconds as now } from '../../lib/time.js';
import { loggedEnd, terminationUsage, type UserLogWriter } from '../../lib/user-log/index.js';
import type { JobFacts, MailEvent } from './notify.js';
import { appendToErrorFile, walltimeExit, WALLTIME_KILLED } from './pbs-walltime.js';
import type { GangClaims } from './gang.js';
import type { EventBody, UserActions } from './user-actions.js';

/** What the job events need of the schedd. */
export interface EventsSchedd {
  queue: JobQueue;
  log: Logger;
  userLog: UserLogWriter;
  claims: Map<string, Claim>;
  startd(address: string): StartdClient;
  /** the schedd's name (in transfer hold reasons) */
  name(): string;
  /** where an evicted job's checkpoint files wait for its next run */
  spool(): string;
  /** bytes of one evicted job's output the spool keeps (MAX_SPOOLED_OUTPUT) */
  maxSpooled(): number;
  /** the start of this job in progress, if any */
  starting(key: string): Promise<void> | undefined;
  gangs: Pick<GangClaims, 'isFollower' | 'isRestoring' | 'rankEvent' | 'leaderEvent' | 'sweep' | 'rankInput'>;
  /** jobs whose exit a previous run of the schedd may have logged and not recorded */
  unsure: Set<string>;
  /** jobs whose exit is being recorded again now, its events logged already */
  quiet: Set<string>;
  actions: Pick<UserActions, 'hold' | 'releaseIfAsked'>;
  fileOwner(job: Job): ReturnType<typeof runAsOwner>;
  logEvent(job: Job, e: EventBody): void;
  mail(ev: MailEvent, job: Job, extra?: Partial<JobFacts>): void;
  /** the mail of `mail`, its facts read now, sent when the returned function is called */
  mailLater(ev: MailEvent, job: Job, extra?: Partial<JobFacts>): () => void;
  wallClock(job: Job): Record<string, string | null>;
  markRunning(job: Job, claim: Claim, retaken?: boolean): void;
  pickNext(claim: Claim): Job | undefined;
  dropStartingClaim(job: Job): void;
  releaseClaim(claim: Claim, kill: boolean): Promise<void>;
  startOnClaims(startdAddr: string, items: Array<{ claim: Claim; next: Job }>): Promise<void>;
  disarmDuration(key: string): void;
  /** where a startd is now (a restarted one has a new address), then where the claim was made */
  startdAddresses(recorded: string, slot: string): Promise<string[]>;
  /** its startd reported on the job: a disconnection in its user log is closed (023) first */
  heardFrom(job: Job): void;
  onQueueChanged(): void;
}

/** The cpu time of a run, which the startd measures: the only attributes the schedd records that a startd reports. */
const STARTD_USAGE = new Set(['remoteusercpu', 'remotesyscpu']);
/** Whether `text` is a ClassAd expression the job's ad can hold. */
const isExpression = (text: string): boolean => {
  if (isPlainLiteral(text)) return true; // a startd's usage updates: no parse needed
  try {
    parseExpr(text);
    return true;
  } catch {
    return false;
  }
};
/** Whether a startd's update may set a job's attribute `name`. */
const STARTD_MAY_SET = (name: string): boolean => {
  const n = name.toLowerCase();
  return STARTD_USAGE.has(n) || !(IMMUTABLE_JOB_ATTRS.has(n) || PROTECTED_JOB_ATTRS.has(n) || isResourceRequest(n));
};

export class JobEvents {
  private runBytes = new RunBytes();

  constructor(private s: EventsSchedd) {}

  /** A claim is reported on (and its input fetched) only by a startd on the host of the slot it was given. */
  private checkClaimHost(claim: { slot: string }, callerHost: string): void {
    const host = hostOfName(claim.slot);
    if (!sameHost(host, callerHost))
      throw new DschedError(
        'PERMISSION_DENIED',
        `that claim was given to the startd on ${host}, not to one on ${callerHost}`,
      );
  }

  /**
   * Fold what a startd reports of a job (its usage, its chirp, the `$$()` it filled in) into the job's ad,
   * within what a startd may say: never who the job is or what the schedd records of it (but the cpu time
   * the startd measures), only ClassAd expressions (a value that does not parse, or longer than the 1 MiB a
   * ClassAd may be, would hide the job from its owner's dq -long), and never past MAX_JOB_ATTRS_CHARS, the
   * bound chirp and dqedit keep (an honest startd checks chirp against both first). What a compromised execute host sends past that is refused and
   * logged with its host; the rest of the update is taken and the job keeps running.
   */
  private takeUpdate(job: Job, attrs: Record<string, string>, callerHost: string): void {
    const taken: Record<string, string> = {};
    const refused: string[] = [];
    let size = attrsChars(job.attrs);
    for (const [k, v] of Object.entries(attrs)) {
      if (typeof v !== 'string' || !STARTD_MAY_SET(k) || !isExpression(v)) {
        refused.push(k);
        continue;
      }
      const old = job.attrs[k];
      const grows = v.length - (old === undefined ? -k.length : old.length);
      if (grows > 0 && size + grows > MAX_JOB_ATTRS_CHARS) {
        refused.push(k);
        continue;
      }
      size += grows;
      taken[k] = v;
    }
    if (Object.keys(taken).length) this.s.queue.update(job, taken);
    if (!refused.length) return;
    // once a minute per job at most: a hostile startd does not fill the schedd's log either
    const t = Date.now();
    if ((this.refusalLogged.get(job) ?? 0) > t - 60_000) return;
    this.refusalLogged.set(job, t);
    this.s.log.warn(
      {
        cluster: job.cluster,
        proc: job.proc,
        startd: job.claim?.slot,
        host: callerHost,
        refused: refused.slice(0, 10).map((n) => n.slice(0, 100)),
        refusedCount: refused.length,
        max: MAX_JOB_ATTRS_CHARS,
      },
      "refused job attributes a startd reported: a startd may not set these, or they would grow the job's attributes past the bound",
    );
  }
  private refusalLogged = new WeakMap<Job, number>();

  /** The events a startd on `callerHost` reports; each must be about a claim given to a startd on that host. */
  async jobEvents(events: JobEvent__Output[], callerHost: string): Promise<string[]> {
    for (const ev of events) {
      const job = this.s.queue.jobs.get(jobKey(Number(ev.id?.cluster), Number(ev.id?.proc)));
      if (job?.claim && job.claim.id === ev.claim) this.checkClaimHost(job.claim, callerHost);
    }
    const acked: string[] = [];
    const after: Claim[] = [];
    for (let ev of events) {
      let retaken = false;
      const key = jobKey(Number(ev.id?.cluster), Number(ev.id?.proc));
      const pending = this.s.starting(key);
      if (pending) await pending;
      const job = this.s.queue.jobs.get(key);
      const claim = this.s.claims.get(ev.claim);
      // A redelivered or stale event (the job already moved on) is acknowledged and ignored, as is one
      // about a parallel job's other slots; the exit of a run given up on may still count (takeBackLostRun).
      if (!job || !job.claim || job.claim.id !== ev.claim || this.s.gangs.isFollower(ev.claim)) {
        // (a rank's event while its gang is being found again after a restart: reported again later)
        if (this.s.gangs.isRestoring(ev.claim)) continue;
        if (this.s.gangs.isFollower(ev.claim)) {
          if (job && this.s.claims.get(ev.claim) && sameHost(hostOfName(this.s.claims.get(ev.claim)!.slot), callerHost))
            this.s.gangs.rankEvent(ev);
          acked.push(ev.seq);
          continue;
        }
        if (!this.takeBackLostRun(job, ev, callerHost) || !job?.claim) {
          acked.push(ev.seq);
          continue;
        }
        retaken = true;
      }
      ev = this.s.gangs.leaderEvent(ev);
      if (!sameHost(hostOfName(job.claim.slot), callerHost)) continue;
      // Output first: the exit is recorded (and acknowledged) only once the files are in place. A startd we
      // cannot reach gets no acknowledgement and reports again.
      let transferError: string | undefined;
      // (a held or removed job's output stays behind, as in HTCondor)
      if (
        ev.output &&
        ((ev.type === 'exited' && (job.status === JobStatus.Running || job.status === JobStatus.Idle)) ||
          ev.type === 'evicted')
      ) {
        try {
          transferError = await this.fetchOutput(job, ev.type === 'evicted');
        } catch (e) {
          this.s.log.warn(
            { cluster: job.cluster, proc: job.proc, err: (e as Error).message },
            'could not fetch the output yet; the startd will report again',
          );
          continue;
        }
      }
      acked.push(ev.seq);
      this.s.heardFrom(job);
      // the exit of a job running when the schedd started: its events go to the log once (a previous run
      // may have logged them and been killed before it recorded the exit; the startd then reports it again)
      const path = this.s.queue.value(job, 'UserLog');
      if (
        ev.type === 'exited' &&
        this.s.unsure.delete(key) &&
        typeof path === 'string' &&
        loggedEnd(path, job.cluster, job.proc, this.s.fileOwner(job))
      ) {
        this.s.log.info(
          { cluster: job.cluster, proc: job.proc },
          'exit recorded again after a restart: its events are in the log already',
        );
        this.s.quiet.add(key);
      }
      // a job that ends while the schedd is still reconnecting to it has no claim object yet: its claim is
      // released all the same (else the startd would hold the slot until the lease ran out)
      const freed = claim ?? { id: job.claim.id, startd: job.claim.startd, slot: job.claim.slot, lastAc: 0 };
      const imageBefore = ev.type === 'update' ? Number(this.s.queue.value(job, 'ImageSize') ?? 0) || 0 : 0;
      if (ev.update?.attrs && Object.keys(ev.update.attrs).length) this.takeUpdate(job, ev.update.attrs, callerHost);
      // the exit of a job still counted as being started on this claim (the schedd restarted, or the answer
      // to its start request was lost, before it knew the job ran): it is recorded as started first
      // (execute event, NumJobStarts), and its claim is the schedd's again; a run given up on whose exit came
      // late was logged and counted when it started, and is not again
      if (ev.type === 'exited' && job.status === JobStatus.Idle) {
        this.s.claims.set(freed.id, freed);
        job.matching = false;
        this.s.markRunning(job, freed, retaken);
      }
      switch (ev.type) {
        case 'started':
          break;
        case 'update': {
          // attributes only (usage, chirp): folded in above; a grown image size is event 006
          const image = Number(ev.update?.attrs?.ImageSize);
          if (image > imageBefore)
            this.s.logEvent(job, {
              type: 'image_size',
              imageSizeKb: image,
              memoryUsageMb: Number(this.s.queue.value(job, 'MemoryUsage')) || undefined,
              residentSetSizeKb: Number(this.s.queue.value(job, 'ResidentSetSize')) || 0,
            });
          break;
        }
        case 'suspended': // the startd's SUSPEND policy stopped the job (exit_code: how many processes)
          if (job.status === JobStatus.Running) {
            this.s.queue.update(job, {}, JobStatus.Suspended);
            this.s.logEvent(job, { type: 'suspended', numPids: ev.exit_code });
          }
          break;
        case 'unsuspended':
          if (job.status === JobStatus.Suspended) {
            this.s.queue.update(job, {}, JobStatus.Running);
            this.s.logEvent(job, { type: 'unsuspended' });
          }
          break;
        case 'exited':
          this.jobExited(job, ev, transferError);
          this.s.quiet.delete(key);
          after.push(freed);
          break;
        case 'failed':
          this.jobFailed(job, ev);
          after.push(freed);
          break;
        case 'evicted':
          this.jobEvicted(job, ev.message || 'the startd evicted the job');
          if (claim) this.s.claims.delete(claim.id);
          // its checkpoint did not come back whole: held, as an exit whose output did not come back
          if (transferError) this.s.actions.hold(job, transferError, HoldCode.TransferOutputError, 0);
          break;
      }
    }
    // the next job of each freed claim is chosen now, so its claim is recorded in the same commit as the exit
    const reuse = after.map((c) => ({ claim: c, next: this.s.pickNext(c) }));
    try {
      await this.s.queue.commit();
    } catch (e) {
      // not recorded (disk full): nothing is acknowledged, so the startd reports again; the freed claims
      // go back rather than start jobs whose start could not be recorded
      for (const { claim, next } of reuse) {
        if (next) this.s.dropStartingClaim(next);
        void this.s.releaseClaim(claim, false);
      }
      throw e;
    }
    this.s.userLog.flush();
    this.s.gangs.sweep();
    const byStartd = new Map<string, Array<{ claim: Claim; next: Job }>>();
    for (const { claim, next } of reuse) {
      if (!next) {
        void this.s.releaseClaim(claim, false);
        continue;
      }
      let list = byStartd.get(claim.startd);
      if (!list) byStartd.set(claim.startd, (list = []));
      list.push({ claim, next });
    }
    for (const [addr, items] of byStartd)
      void this.s
        .startOnClaims(addr, items)
        .catch((e) => this.s.log.error({ startd: addr, err: (e as Error).message }, 'could not reuse the claims'));
    this.s.onQueueChanged();
    return acked;
  }

  private spoolDir(job: Job): string {
    return join(this.s.spool(), `${job.cluster}.${job.proc}`);
  }

  /** FetchInput: the input files of a job starting on a claim, read with its owner's permissions. */
  async sendInput(
    claimId: string,
    id: { cluster: number; proc: number },
    sink: (c: FileChunk) => Promise<void>,
    callerHost: string,
    expanded: Record<string, string> = {},
  ): Promise<void> {
    const job = this.s.queue.jobs.get(jobKey(id.cluster, id.proc));
    // a parallel job's rank on another of its claims gets no input files
    if (job?.claim && this.s.gangs.rankInput(claimId, id))
      return this.checkClaimHost(this.s.claims.get(claimId) ?? job.claim, callerHost);
    if (!job || job.claim?.id !== claimId)
      throw new DschedError('CLAIM_NOT_FOUND', `job ${id.cluster}.${id.proc} is not starting on that claim`);
    this.checkClaimHost(job.claim, callerHost);
    const stored = (n: string) => this.s.queue.value(job, n);
    const filled = filledInputs(stored, expanded);
    const v = (n: string) => (filled.has(n) ? filled.get(n) : stored(n));
    const evictOutput = String(v('WhenToTransferOutput') ?? '').toUpperCase() === 'ON_EXIT_OR_EVICT';
    const owner = this.s.fileOwner(job);
    let bytes = 0;
    const counting = (c: FileChunk) => ((bytes += c.data?.length ?? 0), sink(c));
    await sendFiles(inputEntries(v, evictOutput ? this.spoolDir(job) : undefined, owner), counting, { owner });
    this.runBytes.sentToJob(jobKey(job.cluster, job.proc), bytes);
    this.s.queue.update(job, { BytesSent: String((Number(v('BytesSent')) || 0) + bytes) });
  }

  /**
   * Fetch a finished (or, ON_EXIT_OR_EVICT, evicted) job's output from its startd into its initial
   * directory (or the spool). Returns the hold reason when files are missing or cannot be written; throws
   * when the startd cannot be reached (the event is then not acknowledged and comes again).
   */
  private async fetchOutput(job: Job, evicted: boolean): Promise<string | undefined> {
    const c = job.claim!;
    const v = (n: string) => this.s.queue.value(job, n);
    const spool = evicted ? this.spoolDir(job) : undefined;
    if (spool) {
      rmSync(spool, { recursive: true, force: true });
      mkdirSync(spool, { recursive: true, mode: 0o700 });
    }
    const who = spool ? undefined : this.s.fileOwner(job);
    try {
      const fetch = (addr: string) =>
        receiveFiles(
          RunBytes.counted(this.s.startd(addr).fetchOutput(c.id, { cluster: job.cluster, proc: job.proc }), (n) => {
            this.runBytes.receivedFromJob(jobKey(job.cluster, job.proc), n);
            this.s.queue.update(job, { BytesRecvd: String((Number(v('BytesRecvd')) || 0) + n) });
          }),
          {
            dest: outputDest(v, spool),
            owner: who,
            // written as root, so no user's quota bounds it: the job's checkpoint has a bound of its own
            ...(spool ? { maxBytes: { bytes: this.s.maxSpooled(), knob: 'MAX_SPOOLED_OUTPUT' } } : {}),
          },
        );
      const first = this.s.claims.get(c.id)?.startd ?? c.startd;
      let got: string[];
      try {
        got = await fetch(first);
      } catch (e) {
        // a startd restarted since the job started (its exit redelivered from its journal) has a new port
        const moved = (await this.s.startdAddresses(c.startd, c.slot)).filter((a) => a !== first);
        if (!(e instanceof DschedError && e.code === 'DAEMON_UNREACHABLE') || !moved.length) throw e;
        got = await fetch(moved[0]!);
      }
      this.s.log.info(
        { cluster: job.cluster, proc: job.proc, files: got.length, spool: !!spool },
        'output transferred',
      );
      return undefined;
    } catch (e) {
      if (e instanceof DschedError && (e.code === 'DAEMON_UNREACHABLE' || e.code === 'TIMEOUT')) throw e;
      // a checkpoint cut short is no checkpoint: its next run starts afresh
      if (spool) rmSync(spool, { recursive: true, force: true });
      const details =
        e instanceof DschedError ? e.message : `writing output into ${String(v('Iwd') ?? '')}: ${errnoText(e)}`;
      const reason = `Transfer output files failure at access point ${this.s.name()} while receiving files from the execution point ${c.slot}. Details: ${details}`;
      this.s.log.warn({ cluster: job.cluster, proc: job.proc, reason }, 'output transfer failed');
      return reason;
    }
  }

  private jobExited(job: Job, ev: JobEvent__Output, transferError?: string) {
    this.s.disarmDuration(jobKey(job.cluster, job.proc));
    const walltime =
      job.status === JobStatus.Running
        ? walltimeExit(this.s.queue, job, ev.exit_by_signal ? ev.exit_signal : undefined)
        : undefined;
    if (walltime) {
      // killed for its walltime: it ends with PBS's exit status, and PBS's line closes its error file
      ev = { ...ev, exit_by_signal: false, exit_signal: 0, exit_code: walltime.exitCode };
      const err = appendToErrorFile(this.s.queue, job, this.s.fileOwner(job), walltime.message);
      if (err)
        this.s.log.warn(
          { cluster: job.cluster, proc: job.proc, err },
          'cannot write the walltime message to the error file',
        );
    }
    const exit = exitAttributes(ev);
    const facts: Partial<JobFacts> = ev.exit_by_signal ? { signal: ev.exit_signal } : { exitCode: ev.exit_code };
    if (job.status === JobStatus.Removed)
      this.s.mail('abort', job, { removeReason: String(this.s.queue.value(job, 'RemoveReason') ?? '') });
    // the end is mailed once the policy has decided the job is done with (completed or held), never for a
    // run that on_exit_remove/max_retries sends back to the queue; host and run time are read before the
    // exit clears them
    const mailEnd = job.status === JobStatus.Held ? () => {} : this.s.mailLater('end', job, facts);
    // counted before the policy is evaluated, as HTCondor's shadow does (max_retries reads it); a job that
    // ends because it was held or removed did not exit of its own accord and is not counted
    const stopped = job.status === JobStatus.Removed || job.status === JobStatus.Held;
    const completions = Number(this.s.queue.value(job, 'NumJobCompletions') ?? 0) + (stopped ? 0 : 1);
    const changes = {
      ...this.s.wallClock(job),
      ...exit,
      JobCurrentStartDate: null,
      NumJobCompletions: String(completions),
    };
    if (this.endRun(job, changes)) return;
    if (job.status === JobStatus.Held) {
      this.s.queue.update(job, changes);
      this.s.actions.releaseIfAsked(job);
      return;
    }
    // the ad with the exit status in place is what the policy expressions see
    this.s.queue.update(job, changes);
    if (String(this.s.queue.value(job, 'WhenToTransferOutput') ?? '').toUpperCase() === 'ON_EXIT_OR_EVICT')
      rmSync(this.spoolDir(job), { recursive: true, force: true });
    if (transferError) {
      // as HTCondor: output that did not come back holds the job (code 12) instead of completing it
      this.s.actions.hold(job, transferError, HoldCode.TransferOutputError, 0);
      mailEnd();
      return;
    }
    const usage = terminationUsage(
      (n) => this.s.queue.value(job, n),
      this.runBytes.take(jobKey(job.cluster, job.proc)),
    );
    this.s.logEvent(
      job,
      ev.exit_by_signal
        ? { type: 'terminated', normal: false, signal: ev.exit_signal, ...usage }
        : { type: 'terminated', normal: true, returnValue: ev.exit_code, ...usage },
    );
    const hold = this.exitPolicy(job, 'OnExitHold', false);
    if (hold) {
      const ad = this.s.queue.ad(job);
      const reason = String(ad.lookupJS('OnExitHoldReason') ?? 'The on_exit_hold expression evaluated to true.');
      const sub = Number(ad.lookupJS('OnExitHoldSubCode') ?? 0) || 0;
      this.s.actions.hold(job, reason, HoldCode.JobPolicy, sub);
      mailEnd();
      return;
    }
    const remove = this.exitPolicy(job, 'OnExitRemove', true);
    if (!remove) {
      this.s.queue.update(job, {}, JobStatus.Idle);
      this.s.log.info({ cluster: job.cluster, proc: job.proc }, 'on_exit_remove is false: job requeued');
      return;
    }
    this.s.queue.finish(job, JobStatus.Completed);
    mailEnd();
    // the schedd's log keeps each job's result (as HTCondor's SchedLog does); its start is debug only
    this.s.log.info(
      {
        cluster: job.cluster,
        proc: job.proc,
        exitCode: ev.exit_by_signal ? undefined : ev.exit_code,
        signal: ev.exit_by_signal ? ev.exit_signal : undefined,
      },
      'job completed',
    );
  }

  /**
   * An exit policy expression's value. Most jobs have `OnExitRemove = true` and no OnExitHold: a plain true
   * or false is taken as it is, and only another expression has the job's ad parsed to evaluate it.
   */
  private exitPolicy(job: Job, attr: string, dflt: boolean): boolean {
    const text = this.s.queue.textOf(job, attr);
    if (text === undefined) return dflt;
    if (/^true$/i.test(text)) return true;
    if (/^false$/i.test(text)) return false;
    return this.evalPolicy(this.s.queue.ad(job), attr, dflt);
  }

  private evalPolicy(ad: ClassAd, attr: string, dflt: boolean): boolean {
    if (!ad.has(attr)) return dflt;
    const v = ad.evaluate(attr);
    const js = ad.lookupJS(attr);
    if (js === null || js === undefined) return dflt;
    return isTrue(v);
  }

  /** The run is over: the job gives up its claim, and a removed job leaves the queue now (true). */
  private endRun(job: Job, changes: Record<string, string | null>): boolean {
    job.claim = undefined;
    job.matching = false;
    if (job.status !== JobStatus.Removed) return false;
    this.s.logEvent(job, { type: 'aborted', reason: String(this.s.queue.value(job, 'RemoveReason') ?? 'removed') });
    this.s.queue.finish(job, JobStatus.Removed, changes);
    return true;
  }

  private jobFailed(job: Job, ev: JobEvent__Output) {
    this.s.disarmDuration(jobKey(job.cluster, job.proc));
    // a job the startd killed (over its memory) keeps how its run ended, as an exit does
    const changes = {
      ...this.s.wallClock(job),
      JobCurrentStartDate: null,
      ...(ev.exit_by_signal ? exitAttributes(ev) : {}),
    };
    if (this.endRun(job, changes)) return;
    this.s.queue.update(job, changes);
    const code = ev.exit_code > 0 ? ev.exit_code : HoldCode.FailedToCreateProcess;
    this.s.actions.hold(job, ev.message || 'the job could not be started', code, ev.hold_subcode ?? 0);
  }

  /**
   * A claim whose job the schedd gives up on without hearing of its end (its startd silent past the lease)
   * is remembered in the queue, in the same commit as the job's return to idle: an exit its startd reports
   * later (from its journal) is still the job's completion, also after a restart of the schedd, and the job
   * does not run again until that run is settled (Leases.settleLostRuns): a second run could end before the
   * first one's exit arrives, and the job would complete twice. A run its startd said is `gone` (neither
   * the claim nor an exit to report) has nothing left to come.
   */
  lostRun(job: Job, reason: string, gone: boolean, logged = false) {
    const c = job.claim;
    if (c && !gone && job.status !== JobStatus.Idle)
      this.s.queue.loseRun(c.id, { cluster: job.cluster, proc: job.proc, startd: c.startd, slot: c.slot });
    this.jobEvicted(job, reason, logged);
  }

  /**
   * The exit of a run given up on (`lostRun`) arrives: the job completed there, and that counts. A job back
   * to idle takes the claim again (its exit is then recorded as usual); a job running again elsewhere has
   * that run stopped, as is a start of it in progress. False when it cannot be taken (held, removed): the exit
   * is dropped.
   */
  private takeBackLostRun(job: Job | undefined, ev: JobEvent__Output, callerHost: string): job is Job {
    const was = this.s.queue.lostRuns.get(ev.claim);
    if (
      !job ||
      ev.type !== 'exited' ||
      !was ||
      was.cluster !== job.cluster ||
      was.proc !== job.proc ||
      !sameHost(hostOfName(was.slot), callerHost)
    )
      return false;
    if ((job.status === JobStatus.Running || job.status === JobStatus.Idle) && job.claim) {
      // running again, or being started again (maybe still waiting to hear from its startd after a restart)
      const c = job.claim;
      this.s.log.warn(
        { cluster: job.cluster, proc: job.proc, slot: c.slot },
        'a run given up on completed after all: the job’s new run is stopped',
      );
      void this.s.releaseClaim(
        this.s.claims.get(c.id) ?? { id: c.id, startd: c.startd, slot: c.slot, lastAc: 0 },
        true,
      );
    } else if (job.status !== JobStatus.Idle) return false;
    this.s.queue.forgetLostRun(ev.claim);
    job.claim = { id: ev.claim, startd: was.startd, slot: was.slot };
    this.s.log.info(
      { cluster: job.cluster, proc: job.proc, slot: was.slot },
      'the exit of a run given up on arrived: recorded as the job’s completion',
    );
    return true;
  }

  /** `logged`: the user log has the run's end already (a 024), so no 004. */
  private jobEvicted(job: Job, reason: string, logged = false) {
    this.s.disarmDuration(jobKey(job.cluster, job.proc));
    if (job.status === JobStatus.Idle) {
      // it was only being started on the claim: nothing ran, so no eviction to log
      this.s.dropStartingClaim(job);
      return;
    }
    job.claim = undefined;
    job.matching = false;
    this.s.queue.update(
      job,
      { ...this.s.wallClock(job), JobCurrentStartDate: null, LastVacateTime: String(now()), [WALLTIME_KILLED]: null },
      job.status === JobStatus.Running || job.status === JobStatus.Suspended ? JobStatus.Idle : undefined,
    );
    if (!logged) this.s.logEvent(job, { type: 'evicted', reason });
    this.s.log.info({ cluster: job.cluster, proc: job.proc, reason }, 'job evicted: back to idle');
    this.s.actions.releaseIfAsked(job);
  }
}

/** How a run ended, in the job ad: ExitBySignal with ExitSignal, or ExitCode. */
function exitAttributes(ev: JobEvent__Output): Record<string, string | null> {
  return ev.exit_by_signal
    ? { ExitBySignal: 'true', ExitSignal: String(ev.exit_signal), ExitCode: null }
    : { ExitBySignal: 'false', ExitCode: String(ev.exit_code), ExitSignal: null };
}
