// Fair-share accounts: usage raises the real priority, which decays with the half-life; the accounts are
// saved and taken up again across a negotiator restart, the time away folded in.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { FairShare } from '../../../daemons/negotiator/fair-share.js';

const submitter = (name: string, running: number) =>
  ClassAd.fromRecord({ Name: `"${name}"`, RunningJobs: String(running) });

describe('negotiator – fair share', () => {
  test('fair share – saved accounts come back with their factors; the time away decays the usage by the half-life', () => {
    const before = new FairShare(100);
    before.restore({ at: Date.now(), accounts: [{ name: 'alice@s', real: 40, factor: 1, accumulated: 7 }] });
    before.setFactor('bob@s', 10);
    const saved = before.save();
    // as if the negotiator had been down for one half-life
    const after = new FairShare(100);
    after.restore({ ...saved, at: saved.at - 100_000 });
    after.observe([submitter('alice@s', 0)]);
    const alice = after.list().find((a) => a.name === 'alice@s')!;
    assert.ok(Math.abs(alice.real_priority - 20) < 0.1, `real priority ${alice.real_priority} after one half-life`);
    assert.equal(alice.accumulated_usage, 7);
    assert.equal(after.effectivePriority('bob@s'), 0.5 * 10);
  });

  test('fair share – broken saved records are skipped (a factor below 1, no name)', () => {
    const fs = new FairShare();
    fs.restore({
      at: Date.now(),
      accounts: [
        { name: '', real: 3, factor: 1, accumulated: 0 },
        { name: 'x@s', real: 3, factor: 0, accumulated: 0 },
      ],
    });
    assert.deepEqual(fs.list(), []);
  });

  test("fair share – a nice user's submitter (nice_user jobs, group nice-user) comes after a heavy user", () => {
    const fs = new FairShare(100);
    // alice has used a hundred slots for a long while; her nice jobs have used nothing
    fs.restore({ at: Date.now(), accounts: [{ name: 'alice@s', real: 100, factor: 1, accumulated: 0 }] });
    fs.observe([submitter('alice@s', 100), submitter('nice-user.alice@s', 0)]);
    assert.ok(fs.effectivePriority('nice-user.alice@s') > fs.effectivePriority('alice@s') * 1000);
    assert.equal(fs.list().find((a) => a.name === 'nice-user.alice@s')!.priority_factor, 10_000_000);
  });
});
