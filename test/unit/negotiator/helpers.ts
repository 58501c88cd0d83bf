// Slot and job ads for the matchmaker tests, written as a startd and dsubmit write them.
import { ClassAd, literal, rankOf, symmetricMatch, unparse } from '../../../grammar/classad/index.js';
import { fitCount, jobRequests, takeResources, type Resources } from '../../../lib/job-requests.js';
import type { AutoclusterInput, SubmitterInput } from '../../../daemons/negotiator/matchmaker.js';

export const lit = (v: string | number | boolean) => unparse(literal(v));

export interface SlotSpec {
  name: string;
  cpus?: number;
  memory?: number;
  disk?: number;
  partitionable?: boolean;
  start?: string;
  rank?: string;
  /** more attributes: name → expression text */
  attrs?: Record<string, string>;
}

export function slot(s: SlotSpec): ClassAd {
  const host = s.name.split('@')[1] ?? s.name;
  const rec: Record<string, string> = {
    MyType: lit('Machine'),
    Name: lit(s.name),
    Machine: lit(host),
    MyAddress: lit(`${host}:9618`),
    Arch: lit('X86_64'),
    OpSys: lit('LINUX'),
    Cpus: String(s.cpus ?? 1),
    Memory: String(s.memory ?? 4096),
    Disk: String(s.disk ?? 10_000_000),
    State: lit('Unclaimed'),
    Activity: lit('Idle'),
    HasFileTransfer: 'true',
    FileSystemDomain: lit(host),
    MachineResources: lit('Cpus Memory Disk'),
    Start: s.start ?? 'TRUE',
    Requirements: 'START',
    Rank: s.rank ?? '0',
    ...(s.partitionable ? { PartitionableSlot: 'true', SlotType: lit('Partitionable') } : { SlotType: lit('Static') }),
    ...s.attrs,
  };
  return ClassAd.fromRecord(rec);
}

export interface JobSpec {
  owner?: string;
  cpus?: number;
  memory?: number;
  requirements?: string;
  rank?: string;
  prio?: number;
  limits?: string;
  attrs?: Record<string, string>;
}

export function job(j: JobSpec = {}): ClassAd {
  const rec: Record<string, string> = {
    MyType: lit('Job'),
    Owner: lit(j.owner ?? 'alice'),
    JobUniverse: '5',
    RequestCpus: String(j.cpus ?? 1),
    RequestMemory: String(j.memory ?? 1024),
    RequestDisk: '1024',
    FileSystemDomain: lit('submit.example.org'),
    JobPrio: String(j.prio ?? 0),
    Requirements:
      j.requirements ?? '(TARGET.Arch == "X86_64") && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)',
    ...(j.rank ? { Rank: j.rank } : {}),
    ...(j.limits ? { ConcurrencyLimits: lit(j.limits) } : {}),
    ...j.attrs,
  };
  return ClassAd.fromRecord(rec);
}

export function submitter(name: string, autoclusters: AutoclusterInput[], priority = 0.5, usage = 0): SubmitterInput {
  return { name: `${name}@schedd`, schedd: 'schedd:1', priority, usage, autoclusters };
}

/**
 * The matching as written down: for each autocluster in turn (JobPrio, then id), over and over, every slot
 * where both Requirements hold and the job fits, best job Rank first, then machine Rank, then name; a
 * partitionable slot takes as many jobs as fit. What the matchmaker must agree with for one submitter.
 */
export function referenceMatches(
  slots: ClassAd[],
  acs: AutoclusterInput[],
): Array<{ autocluster: number; slot: string; count: number }> {
  const num = (ad: ClassAd, n: string) => {
    const v = ad.lookupJS(n);
    return typeof v === 'number' ? v : 0;
  };
  const state = slots
    .map((ad) => ({
      ad,
      name: String(ad.lookupJS('Name')),
      free: { cpus: num(ad, 'Cpus'), memory: num(ad, 'Memory'), disk: num(ad, 'Disk') } as Resources,
      part: ad.lookupJS('PartitionableSlot') === true,
      dead: false,
    }))
    .filter((s) => s.free.cpus > 0);
  const out = new Map<string, { autocluster: number; slot: string; count: number }>();
  const order = acs.slice().sort((a, b) => num(b.ad, 'JobPrio') - num(a.ad, 'JobPrio') || a.id - b.id);
  for (const ac of order) {
    let idle = ac.idle;
    const req = jobRequests((n) => ac.ad.lookupJS(n));
    while (idle > 0) {
      const cands = state.filter((s) => !s.dead && fitCount(req, s.free) >= 1 && symmetricMatch(ac.ad, s.ad));
      if (!cands.length) break;
      cands.sort(
        (a, b) =>
          rankOf(ac.ad, b.ad) - rankOf(ac.ad, a.ad) ||
          rankOf(b.ad, ac.ad) - rankOf(a.ad, ac.ad) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );
      const s = cands[0]!;
      const n = Math.min(s.part ? fitCount(req, s.free) : 1, idle);
      idle -= n;
      if (s.part) {
        takeResources(s.free, req, n);
        s.ad.setValue('Cpus', s.free.cpus).setValue('Memory', s.free.memory).setValue('Disk', s.free.disk);
        if (s.free.cpus <= 0) s.dead = true;
      } else s.dead = true;
      const key = `${ac.id}/${s.name}`;
      const m = out.get(key);
      if (m) m.count += n;
      else out.set(key, { autocluster: ac.id, slot: s.name, count: n });
    }
  }
  return [...out.values()];
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
