// dq -analyze for an idle parallel job: whether its chunks fit all at once now, only once running jobs end,
// or never with the hosts the pool has (placed as the negotiator places them, grammar/classad/gang-placement.ts).
import type { ClassAd } from '../../grammar/classad/index.js';
import { gangShape, gangSlots, placeGang } from '../../grammar/classad/gang-placement.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Why an idle parallel job waits; undefined for an ordinary job. */
export function gangWhy(job: ClassAd, slots: readonly ClassAd[]): string | undefined {
  const shape = gangShape(job);
  if (!shape) return undefined;
  const what = `it is a parallel job of ${shape.chunks} chunks (place=${shape.placement}${shape.placement === 'scatter' ? ': each on its own host' : shape.placement === 'pack' ? ': all on one host' : ''}), started all at once or not at all`;
  const unclaimed = gangSlots(slots.filter((s) => s.lookupJS('State') === 'Unclaimed'));
  if (placeGang(job, shape, unclaimed))
    return `${what}; the free slots can take every chunk now, so the negotiator should match it at its next cycle.`;
  const whole = gangSlots(slots.filter((s) => s.lookupJS('DynamicSlot') !== true));
  if (placeGang(job, shape, whole, true))
    return `${what}; the pool can hold it only once running jobs end. While it is first in fair-share order the slots it needs are kept from other jobs.`;
  const hosts = new Set(
    whole.filter((s) => placeGang(job, { chunks: 1, placement: 'free' }, [s], true)).map((s) => s.host),
  );
  return `${what}; the pool cannot hold it even when idle: ${plural(hosts.size, 'host')} can take a chunk (${[...hosts].sort().join(', ') || 'none'}). It waits until more hosts join; no chunk starts before all can.`;
}
