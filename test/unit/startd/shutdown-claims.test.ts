// A startd being shut down takes no claim and starts no job: a job its shutdown evicted, matched to it again
// at once, would start while its job cgroups are being removed (and be held for that) or die with it.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { pino } from 'pino';
import { Config, parseConfigText } from '../../../lib/config/load.js';
import type { Launchers } from '../../../daemons/startd/launcher.js';
import type { EventReporter } from '../../../daemons/startd/reporter.js';
import { Machine } from '../../../daemons/startd/slots.js';
import { Startd } from '../../../daemons/startd/startd.js';

test('startd – a startd shutting down refuses new claims with CLAIM_REFUSED', async () => {
  const config = new Config('/nonexistent-dsched-home', [{ source: 'test', entries: parseConfigText('', 'test') }]);
  const machine = new Machine('exec1', 'exec1', config, { cpus: 2, memory: 1024, disk: 10000, custom: {} }, 'exec1:9', {
    custom: [],
    benchmarks: { kflops: 1, mips: 1, durationMs: 1 },
  });
  const reporter = { endOf: () => undefined, readdress: () => undefined } as unknown as EventReporter;
  const startd = new Startd(machine, config, pino({ level: 'silent' }), reporter, {
    stop: () => {},
  } as unknown as Launchers);
  const ask = { slot: 'slot1@exec1', schedd: 'central', schedd_address: 'central:1', lease: 60, activate: false };
  const job = { attrs: { RequestCpus: '1', RequestMemory: '64', RequestDisk: '10', Requirements: 'true' } };
  const request = (claim: string) =>
    startd.requestClaim({ ...ask, job, claim } as Parameters<Startd['requestClaim']>[0], 'central');
  assert.equal((await request('before')).claim, 'before');
  await startd.shutdown(0);
  await assert.rejects(
    request('after'),
    (e: { code?: string; message: string }) => e.code === 'CLAIM_REFUSED' && /shutting down/.test(e.message),
  );
});
