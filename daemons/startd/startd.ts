// The startd's behaviour: claims (with leases), running jobs on them, stopping them, and telling the
// schedd what happened. A job stopped by the startd itself (lease lost, shutdown) is reported as evicted,
// never as an exit, so it is run again rather than recorded as finished.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { ClassAd, literal, parseExpr, symmetricMatch, unparse } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import { sameHost } from '../../lib/rpc/authz.js';
import type { Logger } from '../../lib/log.js';
import { loginOf, runAsOwner, runAsOwnerCached } from '../../lib/users.js';
import type { ClaimRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { EventReporter } from './reporter.js';
import { Machine, type DynamicSlot } from './slots.js';
import { fetchInput, inputFailure, outputFiles, transferExpanded, wantsTransfer, type OutputList } from './transfer.js';
import { removeSandbox, sandboxFullHold, signalByName, type JobOutcome, type RunAs } from './starter.js';
import type { LaunchHandle, LaunchRecord, Launchers } from './launcher.js';
import type { SpawnerExit } from './spawner-journal.js';
import { gangLaunch } from './gang-env.js';
import { expandMatchRefs } from '../../grammar/submit/match-expand.js';
import { HoldCode } from '../../lib/job-status.js';
import {
  IMMUTABLE_JOB_ATTRS,
  PROTECTED_JOB_ATTRS,
  attrsGrowthRefusal,
  isResourceRequest,
} from '../../lib/job-attrs.js';
import { JobRecordFile, type JobRecordEntry } from './job-record.js';
import { JobAd } from './job-ad.js';
import { rankClaim, runRank, type RankClaim } from './rank.js';
import type { RunRankRequest__Output } from '../../lib/rpc/generated/dsched/v1/RunRankRequest.js';
import type { RankOutput } from '../../lib/rpc/generated/dsched/v1/RankOutput.js';
import type { JobEvent } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';

interface SlotExtra {
  evictReason?: string;
  releaseAfterExit?: boolean;
  /** the job ad as the startd last knows it (chirp updates included; packed while nothing reads it: job-ad.ts) */
  ad?: JobAd;
  /** the secret the job's dchirp calls carry */
  chirp?: string;
  /** the job runs on transferred files: the names that came in, and when it started */
  transfer?: { inputs: Map<string, number> };
  /** a claim held for another chunk of a parallel job: what dsched-rank may start on it (rank.ts) */
  rank?: RankClaim;
}

/** A finished job's sandbox, kept until the schedd has fetched its output. */
interface Retained {
  sandbox: string;
  output: OutputList;
  /** the claiming schedd's host: only it fetches the output */
  scheddHost?: string;
  /** whose rights the output is read with */
  owner?: RunAs;
}

/** A hold the job monitor decided for a running job: HoldReasonCode, HoldReasonSubCode and HoldReason. */
export interface PolicyHold {
  code: number;
  subCode?: number;
  message: string;
}

/** A hold recorded for a running job, with what its end is reported with (the schedd, the claim, the job). */
interface RecordedHold extends PolicyHold {
  addr: string;
  claim: string;
  cluster: number;
  proc: number;
  /** when it was decided (epoch seconds) */
  time: number;
}

/** The signals with which a batch system, init or an operator ends every process of a host or allocation. */
const HOST_STOP_SIGNALS = new Set([1, 2, 9, 15]);
/** How long the end of a job killed by one of them waits to learn whether the startd is being stopped too. */
const HOST_STOP_GRACE_MS = 500;

/**
 * Attributes a job may not change about itself through chirp: what its owner may not change with dqedit (who
 * owns it, what the schedd records, its files, its queue's walltime), nor what it was matched with while it runs.
 */
const CHIRP_ALSO_PROTECTED = new Set(['requirements', 'jobprio', 'concurrencylimits']);
const chirpMayNotSet = (name: string) => {
  const n = name.toLowerCase();
  return (
    IMMUTABLE_JOB_ATTRS.has(n) || PROTECTED_JOB_ATTRS.has(n) || isResourceRequest(n) || CHIRP_ALSO_PROTECTED.has(n)
  );
};

export class Startd {
  private extra = new Map<string, SlotExtra>();
  private retained = new Map<string, Retained>(); // claim/cluster.proc → sandbox with output
  private seq = 0;
  /** the running jobs as a restarted startd finds them (`run/startd-jobs.json`) */
  private record: JobRecordFile;
  /** Something changed; `claim` names the dynamic slot whose ad changed. */
  onChange: (claim?: string) => void = () => {};
  /** The running-job monitor (policy.ts): told when a job starts; may turn its outcome into a hold (memory limit). */
  hooks: { started(d: DynamicSlot, ad: JobAd): void; ended(d: DynamicSlot, o: JobOutcome): JobOutcome } | undefined;

  constructor(
    readonly machine: Machine,
    private config: Config,
    private log: Logger,
    private reporter: EventReporter,
    readonly launchers: Launchers,
  ) {
    this.record = new JobRecordFile(join(config.paths.run, 'startd-jobs.json'), () => this.recordEntries());
  }

  /** The jobs a previous run of this startd recorded as running (`Launcher.list()`). */
  previousRecords(): LaunchRecord[] {
    const list = this.record.read() as Array<Partial<LaunchRecord> & { sandbox: string; pid?: unknown; tag?: unknown }>;
    // a record of an earlier version names the process itself
    return list.map((j) => ({
      launcher: j.launcher ?? 'process',
      sandbox: j.sandbox,
      ref: j.ref ?? { pid: j.pid, tag: j.tag },
    }));
  }

  /**
   * The ends of jobs that the previous run's spawner journaled and that run never journaled itself (it was
   * killed, or the host crashed, before it read them from its spawner): they are reported as exits now, so
   * those jobs are recorded as finished rather than run again. An end that came after the startd had
   * signalled the job (an eviction, a removal) is left out: its job is settled as one that was lost. Call
   * before serving (so ClaimStatus and RenewLeases know of these ends) and before `reapOrphans`.
   */
  async recoverSpawnerExits(): Promise<void> {
    const previous = await this.launchers.previousEnds();
    const holds = this.previousHolds();
    if (!previous.ends.length && !holds.size) return previous.drop();
    const known = new Set(this.reporter.kept().map((k) => (k as { run?: string } | undefined)?.run));
    const records = new Map(this.previousRecords().map((r) => [basename(r.sandbox), r]));
    let recovered = 0;
    let stopped = 0;
    const heldEnds = new Map<string, SpawnerExit>();
    for (const e of previous.ends) {
      if (known.has(e.run)) continue;
      // the end of a job the monitor was stopping for its policy (memory) is that hold, as it would have
      // been (reported below)
      if (holds.has(e.run)) {
        heldEnds.set(e.run, e);
        continue;
      }
      known.add(e.run);
      if (e.stopped) stopped++;
      else if (this.redeliver(e, await this.launchers.process.replayedEndHold(records.get(e.run), e))) recovered++;
    }
    // such a job is held also when its end never reached the journal (its spawner, orphaned, killed it and
    // exited first): it was being killed, and what is left of it is killed before any job starts
    for (const [run, h] of holds) {
      if (known.has(run)) continue;
      // killed as the live path would have; an end not journaled was the spawner's SIGKILL (or ours, below)
      const end = heldEnds.get(run);
      const signal = end ? end.signal : osConstants.signals.SIGKILL;
      this.reporter.send(
        h.addr,
        {
          claim: h.claim,
          id: { cluster: h.cluster, proc: h.proc },
          type: 'failed',
          exit_code: h.code,
          exit_by_signal: !!signal,
          exit_signal: signal ?? 0,
          hold_subcode: h.subCode ?? 0,
          message: h.message,
          time: h.time,
        },
        undefined,
        { run },
      );
      recovered++;
    }
    // on disk in the startd's own journal before the launcher's record goes
    this.reporter.sync();
    previous.drop();
    if (recovered || stopped)
      this.log.info(
        { exits: recovered, stopped },
        'reporting job exits the previous job spawner journaled before the startd read them',
      );
  }

  /**
   * Report an end from a spawner's journal as an exit (with its sandbox's output), or as the hold `held` the
   * live end would have had (its output lost); false if it cannot be.
   */
  private redeliver(e: SpawnerExit, held?: JobOutcome): boolean {
    const n = e.note;
    if (e.sandboxFull || held) {
      // held as the live end would have been; its sandbox goes (nothing of it is fetched)
      if (n.transfer) removeSandbox(n.transfer.sandbox);
      const o = held ?? sandboxFullHold(join(this.config.paths.execute, e.run), e);
      this.reporter.send(n.addr, failedEvent(n.claim, { cluster: n.cluster, proc: n.proc }, o, e.time), undefined, {
        run: e.run,
      });
      return true;
    }
    const ev = {
      claim: n.claim,
      id: { cluster: n.cluster, proc: n.proc },
      type: 'exited',
      exit_code: e.signal === undefined ? e.exitCode : 0,
      exit_by_signal: e.signal !== undefined,
      exit_signal: e.signal ?? 0,
      time: e.time,
      output: false,
    };
    const keep: { run: string; retained?: Retained & { key: string } } = { run: e.run };
    let acked: (() => void) | undefined;
    const t = n.transfer;
    if (t) {
      // its output is in the sandbox, or the job cannot count as finished (it runs again)
      if (!existsSync(t.sandbox)) return false;
      const ad = new ClassAd();
      if (t.whenToTransferOutput !== undefined) ad.set('WhenToTransferOutput', literal(t.whenToTransferOutput));
      if (t.transferOutput !== undefined) ad.set('TransferOutput', literal(t.transferOutput));
      const key = `${n.claim}/${n.cluster}.${n.proc}`;
      const r: Retained = {
        sandbox: t.sandbox,
        output: outputFiles(ad, t.sandbox, new Map(t.inputs), e.signal === undefined && e.exitCode === 0),
        scheddHost: t.scheddHost,
        owner: t.owner,
      };
      this.retained.set(key, r);
      keep.retained = { key, ...r };
      ev.output = true;
      acked = () => this.dropRetained(key);
    }
    this.reporter.send(n.addr, ev, acked, keep);
    return true;
  }

  /**
   * The finished jobs whose exit a previous run journaled and no schedd has acknowledged: their sandboxes
   * (with the output the schedd has not fetched yet) are served again, and removed once the exit is
   * acknowledged. Call before `reapOrphans`.
   */
  restoreOwed(): void {
    for (const o of this.reporter.owed()) {
      const r = (o.keep as { retained?: Retained & { key: string } } | undefined)?.retained;
      if (!r || !existsSync(r.sandbox)) continue;
      const { key, ...kept } = r;
      this.retained.set(key, kept);
      o.acked(() => this.dropRetained(key));
    }
    if (this.retained.size)
      this.log.info(
        { sandboxes: this.retained.size },
        'keeping the output of jobs that ended before a restart until their schedd fetches it',
      );
  }

  private dropRetained(key: string): void {
    const r = this.retained.get(key);
    if (!r) return;
    this.retained.delete(key);
    removeSandbox(r.sandbox);
    this.saveState(r.sandbox);
  }

  /** Jobs left running by a startd that died (kill -9) are killed: nobody can report on them now. */
  reapOrphans(): void {
    if (!existsSync(this.record.file)) return;
    try {
      const list = this.previousRecords();
      const killed = this.launchers.recover(list);
      if (killed) this.log.warn({ jobs: killed }, 'killed jobs left by a previous startd');
      const kept = new Set([...this.retained.values()].map((r) => r.sandbox));
      for (const j of list) if (!kept.has(j.sandbox)) removeSandbox(j.sandbox);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not read the previous job list');
    }
    this.saveState();
  }

  private saveScheduled = false;
  /** the sandboxes whose entries changed since the record was written; undefined: any may have */
  private recordChanged: Set<string> | undefined = new Set();
  /**
   * Record the running jobs' pids (once per event-loop turn, without fsync: the list only serves to kill
   * orphans after a crash of this daemon, and a machine crash takes the jobs with it anyway): what changed
   * of `sandbox`, or without it of every job.
   */
  private saveState(sandbox?: string) {
    if (sandbox === undefined) this.recordChanged = undefined;
    else this.recordChanged?.add(sandbox);
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => {
      this.saveScheduled = false;
      this.writeState();
    });
  }

  private writeState() {
    const changed = this.recordChanged;
    this.recordChanged = new Set();
    try {
      this.record.save(changed && this.recordEntries(changed));
    } catch (e) {
      // a full disk: the previous list stays (the next change writes it again); the startd keeps running
      this.log.warn({ file: this.record.file, err: (e as Error).message }, 'cannot record the running jobs');
    }
  }

  /** The record's entries: of the sandboxes in `only` (undefined for one that is gone), else all of them. */
  private recordEntries(only: Set<string>): Map<string, JobRecordEntry | undefined>;
  private recordEntries(): JobRecordEntry[];
  private recordEntries(only?: Set<string>): Map<string, JobRecordEntry | undefined> | JobRecordEntry[] {
    // one pass over the slots without copies: a busy startd writes the record every turn
    const running: LaunchHandle[] = [];
    for (const d of this.machine.dslots.values())
      if (d.job && (!only || only.has(d.job.started.sandbox))) running.push(d.job.started);
    const list: JobRecordEntry[] = this.launchers
      .list(running)
      .map((r) => ({ ...r, hold: this.policyHolds.get(r.sandbox) }));
    for (const r of this.retained.values()) if (!only || only.has(r.sandbox)) list.push({ sandbox: r.sandbox });
    if (!only) return list;
    const entries = new Map<string, JobRecordEntry | undefined>([...only].map((s) => [s, undefined]));
    for (const e of list) entries.set(e.sandbox, e);
    return entries;
  }

  /** Holds the job monitor decided on running jobs, by sandbox (the run), until the job's end is reported. */
  private policyHolds = new Map<string, RecordedHold>();

  /**
   * The job monitor holds a running job (over its memory limit) and is about to kill it: recorded at once,
   * so that a startd killed before it hears of the end reports that end, from the spawner's journal, as
   * the same hold instead of a lost run (which would run the job again).
   */
  recordHold(d: DynamicSlot, hold: PolicyHold): void {
    if (!d.job) return;
    this.policyHolds.set(d.job.started.sandbox, {
      ...hold,
      addr: d.scheddAddress,
      claim: d.claim,
      cluster: d.job.cluster,
      proc: d.job.proc,
      time: Math.floor(Date.now() / 1000),
    });
    this.recordChanged?.add(d.job.started.sandbox);
    this.writeState();
  }

  /** The holds a previous run of this startd recorded, by run (its sandbox's name, as its journal names it). */
  private previousHolds(): Map<string, RecordedHold> {
    const holds = new Map<string, RecordedHold>();
    for (const j of this.record.read() as Array<{ sandbox: string; hold?: Partial<RecordedHold> }>) {
      const h = j.hold;
      const complete =
        h &&
        typeof h.code === 'number' &&
        typeof h.message === 'string' &&
        typeof h.addr === 'string' &&
        typeof h.claim === 'string' &&
        typeof h.cluster === 'number' &&
        typeof h.proc === 'number';
      if (complete)
        holds.set(basename(j.sandbox), {
          ...(h as RecordedHold),
          time: Number(h.time) || Math.floor(Date.now() / 1000),
        });
    }
    return holds;
  }

  /** The output a finished job left for its schedd (FetchOutput). */
  outputFor(claim: string, id: { cluster: number; proc: number }, callerHost: string): Retained {
    const r = this.retained.get(`${claim}/${id.cluster}.${id.proc}`);
    if (r?.scheddHost && !sameHost(r.scheddHost, callerHost))
      throw new DschedError(
        'PERMISSION_DENIED',
        `the output of job ${id.cluster}.${id.proc} is for the schedd on ${r.scheddHost}, not one on ${callerHost}`,
      );
    if (!r)
      throw new DschedError('CLAIM_NOT_FOUND', `no output waits here for job ${id.cluster}.${id.proc} on that claim`);
    return r;
  }

  /** dsched-rank: start a process of a parallel job on a claim held for it here, and wait for its end. */
  runRank(req: RunRankRequest__Output): Promise<RankOutput> {
    return runRank(req, {
      slots: this.machine.dslots.values(),
      rankOf: (claim) => this.extra.get(claim)?.rank,
      activate: (claim, job) => this.activate(claim, job),
      log: this.log,
    });
  }

  /** dchirp: a running job reads or sets an attribute of its own ad; the schedd hears of it at once. */
  chirp(secret: string, op: string, name: string, value: string): string {
    const d = secret
      ? [...this.machine.dslots.values()].find((s) => s.job && this.extra.get(s.claim)?.chirp === secret)
      : undefined;
    const ex = d && this.extra.get(d.claim);
    if (!d || !d.job || !ex?.ad)
      throw new DschedError(
        'PERMISSION_DENIED',
        'chirp: no running job has that secret (is this call made from inside a running job?)',
      );
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name))
      throw new DschedError('USAGE', `chirp: '${name}' is not an attribute name`);
    const ad = ex.ad.whole();
    if (op === 'get_job_attr') {
      const e = ad.get(name);
      return e ? unparse(e) : 'UNDEFINED';
    }
    if (op !== 'set_job_attr' && op !== 'set_job_attr_delayed')
      throw new DschedError(
        'USAGE',
        `chirp: unknown operation '${op}' (set_job_attr, set_job_attr_delayed, get_job_attr)`,
      );
    if (chirpMayNotSet(name)) throw new DschedError('PERMISSION_DENIED', `chirp: a job may not change its ${name}`);
    const expr = parseExpr(value, { file: '<chirp value>', line: 1, column: 1 });
    const tooLarge = attrsGrowthRefusal(ad.toRecord(), [[name, unparse(expr)]]);
    if (tooLarge) throw new DschedError('INPUT_TOO_LARGE', `chirp: ${tooLarge}`);
    ad.set(name, expr);
    this.reporter.send(d.scheddAddress, {
      claim: d.claim,
      id: { cluster: d.job.cluster, proc: d.job.proc },
      type: 'update',
      update: { attrs: { [name]: unparse(expr) } },
      time: Math.floor(Date.now() / 1000),
    });
    this.log.info({ cluster: d.job.cluster, proc: d.job.proc, attr: name }, 'job updated its ad (chirp)');
    return '';
  }

  /** Draining: no new claims and no new jobs on existing ones; running jobs finish. Returns how many run. */
  drain(on: boolean, reason: string): number {
    this.machine.draining = on ? reason || 'drained by an admin' : undefined;
    this.log.info({ draining: on, reason }, on ? 'draining' : 'drain cancelled');
    this.onChange();
    return [...this.machine.dslots.values()].filter((d) => d.job).length;
  }

  /** Refuse a caller (by its host) that is not the schedd holding the claim. An unknown claim passes: the
   *  operation itself then says it is unknown. */
  checkHolder(claim: string, callerHost: string): void {
    const d = this.machine.dslots.get(claim);
    if (d?.scheddHost && !sameHost(d.scheddHost, callerHost))
      throw new DschedError(
        'PERMISSION_DENIED',
        `${d.name} is claimed by the schedd on ${d.scheddHost}, not by one on ${callerHost}`,
      );
  }

  private holds(claim: string, callerHost: string): boolean {
    const d = this.machine.dslots.get(claim);
    return !d?.scheddHost || sameHost(d.scheddHost, callerHost);
  }

  async requestClaim(
    req: ClaimRequest__Output,
    callerHost: string,
  ): Promise<{ claim: string; slot: string; slot_ad: { attrs: Record<string, string> } }> {
    this.refuseWhileStopping();
    if (this.machine.draining)
      throw new DschedError('CLAIM_REFUSED', `${this.machine.pslotName} is draining: ${this.machine.draining}`);
    if (req.slot && req.slot.toLowerCase() !== this.machine.pslotName.toLowerCase())
      throw new DschedError('CLAIM_REFUSED', `this startd has no slot ${req.slot}`);
    const job = ClassAd.fromRecord(req.job?.attrs ?? {});
    const slotAd = this.machine.slotAd();
    if (!symmetricMatch(job, slotAd))
      throw new DschedError(
        'CLAIM_REFUSED',
        `the job does not match ${this.machine.pslotName} (Requirements or START)`,
      );
    const claim = req.claim || randomBytes(24).toString('base64url');
    if (this.machine.dslots.has(claim)) throw new DschedError('CLAIM_REFUSED', 'that claim id is already in use');
    const lease = req.lease > 0 ? req.lease : this.config.int('JOB_LEASE_DURATION');
    const d = this.machine.carve(this.machine.requests(job), claim, req.schedd, req.schedd_address, lease);
    d.scheddHost = callerHost;
    // only a claim made without a job (the schedd's other chunks of a parallel job) may run ranks
    this.extra.set(claim, { rank: req.activate ? undefined : rankClaim(job) });
    this.log.info({ slot: d.name, schedd: req.schedd }, 'claimed');
    if (req.activate) await this.activate(claim, job);
    else this.onChange(claim);
    return { claim, slot: d.name, slot_ad: { attrs: this.machine.dslotAd(d) } };
  }

  private slot(claim: string): DynamicSlot {
    const d = this.machine.dslots.get(claim);
    if (!d) throw new DschedError('CLAIM_NOT_FOUND', 'no such claim on this startd');
    return d;
  }

  /**
   * Start a job on a claim. Resolves once its process exists (or could not be started), so the reply says
   * the job runs; and meanwhile the startd and the schedd waiting on it leave the CPU to the spawner (on a
   * small machine their work at that moment delays the fork by several milliseconds). A job whose input
   * files must arrive first resolves at once: that can take long, and the exit event tells of a failure.
   */
  activate(claim: string, job: ClassAd): Promise<void> {
    const d = this.slot(claim);
    if (d.job)
      throw new DschedError('CLAIM_REFUSED', `${d.name} is already running job ${d.job.cluster}.${d.job.proc}`);
    this.refuseWhileStopping();
    if (this.machine.draining)
      throw new DschedError('CLAIM_REFUSED', `${this.machine.pslotName} is draining: ${this.machine.draining}`);
    // $$(Attr) and $$([expr]) are filled in here, where the job meets its slot: a claim is requested and
    // activated in one call, so only the startd knows the dynamic slot (its Name, its Cpus) before the job
    // runs. The values go to the schedd as an update (MATCH_EXP_*); one that cannot be filled in holds the job.
    const expanded = expandMatchRefs(job, () => ClassAd.fromRecord(this.machine.dslotAd(d)), d.name);
    if (expanded && 'ad' in expanded) job = expanded.ad;
    const cluster = Number(job.lookupJS('ClusterId'));
    const proc = Number(job.lookupJS('ProcId'));
    const owner = String(job.lookupJS('Owner') ?? '');
    // an owner with no account here cannot have the job run as anyone: held (as HTCondor's shadow holds a job
    // its starter could not switch to the owner for), or it would be matched to this host again every cycle
    let runAs: ReturnType<typeof runAsOwnerCached>;
    let noAccount: string | undefined;
    try {
      runAs = runAsOwnerCached(owner);
    } catch (e) {
      if (!(e instanceof DschedError) || e.code !== 'PERMISSION_DENIED') throw e;
      noAccount = `${owner} has no account on ${this.machine.hostName}, so the job cannot run there as its owner (an administrator adds the account there, or the job's requirements avoid this host)`;
    }
    // named beyond guessing, not only by pid and count: pids wrap, and a restarted startd with an earlier one's
    // pid would name a folder kept for another job's output not yet fetched, then make it this job owner's
    const sandbox = join(
      this.config.paths.execute,
      `dir_${process.pid}_${d.id}_${++this.seq}_${randomBytes(6).toString('hex')}`,
    );
    const extraEnv: Record<string, string> = {};
    Object.assign(extraEnv, this.machine.assignedEnv(d)); // CUDA_VISIBLE_DEVICES, _CONDOR_Assigned<name>
    // dchirp inside the job finds this startd and proves it is this job with the secret in its sandbox
    const chirp = randomBytes(18).toString('base64url');
    extraEnv._CONDOR_CHIRP_CONFIG = join(sandbox, '.chirp.config');
    const files: Record<string, string> = {
      '.chirp.config': `${this.machine.address} ${chirp} ${this.config.paths.host.ca}\n`,
    };
    const defaultEnv: Record<string, string> = {};
    if (job.lookupJS('IsPbsJob') === true) {
      // what PBS's MoM sets for every job: the owner's login variables, and the cpus for OpenMP
      const login = loginOf(owner);
      if (login) Object.assign(defaultEnv, { HOME: login.home, SHELL: login.shell });
      const cpus = String(Math.max(1, Number(job.lookupJS('RequestCpus')) || 1));
      Object.assign(defaultEnv, { LOGNAME: owner, USER: owner, NCPUS: cpus, OMP_NUM_THREADS: cpus });
      // PBS's host list: this host once per MPI process (mpirun -machinefile $PBS_NODEFILE)
      files['.pbs_nodefile'] = `${this.machine.hostName}\n`.repeat(
        Math.max(1, Number(job.lookupJS('PbsMpiProcs')) || 1),
      );
      extraEnv.PBS_NODEFILE = join(sandbox, '.pbs_nodefile');
    }
    const gang = gangLaunch(job, sandbox, this.config.paths.host.ca); // a parallel job: every chunk's host, this chunk's number
    if (gang) {
      Object.assign(files, gang.files);
      Object.assign(extraEnv, gang.env);
    }
    const transfer =
      !noAccount && wantsTransfer(job, this.machine.hostName) ? { inputs: new Map<string, number>() } : undefined;
    const scheddAddress = d.scheddAddress;
    // The slot ad and the pid list change once the process exists: until then the spawner has the CPU to
    // itself (on a small machine, building and sending ads at the same moment delays the job's start).
    let exists!: () => void;
    const spawned = new Promise<void>((r) => (exists = r));
    const running = () => {
      // per job; its end ('job ended') says it ran: only when debugging
      this.log.debug({ cluster, proc, slot: d.name }, 'job started');
      this.saveState(sandbox);
      this.onChange(claim);
      exists();
    };
    // read now rather than in the closures below, which live as long as the job: they would keep its ad
    // parsed while the monitor keeps it packed (job-ad.ts)
    const transferAttrs = transfer && {
      whenToTransferOutput: job.lookupJS('WhenToTransferOutput'),
      transferOutput: job.lookupJS('TransferOutput'),
      inputs: transferExpanded(expanded),
    };
    const started = this.launchers.start({
      onRunning: running,
      ad: job,
      sandbox,
      slotName: d.name.split('@')[0]!,
      slot: { memoryMb: d.res.memory, cpus: d.res.cpus },
      runAs,
      extraEnv,
      defaultEnv,
      files,
      transfer: !!transfer,
      refusal: noAccount
        ? { holdCode: HoldCode.FailedToAccessUserAccount, message: noAccount }
        : expanded && 'error' in expanded
          ? { holdCode: HoldCode.FailedToCreateProcess, message: expanded.error }
          : undefined,
      // the spawner journals the end before it reports it: found again should this startd die first
      journal: {
        run: basename(sandbox),
        note: () => ({
          addr: d.scheddAddress,
          claim,
          cluster,
          proc,
          transfer: transfer &&
            transferAttrs && {
              sandbox,
              scheddHost: d.scheddHost,
              owner: runAsOwner(owner),
              inputs: [...transfer.inputs],
              whenToTransferOutput:
                transferAttrs.whenToTransferOutput === undefined
                  ? undefined
                  : String(transferAttrs.whenToTransferOutput),
              transferOutput:
                typeof transferAttrs.transferOutput === 'string' ? transferAttrs.transferOutput : undefined,
            },
        }),
      },
      prepare: transfer
        ? async () => {
            try {
              const names = await fetchInput(
                this.reporter
                  .client(scheddAddress)
                  .fetchInput(claim, { cluster, proc }, transferAttrs ? transferAttrs.inputs : {}),
                sandbox,
                runAs,
              );
              // an input goes back as output only if the job changed it
              for (const n of names) if (!n.includes('/')) transfer.inputs.set(n, statSync(join(sandbox, n)).mtimeMs);
            } catch (e) {
              removeSandbox(sandbox);
              this.log.warn({ cluster, proc, err: (e as Error).message }, 'input transfer failed');
              throw new DschedError('TRANSFER_FAILED', inputFailure(d.name, d.schedd, e));
            }
          }
        : undefined,
    });
    const vacate = job.lookupJS('JobMaxVacateTime');
    const limits = job.lookupJS('ConcurrencyLimits');
    const duration = job.lookupJS('AllowedJobDuration');
    d.job = {
      cluster,
      proc,
      owner,
      started,
      limits: typeof limits === 'string' && limits ? limits : undefined,
      killSig: job.lookupJS('KillSig'),
      vacateSeconds: typeof vacate === 'number' ? vacate : undefined,
    };
    if (typeof duration === 'number' && duration > 0) d.job.endsBy = Math.ceil(Date.now() / 1000 + duration);
    d.enteredActivity = Math.floor(Date.now() / 1000);
    const ad = new JobAd(job);
    this.hooks?.started(d, ad);
    if (expanded && 'ad' in expanded)
      this.reporter.send(d.scheddAddress, {
        claim,
        id: { cluster, proc },
        type: 'update',
        update: { attrs: expanded.attrs },
        time: Math.floor(Date.now() / 1000),
      });
    const ex = this.extra.get(claim) ?? {};
    Object.assign(ex, { evictReason: undefined, ad, chirp, transfer });
    this.extra.set(claim, ex);
    const thisJob = d.job;
    void started.done.then((o) => {
      exists();
      // Killed by a signal the startd did not send, the job may have gone with its whole host or allocation
      // (Slurm ending a pilot signals every process of it, the startd too): its end waits a moment, and if
      // the startd is told to stop meanwhile the job is evicted and runs again instead of being recorded as
      // finished by that signal (a shell whose command was killed exits with 128 + the signal).
      const signal = o.signal ?? (o.exitCode > 128 ? o.exitCode - 128 : undefined);
      const hostStop = o.kind === 'exited' && signal !== undefined && HOST_STOP_SIGNALS.has(signal);
      const evicted = () => {
        ex.evictReason ??= 'the job was killed with its execute host (the startd was stopped at the same time)';
        this.jobDone(d, { ...o, stopped: true });
      };
      if (!hostStop || (thisJob.stopAsked && !this.stopping)) this.jobDone(d, o);
      else if (this.stopping) evicted();
      else setTimeout(() => (this.stopping ? evicted() : this.jobDone(d, o)), HOST_STOP_GRACE_MS);
    });
    // input files may take a while to arrive: the slot shows as claimed meanwhile
    if (transfer) {
      this.onChange(claim);
      return Promise.resolve();
    }
    return spawned;
  }

  private jobDone(d: DynamicSlot, o: JobOutcome) {
    const job = d.job;
    if (!job) return;
    this.policyHolds.delete(job.started.sandbox);
    if (this.hooks) o = this.hooks.ended(d, o);
    void this.launchers.of(job.started).cleanUp(job.started); // its processes are gone (the spawner waited for that)
    if (job.killTimer) clearTimeout(job.killTimer);
    d.job = undefined;
    d.enteredActivity = Math.floor(Date.now() / 1000);
    const ex = this.extra.get(d.claim) ?? {};
    const id = { cluster: job.cluster, proc: job.proc };
    const time = Math.floor(Date.now() / 1000);
    // with file transfer the sandbox stays until the schedd has fetched the output (on exit; on eviction
    // too for ON_EXIT_OR_EVICT, so a checkpoint the job wrote comes back as input for its next run)
    // a job the startd meant to stop that ended before the stop reached it (the spawner says so) finished
    // by itself: it is reported as an exit, or it would run a second time
    const evicted = (!!ex.evictReason && o.stopped !== false) || o.kind === 'lost';
    let output = false;
    let acked: (() => void) | undefined;
    // the run's key goes with the journaled exit: a restarted startd skips the spawner's entry for it
    const keep: { run?: string; retained?: Retained & { key: string } } = { run: job.started.run };
    const journaled = () => this.launchers.journaled(job.started);
    if (
      ex.transfer &&
      o.kind === 'exited' &&
      ex.ad &&
      (!evicted || String(ex.ad.whole().lookupJS('WhenToTransferOutput') ?? '').toUpperCase() === 'ON_EXIT_OR_EVICT')
    ) {
      const key = `${d.claim}/${job.cluster}.${job.proc}`;
      const sandbox = job.started.sandbox;
      const r: Retained = {
        sandbox,
        output: outputFiles(ex.ad.whole(), sandbox, ex.transfer.inputs, o.signal === undefined && o.exitCode === 0),
        scheddHost: d.scheddHost,
        owner: runAsOwner(job.owner),
      };
      this.retained.set(key, r);
      output = true;
      acked = () => this.dropRetained(key);
      // journaled with the exit: a restarted startd serves this output again (restoreOwed)
      keep.retained = { key, ...r };
    } else if (ex.transfer) removeSandbox(job.started.sandbox);
    ex.ad = undefined;
    ex.chirp = undefined;
    ex.transfer = undefined;
    if (evicted) {
      this.reporter.send(
        d.scheddAddress,
        {
          claim: d.claim,
          id,
          type: 'evicted',
          message: ex.evictReason ?? o.message ?? 'the job was lost',
          time,
          output,
        },
        acked,
        undefined,
        journaled,
      );
    } else if (o.kind === 'failed') {
      this.reporter.send(d.scheddAddress, failedEvent(d.claim, id, o, time), undefined, keep, journaled);
    } else {
      this.reporter.send(
        d.scheddAddress,
        {
          claim: d.claim,
          id,
          type: 'exited',
          exit_code: o.exitCode,
          exit_by_signal: o.signal !== undefined,
          exit_signal: o.signal ?? 0,
          time,
          output,
        },
        acked,
        keep,
        journaled,
      );
    }
    this.log.info(
      {
        cluster: job.cluster,
        proc: job.proc,
        slot: d.name,
        exitCode: o.exitCode,
        signal: o.signal,
        outcome: evicted ? 'evicted' : o.kind,
      },
      'job ended',
    );
    if (ex.releaseAfterExit) this.releaseNow(d.claim);
    this.saveState(job.started.sandbox);
    this.onChange(d.claim);
  }

  /** Stop the job on a claim: its kill signal, a grace period, then SIGKILL (fast: SIGKILL at once). */
  deactivate(claim: string, fast: boolean, reason: string, evict?: string): void {
    const d = this.slot(claim);
    const job = d.job;
    if (!job) return;
    job.stopAsked = true;
    // a job whose main process already ended finished by itself (its exit is on its way from the spawner):
    // it is reported as an exit, not as an eviction, or it would run a second time
    if (evict && !this.launchers.of(job.started).hasEnded(job.started))
      (this.extra.get(claim) ?? this.extra.set(claim, {}).get(claim)!).evictReason = evict;
    if (fast) {
      this.launchers.signal(job.started, 'SIGKILL');
      return;
    }
    if (job.softKilled) return;
    job.softKilled = true;
    const kill = signalByName(job.killSig, 'SIGTERM');
    this.launchers.signal(job.started, kill);
    const grace = job.vacateSeconds ?? this.config.int('KILL_GRACE');
    // the job is promised its whole grace time: a timer that fires early is armed again for the rest
    const killAt = performance.now() + grace * 1000;
    const hardKill = () => {
      const left = killAt - performance.now();
      if (left > 0) job.killTimer = setTimeout(hardKill, left);
      else this.launchers.signal(job.started, 'SIGKILL');
    };
    job.killTimer = setTimeout(hardKill, grace * 1000);
    this.log.info({ cluster: job.cluster, proc: job.proc, signal: kill, graceSec: grace, reason }, 'stopping job');
  }

  release(claim: string): void {
    const d = this.machine.dslots.get(claim);
    if (!d) return;
    if (d.job) {
      (this.extra.get(claim) ?? this.extra.set(claim, {}).get(claim)!).releaseAfterExit = true;
      this.deactivate(claim, true, 'claim released');
      return;
    }
    this.releaseNow(claim);
  }

  private releaseNow(claim: string) {
    const d = this.machine.release(claim);
    this.extra.delete(claim);
    if (d) this.log.info({ slot: d.name }, 'claim released');
    this.onChange();
  }

  /** Renew the caller's claims; another schedd's are unknown to it (and keep their own lease and address). */
  renew(claims: string[], lease: number, scheddAddress: string, callerHost: string): string[] {
    const unknown: string[] = [];
    const until = performance.now() + Math.max(5, lease) * 1000;
    for (const c of claims) {
      const d = this.machine.dslots.get(c);
      // a claim whose job's end is still being delivered (a restarted startd's journal) is not lost
      if (!this.holds(c, callerHost) || (!d && !this.reporter.endOf(c))) unknown.push(c);
      else if (d) {
        d.leaseExpires = until;
        if (scheddAddress && d.scheddAddress !== scheddAddress) this.reporter.readdress(c, scheddAddress);
        if (scheddAddress) d.scheddAddress = scheddAddress;
      }
    }
    return unknown;
  }

  claimStatus(
    claims: string[],
    scheddAddress: string,
    callerHost: string,
  ): Array<{ claim: string; state: string; job?: { cluster: number; proc: number } }> {
    return claims.map((c) => {
      // another schedd's claim is not the caller's to see (nor to move its events to another address)
      if (!this.holds(c, callerHost)) return { claim: c, state: 'unknown' };
      if (scheddAddress) this.reporter.readdress(c, scheddAddress);
      // "exited" names the job whose end is being delivered: with claim reuse, a claim's earlier job may
      // have ended while the schedd's current one never started on it
      const ended = this.reporter.endOf(c);
      const d = this.machine.dslots.get(c);
      if (!d) return ended ? { claim: c, state: 'exited', job: ended } : { claim: c, state: 'unknown' };
      if (scheddAddress) d.scheddAddress = scheddAddress;
      d.leaseExpires = Math.max(d.leaseExpires, performance.now() + this.config.int('JOB_LEASE_DURATION') * 1000);
      if (d.job) return { claim: c, state: 'running', job: { cluster: d.job.cluster, proc: d.job.proc } };
      return ended ? { claim: c, state: 'exited', job: ended } : { claim: c, state: 'idle' };
    });
  }

  /** Claims whose schedd stopped renewing: the job is evicted and the resources go back. */
  checkLeases(): void {
    const t = performance.now();
    for (const d of [...this.machine.dslots.values()]) {
      if (d.leaseExpires > t) continue;
      this.log.warn({ slot: d.name, schedd: d.schedd }, 'claim lease expired');
      if (d.job) {
        (this.extra.get(d.claim) ?? this.extra.set(d.claim, {}).get(d.claim)!).releaseAfterExit = true;
        this.deactivate(d.claim, true, 'lease expired', 'the claim lease expired (the schedd stopped renewing it)');
      } else this.releaseNow(d.claim);
    }
  }

  /** Set once the startd is told to shut down. */
  private stopping = false;

  /**
   * No claim and no job once the startd is shutting down: a job evicted by the shutdown and matched here again
   * at once would start while the job cgroups are being removed (and be held for it), or die with the startd.
   */
  private refuseWhileStopping(): void {
    if (this.stopping) throw new DschedError('CLAIM_REFUSED', `${this.machine.pslotName} is shutting down`);
  }

  /** On shutdown: every job is evicted (goes back to idle at its schedd), then the claims go. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    // what the spawner has already written (a job started, a job ended) is read first: a busy startd reads
    // it late, and a job that has ended is to be reported as exited, not evicted
    await new Promise((r) => setImmediate(r));
    const running = [...this.machine.dslots.values()].filter((d) => d.job);
    for (const d of running) this.deactivate(d.claim, false, 'startd shutting down', 'the startd was shut down');
    const until = performance.now() + graceMs;
    while (performance.now() < until && [...this.machine.dslots.values()].some((d) => d.job))
      await new Promise((r) => setTimeout(r, 50));
    for (const d of this.machine.dslots.values()) if (d.job) this.launchers.signal(d.job.started, 'SIGKILL');
    await this.launchers.stop();
    // output not fetched yet stays: its exit is journaled, and the next run of this startd serves it
  }
}

/** The event that tells a schedd a job could not run or must be held (an outcome of kind 'failed'). */
function failedEvent(claim: string, id: { cluster: number; proc: number }, o: JobOutcome, time: number): JobEvent {
  return {
    claim,
    id,
    type: 'failed',
    exit_code: o.holdCode ?? HoldCode.FailedToCreateProcess,
    exit_by_signal: !!o.signal,
    exit_signal: o.signal ?? 0,
    hold_subcode: o.holdSubCode ?? 0,
    message: o.message ?? '',
    time,
  };
}
