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
  /** When the startd last confirmed the claim (ms): past the lease, a silent startd has lost it. */
  renewedAt?: number;
}

/** How long a reservation the negotiator sent holds without being sent again (it sends one every cycle). */
const RESERVATION_MS = 5 * 60_000;

/**
 * The slots the negotiator keeps for a parallel job (its reservation, daemons/negotiator/gang.ts): a claim
 * on one of them is not reused for the next job, so the slot drains and the parallel job gets it, as
 * HTCondor's dedicated scheduler and PBS keep a reservation from smaller jobs.
 */
export class ReservedSlots {
  private slots = new Set<string>();
  private at = 0;

  /** The reservation of the last negotiation cycle (empty: none). */
  set(slots: string[]): void {
    this.slots = new Set(slots.slice(0, 100_000));
    this.at = Date.now();
  }

  /** Whether a claim's slot (a dynamic slot, `slot1_3@host`, of the partitionable `slot1@host`) is reserved. */
  holds(slot: string): boolean {
    if (!this.slots.size || Date.now() - this.at > RESERVATION_MS) return false;
    return this.slots.has(slot) || this.slots.has(slot.replace(/_\d+@/, '@'));
  }
}
