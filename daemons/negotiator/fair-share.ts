// Fair share as HTCondor accounts it: each submitter's real priority follows the resources it uses, decaying
// with a half-life; effective priority = real priority × priority factor; lower is better.
import type { ClassAd } from '../../grammar/classad/index.js';
import { NICE_USER_GROUP } from '../../lib/job-attrs.js';

interface Account {
  real: number;
  factor: number;
  inUse: number;
  accumulated: number;
}

/** The accounts as saved between runs of the negotiator. */
export interface SavedAccounts {
  /** wall-clock ms of the last observation */
  at: number;
  accounts: Array<{ name: string; real: number; factor: number; accumulated: number }>;
}

/**
 * The submitters of nice_user jobs (accounted to the group NICE_USER_GROUP: grammar/submit/to-job-ads.ts), as
 * HTCondor's NICE_USER_PRIO_FACTOR: their priority factor puts them after every other submitter, so they get
 * only what no one else wants.
 */
const NICE_USER_PREFIX = `${NICE_USER_GROUP}.`;
const NICE_USER_FACTOR = 10_000_000;

export class FairShare {
  private accounts = new Map<string, Account>();
  private last = performance.now();
  constructor(
    private halfLifeSec = 86_400,
    private defaultFactor = 1,
  ) {}

  private account(name: string): Account {
    let a = this.accounts.get(name);
    if (!a) {
      const factor = name.startsWith(NICE_USER_PREFIX) ? NICE_USER_FACTOR : this.defaultFactor;
      this.accounts.set(name, (a = { real: 0.5, factor, inUse: 0, accumulated: 0 }));
    }
    return a;
  }

  /** Fold in the time passed since the last observation: usage decays towards what is in use now. */
  observe(submitters: ClassAd[]): void {
    const t = performance.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    const beta = Math.pow(0.5, dt / this.halfLifeSec);
    const seen = new Set<string>();
    for (const ad of submitters) {
      const name = String(ad.lookupJS('Name') ?? '');
      if (!name) continue;
      seen.add(name);
      const running = Number(ad.lookupJS('RunningJobs') ?? 0) || 0;
      const a = this.account(name);
      a.inUse = running;
      a.accumulated += running * dt;
    }
    for (const [name, a] of this.accounts) {
      if (!seen.has(name)) a.inUse = 0;
      a.real = Math.max(0.5, beta * a.real + (1 - beta) * a.inUse);
    }
  }

  /** Matches made in this cycle count at once, so one submitter cannot take every slot of a cycle. */
  charge(name: string, n: number): void {
    this.account(name).inUse += n;
  }

  effectivePriority(name: string): number {
    const a = this.account(name);
    return a.real * a.factor;
  }

  setFactor(name: string, factor: number): void {
    this.account(name).factor = factor;
  }

  save(): SavedAccounts {
    return {
      at: Date.now() - (performance.now() - this.last),
      accounts: [...this.accounts].map(([name, a]) => ({
        name,
        real: a.real,
        factor: a.factor,
        accumulated: a.accumulated,
      })),
    };
  }

  /**
   * Take up saved accounts. The time since they were saved is folded in at the next observation, with the
   * resources in use then (as HTCondor's accountant does after a restart).
   */
  restore(saved: SavedAccounts): void {
    for (const s of saved.accounts) {
      if (!s.name || !(s.real >= 0.5) || !(s.factor >= 1)) continue;
      this.accounts.set(s.name, { real: s.real, factor: s.factor, inUse: 0, accumulated: Number(s.accumulated) || 0 });
    }
    const away = Date.now() - saved.at;
    if (away > 0 && Number.isFinite(away)) this.last = performance.now() - away;
  }

  list() {
    return [...this.accounts].map(([name, a]) => ({
      name,
      effective_priority: a.real * a.factor,
      real_priority: a.real,
      priority_factor: a.factor,
      accumulated_usage: a.accumulated,
      resources_in_use: a.inUse,
    }));
  }
}
