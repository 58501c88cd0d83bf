// Where a parallel job's chunks can go (PBS's place: free, pack, scatter; HTCondor's parallel universe is
// free): one definition for the negotiator, which places gangs, and dq -analyze, which says why one waits.
import { ClassAd, literal, symmetricMatch } from './index.js';
import { customResourceNames, fitCount, jobRequests, takeResources, type Resources } from '../../lib/job-requests.js';

export type Placement = 'free' | 'pack' | 'scatter';

export interface GangSlot {
  ad: ClassAd;
  /** slot name */
  name: string;
  /** startd address */
  startd: string;
  /** the Machine ad's host */
  host: string;
  partitionable: boolean;
  /** what is left of it in this cycle */
  free: Resources;
  /** its size when nothing runs there (for reservations) */
  total: Resources;
}

/** A parallel job's chunks and how they go. */
export interface GangShape {
  chunks: number;
  placement: Placement;
}

/**
 * The gang a job ad asks for; undefined for an ordinary job. A gang has GangPlacement (written for
 * `universe = parallel` and PBS `select=N:…`) and MachineCount > 1: a vanilla job's machine_count alone is
 * no gang.
 */
export function gangShape(ad: ClassAd): GangShape | undefined {
  const n = ad.lookupJS('MachineCount');
  const placement = ad.lookupJS('GangPlacement');
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 1 || typeof placement !== 'string') return undefined;
  const p = placement.toLowerCase();
  return { chunks: n, placement: p === 'scatter' || p === 'vscatter' ? 'scatter' : p === 'pack' ? 'pack' : 'free' };
}

function num(ad: ClassAd, name: string, dflt: number): number {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/** The unclaimed slots as the gang matcher tracks them (in name order, for a stable placement). */
export function gangSlots(ads: ClassAd[]): GangSlot[] {
  const out: GangSlot[] = [];
  for (const ad of ads) {
    const name = String(ad.lookupJS('Name') ?? '');
    const startd = String(ad.lookupJS('MyAddress') ?? '');
    if (!name || !startd) continue;
    const custom = customResourceNames(ad.lookupJS('MachineResources'));
    const free: Resources = { cpus: num(ad, 'Cpus', 0), memory: num(ad, 'Memory', 0), disk: num(ad, 'Disk', 0) };
    for (const c of custom) (free.custom ??= {})[c] = num(ad, c, 0);
    const partitionable = ad.lookupJS('PartitionableSlot') === true;
    const total: Resources = partitionable
      ? {
          cpus: num(ad, 'TotalSlotCpus', free.cpus),
          memory: num(ad, 'TotalSlotMemory', num(ad, 'TotalMemory', free.memory)),
          disk: num(ad, 'TotalSlotDisk', num(ad, 'TotalDisk', free.disk)),
          custom: free.custom && { ...free.custom },
        }
      : { ...free, custom: free.custom && { ...free.custom } };
    const host = ad.lookupJS('Machine');
    out.push({
      ad,
      name,
      startd,
      host: typeof host === 'string' && host ? host : name.slice(name.indexOf('@') + 1),
      partitionable,
      free,
      total,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether the job and the slot accept each other when the slot has `size` left (its advertised resources set to it). */
function accepts(job: ClassAd, s: GangSlot, size: Resources): boolean {
  const saved = (['Cpus', 'Memory', 'Disk'] as const).map((n) => [n, s.ad.get(n)] as const);
  s.ad.set('Cpus', literal(size.cpus)).set('Memory', literal(size.memory)).set('Disk', literal(size.disk));
  try {
    return symmetricMatch(job, s.ad);
  } finally {
    for (const [n, e] of saved) e ? s.ad.set(n, e) : s.ad.delete(n);
  }
}

/**
 * Where the job's chunks go, from what is `free` (or, with `ofTotal`, from the slots as if nothing ran there),
 * or undefined when not all of them fit. Nothing is taken: the caller takes the chunks it keeps (takeGang).
 */
export function placeGang(
  job: ClassAd,
  shape: GangShape,
  slots: GangSlot[],
  ofTotal = false,
  skip?: ReadonlySet<string>,
): GangSlot[] | undefined {
  const custom = [...new Set(slots.flatMap((s) => Object.keys(s.total.custom ?? {})))];
  const req = jobRequests((n) => job.lookupJS(n), custom);
  const room = (s: GangSlot): Resources => (ofTotal ? s.total : s.free);
  // chunks each slot can take (a static slot takes one)
  const capacity = (s: GangSlot, left: Resources): number => {
    if (skip?.has(s.name)) return 0;
    const n = fitCount(req, left);
    if (n <= 0 || !accepts(job, s, left)) return 0;
    return s.partitionable ? n : 1;
  };
  if (shape.placement === 'pack') {
    const byHost = new Map<string, GangSlot[]>();
    for (const s of slots) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
    for (const list of byHost.values()) {
      const chosen: GangSlot[] = [];
      for (const s of list)
        for (let i = capacity(s, room(s)); i > 0 && chosen.length < shape.chunks; i--) chosen.push(s);
      if (chosen.length === shape.chunks) return chosen;
    }
    return undefined;
  }
  const chosen: GangSlot[] = [];
  const hosts = new Set<string>();
  for (const s of slots) {
    if (chosen.length === shape.chunks) break;
    if (shape.placement === 'scatter') {
      if (hosts.has(s.host) || capacity(s, room(s)) < 1) continue;
      hosts.add(s.host);
      chosen.push(s);
    } else for (let i = capacity(s, room(s)); i > 0 && chosen.length < shape.chunks; i--) chosen.push(s);
  }
  return chosen.length === shape.chunks ? chosen : undefined;
}

/** Take a placed gang's chunks out of what is free. */
export function takeGang(job: ClassAd, chosen: GangSlot[]): void {
  for (const s of chosen) {
    const req = jobRequests((n) => job.lookupJS(n), Object.keys(s.free.custom ?? {}));
    if (s.partitionable) takeResources(s.free, req);
    else s.free = { cpus: 0, memory: 0, disk: 0 };
  }
}
