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
