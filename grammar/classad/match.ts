// Matchmaking: the symmetric Requirements test and Rank, as the negotiator applies them.
import { ClassAd } from './classad.js';
import { isTrue, toNumber } from './value.js';

/**
 * job.Requirements (MY = job, TARGET = slot) and slot.Requirements — or the slot's START when it has no
 * Requirements — (MY = slot, TARGET = job) both evaluate to true. A missing Requirements never matches.
 */
export function symmetricMatch(job: ClassAd, slot: ClassAd): boolean {
  if (!job.has('Requirements')) return false;
  if (!isTrue(job.evaluate('Requirements', slot))) return false;
  if (slot.has('Requirements')) return isTrue(slot.evaluate('Requirements', job));
  return slot.has('START') && isTrue(slot.evaluate('START', job));
}

/** ad.Rank evaluated against target (booleans count 1/0); missing or non-numeric → 0. */
export function rankOf(ad: ClassAd, target: ClassAd): number {
  const n = toNumber(ad.evaluate('Rank', target));
  return n === undefined || Number.isNaN(n) ? 0 : n;
}
