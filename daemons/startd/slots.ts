// The machine and its slots: one partitionable slot holding the host's resources, carved into dynamic
// slots by the claims made on it. A released claim's resources return to the partitionable slot at once.
// Custom resources (GPUs, MACHINE_RESOURCE_<name>) are counted like cpus; those given as ids are also handed
// out by id (lowest free first), shown as Assigned<name> and put in the job's environment.
import { statfsSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem, release } from 'node:os';
import { ClassAd, literal, parseExpr, unparse } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import {
  describeResources,
  fitCount,
  giveResources,
  jobRequests,
  takeResources,
  type Resources,
} from '../../lib/job-requests.js';
import { condorArch, condorOpSys } from '../../lib/platform.js';
import { nowSeconds as now } from '../../lib/time.js';
import { LOAD_AVERAGES } from '../../lib/load-averages.js';
import { cudaVisibleDevices, IdInventory, JobLoad, type Benchmarks, type CustomResource } from './resources.js';
import type { LaunchHandle } from './launcher.js';

export type { Resources };

export interface DynamicSlot {
  id: number;
  name: string;
  claim: string;
  res: Resources;
  /** The ids of the custom resources given as ids (GPUs), by resource name. */
  assigned: Record<string, string[]>;
  schedd: string;
  scheddAddress: string;
  /** The host of the schedd that claimed it (its credential's): only that host may use the claim. */
  scheddHost?: string;
  leaseExpires: number; // monotonic ms
  job?: {
    cluster: number;
    proc: number;
    owner: string;
    started: LaunchHandle;
    killSig?: unknown;
    limits?: string;
    /** When it is stopped at the latest (epoch seconds: its start plus AllowedJobDuration, PBS's walltime) */
    endsBy?: number;
    vacateSeconds?: number;
    killTimer?: NodeJS.Timeout;
    softKilled?: boolean;
    /** the startd has asked it to stop (a removal, hold, vacate, lease loss or shutdown) */
    stopAsked?: boolean;
    /** Set by the machine policy (policy.ts) while the job is not simply Busy. */
    activity?: 'Suspended' | 'Vacating' | 'Killing';
  };
  enteredState: number; // epoch seconds
  enteredActivity: number;
}

const lit = (v: string | number | boolean) => unparse(literal(v));

/** Cpus, memory and disk (detected or configured) and the custom resources' counts. */
export function detectResources(config: Config, custom: readonly CustomResource[] = []): Resources {
  mkdirSync(config.paths.execute, { recursive: true });
  let disk = config.int('DISK');
  if (!disk) {
    try {
      const s = statfsSync(config.paths.execute);
      disk = Math.floor((s.bavail * s.bsize) / 1024);
    } catch {
      disk = 1024 * 1024;
    }
  }
  return {
    cpus: config.int('NUM_CPUS') || availableParallelism(),
    memory: config.int('MEMORY') || Math.floor(totalmem() / (1024 * 1024)),
    disk,
    ...(custom.length ? { custom: Object.fromEntries(custom.map((c) => [c.name, c.count])) } : {}),
  };
}

export interface MachineOptions {
  /** The custom resources as detected (ids, properties); their counts are in `resources.custom`. */
  custom?: readonly CustomResource[];
  benchmarks?: Benchmarks;
}

export class Machine {
  readonly total: Resources;
  readonly free: Resources;
  readonly dslots = new Map<string, DynamicSlot>(); // by claim id
  private nextId = 1;
  private pEnteredState = now();
  readonly pslotName: string;
  /** Why the machine is draining (dsched drain), or undefined. */
  draining: string | undefined;

  constructor(
    readonly name: string,
    readonly hostName: string,
    private config: Config,
    resources: Resources,
    public address = '',
    private opts: MachineOptions = {},
  ) {
    this.total = { ...resources, custom: { ...resources.custom } };
    this.free = { ...resources, custom: { ...resources.custom } };
    this.pslotName = `slot1@${name}`;
    for (const c of opts.custom ?? []) {
      if (c.ids && c.ids.length === this.total.custom![c.name])
        this.inventories.set(c.name, new IdInventory(c.name, c.ids));
    }
    this.reloadAttrs();
  }

  /** How the startd tracks a job's processes (ProcessTracking in the slot ads). */
  processTracking: string | undefined;
  /** What its launchers advertise (HasContainer, DockerVersion, StartdLaunchers: container-launcher.ts). */
  launcherAttrs: Record<string, string> = {};

  /** The STARTD_ATTRS attributes, as last read without error. */
  private extraAttrs: Record<string, string> = {};

  /**
   * Read STARTD_ATTRS again (at start and after a reconfig). A CONFIG_INVALID error leaves the previous
   * attributes in the slot ads; the caller logs it.
   */
  reloadAttrs(): void {
    this.extraAttrs = startdAttrs(this.config);
    this.commonCache = undefined;
  }

  /** The ids of each custom resource given as ids. */
  private readonly inventories = new Map<string, IdInventory>();
  /** The cpus the jobs use (CondorLoadAvg), from readings given to noteJobCpu(). */
  private readonly jobLoad = new JobLoad<LaunchHandle>();

  /** The free ids of a custom resource, in inventory order (undefined for a plain count). */
  freeIds(name: string): string[] | undefined {
    return this.inventories.get(name)?.freeIds();
  }

  /**
   * The job's environment for a slot's assigned resources: `_CONDOR_Assigned<name>` for each resource given as
   * ids, and CUDA_VISIBLE_DEVICES for GPUs (set empty when the machine's GPUs have ids and the slot got none,
   * so a job that asked for no GPU sees none).
   */
  assignedEnv(d: DynamicSlot): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, ids] of Object.entries(d.assigned)) env[`_CONDOR_Assigned${name}`] = ids.join(',');
    if (this.inventories.has('GPUs')) env.CUDA_VISIBLE_DEVICES = cudaVisibleDevices(d.assigned.GPUs ?? []);
    return env;
  }

  /** A reading of a running job's cumulative cpu seconds (`Launcher.usage`), for CondorLoadAvg. */
  noteJobCpu(job: LaunchHandle, cpuSeconds: number, now = performance.now()): void {
    this.noteJobsCpu([[job, cpuSeconds]], now);
  }

  /** The readings of a pass over the running jobs: the jobs that ended are forgotten once, not once a job. */
  noteJobsCpu(readings: ReadonlyArray<readonly [LaunchHandle, number]>, now = performance.now()): void {
    const running = new Set<LaunchHandle>();
    for (const d of this.dslots.values()) if (d.job) running.add(d.job.started);
    this.jobLoad.retain(running);
    for (const [job, cpuSeconds] of readings) if (running.has(job)) this.jobLoad.record(job, cpuSeconds, now);
  }

  /** The custom resources (GPUs, MACHINE_RESOURCE_<name>) this machine has. */
  customNames(): string[] {
    return Object.keys(this.total.custom ?? {});
  }

  requests(job: ClassAd): Resources {
    return jobRequests((n) => job.lookupJS(n), this.customNames());
  }

  carve(req: Resources, claim: string, schedd: string, scheddAddress: string, leaseSec: number): DynamicSlot {
    if (fitCount(req, this.free) < 1)
      throw new DschedError(
        'CLAIM_REFUSED',
        `not enough resources left on ${this.pslotName}: asked ${describeResources(req)}, free ${describeResources(this.free)}`,
      );
    const assigned: Record<string, string[]> = {};
    try {
      for (const [name, n] of Object.entries(req.custom ?? {})) {
        const inv = this.inventories.get(name);
        if (inv && n > 0) assigned[name] = inv.take(n);
      }
    } catch (e) {
      for (const [name, ids] of Object.entries(assigned)) this.inventories.get(name)!.give(ids);
      throw e;
    }
    takeResources(this.free, req);
    const id = this.nextId++;
    const d: DynamicSlot = {
      id,
      name: `slot1_${id}@${this.name}`,
      claim,
      res: req,
      assigned,
      schedd,
      scheddAddress,
      leaseExpires: performance.now() + leaseSec * 1000,
      enteredState: now(),
      enteredActivity: now(),
    };
    this.dslots.set(claim, d);
    this.pEnteredState = now();
    return d;
  }

  release(claim: string): DynamicSlot | undefined {
    const d = this.dslots.get(claim);
    if (!d) return undefined;
    this.dslots.delete(claim);
    giveResources(this.free, d.res);
    for (const [name, ids] of Object.entries(d.assigned)) this.inventories.get(name)?.give(ids);
    this.pEnteredState = now();
    return d;
  }

  private commonCache: { at: number; attrs: Record<string, string> } | undefined;
  /** Bumped when the attributes every slot ad shares change, the load averages aside (see commonVersion). */
  private commonGen = 0;
  /** Those attributes as last computed, to tell whether a recomputation changed them. */
  private commonLast: Record<string, string> = {};
  /** Attributes every slot ad of this machine carries (computed at most every 100 ms: many ads share them). */
  private common(): Record<string, string> {
    const t = performance.now();
    if (this.commonCache && t - this.commonCache.at < 100) return this.commonCache.attrs;
    const attrs = this.computeCommon();
    this.commonCache = { at: t, attrs };
    if (!sameAttrs(this.commonLast, attrs)) this.commonGen++;
    this.commonLast = attrs;
    return attrs;
  }

  /**
   * The version of the attributes every slot ad shares, the load averages aside: an ad built under the
   * version this returns differs from one built now only in its own attributes (dslotOwn) and its loads.
   */
  commonVersion(): number {
    this.common();
    return this.commonGen;
  }

  /** Forget cached attributes (after a reconfig). */
  invalidate(): void {
    this.commonCache = undefined;
  }

  private computeCommon(): Record<string, string> {
    const attrs: Record<string, string> = {
      MyType: lit('Machine'),
      TargetType: lit('Job'),
      Machine: lit(this.hostName),
      MyAddress: lit(this.address),
      StartdName: lit(this.name),
      Arch: lit(condorArch()),
      OpSys: lit(condorOpSys()),
      OpSysAndVer: lit(condorOpSys()),
      KernelVersion: lit(release()),
      TotalCpus: String(this.total.cpus),
      TotalMemory: String(this.total.memory),
      TotalDisk: String(this.total.disk),
      TotalSlotCpus: String(this.total.cpus),
      LoadAvg: loadavg()[0]!.toFixed(2),
      TotalLoadAvg: loadavg()[0]!.toFixed(2),
      FileSystemDomain: lit(this.hostName),
      UidDomain: lit(this.hostName),
      HasFileTransfer: 'true',
      MachineResources: lit(['Cpus', 'Memory', 'Disk', ...this.customNames()].join(' ')),
      HasJobDeferral: 'false',
    };
    if (this.processTracking) attrs.ProcessTracking = lit(this.processTracking);
    Object.assign(attrs, this.launcherAttrs);
    if (this.jobLoad.measured) {
      let load = 0;
      for (const d of this.dslots.values()) if (d.job) load += this.jobLoad.of(d.job.started);
      attrs.TotalCondorLoadAvg = load.toFixed(2);
    }
    if (this.opts.benchmarks) {
      attrs.KFlops = String(this.opts.benchmarks.kflops);
      attrs.Mips = String(this.opts.benchmarks.mips);
    }
    for (const c of this.opts.custom ?? []) {
      const total = this.total.custom?.[c.name] ?? 0;
      attrs[`Total${c.name}`] = String(total);
      attrs[`TotalSlot${c.name}`] = String(total);
      attrs[`Detected${c.name}`] = c.ids ? lit(c.ids.join(', ')) : String(c.count);
      Object.assign(attrs, c.properties);
    }
    const start = this.config.str('START') || 'TRUE';
    attrs.Start = unparse(parseExpr(start, { file: 'START', line: 1, column: 1 }));
    attrs.Requirements = 'START';
    // the machine's preference among jobs (RANK preemption) and the run time a job is guaranteed before
    // preemption may evict it; the negotiator reads both from the slot ads
    attrs.Rank = unparse(parseExpr(this.config.str('RANK') || '0', { file: 'RANK', line: 1, column: 1 }));
    attrs.MaxJobRetirementTime = unparse(
      parseExpr(this.config.str('MAXJOBRETIREMENTTIME') || '0', { file: 'MAXJOBRETIREMENTTIME', line: 1, column: 1 }),
    );
    Object.assign(attrs, this.extraAttrs);
    return attrs;
  }

  pslotAd(own = this.pslotOwn()): Record<string, string> {
    return Object.assign({}, this.common(), own);
  }

  /** The partitionable slot's own attributes: its ad without those every slot ad shares (common()). */
  pslotOwn(): Record<string, string> {
    return {
      Name: lit(this.pslotName),
      SlotID: '1',
      SlotType: lit('Partitionable'),
      PartitionableSlot: 'true',
      Cpus: String(this.free.cpus),
      Memory: String(this.free.memory),
      Disk: String(this.free.disk),
      ...this.customAttrs(this.free.custom, (name) => this.inventories.get(name)?.freeIds()),
      ...(this.jobLoad.measured ? { CondorLoadAvg: '0.00' } : {}),
      State: lit(this.draining ? 'Drained' : 'Unclaimed'),
      Activity: lit(this.draining ? (this.dslots.size ? 'Retiring' : 'Idle') : 'Idle'),
      ...(this.draining ? { DrainReason: lit(this.draining) } : {}),
      EnteredCurrentState: String(this.pEnteredState),
      EnteredCurrentActivity: String(this.pEnteredState),
      ChildCount: String(this.dslots.size),
    };
  }

  /** A dynamic slot's ad: the attributes every slot ad shares, its own (dslotOwn), and its job's load. */
  dslotAd(d: DynamicSlot, own = this.dslotOwn(d)): Record<string, string> {
    // copied by assignment: spread into an object literal with more properties, V8 took its slow path (0.13
    // ms and 17 KB of garbage per slot ad instead of 0.013 ms and 5 KB)
    const attrs: Record<string, string> = Object.assign({}, this.common(), own);
    const load = this.condorLoad(d);
    if (load !== undefined) attrs.CondorLoadAvg = load;
    return attrs;
  }

  /** A dynamic slot's load averages now: the machine's, and its job's once measured (as its ad has them). */
  loads(d: DynamicSlot): Record<string, string> {
    const common = this.common();
    const loads: Record<string, string> = {};
    for (const k of LOAD_AVERAGES) if (common[k] !== undefined) loads[k] = common[k];
    const load = this.condorLoad(d);
    if (load !== undefined) loads.CondorLoadAvg = load;
    return loads;
  }

  /** The cpus a dynamic slot's job uses (CondorLoadAvg), once the jobs' use is measured. */
  condorLoad(d: DynamicSlot): string | undefined {
    return this.jobLoad.measured ? (d.job ? this.jobLoad.of(d.job.started) : 0).toFixed(2) : undefined;
  }

  /**
   * A dynamic slot's own attributes: its ad without those every slot ad shares and without its load. Small
   * (a busy startd makes one per job start and end), so that what changed is told without building the ad.
   */
  dslotOwn(d: DynamicSlot): Record<string, string> {
    const busy = !!d.job;
    const attrs: Record<string, string> = {};
    attrs.Name = lit(d.name);
    attrs.SlotID = '1';
    attrs.DSlotId = String(d.id);
    attrs.SlotType = lit('Dynamic');
    attrs.DynamicSlot = 'true';
    attrs.Cpus = String(d.res.cpus);
    attrs.Memory = String(d.res.memory);
    attrs.Disk = String(d.res.disk);
    Object.assign(
      attrs,
      this.customAttrs(d.res.custom, (name) => d.assigned[name]),
    );
    attrs.State = lit(d.job?.activity === 'Vacating' || d.job?.activity === 'Killing' ? 'Preempting' : 'Claimed');
    attrs.Activity = lit(busy ? (d.job!.activity ?? 'Busy') : 'Idle');
    attrs.EnteredCurrentState = String(d.enteredState);
    attrs.EnteredCurrentActivity = String(d.enteredActivity);
    attrs.RemoteScheddName = lit(d.schedd);
    if (d.job) {
      attrs.RemoteOwner = lit(d.job.owner);
      attrs.RemoteUser = lit(d.job.owner);
      attrs.JobId = lit(`${d.job.cluster}.${d.job.proc}`);
      // the negotiator counts pool-wide concurrency limits from the claimed slots
      if (d.job.limits) attrs.ConcurrencyLimits = lit(d.job.limits);
      // a parallel job's reservation starts once the jobs on its slots have surely ended (backfill)
      if (d.job.endsBy) attrs.JobEndsBy = String(d.job.endsBy);
    }
    return attrs;
  }

  /** `<name>` (how many) and `Assigned<name>` (which ids, "GPU-0a1b,GPU-2c3d") for each custom resource. */
  private customAttrs(
    counts: Record<string, number> | undefined,
    ids: (name: string) => string[] | undefined,
  ): Record<string, string> {
    const attrs: Record<string, string> = {};
    for (const name of this.customNames()) {
      attrs[name] = String(counts?.[name] ?? 0);
      const list = ids(name);
      if (list?.length) attrs[`Assigned${name}`] = lit(list.join(','));
    }
    return attrs;
  }

  slotAd(): ClassAd {
    return ClassAd.fromRecord(this.pslotAd());
  }
}

/** Whether two ads have the same attributes, the load averages aside. */
function sameAttrs(a: Record<string, string>, b: Record<string, string>): boolean {
  let n = 0;
  for (const k in b) {
    if (LOAD_AVERAGES.has(k)) continue;
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const k in a) if (!LOAD_AVERAGES.has(k)) n--;
  return n === 0;
}

/**
 * The slot attributes STARTD_ATTRS adds. Two forms, mixable with `;`: dsched's `Name = expr; Name2 = expr`, and
 * HTCondor's list of names whose values are config macros (`STARTD_ATTRS = Labels` with `Labels = "gpu,learner"`).
 * A listed name with no value is left out, as HTCondor does.
 */
export function startdAttrs(config: Config): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const part of config.str('STARTD_ATTRS').split(';')) {
    if (!part.trim()) continue;
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.+?)\s*$/.exec(part);
    if (m) {
      attrs[m[1]!] = unparse(parseExpr(m[2]!, { file: 'STARTD_ATTRS', line: 1, column: 1 }));
      continue;
    }
    for (const name of part.split(/[\s,]+/).filter(Boolean)) {
      if (!/^[A-Za-z_]\w*$/.test(name))
        throw new DschedError(
          'CONFIG_INVALID',
          `STARTD_ATTRS: ${JSON.stringify(name)} is neither \`Name = expression\` nor an attribute name`,
        );
      const v = config.lookup(name);
      if (!v || !v.raw.trim()) continue;
      attrs[name] = unparse(
        parseExpr(v.raw.trim(), { file: `${v.name ?? name} (from ${v.source})`, line: 1, column: 1 }),
      );
    }
  }
  return attrs;
}
