// NEGOTIATOR_MAX_TIME_PER_SUBMITTER: a submitter whose autoclusters take longer than its time in a negotiation
// is left for the rest of it, the others are matched in the same negotiation; and the negotiation gives the
// event loop turns while it runs.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseExpr } from '../../../grammar/classad/index.js';
import { Matchmaker, type AutoclusterInput } from '../../../daemons/negotiator/matchmaker.js';
import { withTurns } from '../event-loop-turns.js';
import { job, slot, submitter } from './helpers.js';

/** 64 KiB built in a few steps, then each character substituted: costly within the bound, and false. */
function costly(i: number): AutoclusterInput {
  const attrs: Record<string, string> = { a0: '"xxxxxxxx"' };
  for (let n = 1; n <= 13; n++) attrs[`a${n}`] = `strcat(a${n - 1}, a${n - 1})`;
  return {
    id: i,
    idle: 1,
    ad: job({ owner: 'mallory', attrs, requirements: `size(replaceAll("x", a13, "yy")) < ${i}` }),
  };
}
const slots = () => [slot({ name: 'slot1@a' }), slot({ name: 'slot2@a' })];
const acs = (n: number) => Array.from({ length: n }, (_, i) => costly(i + 1));

/** mallory (the better priority, so first) with these autoclusters, then bob, under a bound of 0 ms. */
function malloryOutOfTime(mallorys: AutoclusterInput[]): void {
  // any time at all is past a bound of 0 ms
  const r = new Matchmaker({
    slots: slots(),
    submitters: [
      submitter('mallory', mallorys, 0.5),
      submitter('bob', [{ id: 9, idle: 1, ad: job({ owner: 'bob' }) }], 5),
    ],
    maxTimePerSubmitterMs: 0,
  }).negotiate();
  assert.deepEqual(r.outOfTime, ['mallory@schedd']);
  assert.deepEqual(
    r.matches.map((m) => [m.submitter, m.autocluster]),
    [['bob@schedd', 9]],
  );
}

describe('matchmaker – time per submitter', () => {
  test('matchmaker – a submitter out of time is left for this negotiation; the next one is still matched', () => {
    malloryOutOfTime(acs(3));
  });

  test('matchmaker – costly requests (RequestCpus) count against the submitter too', () => {
    const costlyRequest = (i: number): AutoclusterInput => {
      const { ad } = costly(i);
      ad.set('RequestCpus', parseExpr('ifThenElse(size(replaceAll("x", a13, "yy")) > 0, 100, 100)'));
      ad.set('Requirements', parseExpr('true'));
      return { id: i, idle: 1, ad };
    };
    malloryOutOfTime([1, 2, 3].map(costlyRequest));
  });

  test('matchmaker – without a bound every autocluster is tried and nobody is out of time', () => {
    const r = new Matchmaker({
      slots: slots(),
      submitters: [
        submitter('mallory', acs(2), 0.5),
        submitter('bob', [{ id: 9, idle: 1, ad: job({ owner: 'bob' }) }], 5),
      ],
    }).negotiate();
    assert.deepEqual(r.outOfTime, []);
    assert.equal(r.matches.length, 1);
  });

  test("matchmaker – a user's accounting groups share that user's time (one group per autocluster gets no more)", () => {
    // a user names any group (accounting_group = gN), each a submitter of its own: 600 groups of one costly
    // autocluster each took a full evaluation apiece, as if there were no bound
    const r = new Matchmaker({
      slots: slots(),
      submitters: [
        ...[1, 2, 3].map((i) => submitter(`g${i}.mallory`, [costly(i)], 0.5)),
        submitter('bob', [{ id: 9, idle: 1, ad: job({ owner: 'bob' }) }], 5),
      ],
      maxTimePerSubmitterMs: 0,
    }).negotiate();
    assert.deepEqual(r.outOfTime, ['g2.mallory@schedd', 'g3.mallory@schedd']);
    assert.deepEqual(
      r.matches.map((m) => [m.submitter, m.autocluster]),
      [['bob@schedd', 9]],
    );
  });

  test('matchmaker – negotiateInTurns lets the event loop turn between costly autoclusters', async () => {
    const { value: r, turns } = await withTurns(() =>
      new Matchmaker({ slots: slots(), submitters: [submitter('mallory', acs(4), 0.5)] }).negotiateInTurns(),
    );
    assert.equal(r.matches.length, 0);
    // each costly autocluster takes longer than a slice: the loop turned between them
    assert.ok(turns >= 2, `the event loop turned ${turns} times`);
  });
});
