// Gang matching: a parallel job (MachineCount > 1: PBS `select=N:…`, HTCondor `universe = parallel`) gets
// all its N chunks in one cycle or none. Chunks are placed by the job's GangPlacement, as PBS's `place`:
// `free` (any slots, several on one host; HTCondor's parallel universe), `scatter` (one chunk per host) or
// `pack` (every chunk on one host). The ordinary matchmaker never sees these autoclusters (cycle.ts takes
// them out), so a pool without parallel jobs negotiates exactly as before.
//
// Starvation: when the submitter first in fair-share order has a gang that cannot be placed now but could be
// on an emptied pool, the slots it would take are reserved for this cycle: nobody else is matched there, so
// they drain until the gang fits (a reservation without backfill; see docs/parallel.md).
import { ClassAd, literal, symmetricMatch } from '../../grammar/classad/index.js';
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

export interface GangChunkOut {
  slot: string;
  startd: string;
  host: string;
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
      ? { cpus: num(ad, 'TotalSlotCpus', free.cpus), memory: num(ad, 'TotalSlotMemory', num(ad, 'TotalMemory', free.memory)), disk: num(ad, 'TotalSlotDisk', num(ad, 'TotalDisk', free.disk)), custom: free.custom && { ...free.custom } }
      : { ...free, custom: free.custom && { ...free.custom } };
    const host = ad.lookupJS('Machine');
    out.push({ ad, name, startd, host: typeof host === 'string' && host ? host : name.slice(name.indexOf('@') + 1), partitionable, free, total });
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
    for (const [n, e] of saved) (e ? s.ad.set(n, e) : s.ad.delete(n));
  }
}

/**
 * Where the job's chunks go, from what is `free` (or, with `ofTotal`, from the slots as if nothing ran there),
 * or undefined when not all of them fit. Nothing is taken: the caller takes the chunks it keeps (takeGang).
 */
export function placeGang(job: ClassAd, shape: GangShape, slots: GangSlot[], ofTotal = false, skip?: ReadonlySet<string>): GangSlot[] | undefined {
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
      for (const s of list) for (let i = capacity(s, room(s)); i > 0 && chosen.length < shape.chunks; i--) chosen.push(s);
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

export interface GangCandidate {
  submitter: string;
  schedd: string;
  autocluster: number;
  idle: number;
  ad: ClassAd;
  shape: GangShape;
  /** the submitter's effective priority (lower is better) */
  priority: number;
}

export interface GangMatchOut {
  submitter: string;
  schedd: string;
  autocluster: number;
  chunks: GangChunkOut[];
}

export interface GangRound {
  matches: GangMatchOut[];
  /** slots kept for the first gang in fair-share order that could not be placed: nobody else gets them */
  reserved: Set<string>;
}

/**
 * Place the gangs of `candidates` (already in fair-share order) on `slots`, taking what each placed gang
 * uses. `reserveFor` is the best priority of any submitter with idle work: a gang of that submitter that
 * does not fit now reserves the slots it would take on an emptied pool (the first such gang only).
 */
export function matchGangs(candidates: GangCandidate[], slots: GangSlot[], reserveFor: number | undefined, reserved = new Set<string>()): GangRound {
  const matches: GangMatchOut[] = [];
  for (const c of candidates) {
    for (let i = 0; i < c.idle; i++) {
      const chosen = placeGang(c.ad, c.shape, slots, false, reserved);
      if (!chosen) {
        if (reserveFor !== undefined && c.priority <= reserveFor && reserved.size === 0) {
          const later = placeGang(c.ad, c.shape, slots, true);
          for (const s of later ?? []) reserved.add(s.name);
        }
        break;
      }
      takeGang(c.ad, chosen);
      matches.push({ submitter: c.submitter, schedd: c.schedd, autocluster: c.autocluster, chunks: chosen.map((s) => ({ slot: s.name, startd: s.startd, host: s.host })) });
    }
  }
  return { matches, reserved };
}

/**
 * The slot ads the ordinary matchmaker gets after the gangs: reserved slots left out, and partitionable
 * slots shrunk by what the gangs took (a copy; the ad mirror's own ads are not changed).
 */
export function slotsLeft(ads: ClassAd[], slots: GangSlot[], reserved: ReadonlySet<string>): ClassAd[] {
  const byName = new Map(slots.map((s) => [s.name, s]));
  const out: ClassAd[] = [];
  for (const ad of ads) {
    const name = String(ad.lookupJS('Name') ?? '');
    if (reserved.has(name)) continue;
    const s = byName.get(name);
    if (!s || (s.free.cpus === num(ad, 'Cpus', 0) && s.free.memory === num(ad, 'Memory', 0) && s.free.disk === num(ad, 'Disk', 0))) {
      out.push(ad);
      continue;
    }
    if (s.free.cpus <= 0) continue;
    const copy = ad.clone();
    copy.set('Cpus', literal(s.free.cpus)).set('Memory', literal(s.free.memory)).set('Disk', literal(s.free.disk));
    for (const [k, v] of Object.entries(s.free.custom ?? {})) copy.set(k, literal(v));
    out.push(copy);
  }
  return out;
}

/**
 * Take the parallel jobs' autoclusters out of the submitters' (the ordinary matchmaker never sees them) and
 * return them in fair-share order, with the best priority among submitters that have idle work.
 */
export function splitGangs(submitters: Array<{ name: string; schedd: string; priority: number; autoclusters: Array<{ id: number; idle: number; ad: ClassAd }> }>): { candidates: GangCandidate[]; best: number | undefined } {
  const candidates: GangCandidate[] = [];
  let best: number | undefined;
  for (const s of submitters) {
    if (s.autoclusters.some((a) => a.idle > 0)) best = best === undefined ? s.priority : Math.min(best, s.priority);
    if (!s.autoclusters.some((a) => gangShape(a.ad))) continue;
    const keep: typeof s.autoclusters = [];
    for (const a of s.autoclusters) {
      const shape = gangShape(a.ad);
      if (!shape) keep.push(a);
      else if (a.idle > 0) candidates.push({ submitter: s.name, schedd: s.schedd, autocluster: a.id, idle: a.idle, ad: a.ad, shape, priority: s.priority });
    }
    s.autoclusters = keep;
  }
  candidates.sort((a, b) => a.priority - b.priority || (a.submitter < b.submitter ? -1 : a.submitter > b.submitter ? 1 : 0) || num(b.ad, 'JobPrio', 0) - num(a.ad, 'JobPrio', 0) || a.autocluster - b.autocluster);
  return { candidates, best };
}
