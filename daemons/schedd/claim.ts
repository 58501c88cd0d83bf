// A claim the schedd holds on a startd's slot: its own module so that the parts of the schedd that handle
// claims (parallel jobs' gangs) need not import the Schedd class.
import type { Job } from './queue.js';

export interface Claim {
  id: string;
  startd: string;
  slot: string;
  job?: Job;
  /** Autocluster of the job it last ran: the first place to look for the next one. */
  lastAc: number;
  /** When the startd last confirmed the claim (`leaseClock`, ms): past the lease, a silent startd has lost it. */
  renewedAt?: number;
}

/**
 * The clock leases are measured on (ms): monotonic, as the startd's, so that a step of the wall clock (NTP, an
 * admin's `date`) neither gives up every claim whose startd is silent for a moment nor keeps a lost one for ever.
 */
export function leaseClock(): number {
  return performance.now();
}

/** How long a reservation the negotiator sent holds without being sent again (it sends one every cycle). */
export const RESERVATION_MS = 5 * 60_000;

/**
 * The slots the negotiator keeps for a parallel job (its reservation, daemons/negotiator/gang.ts): a claim
 * on one of them is reused for the next job only if that job is sure to end before the reservation starts
 * (its AllowedJobDuration, PBS's walltime: backfill); else the slot drains and the parallel job gets it, as
 * HTCondor's dedicated scheduler and PBS keep a reservation from smaller jobs.
 */
export class ReservedSlots {
  private slots = new Set<string>();
  private start = 0;
  private at = 0;

  /**
   * The reservation of the last negotiation cycle (empty: none) and its expected start (epoch s, 0: unknown).
   * Returns whether the reserved slots changed.
   */
  set(slots: string[], start = 0): boolean {
    const before = this.slots;
    this.slots = new Set(slots.slice(0, 100_000));
    this.start = Number.isFinite(start) && start > 0 ? start : 0;
    this.at = leaseClock();
    return before.size !== this.slots.size || [...before].some((s) => !this.slots.has(s));
  }

  /** Whether a claim's slot (a dynamic slot, `slot1_3@host`, of the partitionable `slot1@host`) is reserved. */
  holds(slot: string): boolean {
    // on the monotonic clock: one set back would keep a reservation no negotiator sends any more for as long
    if (!this.slots.size || leaseClock() - this.at > RESERVATION_MS) return false;
    return this.slots.has(slot) || this.slots.has(slot.replace(/_\d+@/, '@'));
  }

  /** Whether a claim on `slot` may be given another job at all (not reserved, or backfill is possible). */
  mayReuse(slot: string): boolean {
    return this.start > 0 || !this.holds(slot);
  }

  /** Whether a job with this AllowedJobDuration may start on `slot` now. */
  mayRun(slot: string, duration: unknown): boolean {
    if (!this.holds(slot)) return true;
    return typeof duration === 'number' && duration > 0 && Date.now() / 1000 + duration <= this.start;
  }
}
