// What the negotiator keeps between cycles for a while (a submitter's matches its ad does not count yet, a
// pending preemption, a vacated slot's reservation) lapses after its time on the monotonic clock: a wall clock
// set back (an admin's `date`, NTP) must not keep it, and hold a group below its quota, for that long.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Negotiator } from '../../../daemons/negotiator/cycle.js';
import type { ClientCredentials } from '../../../lib/rpc/tls.js';

interface PendingUsageView {
  addPendingUsage(name: string, usage: number, cpus: number): void;
  usageOf(name: string, advertised: number): number;
}

describe('negotiator clock steps', () => {
  test('negotiator clock steps – matches not yet advertised stop counting after their time, whatever a wall clock set back says', (t) => {
    let mono = 1000;
    let wall = Date.UTC(2026, 0, 1);
    t.mock.method(performance, 'now', () => mono);
    t.mock.method(Date, 'now', () => wall);
    const n = new Negotiator(
      pino({ level: 'silent' }),
      {} as ClientCredentials,
      {} as never,
      {} as never,
      () => ({}) as never,
    ) as unknown as PendingUsageView;
    // 4 cpus matched for alice, whose ad (2 in use) does not show them yet
    n.addPendingUsage('alice', 2, 4);
    assert.equal(n.usageOf('alice', 2), 6, 'counted until her ad shows them');
    // the clock is set an hour back; her ad never shows them (the schedd could not start the jobs)
    wall -= 3_600_000;
    mono += 60_000;
    wall += 60_000;
    assert.equal(n.usageOf('alice', 2), 2, 'no longer counted a minute later');
  });
});
