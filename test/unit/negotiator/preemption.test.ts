// Preemption in the matchmaker: priority preemption under PREEMPTION_REQUIREMENTS, machine RANK preemption,
// retirement time, and never more than needed.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd, parseExpr } from '../../../grammar/classad/index.js';
import { Matchmaker, type ClaimedSlotInput } from '../../../daemons/negotiator/matchmaker.js';
import { job, lit, slot, submitter } from './helpers.js';

function claimed(
  name: string,
  remote: string,
  priority: number,
  opts: { rank?: string; currentOwner?: string; retirementLeft?: number; runSeconds?: number } = {},
): ClaimedSlotInput {
  const ad = slot({
    name,
    rank: opts.rank,
    attrs: { State: lit('Claimed'), Activity: lit('Busy'), RemoteOwner: lit(remote), JobId: lit('9.0') },
  });
  return {
    ad,
    remoteSubmitter: `${remote}@schedd`,
    remotePriority: priority,
    currentJob: job({ owner: opts.currentOwner ?? remote }),
    runSeconds: opts.runSeconds ?? 600,
    retirementLeft: opts.retirementLeft ?? 0,
  };
}
const REQ = parseExpr('RemoteUserPrio > SubmitterUserPrio * 1.2');

function run(
  claims: ClaimedSlotInput[],
  opts: { requirements?: boolean; free?: number; idle?: number; priority?: number } = {},
) {
  return new Matchmaker({
    slots: Array.from({ length: opts.free ?? 0 }, (_, i) => slot({ name: `slot1@free${i}` })),
    submitters: [submitter('alice', [{ id: 1, idle: opts.idle ?? 1, ad: job() }], opts.priority ?? 0.5)],
    claimed: claims,
    preemption: { requirements: opts.requirements === false ? undefined : REQ, rank: parseExpr('RemoteUserPrio') },
  }).negotiate();
}

describe('preemption – priority', () => {
  test('preemption – a better-priority submitter preempts when PREEMPTION_REQUIREMENTS holds', () => {
    const r = run([claimed('slot1_1@n1', 'bob', 10)]);
    assert.deepEqual(
      r.preemptions.map((p) => [p.slot, p.victim, p.reason]),
      [['slot1_1@n1', 'bob@schedd', 'priority']],
    );
    assert.equal(r.matches.length, 0);
  });

  test('preemption – none when PREEMPTION_REQUIREMENTS is FALSE, or the priorities are too close', () => {
    assert.equal(run([claimed('slot1_1@n1', 'bob', 10)], { requirements: false }).preemptions.length, 0);
    assert.equal(run([claimed('slot1_1@n1', 'bob', 0.55)]).preemptions.length, 0);
    // a worse-priority submitter never preempts a better one
    assert.equal(run([claimed('slot1_1@n1', 'bob', 0.5)], { priority: 10 }).preemptions.length, 0);
  });

  test('preemption – a free slot is used before anything is preempted', () => {
    const r = run([claimed('slot1_1@n1', 'bob', 10)], { free: 1 });
    assert.equal(r.preemptions.length, 0);
    assert.deepEqual(
      r.matches.map((m) => m.slot),
      ['slot1@free0'],
    );
  });

  test('preemption – no more slots than idle jobs, the worst-priority victim first', () => {
    const r = run(
      [claimed('slot1_1@n1', 'bob', 10), claimed('slot1_1@n2', 'carol', 50), claimed('slot1_1@n3', 'dave', 20)],
      { idle: 2 },
    );
    assert.deepEqual(r.preemptions.map((p) => p.victim).sort(), ['carol@schedd', 'dave@schedd']);
  });

  test('preemption – a job with retirement time left is not preempted', () => {
    assert.equal(run([claimed('slot1_1@n1', 'bob', 10, { retirementLeft: 30 })]).preemptions.length, 0);
  });

  test('preemption – the job must fit in the slot it would take', () => {
    const c = claimed('slot1_1@n1', 'bob', 10);
    c.ad.setValue('Memory', 512);
    assert.equal(run([c]).preemptions.length, 0);
  });
});

describe('preemption – machine RANK', () => {
  test('preemption – a machine that ranks the new job higher takes it, without PREEMPTION_REQUIREMENTS', () => {
    const r = run([claimed('slot1_1@n1', 'bob', 0.5, { rank: 'TARGET.Owner == "alice"' })], {
      requirements: false,
      priority: 10,
    });
    assert.deepEqual(
      r.preemptions.map((p) => [p.slot, p.reason]),
      [['slot1_1@n1', 'rank']],
    );
  });

  test('preemption – priority preemption never goes against the machine RANK', () => {
    const r = run([claimed('slot1_1@n1', 'bob', 10, { rank: 'TARGET.Owner == "bob"' })]);
    assert.equal(r.preemptions.length, 0);
  });

  test("preemption – the machine's Rank of the running job is what the new one must beat", () => {
    const same = claimed('slot1_1@n1', 'bob', 0.5, { rank: 'TARGET.Owner == "alice"', currentOwner: 'alice' });
    assert.equal(run([same], { requirements: false }).preemptions.length, 0);
    const unknown = claimed('slot1_1@n1', 'bob', 0.5, { rank: 'TARGET.Owner == "alice"' });
    unknown.currentJob = new ClassAd();
    assert.equal(run([unknown], { requirements: false }).preemptions.length, 1);
  });
});

describe('preemption – what a vacated slot frees', () => {
  test("preemption – the partitionable slot's leftovers count: a 2-cpu job may preempt a 1-cpu slot beside 1 free cpu", () => {
    const victim = claimed('slot1_1@n1', 'bob', 0.5, { rank: 'TARGET.Owner == "alice"' });
    const bigJob = job({ cpus: 2 });
    const pslot = slot({ name: 'slot1@n1', cpus: 1, partitionable: true, rank: 'TARGET.Owner == "alice"' });
    const mm = (slots: ClassAd[]) =>
      new Matchmaker({
        slots,
        submitters: [submitter('alice', [{ id: 1, idle: 1, ad: bigJob }], 10)],
        claimed: [victim],
        preemption: {},
      }).negotiate();
    assert.deepEqual(
      mm([pslot]).preemptions.map((p) => p.slot),
      ['slot1_1@n1'],
    );
    // without the free cpu beside it, the slot alone is too small
    assert.equal(mm([]).preemptions.length, 0);
  });

  test('preemption – the freed resources go to the reserving autocluster before an older one', () => {
    const pslot = () => slot({ name: 'slot1@n1', cpus: 1, partitionable: true });
    const acs = () => [
      { id: 1, idle: 1, ad: job() },
      { id: 2, idle: 1, ad: job({ attrs: { IsUrgent: 'true' } }) },
    ];
    const reservations = [{ schedd: 'schedd:1', autocluster: 2, startd: 'n1:9618' }];
    const with_ = new Matchmaker({
      slots: [pslot()],
      submitters: [submitter('alice', acs())],
      reservations,
    }).negotiate();
    assert.deepEqual(
      with_.matches.map((m) => m.autocluster),
      [2],
    );
    assert.deepEqual(with_.reservationsPlaced, [0]);
    const without = new Matchmaker({ slots: [pslot()], submitters: [submitter('alice', acs())] }).negotiate();
    assert.deepEqual(
      without.matches.map((m) => m.autocluster),
      [1],
    );
  });

  test('preemption – until the freed resources are back, the reserving job waits: it runs nowhere else', () => {
    const r = new Matchmaker({
      slots: [slot({ name: 'slot1@other' })],
      submitters: [submitter('alice', [{ id: 2, idle: 1, ad: job() }])],
      reservations: [{ schedd: 'schedd:1', autocluster: 2, startd: 'n1:9618' }],
    }).negotiate();
    assert.deepEqual(r.matches, []);
    assert.deepEqual(r.reservationsPlaced, []);
  });
});
