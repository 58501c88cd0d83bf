// The startd's event reporter (reporter.ts) against a fake schedd: an event the schedd answers for without
// acknowledging it, or cannot be reached for, goes again after a delay that doubles (with jitter) up to a
// bound, and the delay starts over once a batch is taken whole; a step of the wall clock does not move a
// retry. The clocks are mocked: nothing waits.
import { strict as assert } from 'node:assert';
import { afterEach, describe, mock, test, type TestContext } from 'node:test';
import pino from 'pino';
import { EventReporter, RETRY_FIRST_MS, RETRY_MAX_MS } from '../../../daemons/startd/reporter.js';
import type { ScheddClient } from '../../../lib/rpc/clients/schedd.js';
import type { JobEvent } from '../../../lib/rpc/generated/dsched/v1/JobEvent.js';
import type { ClientCredentials } from '../../../lib/rpc/tls.js';

/** A schedd that acknowledges an event only from its `takeFrom`-th delivery on, and records every batch. */
function fakeSchedd(reporter: EventReporter, opts: { takeFrom?: number; fail?: boolean } = {}) {
  const batches: string[][] = [];
  const seen = new Map<string, number>();
  reporter.client = () =>
    ({
      jobEvents: (events: JobEvent[]) => {
        batches.push(events.map((e) => String(e.id?.proc)));
        if (opts.fail) return Promise.reject(new Error('connection refused'));
        const acked = events
          .filter((e) => {
            const n = (seen.get(e.seq!) ?? 0) + 1;
            seen.set(e.seq!, n);
            return n >= (opts.takeFrom ?? 1);
          })
          .map((e) => e.seq!);
        return Promise.resolve({ acked });
      },
    }) as unknown as ScheddClient;
  return batches;
}

/** Let the reporter's pending promises and immediates run (the timers are mocked; these are not). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Mocked timers, a monotonic clock (performance.now, which the reporter's retries are measured on) and a wall
 * clock (Date.now) that move with them; `step` sets the wall clock alone, as an admin's `date` or NTP does.
 */
function mockClocks(t: TestContext) {
  mock.timers.enable({ apis: ['setTimeout'] });
  let mono = 0;
  let wall = Date.UTC(2026, 0, 1);
  t.mock.method(performance, 'now', () => mono);
  t.mock.method(Date, 'now', () => wall);
  const tick = (ms: number) => {
    mono += ms;
    wall += ms;
    mock.timers.tick(ms);
  };
  return Object.assign(tick, { step: (ms: number) => (wall += ms) });
}

const update = (proc: number) => ({ claim: 'c', id: { cluster: 1, proc }, type: 'update' });

describe('startd event reporter', () => {
  afterEach(() => mock.timers.reset());

  test('event reporter – an event the schedd does not acknowledge goes again after a doubling delay, not at once; the delay starts over after a success', async (t) => {
    const tick = mockClocks(t);
    t.mock.method(Math, 'random', () => 1); // the longest delay of each step
    const reporter = new EventReporter(pino({ level: 'silent' }), {} as ClientCredentials);
    const batches = fakeSchedd(reporter, { takeFrom: 4 });
    reporter.send('schedd:1', update(0));
    await settle();
    assert.equal(batches.length, 1);
    for (const step of [RETRY_FIRST_MS, 2 * RETRY_FIRST_MS, 4 * RETRY_FIRST_MS]) {
      const before: number = batches.length;
      tick(step - 1);
      await settle();
      assert.equal(batches.length, before, `not again before ${step} ms`);
      tick(1);
      await settle();
      assert.equal(batches.length, before + 1, `again after ${step} ms`);
    }
    // taken on the fourth delivery: nothing more goes
    tick(RETRY_MAX_MS * 2);
    await settle();
    assert.equal(batches.length, 4);
    // the delay started over
    reporter.send('schedd:1', update(1));
    await settle();
    assert.equal(batches.length, 5);
    tick(RETRY_FIRST_MS);
    await settle();
    assert.equal(batches.length, 6);
    reporter.close();
  });

  test('event reporter – a new event goes at once while an unacknowledged one waits, without it', async (t) => {
    const tick = mockClocks(t);
    const reporter = new EventReporter(pino({ level: 'silent' }), {} as ClientCredentials);
    const batches = fakeSchedd(reporter, { takeFrom: 2 });
    reporter.send('schedd:1', update(0));
    await settle();
    reporter.send('schedd:1', update(1));
    await settle();
    assert.deepEqual(batches, [['0'], ['1']]);
    tick(RETRY_MAX_MS);
    await settle();
    assert.deepEqual(batches.slice(2).flat().sort(), ['0', '1'], 'each once more, after its delay');
    reporter.close();
  });

  test('event reporter – an unreachable schedd is retried with a jittered delay bounded by the maximum', async (t) => {
    const tick = mockClocks(t);
    let r = 0;
    t.mock.method(Math, 'random', () => (r = (r + 0.37) % 1));
    const reporter = new EventReporter(pino({ level: 'silent' }), {} as ClientCredentials);
    const batches = fakeSchedd(reporter, { fail: true });
    reporter.send('schedd:1', update(0));
    await settle();
    for (let i = 0; i < 12; i++) {
      // never sooner than half the step, never later than the bound
      tick(RETRY_FIRST_MS / 2 - 1);
      await settle();
      assert.equal(batches.length, i + 1, 'not sooner than half the first step');
      tick(RETRY_MAX_MS - RETRY_FIRST_MS / 2 + 1);
      await settle();
      assert.equal(batches.length, i + 2, `try ${i + 2} within ${RETRY_MAX_MS} ms`);
    }
    reporter.close();
  });

  test('event reporter – a stopping startd waits for an event not tried yet though an earlier batch to its schedd failed, and gives up on events tried and not taken', async (t) => {
    mockClocks(t);
    const reporter = new EventReporter(pino({ level: 'silent' }), {} as ClientCredentials);
    const answers: Array<(acked: string[] | Error) => void> = [];
    reporter.client = () =>
      ({
        jobEvents: () =>
          new Promise((resolve, reject) =>
            answers.push((a) => (a instanceof Error ? reject(a) : resolve({ acked: a }))),
          ),
      }) as unknown as ScheddClient;
    reporter.send('schedd:1', update(0));
    await settle();
    assert.equal(answers.length, 1);
    reporter.send('schedd:1', update(1)); // waits behind the batch in flight
    assert.equal(reporter.settled(), false, 'a batch is in flight');
    answers[0]!(new Error('connection refused'));
    // the failure is taken (microtasks only): the new event is not tried yet
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(reporter.settled(), false, 'the event not tried yet is waited for');
    await settle();
    assert.equal(answers.length, 2, 'the new event goes');
    answers[1]!(new Error('connection refused'));
    await settle();
    assert.equal(reporter.settled(), true, 'both tried and not taken: given up');
    reporter.close();
  });

  test('event reporter – a wall clock stepped back while an event waits for its retry does not hold the retry back', async (t) => {
    const tick = mockClocks(t);
    t.mock.method(Math, 'random', () => 1);
    const reporter = new EventReporter(pino({ level: 'silent' }), {} as ClientCredentials);
    const batches = fakeSchedd(reporter, { takeFrom: 2 });
    reporter.send('schedd:1', update(0));
    await settle();
    assert.equal(batches.length, 1);
    // an admin's `date`, or NTP, sets the clock an hour back while the event waits
    tick.step(-3_600_000);
    tick(RETRY_FIRST_MS);
    await settle();
    assert.equal(batches.length, 2, 'sent again after its delay, not an hour later');
    reporter.close();
  });
});
