// Gang matching of parallel jobs (daemons/negotiator/gang.ts): all chunks or none, PBS's place rules, and
// the reservation that keeps a big job from starving behind small ones.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { matchGangs, reservationStart, slotsLeft, splitGangs } from '../../../daemons/negotiator/gang.js';
import { symmetricMatch } from '../../../grammar/classad/index.js';
import { gangShape, gangSlots } from '../../../grammar/classad/gang-placement.js';
import { gangWhy } from '../../../cli/shared/analyze-gang.js';
import { job, lit, slot, submitter } from './helpers.js';

const pslot = (host: string, cpus: number, extra: Record<string, string> = {}) =>
  slot({
    name: `slot1@${host}`,
    cpus,
    memory: cpus * 1024,
    partitionable: true,
    attrs: {
      TotalSlotCpus: String(extra.TotalSlotCpus ?? cpus),
      TotalSlotMemory: String(Number(extra.TotalSlotCpus ?? cpus) * 1024),
    },
  });
const gang = (n: number, place: string, cpus = 1, owner = 'alice') =>
  job({
    owner,
    cpus,
    attrs: {
      MachineCount: String(n),
      GangPlacement: lit(place),
      Requirements: '(TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus)',
    },
  });

async function run(slots: ReturnType<typeof pslot>[], subs: ReturnType<typeof submitter>[]) {
  const split = splitGangs(subs);
  const tracked = gangSlots(slots);
  const round = await matchGangs(split.candidates, tracked, split.best);
  return { ...round, left: slotsLeft(slots, tracked, round.reserved), subs };
}

describe('negotiator – gang matching', () => {
  test('negotiator – a job is a gang only with MachineCount > 1 and a placement (a vanilla machine_count alone is not)', () => {
    assert.deepEqual(gangShape(gang(3, 'scatter')), { chunks: 3, placement: 'scatter' });
    assert.deepEqual(gangShape(gang(2, 'vscatter')), { chunks: 2, placement: 'scatter' });
    assert.equal(gangShape(gang(1, 'free')), undefined);
    assert.equal(gangShape(job({ attrs: { MachineCount: '4' } })), undefined);
  });

  test('negotiator – place=scatter puts each chunk on its own host, and waits (no partial match) while hosts are missing', async () => {
    const slots = [pslot('a', 4), pslot('b', 4), pslot('c', 4)];
    const r = await run(slots, [submitter('alice', [{ id: 1, idle: 1, ad: gang(3, 'scatter', 2) }])]);
    assert.equal(r.matches.length, 1);
    assert.deepEqual(
      r.matches[0]!.chunks.map((c) => c.host),
      ['a', 'b', 'c'],
    );
    // what the gang took is gone for the ordinary matchmaker
    assert.deepEqual(
      r.left.map((ad) => ad.lookupJS('Cpus')),
      [2, 2, 2],
    );

    const two = await run(
      [pslot('a', 4), pslot('b', 4)],
      [submitter('alice', [{ id: 1, idle: 1, ad: gang(3, 'scatter') }])],
    );
    assert.deepEqual(two.matches, [], 'three scattered chunks never go on two hosts');
    assert.equal(two.reserved.size, 0, 'a gang the whole pool cannot hold reserves nothing');
    assert.equal(two.left.length, 2);
  });

  test('negotiator – place=free (and the parallel universe) may put several chunks on one host; pack puts all on one', async () => {
    const free = await run(
      [pslot('a', 4), pslot('b', 1)],
      [submitter('alice', [{ id: 1, idle: 1, ad: gang(3, 'free') }])],
    );
    assert.deepEqual(
      free.matches[0]!.chunks.map((c) => c.host),
      ['a', 'a', 'a'],
    );
    const pack = await run(
      [pslot('a', 2), pslot('b', 4)],
      [submitter('alice', [{ id: 1, idle: 1, ad: gang(3, 'pack') }])],
    );
    assert.deepEqual(
      pack.matches[0]!.chunks.map((c) => c.host),
      ['b', 'b', 'b'],
    );
    const none = await run(
      [pslot('a', 2), pslot('b', 2)],
      [submitter('alice', [{ id: 1, idle: 1, ad: gang(3, 'pack') }])],
    );
    assert.deepEqual(none.matches, []);
  });

  test('negotiator – ordinary autoclusters stay with the matchmaker, gangs leave it', async () => {
    const subs = [
      submitter('alice', [
        { id: 1, idle: 1, ad: gang(2, 'scatter') },
        { id: 2, idle: 5, ad: job() },
      ]),
    ];
    const r = await run([pslot('a', 1), pslot('b', 1)], subs);
    assert.equal(r.matches.length, 1);
    assert.deepEqual(
      subs[0]!.autoclusters.map((a) => a.id),
      [2],
    );
    assert.deepEqual(r.left, [], 'both slots went to the gang');
  });

  test('negotiator – the first gang in fair-share order that does not fit now reserves its hosts from everyone', async () => {
    // a and b are half busy: the 2 × 4-cpu scattered gang fits only once they drain
    const busyA = pslot('a', 2, { TotalSlotCpus: '4' });
    const busyB = pslot('b', 2, { TotalSlotCpus: '4' });
    const idleC = pslot('c', 1);
    const alice = submitter('alice', [{ id: 1, idle: 1, ad: gang(2, 'scatter', 4) }], 0.5);
    const bob = submitter('bob', [{ id: 7, idle: 10, ad: job({ owner: 'bob' }) }], 10);
    const r = await run([busyA, busyB, idleC], [alice, bob]);
    assert.deepEqual(r.matches, []);
    assert.deepEqual([...r.reserved].sort(), ['slot1@a', 'slot1@b']);
    assert.deepEqual(
      r.left.map((ad) => ad.lookupJS('Name')),
      ['slot1@c'],
      'bob may only use the host the gang does not need',
    );

    // the same gang behind a better-placed submitter reserves nothing
    const alice2 = submitter('alice', [{ id: 1, idle: 1, ad: gang(2, 'scatter', 4) }], 20);
    const r2 = await run(
      [pslot('a', 2, { TotalSlotCpus: '4' }), pslot('b', 2, { TotalSlotCpus: '4' })],
      [alice2, submitter('bob', [{ id: 7, idle: 10, ad: job({ owner: 'bob' }) }], 10)],
    );
    assert.equal(r2.reserved.size, 0);
    assert.equal(r2.left.length, 2);
  });

  test("negotiator – a submitter's gangs past NEGOTIATOR_MAX_TIME_PER_SUBMITTER wait; the next submitter's gang is placed", async () => {
    // any time at all is past a bound of 0 ms: mallory (first in fair-share order) tries one gang, not three
    const mallory = submitter(
      'mallory',
      [1, 2, 3].map((id) => ({ id, idle: 1, ad: gang(2, 'free', 1, 'mallory') })),
      0.5,
    );
    const bob = submitter('bob', [{ id: 9, idle: 1, ad: gang(2, 'free', 1, 'bob') }], 5);
    const split = splitGangs([mallory, bob]);
    const round = await matchGangs(split.candidates, gangSlots([pslot('a', 8)]), split.best, 0);
    assert.deepEqual(round.outOfTime, ['mallory@schedd']);
    assert.deepEqual(
      round.matches.map((m) => [m.submitter, m.autocluster]),
      [
        ['mallory@schedd', 1],
        ['bob@schedd', 9],
      ],
    );
    assert.ok(round.spentMs.get('mallory@schedd')! > 0, 'the time taken is carried to the matchmaker');
  });

  test("negotiator – a user's accounting groups share that user's time for gangs too", async () => {
    const groups = [1, 2, 3].map((i) =>
      submitter(`g${i}.mallory`, [{ id: i, idle: 1, ad: gang(2, 'free', 1, 'mallory') }], 0.5),
    );
    const bob = submitter('bob', [{ id: 9, idle: 1, ad: gang(2, 'free', 1, 'bob') }], 5);
    const split = splitGangs([...groups, bob]);
    const round = await matchGangs(split.candidates, gangSlots([pslot('a', 8)]), split.best, 0);
    assert.deepEqual(round.outOfTime, ['g2.mallory@schedd', 'g3.mallory@schedd']);
    assert.deepEqual(
      round.matches.map((m) => m.submitter),
      ['g1.mallory@schedd', 'bob@schedd'],
    );
  });

  test('negotiator – backfill: a reserved slot is offered only to jobs whose run-time bound ends before the reservation starts', async () => {
    const now = 1_000_000;
    const busyA = pslot('a', 2, { TotalSlotCpus: '4' });
    const busyB = pslot('b', 2, { TotalSlotCpus: '4' });
    const running = (name: string, attrs: Record<string, string>) =>
      slot({
        name,
        cpus: 2,
        attrs: { DynamicSlot: 'true', State: lit('Claimed'), Activity: lit('Busy'), JobId: lit('3.0'), ...attrs },
      });
    const alice = submitter('alice', [{ id: 1, idle: 1, ad: gang(2, 'scatter', 4) }], 0.5);
    const split = splitGangs([alice]);
    const tracked = gangSlots([busyA, busyB]);
    const round = await matchGangs(split.candidates, tracked, split.best);
    assert.deepEqual([...round.reserved].sort(), ['slot1@a', 'slot1@b']);

    // the jobs on the reserved slots end by now + 3600 at the latest: the reservation starts a margin later
    const ads = [
      busyA,
      busyB,
      running('slot1_1@a', { JobEndsBy: String(now + 3600) }),
      running('slot1_1@b', { JobEndsBy: String(now + 1800) }),
      running('slot1_1@c', {}),
    ];
    const start = reservationStart(ads, round.reserved, now)!;
    assert.ok(start >= now + 3600, `after the last bound: ${start - now}`);
    const left = slotsLeft([busyA, busyB], tracked, round.reserved, start - now);
    assert.deepEqual(
      left.map((ad) => ad.lookupJS('Name')),
      ['slot1@a', 'slot1@b'],
    );
    const fits = (attrs: Record<string, string>) => symmetricMatch(job({ attrs }), left[0]!);
    assert.equal(fits({ AllowedJobDuration: '600' }), true, 'a job sure to end before it backfills');
    assert.equal(
      fits({ AllowedJobDuration: String(start - now + 1) }),
      false,
      'one that could run past its start does not',
    );
    assert.equal(fits({}), false, 'nor one without a bound');

    // a job on a reserved slot without a bound: the start is unknown, nothing is backfilled
    assert.equal(reservationStart([...ads, running('slot1_2@a', {})], round.reserved, now), undefined);
    assert.deepEqual(slotsLeft([busyA, busyB], tracked, round.reserved, undefined), []);
  });

  test('dq -analyze – an idle gang is told apart: fits now, fits once jobs end, or waits for more hosts', () => {
    const g = gang(3, 'scatter', 2);
    assert.match(gangWhy(g, [pslot('a', 4), pslot('b', 4), pslot('c', 4)])!, /can take every chunk now/);
    assert.match(
      gangWhy(g, [pslot('a', 1, { TotalSlotCpus: '4' }), pslot('b', 4), pslot('c', 4)])!,
      /only once running jobs end/,
    );
    assert.match(
      gangWhy(g, [pslot('a', 4), pslot('b', 4)])!,
      /cannot hold it even when idle: 2 hosts can take a chunk \(a, b\)\. It waits until more hosts join/,
    );
    assert.equal(gangWhy(job(), [pslot('a', 4)]), undefined);
  });
});
