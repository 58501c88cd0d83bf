// One negotiation cycle: fetch (slots and submitters from the copy of the collector's ads, idle autoclusters from each schedd,
// and, when preemption can happen, the claimed slots and the jobs running on them), match in process
// (matchmaker.ts), hand out (matches to the schedds, Vacate to the startds of preempted slots).
import {
  ClassAd,
  compile,
  isPlainLiteral,
  isTrue,
  parseExpr,
  referencedAttrs,
  toNumber,
  type Expr,
} from '../../grammar/classad/index.js';
import type { AdMirror, AdView, MirroredAd } from './ad-mirror.js';
import type { Logger } from '../../lib/log.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { Match } from '../../lib/rpc/generated/dsched/v1/Match.js';
import type { FairShare } from './fair-share.js';
import type { AccountingGroups, GroupNode } from './groups.js';
import type { ConcurrencyLimits } from './limits.js';
import { gangSlots } from '../../grammar/classad/gang-placement.js';
import { onPoolClock } from '../../lib/time.js';
import { matchGangs, reservationStart, slotsLeft, splitGangs, type GangRound } from './gang.js';
import {
  accountingName,
  Matchmaker,
  type AutoclusterInput,
  type ClaimedSlotInput,
  type Reservation,
  type SubmitterInput,
} from './matchmaker.js';

/** What the cycle reads from the configuration (again before every cycle: the knobs are live). */
export interface CyclePolicy {
  groups: AccountingGroups;
  /** NEGOTIATOR_CONSIDER_PREEMPTION */
  considerPreemption: boolean;
  /** PREEMPTION_REQUIREMENTS; undefined when it is the constant FALSE */
  preemptionRequirements?: Expr;
  preemptionRank?: Expr;
  /** NEGOTIATOR_MAX_TIME_PER_SUBMITTER, in ms */
  maxTimePerSubmitterMs: number;
}

export interface CycleResult {
  matches: number;
  preemptions: number;
  submitters: number;
  slots: number;
  classes: number;
  autoclusters: number;
  fetchMs: number;
  matchMs: number;
  durationMs: number;
}

/** A Vacate sent and not yet seen through: the slot is not preempted again, and the job waits for it. */
interface PendingPreemption {
  jobId: string;
  schedd: string;
  autocluster: number;
  startd: string;
  at: number;
}

/** Matches whose jobs the submitter's ad may not count yet (see usageOf). */
interface PendingUsage {
  baseline: number;
  cpus: number;
  at: number;
}

// Their ages are measured on the monotonic clock (performance.now): a wall clock set back an hour would keep
// a pending preemption, a vacated slot's reservation or a submitter's pending usage for that hour.
const PENDING_PREEMPTION_MS = 10 * 60_000;
/** How long a vacated slot's resources wait for the job that preempted it. */
const RESERVATION_MS = 30_000;
const PENDING_USAGE_MS = 10_000;
const EMPTY = new ClassAd();

function num(ad: AdView, name: string, dflt: number): number {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}
function str(ad: AdView, name: string): string {
  const v = ad.lookupJS(name);
  return typeof v === 'string' ? v : '';
}

const where = (text: string) => compile(parseExpr(text, { file: '<negotiator>', line: 1, column: 1 }));
/** Slots running a job (preemption candidates), and those being vacated (so a pending preemption is seen through). */
const busyOrPreempting = (andBusy = '') =>
  where(`(State == "Claimed" && Activity == "Busy"${andBusy}) || State == "Preempting"`);
const BUSY_OR_PREEMPTING = busyOrPreempting();
/** The same, of the busy ones only those whose machine Rank is not the constant 0 (RANK preemption alone). */
const RANKED_BUSY_OR_PREEMPTING = busyOrPreempting(
  ' && unparse(Rank) != "" && unparse(Rank) != "0" && unparse(Rank) != "0.0" && unparse(Rank) != "false"',
);

/** What each filter found of a version of a slot's ad (a change makes a new MirroredAd). */
const candidateOf = new Map<boolean, WeakMap<MirroredAd, boolean>>([
  [false, new WeakMap()],
  [true, new WeakMap()],
]);
/**
 * The slots BUSY_OR_PREEMPTING (RANKED_BUSY_OR_PREEMPTING when `ranked`) holds for, parsed. The filter sees
 * first an ad of the slot's State, Activity and Rank alone, so that the claimed slots of running jobs (most
 * of a busy pool, their Rank the constant 0 by default) stay unparsed. It holds the same there when State
 * and Activity are literals; any other text may refer to the rest of the ad, which is parsed then.
 */
function preemptionCandidates(slots: MirroredAd[], ranked: boolean): ClassAd[] {
  const where = ranked ? RANKED_BUSY_OR_PREEMPTING : BUSY_OR_PREEMPTING;
  const seen = candidateOf.get(ranked)!;
  const out: ClassAd[] = [];
  for (const m of slots) {
    let hit = seen.get(m);
    if (hit === undefined) {
      const few: Record<string, string> = {};
      let literal = true;
      for (const name of ['State', 'Activity', 'Rank']) {
        const t = m.text(name);
        if (t === undefined) continue;
        few[name] = t;
        if (name !== 'Rank' && !isPlainLiteral(t)) literal = false;
      }
      hit = isTrue(where(literal ? ClassAd.fromRecord(few) : m.ad));
      seen.set(m, hit);
    }
    if (hit) out.push(m.ad);
  }
  return out;
}

export class Negotiator {
  private schedds = new Map<string, ScheddClient>();
  private startds = new Map<string, StartdClient>();
  private pendingPreemptions = new Map<string, PendingPreemption>();
  private reservations: Array<Reservation & { at: number }> = [];
  /** schedds told of a parallel job's reservation last cycle: told again, or told that it ended */
  private reservationTold = new Set<string>();
  private pendingUsage = new Map<string, PendingUsage>();
  /** ads of jobs running on claimed slots, by schedd name and job id (they do not change while they run) */
  private runningJobs = new Map<string, { ad: ClassAd | undefined; cycle: number }>();
  private cycleNo = 0;
  /** the group tree of the last cycle, for duserprio */
  lastGroups: Map<string, GroupNode> | undefined;

  constructor(
    private log: Logger,
    private creds: ClientCredentials,
    private fairShare: FairShare,
    private limits: ConcurrencyLimits,
    private policy: () => CyclePolicy,
  ) {}

  private schedd(addr: string): ScheddClient {
    let c = this.schedds.get(addr);
    if (!c) this.schedds.set(addr, (c = new ScheddClient(addr, this.creds)));
    return c;
  }
  private startd(addr: string): StartdClient {
    let c = this.startds.get(addr);
    if (!c) this.startds.set(addr, (c = new StartdClient(addr, this.creds)));
    return c;
  }

  async cycle(pool: AdMirror): Promise<CycleResult> {
    const t0 = performance.now();
    this.cycleNo++;
    const policy = this.policy();
    const preempting = policy.considerPreemption;
    // every slot is read, only those a match may use are parsed (ad-mirror.ts)
    const machineAds = pool.views('Machine');
    const subAds = pool.ads('Submitter');
    this.limits.reset(machineAds.map((ad) => ad.lookupJS('ConcurrencyLimits')).filter((v) => v !== undefined));
    this.fairShare.observe(subAds);

    const submitters: Array<SubmitterInput & { idle: number; acct: string }> = [];
    for (const ad of subAds) {
      const name = str(ad, 'Name');
      const schedd = str(ad, 'MyAddress');
      if (!name || !schedd) continue;
      const running = num(ad, 'WeightedRunningJobs', num(ad, 'RunningJobs', 0));
      submitters.push({
        name,
        acct: accountingName(name),
        schedd,
        priority: this.fairShare.effectivePriority(name),
        usage: this.usageOf(name, running),
        idle: num(ad, 'IdleJobs', 0),
        autoclusters: [],
      });
    }
    const slots = machineAds.filter((ad) => str(ad, 'State') === 'Unclaimed').map((m) => m.ad);
    const idleSubmitters = submitters.filter((s) => s.idle > 0);
    const done = (
      matches: number,
      preemptions: number,
      classes = 0,
      autoclusters = 0,
      fetchMs = performance.now() - t0,
      matchMs = 0,
    ): CycleResult => ({
      matches,
      preemptions,
      submitters: idleSubmitters.length,
      slots: slots.length,
      classes,
      autoclusters,
      fetchMs,
      matchMs,
      durationMs: performance.now() - t0,
    });
    if (!idleSubmitters.length) return done(0, 0);

    if (!preempting) {
      this.pendingPreemptions.clear();
      this.reservations = [];
    }
    const claimed = preempting
      ? await this.claimedSlots(preemptionCandidates(machineAds, !policy.preemptionRequirements), pool.ads('Scheduler'))
      : [];
    if (!slots.length && !claimed.length) return done(0, 0);

    // of the slots this cycle may match: the schedd only adds to what tells its autoclusters apart
    const significant = jobAttributesOfSlots([...slots, ...claimed.map((c) => c.ad)]);
    // while a parallel job holds a reservation, jobs are told apart by their run-time bound: backfill
    // offers the reserved slots to those sure to end before it starts
    if (this.reservationTold.size && !significant.includes('AllowedJobDuration'))
      significant.push('AllowedJobDuration');
    await Promise.all(
      idleSubmitters.map(async (s) => {
        try {
          const r = await this.schedd(s.schedd).idleAutoclusters(s.acct, significant);
          s.autoclusters = r.autoclusters.map((a): AutoclusterInput => ({
            id: Number(a.id),
            idle: a.idle - this.reserved(s.schedd, Number(a.id)),
            ad: ClassAd.fromRecord(a.job?.attrs ?? {}),
          }));
        } catch (e) {
          this.log.warn({ submitter: s.name, err: (e as Error).message }, 'schedd did not give its idle jobs');
        }
      }),
    );
    const t1 = performance.now();
    // parallel jobs first, all chunks or none (gang.ts); without any, the slots go to the matchmaker as they are
    const gangs = splitGangs(submitters);
    let gangRound: GangRound | undefined;
    let reservedStart: number | undefined;
    let slotAds = slots;
    if (gangs.candidates.length) {
      const tracked = gangSlots(slots);
      gangRound = await matchGangs(gangs.candidates, tracked, gangs.best, policy.maxTimePerSubmitterMs);
      for (const s of submitters) s.spentMs = gangRound.spentMs.get(s.name);
      reservedStart = reservationStart(machineAds, gangRound.reserved, Math.floor(Date.now() / 1000));
      slotAds = slotsLeft(
        slots,
        tracked,
        gangRound.reserved,
        reservedStart === undefined ? undefined : reservedStart - Date.now() / 1000,
      );
      if (gangRound.reserved.size)
        this.log.debug({ slots: [...gangRound.reserved] }, 'slots reserved for a parallel job');
    }
    const poolCpus = policy.groups.enabled
      ? machineAds.reduce(
          (n, ad) => (ad.lookupJS('DynamicSlot') === true ? n : n + num(ad, 'TotalSlotCpus', num(ad, 'Cpus', 0))),
          0,
        )
      : 0;
    const result = await new Matchmaker({
      slots: slotAds,
      submitters,
      limits: this.limits,
      groups: policy.groups,
      poolCpus,
      claimed,
      preemption: claimed.length
        ? { requirements: policy.preemptionRequirements, rank: policy.preemptionRank }
        : undefined,
      reservations: this.reservations,
      maxTimePerSubmitterMs: policy.maxTimePerSubmitterMs,
    }).negotiateInTurns();
    for (const name of new Set([...(gangRound?.outOfTime ?? []), ...result.outOfTime]))
      this.log.warn(
        { submitter: name, limitSeconds: policy.maxTimePerSubmitterMs / 1000 },
        'submitter out of time (NEGOTIATOR_MAX_TIME_PER_SUBMITTER): its jobs wait for the next cycle',
      );
    const placedNow = new Set(result.reservationsPlaced);
    this.reservations = this.reservations.filter(
      (r, i) => !placedNow.has(i) && performance.now() - r.at < RESERVATION_MS,
    );
    const t2 = performance.now();
    this.lastGroups = result.groups;

    for (const [name, p] of result.placed) {
      this.fairShare.charge(name, p.jobs);
      const s = submitters.find((x) => x.name === name)!;
      this.addPendingUsage(name, s.usage ?? 0, p.cpus);
    }
    const bySchedd = new Map<string, Match[]>();
    // the schedd checks the startd it claims is on the host of the Machine ad (its certificate's CN)
    const hostOf = new Map(machineAds.map((ad) => [String(ad.lookupJS('Name') ?? ''), ad.lookupJS('Machine')]));
    for (const m of result.matches) {
      let list = bySchedd.get(m.schedd);
      if (!list) bySchedd.set(m.schedd, (list = []));
      const host = hostOf.get(m.slot);
      list.push({
        autocluster: m.autocluster,
        slot: m.slot,
        startd: m.startd,
        count: m.count,
        host: typeof host === 'string' ? host : '',
      });
    }
    for (const g of gangRound?.matches ?? []) {
      let list = bySchedd.get(g.schedd);
      if (!list) bySchedd.set(g.schedd, (list = []));
      list.push({ autocluster: g.autocluster, slot: '', startd: '', count: 1, host: '', gang: g.chunks });
      this.fairShare.charge(g.submitter, 1);
      const s = submitters.find((x) => x.name === g.submitter)!;
      this.addPendingUsage(
        g.submitter,
        s.usage ?? 0,
        g.chunks.length *
          Math.max(
            1,
            Number(
              gangs.candidates
                .find((c) => c.autocluster === g.autocluster && c.schedd === g.schedd)
                ?.ad.lookupJS('RequestCpus'),
            ) || 1,
          ),
      );
    }
    // a parallel job's reservation goes to every schedd with idle jobs (none reuses a claim on a reserved
    // slot for its next job), and its end to those told of it
    const reserved = [...(gangRound?.reserved ?? [])];
    const told = new Set(reserved.length ? idleSubmitters.map((s) => s.schedd) : []);
    for (const addr of [...told, ...this.reservationTold]) if (!bySchedd.has(addr)) bySchedd.set(addr, []);
    this.reservationTold = told;
    const now = performance.now();
    await Promise.all([
      ...[...bySchedd].map(([addr, ms]) =>
        this.schedd(addr)
          .matched(ms, reserved, reservedStart ?? 0)
          .catch((e) =>
            this.log.warn({ schedd: addr, err: (e as Error).message }, 'could not hand matches to the schedd'),
          ),
      ),
      ...result.preemptions.map((p) => {
        const victim = claimed.find((c) => String(c.ad.lookupJS('Name')) === p.slot)!;
        this.pendingPreemptions.set(p.slot, {
          jobId: str(victim.ad, 'JobId'),
          schedd: p.schedd,
          autocluster: p.autocluster,
          startd: p.startd,
          at: now,
        });
        const reason =
          p.reason === 'rank'
            ? `preempted: the machine prefers a job of ${p.submitter} (RANK)`
            : `preempted by ${p.submitter}, whose priority is better (PREEMPTION_REQUIREMENTS)`;
        this.log.info(
          { slot: p.slot, startd: p.startd, victim: p.victim, submitter: p.submitter, reason: p.reason },
          'preempting a job',
        );
        return this.startd(p.startd)
          .vacate(p.slot, reason, false)
          .catch((e) =>
            this.log.warn({ slot: p.slot, startd: p.startd, err: (e as Error).message }, 'could not vacate the slot'),
          );
      }),
    ]);
    const r = done(
      result.stats.jobs - result.preemptions.length + (gangRound?.matches.length ?? 0),
      result.preemptions.length,
      result.stats.classes,
      result.stats.autoclusters,
      t1 - t0,
      t2 - t1,
    );
    if (r.matches || r.preemptions) this.log.info(r, 'negotiation cycle');
    return r;
  }

  /**
   * A submitter's cpus in use: its ad's count, plus what was matched for it lately while the ad does not show
   * it yet (the schedd advertises a few ms after it took the match). Never less than the truth, so a group
   * cannot go over its quota between two cycles.
   */
  private usageOf(name: string, advertised: number): number {
    const p = this.pendingUsage.get(name);
    if (!p) return advertised;
    if (advertised >= p.baseline + p.cpus || performance.now() - p.at > PENDING_USAGE_MS) {
      this.pendingUsage.delete(name);
      return advertised;
    }
    return advertised + p.cpus;
  }
  private addPendingUsage(name: string, usage: number, cpus: number) {
    const p = this.pendingUsage.get(name);
    if (p) {
      p.cpus += cpus;
      p.at = performance.now();
    } else {
      // `usage` includes earlier pending matches only when there were none
      this.pendingUsage.set(name, { baseline: usage, cpus, at: performance.now() });
    }
  }

  /** Idle jobs of an autocluster already promised a slot being vacated for them. */
  private reserved(schedd: string, ac: number): number {
    let n = 0;
    for (const p of this.pendingPreemptions.values()) if (p.schedd === schedd && p.autocluster === ac) n++;
    return n;
  }

  /**
   * The claimed slots preemption may consider, with who runs there and since when. The running jobs' ads
   * (for the accounting group and the machine's Rank of them) come from their schedds, once per job.
   */
  private async claimedSlots(ads: ClassAd[], schedulerAds: ClassAd[]): Promise<ClaimedSlotInput[]> {
    const now = performance.now();
    const byName = new Map(ads.map((ad) => [str(ad, 'Name'), ad]));
    // a pending preemption ends when its slot no longer runs that job (the claim was released: what it
    // freed is reserved for the preempting job), or times out
    for (const [slot, p] of this.pendingPreemptions) {
      const ad = byName.get(slot);
      if (ad && str(ad, 'JobId') === p.jobId && now - p.at <= PENDING_PREEMPTION_MS) continue;
      this.pendingPreemptions.delete(slot);
      if (!ad) this.reservations.push({ schedd: p.schedd, autocluster: p.autocluster, startd: p.startd, at: now });
    }
    const busy = ads.filter(
      (ad) => str(ad, 'State') === 'Claimed' && !this.pendingPreemptions.has(str(ad, 'Name')) && str(ad, 'JobId'),
    );
    if (!busy.length) return [];
    const scheddAddr = new Map<string, string>();
    for (const ad of schedulerAds) scheddAddr.set(str(ad, 'Name'), str(ad, 'MyAddress'));
    const want = new Map<string, Array<{ cluster: number; proc: number }>>();
    for (const ad of busy) {
      const key = `${str(ad, 'RemoteScheddName')}/${str(ad, 'JobId')}`;
      const hit = this.runningJobs.get(key);
      if (hit) {
        hit.cycle = this.cycleNo;
        continue;
      }
      const [cluster, proc] = str(ad, 'JobId').split('.').map(Number);
      const schedd = str(ad, 'RemoteScheddName');
      if (!scheddAddr.get(schedd) || !Number.isInteger(cluster) || !Number.isInteger(proc)) continue;
      let list = want.get(schedd);
      if (!list) want.set(schedd, (list = []));
      list.push({ cluster: cluster!, proc: proc! });
    }
    await Promise.all(
      [...want].map(async ([schedd, ids]) => {
        try {
          const jobs = await this.schedd(scheddAddr.get(schedd)!).query({
            ids,
            owners: [],
            constraint: '',
            projection: [],
            history: false,
            limit: 0,
          });
          const found = new Set<string>();
          for (const rec of jobs) {
            const ad = ClassAd.fromRecord(rec);
            const id = `${num(ad, 'ClusterId', -1)}.${num(ad, 'ProcId', -1)}`;
            found.add(id);
            this.runningJobs.set(`${schedd}/${id}`, { ad, cycle: this.cycleNo });
          }
          for (const i of ids)
            if (!found.has(`${i.cluster}.${i.proc}`))
              this.runningJobs.set(`${schedd}/${i.cluster}.${i.proc}`, { ad: undefined, cycle: this.cycleNo });
        } catch (e) {
          this.log.warn({ schedd, err: (e as Error).message }, 'could not read the running jobs of a schedd');
        }
      }),
    );
    for (const [k, v] of this.runningJobs) if (v.cycle !== this.cycleNo) this.runningJobs.delete(k);

    const nowSec = Math.floor(now / 1000);
    const out: ClaimedSlotInput[] = [];
    for (const ad of busy) {
      const schedd = str(ad, 'RemoteScheddName');
      const job = this.runningJobs.get(`${schedd}/${str(ad, 'JobId')}`)?.ad;
      const acct = (job && str(job, 'AccountingGroup')) || str(ad, 'RemoteUser') || str(ad, 'RemoteOwner');
      if (!acct) continue;
      const remoteSubmitter = `${acct}@${schedd}`;
      // on this host's clock: a startd whose clock is out of step would make its jobs look older or younger
      const entered = onPoolClock(
        num(ad, 'EnteredCurrentActivity', nowSec),
        num(ad, 'MyCurrentTime', NaN) || undefined,
        num(ad, 'LastHeardFrom', NaN) || undefined,
      );
      const runSeconds = Math.max(0, nowSec - entered);
      const retirement = toNumber(ad.evaluate('MaxJobRetirementTime', job ?? EMPTY)) ?? 0;
      out.push({
        ad,
        remoteSubmitter,
        remotePriority: this.fairShare.effectivePriority(remoteSubmitter),
        currentJob: job,
        runSeconds,
        retirementLeft: retirement - runSeconds,
      });
    }
    return out;
  }

  close() {
    for (const c of this.schedds.values()) c.close();
    for (const c of this.startds.values()) c.close();
  }
}

const refsOf = new WeakMap<Expr, { target: string[]; unscoped: string[] }>();
/**
 * The job attributes the slots' Requirements, START and Rank refer to: TARGET.x, and plain names the slot
 * ad does not define. Expressions are analysed once (the ad copy keeps them from one cycle to the next).
 */
export function jobAttributesOfSlots(ads: ClassAd[]): string[] {
  const out = new Set<string>();
  for (const ad of ads) {
    for (const name of ['Requirements', 'START', 'Rank']) {
      const e = ad.get(name);
      if (!e) continue;
      let r = refsOf.get(e);
      if (!r) {
        const refs = referencedAttrs(e);
        refsOf.set(e, (r = { target: [...refs.target], unscoped: [...refs.unscoped] }));
      }
      for (const n of r.target) out.add(n);
      for (const n of r.unscoped) if (!ad.get(n)) out.add(n);
    }
  }
  return [...out].sort();
}

/** PREEMPTION_REQUIREMENTS as given; undefined when it is the constant FALSE (no priority preemption). */
export function preemptionRequirements(text: string): Expr | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const e = parseExpr(t, { file: 'PREEMPTION_REQUIREMENTS', line: 1, column: 1 });
  if (e.kind === 'literal' && !isTrue(EMPTY.evalExpr(e))) return undefined;
  return e;
}
