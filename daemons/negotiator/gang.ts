// Gang matching: a parallel job (MachineCount > 1: PBS `select=N:…`, HTCondor `universe = parallel`) gets
// all its N chunks in one cycle or none. Chunks are placed by the job's GangPlacement, as PBS's `place`:
// `free` (any slots, several on one host; HTCondor's parallel universe), `scatter` (one chunk per host) or
// `pack` (every chunk on one host). The ordinary matchmaker never sees these autoclusters (cycle.ts takes
// them out), so a pool without parallel jobs negotiates exactly as before.
//
// Starvation: when the submitter first in fair-share order has a gang that cannot be placed now but could be
// on an emptied pool, the slots it would take are reserved for this cycle: nobody else is matched there, so
// they drain until the gang fits. Backfill: a job whose run-time bound (AllowedJobDuration, PBS's walltime)
// ends before the reservation can hold its slots (every job running there has reached its own bound) may
// still use what is free on them; a job without a bound waits (see docs/parallel.md).
import { literal, parseExpr, unparse, type ClassAd } from '../../grammar/classad/index.js';
import { gangShape, placeGang, takeGang, type GangShape, type GangSlot } from '../../grammar/classad/gang-placement.js';
import type { AdView } from './ad-mirror.js';
import { SLICE_MS, timeKey } from './matchmaker.js';

export interface GangChunkOut {
  slot: string;
  startd: string;
  host: string;
}

function num(ad: ClassAd, name: string, dflt: number): number {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
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
  /** ms each submitter's gangs took: the start of its NEGOTIATOR_MAX_TIME_PER_SUBMITTER in the matchmaker */
  spentMs: Map<string, number>;
  /** submitters whose gangs took their time with gangs of theirs still to try, in the order they ran out */
  outOfTime: string[];
}

/**
 * Place the gangs of `candidates` (already in fair-share order) on `slots`, taking what each placed gang
 * uses. `reserveFor` is the best priority of any submitter with idle work: a gang of that submitter that
 * does not fit now reserves the slots it would take on an emptied pool (the first such gang only).
 * A gang's Requirements are evaluated on every slot, so a submitter's gangs are timed as its autoclusters
 * are in the matchmaker: past `maxTimePerSubmitterMs` the rest of them wait for the next cycle (one user's
 * costly parallel jobs held every cycle, and the daemon, for minutes), and the event loop gets a turn every
 * SLICE_MS between gangs.
 */
export async function matchGangs(
  candidates: GangCandidate[],
  slots: GangSlot[],
  reserveFor: number | undefined,
  maxTimePerSubmitterMs = Infinity,
): Promise<GangRound> {
  const matches: GangMatchOut[] = [];
  const reserved = new Set<string>();
  const spentMs = new Map<string, number>();
  const outOfTime: string[] = [];
  // a user's accounting groups share the user's time (timeKey)
  const userMs = new Map<string, number>();
  let sliceStart = performance.now();
  for (let j = 0; j < candidates.length; j++) {
    const c = candidates[j]!;
    if (outOfTime.includes(c.submitter)) continue;
    const key = timeKey(c.submitter, c.schedd, c.ad);
    if ((userMs.get(key) ?? 0) - (spentMs.get(c.submitter) ?? 0) > maxTimePerSubmitterMs) {
      outOfTime.push(c.submitter);
      continue;
    }
    const t = performance.now();
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
      matches.push({
        submitter: c.submitter,
        schedd: c.schedd,
        autocluster: c.autocluster,
        chunks: chosen.map((s) => ({ slot: s.name, startd: s.startd, host: s.host })),
      });
    }
    const now = performance.now();
    spentMs.set(c.submitter, (spentMs.get(c.submitter) ?? 0) + now - t);
    const spent = (userMs.get(key) ?? 0) + now - t;
    userMs.set(key, spent);
    if (spent > maxTimePerSubmitterMs && candidates.some((x, k) => k > j && x.submitter === c.submitter))
      outOfTime.push(c.submitter);
    if (now - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return { matches, reserved, spentMs, outOfTime };
}

/** Seconds allowed past a job's bound for it to be gone (the schedd's stop, the startd's kill grace). */
const END_MARGIN = 60;

/**
 * When a reservation holds every slot it keeps, at the latest (epoch seconds): once each job running there
 * has reached its run-time bound (the startd's JobEndsBy, from AllowedJobDuration or PBS's walltime), with
 * a margin. Undefined when one of them has no bound: nothing can be backfilled then.
 */
export function reservationStart(machineAds: AdView[], reserved: ReadonlySet<string>, now: number): number | undefined {
  if (!reserved.size) return undefined;
  let start = now;
  for (const ad of machineAds) {
    if (ad.lookupJS('DynamicSlot') !== true) continue;
    // a dynamic slot slot1_3@host of the partitionable slot1@host, running a job
    if (!reserved.has(String(ad.lookupJS('Name') ?? '').replace(/_\d+@/, '@')) || ad.lookupJS('JobId') === undefined)
      continue;
    const end = ad.lookupJS('JobEndsBy');
    if (typeof end !== 'number' || !Number.isFinite(end)) return undefined;
    start = Math.max(start, end + END_MARGIN);
  }
  return start;
}

/**
 * The slot ads the ordinary matchmaker gets after the gangs: partitionable slots shrunk by what the gangs
 * took (a copy; the ad mirror's own ads are not changed), and reserved slots left out, or, with `backfill`
 * (the seconds until the reservation holds them), offered only to jobs sure to end by then.
 */
export function slotsLeft(
  ads: ClassAd[],
  slots: GangSlot[],
  reserved: ReadonlySet<string>,
  backfill?: number,
): ClassAd[] {
  const byName = new Map(slots.map((s) => [s.name, s]));
  const out: ClassAd[] = [];
  for (const ad of ads) {
    const name = String(ad.lookupJS('Name') ?? '');
    const held = reserved.has(name);
    if (held && !(backfill !== undefined && backfill > 0)) continue;
    const s = byName.get(name);
    const shrunk =
      s &&
      !(
        s.free.cpus === num(ad, 'Cpus', 0) &&
        s.free.memory === num(ad, 'Memory', 0) &&
        s.free.disk === num(ad, 'Disk', 0)
      )
        ? s
        : undefined;
    if (shrunk && shrunk.free.cpus <= 0) continue;
    if (!held && !shrunk) {
      out.push(ad);
      continue;
    }
    const copy = ad.clone();
    if (held) {
      const req = copy.get('Requirements');
      const bound = `TARGET.AllowedJobDuration isnt undefined && TARGET.AllowedJobDuration > 0 && TARGET.AllowedJobDuration <= ${Math.floor(backfill!)}`;
      copy.set(
        'Requirements',
        parseExpr(req ? `(${unparse(req)}) && ${bound}` : bound, { file: '<backfill>', line: 1, column: 1 }),
      );
    }
    if (shrunk) {
      copy
        .set('Cpus', literal(shrunk.free.cpus))
        .set('Memory', literal(shrunk.free.memory))
        .set('Disk', literal(shrunk.free.disk));
      for (const [k, v] of Object.entries(shrunk.free.custom ?? {})) copy.set(k, literal(v));
    }
    out.push(copy);
  }
  return out;
}

/**
 * Take the parallel jobs' autoclusters out of the submitters' (the ordinary matchmaker never sees them) and
 * return them in fair-share order, with the best priority among submitters that have idle work.
 */
export function splitGangs(
  submitters: Array<{
    name: string;
    schedd: string;
    priority: number;
    autoclusters: Array<{ id: number; idle: number; ad: ClassAd }>;
  }>,
): { candidates: GangCandidate[]; best: number | undefined } {
  const candidates: GangCandidate[] = [];
  let best: number | undefined;
  for (const s of submitters) {
    if (s.autoclusters.some((a) => a.idle > 0)) best = best === undefined ? s.priority : Math.min(best, s.priority);
    if (!s.autoclusters.some((a) => gangShape(a.ad))) continue;
    const keep: typeof s.autoclusters = [];
    for (const a of s.autoclusters) {
      const shape = gangShape(a.ad);
      if (!shape) keep.push(a);
      else if (a.idle > 0)
        candidates.push({
          submitter: s.name,
          schedd: s.schedd,
          autocluster: a.id,
          idle: a.idle,
          ad: a.ad,
          shape,
          priority: s.priority,
        });
    }
    s.autoclusters = keep;
  }
  candidates.sort(
    (a, b) =>
      a.priority - b.priority ||
      (a.submitter < b.submitter ? -1 : a.submitter > b.submitter ? 1 : 0) ||
      num(b.ad, 'JobPrio', 0) - num(a.ad, 'JobPrio', 0) ||
      a.autocluster - b.autocluster,
  );
  return { candidates, best };
}
