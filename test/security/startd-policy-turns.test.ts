// The startd evaluates the machine policy (WANT_SUSPEND, SUSPEND, CONTINUE, PREEMPT, WANT_VACATE, KILL) with each
// running job's ad as TARGET every POLLING_INTERVAL. A policy that reads an attribute a job sets (PREEMPT =
// TARGET.WantPreempt =?= true) evaluates the user's expression there, up to the ClassAd bounds (a tenth of a
// second and more): all jobs in one turn kept the startd from everything else (its calls, its reports, every
// other job's files) for as long as they took, every POLLING_INTERVAL. Now a slice of jobs per turn.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ClassAd } from '../../grammar/classad/index.js';
import { Config, parseConfigText } from '../../lib/config/load.js';
import { JobAd } from '../../daemons/startd/job-ad.js';
import { JobMonitor } from '../../daemons/startd/policy.js';
import type { EventReporter } from '../../daemons/startd/reporter.js';
import type { DynamicSlot } from '../../daemons/startd/slots.js';
import type { Startd } from '../../daemons/startd/startd.js';
import { withTurns } from '../unit/event-loop-turns.js';

describe('security – costly machine policy', () => {
  test("security – users' costly attributes read by the machine policy let the startd serve others between jobs", async () => {
    const config = new Config('/nonexistent-dsched-home', [
      { source: 'test', entries: parseConfigText('PREEMPT = TARGET.WantPreempt =?= true\n', 'test') },
    ]);
    const startd = { machine: { dslotAd: () => ({ Name: '"slot1_1@exec"' }) } } as unknown as Startd;
    const reporter = { send: () => {} } as unknown as EventReporter;
    const monitor = new JobMonitor(startd, config, pino({ level: 'silent' }), reporter, 'rss');
    // a 64 KiB string built in a few steps, then a substitution of each of its characters: false, and costly
    const attrs: Record<string, string> = { a0: '"xxxxxxxx"' };
    for (let i = 1; i <= 13; i++) attrs[`a${i}`] = `strcat(a${i - 1}, a${i - 1})`;
    attrs.WantPreempt = 'size(replaceAll("x", a13, "yy")) < 0';
    for (let i = 0; i < 8; i++) {
      const job = { cluster: 1, proc: i, started: { running: true }, activity: 'Busy' };
      monitor.started(
        { claim: `c${i}`, job, name: `slot1_${i}@exec` } as unknown as DynamicSlot,
        new JobAd(ClassAd.fromRecord(attrs)),
      );
    }
    const { turns } = await withTurns(async () => monitor.evaluatePolicy());
    assert.ok(turns >= 4, `the event loop turned ${turns} times while 8 costly jobs were evaluated`);
  });
});
