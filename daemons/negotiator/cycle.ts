// One negotiation cycle: slots and submitters from the collector, idle autoclusters from each schedd,
// two-sided matching (job Requirements against the slot, slot START/Requirements against the job), the
// best job Rank first, and partitionable slots split locally so one cycle can fill a whole machine.
import { ClassAd, rankOf, symmetricMatch } from '../../grammar/classad/index.js';
import { customResourceNames, fitCount, jobRequests, takeResources, type Resources } from '../../lib/job-requests.js';
import type { Logger } from '../../lib/log.js';
import type { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { Match } from '../../lib/rpc/generated/dsched/v1/Match.js';
import type { FairShare } from './fair-share.js';
import { parseLimits, type ConcurrencyLimits } from './limits.js';

interface SlotState {
  name: string;
  address: string;
  ad: ClassAd;
  /** what is still free (a partitionable slot shrinks as this cycle splits it) */
  free: Resources;
  customNames: string[];
  partitionable: boolean;
  taken: boolean;
}

function num(ad: ClassAd, name: string, dflt: number): number {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

export interface CycleResult {
  matches: number;
  submitters: number;
  slots: number;
  autoclusters: number;
  durationMs: number;
}

export class Negotiator {
  private schedds = new Map<string, ScheddClient>();
  constructor(
    private log: Logger,
    private token: () => string,
    private fairShare: FairShare,
    private limits: ConcurrencyLimits,
  ) {}

  private schedd(addr: string): ScheddClient {
    let c = this.schedds.get(addr);
    if (!c) this.schedds.set(addr, (c = new ScheddClient(addr, this.token)));
    return c;
  }

  async cycle(collector: CollectorClient): Promise<CycleResult> {
    const t0 = performance.now();
    const [machineAds, submitterAds, limitedAds] = await Promise.all([
      collector.query('Machine', 'State == "Unclaimed"'),
      collector.query('Submitter'),
      collector.query('Machine', 'ConcurrencyLimits =!= undefined', ['ConcurrencyLimits']),
    ]);
    this.limits.reset(limitedAds.map((r) => ClassAd.fromRecord(r).lookupJS('ConcurrencyLimits')));
    this.fairShare.observe(submitterAds.map((r) => ClassAd.fromRecord(r)));
    const slots: SlotState[] = [];
    for (const rec of machineAds) {
      const ad = ClassAd.fromRecord(rec);
      if (ad.lookupJS('State') !== 'Unclaimed') continue;
      const s: SlotState = {
        name: String(ad.lookupJS('Name') ?? ''),
        address: String(ad.lookupJS('MyAddress') ?? ''),
        ad,
        free: { cpus: num(ad, 'Cpus', 0), memory: num(ad, 'Memory', 0), disk: num(ad, 'Disk', 0) },
        customNames: customResourceNames(ad.lookupJS('MachineResources')),
        partitionable: ad.lookupJS('PartitionableSlot') === true,
        taken: false,
      };
      for (const c of s.customNames) (s.free.custom ??= {})[c] = num(ad, c, 0);
      if (s.free.cpus > 0 && s.address) slots.push(s);
    }
    const submitters = submitterAds
      .map((r) => ClassAd.fromRecord(r))
      .filter((ad) => num(ad, 'IdleJobs', 0) > 0)
      .map((ad) => ({ owner: String(ad.lookupJS('Owner') ?? ''), address: String(ad.lookupJS('MyAddress') ?? ''), name: String(ad.lookupJS('Name') ?? '') }))
      .filter((s) => s.owner && s.address);
    let total = 0;
    let acCount = 0;
    if (!slots.length || !submitters.length) return { matches: 0, submitters: submitters.length, slots: slots.length, autoclusters: 0, durationMs: performance.now() - t0 };

    // Fair share: best (lowest) effective priority first; each submitter's share of the free CPUs per round.
    submitters.sort((a, b) => this.fairShare.effectivePriority(a.name) - this.fairShare.effectivePriority(b.name) || a.name.localeCompare(b.name));
    const work = await Promise.all(
      submitters.map(async (s) => {
        try {
          const r = await this.schedd(s.address).idleAutoclusters(s.owner);
          return { s, acs: r.autoclusters.map((a) => ({ id: Number(a.id), idle: a.idle, ad: ClassAd.fromRecord(a.job?.attrs ?? {}) })) };
        } catch (e) {
          this.log.warn({ submitter: s.name, err: (e as Error).message }, 'schedd did not give its idle jobs');
          return { s, acs: [] };
        }
      }),
    );
    for (const w of work) {
      acCount += w.acs.length;
      // within a submitter: higher job priority first, then older autocluster
      w.acs.sort((a, b) => num(b.ad, 'JobPrio', 0) - num(a.ad, 'JobPrio', 0) || a.id - b.id);
    }
    const freeCpus = slots.reduce((n, s) => n + s.free.cpus, 0);
    const share = Math.max(1, Math.ceil(freeCpus / work.length));
    const matchesBy = new Map<string, Match[]>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const w of work) {
        let budget = share;
        for (const ac of w.acs) {
          if (ac.idle <= 0 || budget <= 0) continue;
          const n = this.place(ac, slots, budget, matchesBy, w.s.address);
          if (n > 0) {
            progress = true;
            total += n;
            budget -= n * Math.max(1, num(ac.ad, 'RequestCpus', 1));
            this.fairShare.charge(w.s.name, n);
          }
        }
      }
    }
    await Promise.all(
      [...matchesBy].map(([addr, ms]) =>
        this.schedd(addr)
          .matched(ms)
          .catch((e) => this.log.warn({ schedd: addr, err: (e as Error).message }, 'could not hand matches to the schedd')),
      ),
    );
    const r = { matches: total, submitters: submitters.length, slots: slots.length, autoclusters: acCount, durationMs: performance.now() - t0 };
    if (total) this.log.info(r, 'negotiation cycle');
    return r;
  }

  /** Place up to `budget` cpus' worth of the autocluster's idle jobs; returns how many were matched. */
  private place(ac: { id: number; idle: number; ad: ClassAd }, slots: SlotState[], budget: number, out: Map<string, Match[]>, scheddAddr: string): number {
    const lookup = (n: string) => ac.ad.lookupJS(n);
    const cpus = jobRequests(lookup).cpus;
    const wants = parseLimits(ac.ad.lookupJS('ConcurrencyLimits'));
    const candidates: Array<{ s: SlotState; rank: number; req: Resources }> = [];
    for (const s of slots) {
      if (s.taken) continue;
      const req = jobRequests(lookup, s.customNames);
      if (fitCount(req, s.free) < 1) continue;
      if (!symmetricMatch(ac.ad, s.ad)) continue;
      candidates.push({ s, rank: rankOf(ac.ad, s.ad), req });
    }
    // best job Rank first; ties broken stably by the machine's own Rank then the slot name
    candidates.sort((a, b) => b.rank - a.rank || rankOf(b.s.ad, ac.ad) - rankOf(a.s.ad, ac.ad) || a.s.name.localeCompare(b.s.name));
    let placed = 0;
    for (const { s, req } of candidates) {
      if (ac.idle <= 0 || budget < cpus) break;
      let fit = s.partitionable ? fitCount(req, s.free) : 1;
      fit = Math.min(fit, ac.idle, Math.floor(budget / cpus), wants.size ? this.limits.room(wants) : Infinity);
      if (fit <= 0) continue;
      if (wants.size) this.limits.take(wants, fit);
      ac.idle -= fit;
      budget -= fit * cpus;
      placed += fit;
      if (s.partitionable) {
        takeResources(s.free, req, fit);
        s.ad.setValue('Cpus', s.free.cpus).setValue('Memory', s.free.memory).setValue('Disk', s.free.disk);
        for (const [c, v] of Object.entries(s.free.custom ?? {})) s.ad.setValue(c, v);
        if (s.free.cpus <= 0) s.taken = true;
      } else s.taken = true;
      let list = out.get(scheddAddr);
      if (!list) out.set(scheddAddr, (list = []));
      list.push({ autocluster: ac.id, slot: s.name, startd: s.address, count: fit });
    }
    return placed;
  }

  close() {
    for (const c of this.schedds.values()) c.close();
  }
}
