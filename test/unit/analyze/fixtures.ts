// Job and slot ads shaped as dsubmit and the startd make them, for the dq -analyze tests.
import { ClassAd } from '../../../grammar/classad/index.js';

export const T = 1763906700; // 2025-11-23 14:05:00 UTC

/** dsubmit's default Requirements (grammar/submit/to-job-ads.ts). */
export const DEFAULT_REQUIREMENTS =
  '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) && (TARGET.Memory >= RequestMemory) && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))';

function ad(values: Record<string, unknown>, exprs: Record<string, string>): ClassAd {
  const a = new ClassAd();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) a.setValue(k, v);
  for (const [k, v] of Object.entries(exprs)) a.setExprText(k, v);
  return a;
}

export interface JobSpec {
  id?: string;
  owner?: string;
  status?: number;
  /** Requirements text; null: no Requirements at all */
  requirements?: string | null;
  cpus?: number;
  memory?: number;
  disk?: number;
  values?: Record<string, unknown>;
}

export function job(spec: JobSpec = {}): ClassAd {
  const [cluster, proc] = (spec.id ?? '12.0').split('.').map(Number);
  const a = ad(
    {
      ClusterId: cluster,
      ProcId: proc,
      Owner: spec.owner ?? 'alice',
      JobStatus: spec.status ?? 1,
      QDate: T - 600,
      EnteredCurrentStatus: T - 65,
      RequestCpus: spec.cpus ?? 1,
      RequestMemory: spec.memory ?? 128,
      RequestDisk: spec.disk ?? 43,
      FileSystemDomain: 'submit.example',
      ...spec.values,
    },
    spec.requirements === null ? {} : { Requirements: spec.requirements ?? DEFAULT_REQUIREMENTS },
  );
  return a;
}

export interface SlotSpec {
  host: string;
  cpus?: number;
  memory?: number;
  disk?: number;
  /** free now (partitionable slots); defaults to the totals */
  free?: { cpus?: number; memory?: number; disk?: number };
  start?: string;
  arch?: string;
  values?: Record<string, unknown>;
}

/** A partitionable slot as daemons/startd/slots.ts advertises it. */
export function pslot(s: SlotSpec): ClassAd {
  const cpus = s.cpus ?? 4;
  const memory = s.memory ?? 4096;
  const disk = s.disk ?? 1048576;
  return ad(
    {
      MyType: 'Machine',
      Name: `slot1@${s.host}`,
      Machine: s.host,
      StartdName: s.host,
      Arch: s.arch ?? 'X86_64',
      OpSys: 'LINUX',
      FileSystemDomain: s.host,
      HasFileTransfer: true,
      TotalCpus: cpus,
      TotalSlotCpus: cpus,
      TotalMemory: memory,
      TotalDisk: disk,
      SlotID: 1,
      SlotType: 'Partitionable',
      PartitionableSlot: true,
      Cpus: s.free?.cpus ?? cpus,
      Memory: s.free?.memory ?? memory,
      Disk: s.free?.disk ?? disk,
      State: 'Unclaimed',
      Activity: 'Idle',
      ...s.values,
    },
    { Start: s.start ?? 'true', Requirements: 'START', Rank: '0' },
  );
}

/** A dynamic slot carved from host's partitionable slot, running a job of `owner`. */
export function dslot(host: string, n: number, owner: string, res: { cpus?: number; memory?: number } = {}): ClassAd {
  return ad(
    {
      MyType: 'Machine',
      Name: `slot1_${n}@${host}`,
      Machine: host,
      StartdName: host,
      Arch: 'X86_64',
      OpSys: 'LINUX',
      HasFileTransfer: true,
      TotalCpus: 4,
      TotalMemory: 4096,
      TotalDisk: 1048576,
      SlotID: 1,
      DSlotId: n,
      SlotType: 'Dynamic',
      DynamicSlot: true,
      Cpus: res.cpus ?? 1,
      Memory: res.memory ?? 128,
      Disk: 1024,
      State: 'Claimed',
      Activity: 'Busy',
      RemoteOwner: owner,
      RemoteUser: owner,
    },
    { Start: 'true', Requirements: 'START' },
  );
}
