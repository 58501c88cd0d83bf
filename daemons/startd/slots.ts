// The machine and its slots: one partitionable slot holding the host's resources, carved into dynamic
// slots by the claims made on it. A released claim's resources return to the partitionable slot at once.
import { statfsSync, mkdirSync } from 'node:fs';
import { arch, availableParallelism, loadavg, totalmem, release } from 'node:os';
import { ClassAd, literal, parseExpr, unparse } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import { describeResources, fitCount, giveResources, jobRequests, takeResources, type Resources } from '../../lib/job-requests.js';
import type { StartedJob } from './starter.js';

export type { Resources };

export interface DynamicSlot {
  id: number;
  name: string;
  claim: string;
  res: Resources;
  schedd: string;
  scheddAddress: string;
  leaseExpires: number; // monotonic ms
  job?: {
    cluster: number;
    proc: number;
    owner: string;
    started: StartedJob;
    killSig?: unknown;
    limits?: string;
    vacateSeconds?: number;
    killTimer?: NodeJS.Timeout;
    softKilled?: boolean;
  };
  enteredState: number; // epoch seconds
  enteredActivity: number;
}

const lit = (v: string | number | boolean) => unparse(literal(v));

export function condorArch(): string {
  const a = arch();
  return a === 'x64' ? 'X86_64' : a === 'arm64' ? 'aarch64' : a === 'ia32' ? 'INTEL' : a.toUpperCase();
}

export function detectResources(config: Config): Resources {
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
  };
}

const now = () => Math.floor(Date.now() / 1000);

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
    private hostName: string,
    private config: Config,
    resources: Resources,
    public address = '',
  ) {
    this.total = { ...resources, custom: { ...resources.custom } };
    this.free = { ...resources, custom: { ...resources.custom } };
    this.pslotName = `slot1@${name}`;
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
      throw new DschedError('CLAIM_REFUSED', `not enough resources left on ${this.pslotName}: asked ${describeResources(req)}, free ${describeResources(this.free)}`);
    takeResources(this.free, req);
    const id = this.nextId++;
    const d: DynamicSlot = {
      id,
      name: `slot1_${id}@${this.name}`,
      claim,
      res: req,
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
    this.pEnteredState = now();
    return d;
  }

  private commonCache: { at: number; attrs: Record<string, string> } | undefined;
  /** Attributes every slot ad of this machine carries (computed at most every 100 ms: many ads share them). */
  private common(): Record<string, string> {
    const t = performance.now();
    if (this.commonCache && t - this.commonCache.at < 100) return this.commonCache.attrs;
    const attrs = this.computeCommon();
    this.commonCache = { at: t, attrs };
    return attrs;
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
      OpSys: lit('LINUX'),
      OpSysAndVer: lit('LINUX'),
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
    const start = this.config.str('START') || 'TRUE';
    attrs.Start = unparse(parseExpr(start, { file: 'START', line: 1, column: 1 }));
    attrs.Requirements = 'START';
    attrs.Rank = '0';
    const extra = this.config.str('STARTD_ATTRS');
    if (extra) {
      for (const part of extra.split(';')) {
        const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.+?)\s*$/.exec(part);
        if (m) attrs[m[1]!] = unparse(parseExpr(m[2]!, { file: 'STARTD_ATTRS', line: 1, column: 1 }));
      }
    }
    return attrs;
  }

  pslotAd(): Record<string, string> {
    return {
      ...this.common(),
      Name: lit(this.pslotName),
      SlotID: '1',
      SlotType: lit('Partitionable'),
      PartitionableSlot: 'true',
      Cpus: String(this.free.cpus),
      Memory: String(this.free.memory),
      Disk: String(this.free.disk),
      State: lit(this.draining ? 'Drained' : 'Unclaimed'),
      Activity: lit(this.draining ? (this.dslots.size ? 'Retiring' : 'Idle') : 'Idle'),
      ...(this.draining ? { DrainReason: lit(this.draining) } : {}),
      EnteredCurrentState: String(this.pEnteredState),
      EnteredCurrentActivity: String(this.pEnteredState),
      ChildCount: String(this.dslots.size),
    };
  }

  dslotAd(d: DynamicSlot): Record<string, string> {
    const busy = !!d.job;
    const attrs: Record<string, string> = {
      ...this.common(),
      Name: lit(d.name),
      SlotID: '1',
      DSlotId: String(d.id),
      SlotType: lit('Dynamic'),
      DynamicSlot: 'true',
      Cpus: String(d.res.cpus),
      Memory: String(d.res.memory),
      Disk: String(d.res.disk),
      State: lit('Claimed'),
      Activity: lit(busy ? 'Busy' : 'Idle'),
      EnteredCurrentState: String(d.enteredState),
      EnteredCurrentActivity: String(d.enteredActivity),
      RemoteScheddName: lit(d.schedd),
    };
    if (d.job) {
      attrs.RemoteOwner = lit(d.job.owner);
      attrs.RemoteUser = lit(d.job.owner);
      attrs.JobId = lit(`${d.job.cluster}.${d.job.proc}`);
      // the negotiator counts pool-wide concurrency limits from the claimed slots
      if (d.job.limits) attrs.ConcurrencyLimits = lit(d.job.limits);
    }
    return attrs;
  }

  slotAd(): ClassAd {
    return ClassAd.fromRecord(this.pslotAd());
  }
}
