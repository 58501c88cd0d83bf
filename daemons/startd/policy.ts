// The running-job monitor and the machine policy (HTCondor's starter usage updates and startd policy).
//
// - Usage: every STARTER_UPDATE_INTERVAL the job's processes (its process group, and its cgroup when it has
//   one) are measured from /proc; the schedd gets an `update` event with the attributes that changed
//   (ResidentSetSize and ImageSize in KB and MemoryUsage in MB, all peaks as HTCondor keeps them;
//   RemoteUserCpu and RemoteSysCpu in seconds, over all runs).
// - Memory limit: a job over its dynamic slot's Memory is killed and held with HoldReasonCode 34
//   (JobOutOfResources). With cgroup v2 the kernel enforces memory.max in a cgroup the job's launcher makes
//   and limits (memory-cgroup.ts), and the launcher says when the OOM killer acted; otherwise the startd
//   kills the job when the measured RSS is over.
// - Machine policy: every POLLING_INTERVAL, WANT_SUSPEND, SUSPEND, CONTINUE, PREEMPT, WANT_VACATE and KILL
//   are evaluated with the dynamic slot's ad as MY and the job's ad as TARGET (HTCondor's state machine:
//   Busy → Suspended by SUSPEND when WANT_SUSPEND, else Busy → Vacating/Killing by PREEMPT; Suspended → Busy
//   by CONTINUE or → Vacating/Killing by PREEMPT; Vacating → Killing by KILL).
// - Vacating (PREEMPT or the Vacate RPC): kill_sig, then SIGKILL after job_max_vacate_time capped by
//   MACHINE_MAX_VACATE_TIME. The job is reported evicted (back to idle at its schedd) and the claim released,
//   so the resources return to the partitionable slot.
import { ClassAd, isTrue, literal, parseExpr, type Expr } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import { HoldCode, OutOfResourcesSubCode } from '../../lib/job-status.js';
import type { Logger } from '../../lib/log.js';
import { nowSeconds as now } from '../../lib/time.js';
import type { EventReporter } from './reporter.js';
import type { DynamicSlot } from './slots.js';
import { signalByName, type JobOutcome } from './starter.js';
import type { Launchers } from './launcher.js';
import type { MemoryEnforcement } from './memory-cgroup.js';
import type { PolicyHold, Startd } from './startd.js';
import type { JobAd } from './job-ad.js';

/** HTCondor's HoldReasonCode JobOutOfResources. */
const HOLD_OUT_OF_RESOURCES = HoldCode.JobOutOfResources;

// ---- the monitor ----

type Activity = 'Busy' | 'Suspended' | 'Vacating' | 'Killing';
type RunningJob = NonNullable<DynamicSlot['job']>;

interface Watched {
  d: DynamicSlot;
  job: RunningJob;
  /**
   * The job's ad as TARGET of the policy expressions, with what this monitor learnt folded in: the startd's
   * own (chirp's updates in it too), not a copy, which cost each running job another index of its attributes.
   */
  ad: JobAd;
  /** measured once already: its ad may be packed at the next measurement */
  measured: boolean;
  /** What the schedd was last told (attribute → expression text). */
  sent: Record<string, string>;
  peakRssKb: number;
  peakVsizeKb: number;
  /** CPU seconds of earlier runs (from the job ad), and the most seen in this run. */
  baseUser: number;
  baseSys: number;
  runUser: number;
  runSys: number;
  /** Set when the job went over its memory: the limit and the peak, MB. */
  overMemory?: { limitMb: number; peakMb: number };
  /** This monitor evicts the job (PREEMPT, Vacate): release the claim once the job is gone. */
  evicting?: boolean;
  suspendedAt?: number;
  totalSuspensions: number;
  cumulativeSuspension: number;
  ended?: boolean;
}

/** HTCondor's hold of a job over its memory: JobOutOfResources with the subcode Memory, the limit and the peak. */
function overMemoryHold(o: { limitMb: number; peakMb: number }): PolicyHold {
  return {
    code: HOLD_OUT_OF_RESOURCES,
    subCode: OutOfResourcesSubCode.Memory,
    message: `Job has gone over memory limit of ${o.limitMb} megabytes. Peak usage: ${o.peakMb} megabytes.`,
  };
}

/** Milliseconds of machine policy evaluation before the startd serves others (a turn of its event loop). */
const POLICY_SLICE_MS = 10;

const POLICY_KNOBS = ['WANT_SUSPEND', 'SUSPEND', 'CONTINUE', 'PREEMPT', 'WANT_VACATE', 'KILL'] as const;
type PolicyKnob = (typeof POLICY_KNOBS)[number];

/**
 * Watches the startd's running jobs. The startd tells it when a job starts and ends (Startd.hooks); it
 * measures, enforces memory limits, applies the machine policy and vacates jobs.
 */
export class JobMonitor {
  private jobs = new Map<string, Watched>(); // by claim
  private usageTimer: NodeJS.Timeout | undefined;
  private policyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Parsed policy expressions by text; a bad one is logged once and counts as false. */
  private exprs = new Map<string, Expr | DschedError>();

  constructor(
    private startd: Startd,
    private config: Config,
    private log: Logger,
    private reporter: EventReporter,
    /** how memory limits hold (memory-cgroup.ts): the kernel's, in the launcher's cgroups, or the measured RSS */
    readonly enforcement: MemoryEnforcement,
    /** how jobs are suspended, resumed, measured and held to their memory (launcher.ts) */
    private launchers?: Launchers,
  ) {
    log.info({ memoryEnforcement: enforcement }, 'job monitor ready');
  }

  start(): void {
    const usage = () => {
      this.usageTimer = undefined;
      if (this.stopped) return;
      try {
        this.measure();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'measuring jobs failed');
      }
      this.usageTimer = setTimeout(usage, this.config.int('STARTER_UPDATE_INTERVAL') * 1000);
    };
    const policy = async () => {
      this.policyTimer = undefined;
      if (this.stopped) return;
      try {
        await this.evaluatePolicy();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'evaluating the machine policy failed');
      }
      if (!this.stopped) this.policyTimer = setTimeout(policy, this.config.int('POLLING_INTERVAL') * 1000);
    };
    this.usageTimer = setTimeout(usage, this.config.int('STARTER_UPDATE_INTERVAL') * 1000);
    this.policyTimer = setTimeout(policy, this.config.int('POLLING_INTERVAL') * 1000);
  }

  /** Stop watching; suspended jobs are resumed so the shutdown's signals reach them. */
  stop(): void {
    this.stopped = true;
    for (const t of [this.usageTimer, this.policyTimer]) if (t) clearTimeout(t);
    for (const w of this.jobs.values())
      if (w.job.activity === 'Suspended') this.resume(w, 'the startd is shutting down');
  }

  // ---- hooks the startd calls ----

  /** A job was started on a dynamic slot (its process may not exist yet: input files may be arriving). */
  started(d: DynamicSlot, ad: JobAd): void {
    const job = d.job;
    if (!job) return;
    const num = (n: string) => {
      const v = ad.whole().lookupJS(n);
      return typeof v === 'number' && Number.isFinite(v) ? v : 0;
    };
    const w: Watched = {
      d,
      job,
      ad,
      sent: {},
      peakRssKb: 0,
      peakVsizeKb: 0,
      baseUser: num('RemoteUserCpu'),
      baseSys: num('RemoteSysCpu'),
      runUser: 0,
      runSys: 0,
      measured: false,
      totalSuspensions: num('TotalSuspensions'),
      cumulativeSuspension: num('CumulativeSuspensionTime'),
    };
    this.jobs.set(d.claim, w);
    // the kernel holds it to its slot's memory, by its launcher's means (a cgroup, podman's limit)
    if (this.enforcement === 'cgroup')
      this.launchers?.of(job.started).limitMemory(job.started, d.res.memory, String(d.id));
  }

  /**
   * The job's process ended (the startd is about to report it). Returns the outcome to report: a job the
   * memory limit stopped is `failed` with HoldReasonCode 34, so its schedd holds it.
   */
  ended(d: DynamicSlot, o: JobOutcome): JobOutcome {
    const w = this.jobs.get(d.claim);
    if (!w || w.job !== d.job) return o;
    this.jobs.delete(d.claim);
    w.ended = true;
    let out = o;
    this.checkOom(w);
    if (o.kind !== 'failed') {
      // the last measurements reach the schedd before the exit does (events to a schedd keep their order)
      this.sendUsage(w);
      if (w.overMemory && !w.evicting) {
        const { code, subCode, message } = overMemoryHold(w.overMemory);
        // how it ended (the kill's signal) is recorded with the hold, as HTCondor's shadow records it
        out = { kind: 'failed', exitCode: code, holdCode: code, holdSubCode: subCode, message, signal: o.signal };
      }
    }
    // an evicted job's claim ends with it: its resources return to the partitionable slot
    if (w.evicting) setImmediate(() => this.startd.release(d.claim));
    return out;
  }

  // ---- vacating ----

  /**
   * Evict the job on a dynamic slot as PREEMPT does (the Vacate RPC). A claimed slot without a job gives
   * its claim up. Returns whether there was a claim to vacate.
   */
  vacate(slotName: string, reason: string, fast: boolean): boolean {
    const d = [...this.startd.machine.dslots.values()].find((s) => s.name.toLowerCase() === slotName.toLowerCase());
    if (!d) throw new DschedError('CLAIM_NOT_FOUND', `there is no dynamic slot ${slotName} on this startd`);
    const w = this.jobs.get(d.claim);
    if (!d.job || !w) {
      this.log.info({ slot: d.name, reason }, 'vacate: the slot has no job; its claim is released');
      this.startd.release(d.claim);
      return true;
    }
    this.evict(w, reason, fast);
    return true;
  }

  private evict(w: Watched, reason: string, fast: boolean) {
    const { d, job } = w;
    if (w.evicting) {
      if (fast && job.activity !== 'Killing') this.kill(w, reason);
      return;
    }
    w.evicting = true;
    // a stopped job could not act on its kill signal
    if (job.activity === 'Suspended') this.resume(w, 'vacating');
    if (!fast) {
      const cap = this.config.int('MACHINE_MAX_VACATE_TIME');
      job.vacateSeconds = Math.min(job.vacateSeconds ?? cap, cap);
    }
    this.setActivity(w, fast ? 'Killing' : 'Vacating');
    this.log.info(
      {
        cluster: job.cluster,
        proc: job.proc,
        slot: d.name,
        reason,
        signal: fast ? 'SIGKILL' : signalByName(job.killSig, 'SIGTERM'),
        graceSec: fast ? 0 : job.vacateSeconds,
      },
      'vacating job',
    );
    this.startd.deactivate(d.claim, fast, reason, reason);
  }

  private kill(w: Watched, reason: string) {
    this.setActivity(w, 'Killing');
    this.log.info({ cluster: w.job.cluster, proc: w.job.proc, slot: w.d.name, reason }, 'killing job');
    this.startd.deactivate(w.d.claim, true, reason);
  }

  // ---- suspension ----

  private suspend(w: Watched, reason: string) {
    const { d, job } = w;
    if (!this.launchers || !job.started.running) return;
    const stopped = this.launchers.of(job.started).suspend(job.started);
    const t = now();
    w.suspendedAt = t;
    w.totalSuspensions++;
    this.setActivity(w, 'Suspended');
    const attrs = { TotalSuspensions: String(w.totalSuspensions), LastSuspensionTime: String(t) };
    w.ad.setTexts(attrs);
    // exit_code carries how many processes were stopped (the 010 event's "Number of processes" line)
    this.reporter.send(d.scheddAddress, {
      claim: d.claim,
      id: { cluster: job.cluster, proc: job.proc },
      type: 'suspended',
      exit_code: stopped,
      message: reason,
      update: { attrs },
      time: t,
    });
    this.log.info({ cluster: job.cluster, proc: job.proc, slot: d.name, processes: stopped, reason }, 'job suspended');
  }

  private resume(w: Watched, reason: string) {
    const { d, job } = w;
    this.launchers?.of(job.started).resume(job.started);
    const t = now();
    w.cumulativeSuspension += t - (w.suspendedAt ?? t);
    w.suspendedAt = undefined;
    this.setActivity(w, 'Busy');
    const attrs = { CumulativeSuspensionTime: String(w.cumulativeSuspension) };
    w.ad.setTexts(attrs);
    this.reporter.send(d.scheddAddress, {
      claim: d.claim,
      id: { cluster: job.cluster, proc: job.proc },
      type: 'unsuspended',
      message: reason,
      update: { attrs },
      time: t,
    });
    this.log.info({ cluster: job.cluster, proc: job.proc, slot: d.name, reason }, 'job resumed');
  }

  private setActivity(w: Watched, a: Activity) {
    const preempting = (x: string | undefined) => x === 'Vacating' || x === 'Killing';
    if (preempting(a) !== preempting(w.job.activity)) w.d.enteredState = now(); // Claimed ↔ Preempting
    w.job.activity = a === 'Busy' ? undefined : a;
    w.d.enteredActivity = now();
    this.startd.onChange(w.d.claim);
  }

  // ---- the policy ----

  private expr(knob: PolicyKnob): Expr | undefined {
    const text = this.config.str(knob);
    if (!text) return undefined;
    let e = this.exprs.get(text);
    if (!e) {
      try {
        e = parseExpr(text, { file: knob, line: 1, column: 1 });
      } catch (err) {
        e = err instanceof DschedError ? err : new DschedError('CLASSAD_SYNTAX', (err as Error).message);
        this.log.error(
          { knob, code: e.code, err: e.message },
          'machine policy expression has an error; it counts as false',
        );
      }
      this.exprs.set(text, e);
    }
    return e instanceof DschedError ? undefined : e;
  }

  /**
   * Evaluate every policy expression against each running job and act on the result, a slice of jobs per turn
   * of the event loop: a policy that reads a job's attribute evaluates the user's expression, up to the ClassAd
   * bounds (a tenth of a second and more), and all jobs in one turn kept the startd from its calls and reports.
   */
  async evaluatePolicy(): Promise<void> {
    const cache = new Map<PolicyKnob, Expr | undefined>();
    const get = (k: PolicyKnob) => (cache.has(k) ? cache.get(k) : (cache.set(k, this.expr(k)), cache.get(k)));
    let t0 = performance.now();
    for (const w of [...this.jobs.values()]) {
      if (performance.now() - t0 > POLICY_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) return;
        t0 = performance.now();
      }
      const { d, job } = w;
      if (w.ended || w.overMemory || d.job !== job || !job.started.running) continue;
      if (job.softKilled && !w.evicting) {
        // the schedd is stopping it (removal, hold): a suspended job must run to act on its kill signal
        if (job.activity === 'Suspended') this.resume(w, 'the job is being stopped');
        continue;
      }
      // the slot's ad only when an expression needs it: the defaults are constants, and a pass over 128 jobs
      // made 128 slot ads every POLLING_INTERVAL, garbage that kept the startd's heap large
      let my: ClassAd | undefined;
      const is = (k: PolicyKnob): boolean => {
        const e = get(k);
        if (e === undefined) return false;
        if (e.kind === 'literal') return isTrue(e.value);
        if (!my) {
          my = ClassAd.fromRecord(this.startd.machine.dslotAd(d));
          my.set('CurrentTime', literal(now()));
        }
        return isTrue(my.evalExpr(e, w.ad.whole()));
      };
      const why = (k: PolicyKnob) => `The machine's ${k} expression (${this.config.str(k)}) became true`;
      switch (job.activity ?? 'Busy') {
        case 'Busy':
          if (is('WANT_SUSPEND')) {
            if (is('SUSPEND')) this.suspend(w, why('SUSPEND'));
          } else if (is('PREEMPT')) this.evict(w, why('PREEMPT'), !is('WANT_VACATE'));
          break;
        case 'Suspended':
          if (is('CONTINUE')) this.resume(w, why('CONTINUE'));
          else if (is('PREEMPT')) this.evict(w, why('PREEMPT'), !is('WANT_VACATE'));
          break;
        case 'Vacating':
          if (is('KILL')) this.kill(w, why('KILL'));
          break;
        case 'Killing':
          break;
      }
    }
  }

  // ---- usage and memory ----

  /** The kernel's OOM killer acted on the job (its launcher tells): it is held for its memory. */
  private checkOom(w: Watched) {
    if (w.overMemory || this.enforcement !== 'cgroup') return;
    const killedAt = this.launchers?.of(w.job.started).memoryKilled(w.job.started);
    if (killedAt !== undefined) {
      const limitMb = w.d.res.memory;
      const peakKb = Math.max(killedAt, w.peakRssKb, limitMb * 1024);
      w.overMemory = { limitMb, peakMb: Math.ceil(peakKb / 1024) };
      this.startd.recordHold(w.d, overMemoryHold(w.overMemory));
      this.log.info(
        { cluster: w.job.cluster, proc: w.job.proc, slot: w.d.name, limitMb, peakMb: w.overMemory.peakMb },
        'the kernel killed the job for its memory use (cgroup memory.max)',
      );
      this.launchers?.of(w.job.started).kill(w.job.started);
    }
  }

  /** Measure every running job; enforce memory limits; tell the schedds what changed. */
  measure(): void {
    const launchers = this.launchers;
    if (!launchers) return;
    const list = [...this.jobs.values()].filter((w) => !w.ended && w.job.started.running);
    const usage = launchers.usage(list.map((w) => w.job.started));
    // the slot's CondorLoadAvg (and the machine's TotalCondorLoadAvg) from the same reading
    this.startd.machine.noteJobsCpu(
      list.flatMap((w, i) =>
        usage[i]!.processes ? [[w.job.started, usage[i]!.userCpu + usage[i]!.sysCpu] as const] : [],
      ),
    );
    // a job's ad is packed from its second measurement on (short jobs never are) while nothing evaluates it
    const packAds = this.policyIsConstant();
    list.forEach((w, i) => {
      const u = usage[i]!;
      if (!u.processes) return; // not started yet, or already gone
      w.peakRssKb = Math.max(w.peakRssKb, u.rssKb);
      w.peakVsizeKb = Math.max(w.peakVsizeKb, u.vsizeKb);
      w.runUser = Math.max(w.runUser, u.userCpu);
      w.runSys = Math.max(w.runSys, u.sysCpu);
      const limitMb = w.d.res.memory;
      this.checkOom(w);
      // also with a cgroup: memory the job touched before it was moved in is charged outside it
      if (this.enforcement !== 'none' && limitMb > 0 && u.rssKb > limitMb * 1024 && !w.overMemory && !w.evicting) {
        w.overMemory = { limitMb, peakMb: Math.ceil(w.peakRssKb / 1024) };
        this.startd.recordHold(w.d, overMemoryHold(w.overMemory));
        this.log.info(
          { cluster: w.job.cluster, proc: w.job.proc, slot: w.d.name, limitMb, rssKb: u.rssKb },
          'job over its memory limit: killing it',
        );
        if (w.job.activity === 'Suspended') this.launchers?.of(w.job.started).resume(w.job.started);
        this.startd.deactivate(w.d.claim, true, 'over its memory limit');
      }
      this.sendUsage(w);
      if (packAds && w.measured) w.ad.pack();
      w.measured = true;
    });
  }

  /** Whether every policy expression is a constant (the defaults): then none reads a job's ad. */
  private policyIsConstant(): boolean {
    return POLICY_KNOBS.every((k) => {
      const e = this.expr(k);
      return e === undefined || e.kind === 'literal';
    });
  }

  /** The usage attributes that changed since the schedd last heard, as an `update` event. */
  private sendUsage(w: Watched) {
    if (!w.peakRssKb && !w.peakVsizeKb) return;
    const attrs: Record<string, string> = {
      ResidentSetSize: String(w.peakRssKb),
      MemoryUsage: String(Math.ceil(w.peakRssKb / 1024)),
      ImageSize: String(w.peakVsizeKb),
      RemoteUserCpu: (w.baseUser + w.runUser).toFixed(2),
      RemoteSysCpu: (w.baseSys + w.runSys).toFixed(2),
    };
    const changed: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (w.sent[k] !== v) changed[k] = v;
    if (!Object.keys(changed).length) return;
    Object.assign(w.sent, changed);
    w.ad.setTexts(changed);
    const { d, job } = w;
    this.reporter.send(d.scheddAddress, {
      claim: d.claim,
      id: { cluster: job.cluster, proc: job.proc },
      type: 'update',
      update: { attrs: changed },
      time: now(),
    });
  }
}
