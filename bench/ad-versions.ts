// What each version of a renewed slot ad holds while it lives, in the collector and in the negotiator's copy
// (run on demand: `node --import tsx bench/ad-versions.ts`; BENCH_SLOTS 128, BENCH_ROUNDS 20).
// A renewal that moves a slot's load averages makes a new version of its ad in both daemons at every update;
// the old one lives until the next, long enough for V8 to move it to the old generation, where it stays until
// a full collection: what a version holds is what each running job piles up there per update. Every version
// is kept here and the heap measured after a full collection, so the figure does not depend on when V8
// collects. Printed: bytes per version in the negotiator, and per renewal in the collector's stored ad (the copy
// it tells its watchers of is encoded at once and dies young). Nothing is asserted.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AdStore } from '../daemons/collector/ad-store.js';
import { AdMirror } from '../daemons/negotiator/ad-mirror.js';

const SLOTS = Number(process.env.BENCH_SLOTS ?? 128);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const q = (s: string) => JSON.stringify(s);
/** A dynamic slot's ad: about 50 attributes, most of them the machine's. */
function slotAd(slot: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < 45; i++) attrs[`MachineAttr${i}`] = q(`a value of the machine, ${i}`);
  return {
    ...attrs,
    Name: q(`slot1_${slot}@exec1`),
    Machine: q('exec1'),
    LoadAvg: '1.5',
    TotalLoadAvg: '1.5',
    CondorLoadAvg: '0.0',
    TotalCondorLoadAvg: '0.0',
    MyCurrentTime: '1000',
  };
}
/** A copy with strings of its own, as decoding a message makes them. */
const decoded = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Heap bytes that `work` leaves reachable, per item. */
function heldPer(items: number, work: (keep: unknown[]) => void): number {
  const keep: unknown[] = [];
  gc();
  const before = getHeapStatistics().used_heap_size;
  work(keep);
  gc();
  return (getHeapStatistics().used_heap_size - before) / items;
}

const loads = (round: number) => ({
  LoadAvg: String(1.5 + round / 100),
  TotalLoadAvg: '1.5',
  CondorLoadAvg: '0.0',
  TotalCondorLoadAvg: '0.0',
});

const mirror = new AdMirror();
const sent = new Map<number, Record<string, string>>();
for (let s = 0; s < SLOTS; s++) {
  sent.set(s, { ...slotAd(s), LastHeardFrom: '1001' });
  mirror.apply({ type: 'Machine', name: `s${s}`, kind: 'added', ad: { attrs: decoded(sent.get(s)!) } });
}
mirror.apply({ type: '', name: '', kind: 'hello' });
const negotiator = heldPer(SLOTS * ROUNDS, (keep) => {
  for (let r = 1; r <= ROUNDS; r++)
    for (let s = 0; s < SLOTS; s++) {
      const attrs = { ...sent.get(s)!, ...loads(r), LastHeardFrom: String(1001 + 5 * r) };
      mirror.apply({ type: 'Machine', name: `s${s}`, kind: 'updated', ad: { attrs: decoded(attrs) } });
      keep.push(mirror.views('Machine')[s]);
    }
});

const store = new AdStore();
store.onChange(() => {});
for (let s = 0; s < SLOTS; s++) store.update('Machine', `slot1_${s}@exec1`, 'i1', slotAd(s), 600, 'v1');
/** the collector's stored ad (its attributes as sent whole and what renewals set since) */
const held = (s: number) =>
  (store as unknown as { byType: Map<string, Map<string, { attrs: object; renewed?: object }>> }).byType
    .get('machine')!
    .get(`slot1_${s}@exec1`)!;
const collector = heldPer(SLOTS * ROUNDS, (keep) => {
  for (let r = 1; r <= ROUNDS; r++)
    for (let s = 0; s < SLOTS; s++) {
      store.renew('Machine', `slot1_${s}@exec1`, 'i1', 'v1', 600, decoded(loads(r)));
      const ad = held(s);
      keep.push(ad.attrs, ...Object.values(ad.renewed ?? {}));
    }
});

console.log(
  `${SLOTS} slots, ${ROUNDS} renewals each that moved a load average: negotiator ${negotiator.toFixed(0)} bytes per version; ` +
    `collector ${collector.toFixed(0)} bytes per renewal`,
);
