// dsched-rank's RunRank is callable without a pool credential (a job has none): the rank key is all that
// proves the caller is the parallel job that holds the claim. A wrong key, another chunk's number, or a
// claim the schedd made with a job (an ordinary job that put a key in its own ad) starts nothing.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Config, parseConfigText } from '../../lib/config/load.js';
import { authorize } from '../../lib/rpc/authz.js';
import { Machine } from '../../daemons/startd/slots.js';
import { Startd } from '../../daemons/startd/startd.js';
import type { EventReporter } from '../../daemons/startd/reporter.js';
import type { Starter } from '../../daemons/startd/starter.js';
import { Launchers, ProcessLauncher } from '../../daemons/startd/launcher.js';

const log = pino({ level: 'silent' });
const denied = (e: unknown) => (e as { code?: string }).code === 'PERMISSION_DENIED';
const KEY = 'k'.repeat(32);

describe('security – dsched-rank', () => {
  const config = new Config('/nonexistent-dsched-home', [{ source: 'test', entries: parseConfigText('', 'test') }]);
  const machine = new Machine(
    'exec1',
    'exec1',
    config,
    { cpus: 4, memory: 4096, disk: 100000, custom: {} },
    'exec1:9',
    { custom: [], benchmarks: { kflops: 1, mips: 1, durationMs: 1 } },
  );
  const reporter = { endOf: () => undefined, send: () => {} } as unknown as EventReporter;
  // a starter that must never be asked to start anything here
  const starter = { start: () => assert.fail('nothing may be started') } as unknown as Starter;
  const startd = new Startd(machine, config, log, reporter, new Launchers(new ProcessLauncher(starter)));
  const job = (extra: Record<string, string>) => ({
    attrs: {
      Owner: '"nobody"',
      ClusterId: '1',
      ProcId: '0',
      RequestCpus: '1',
      RequestMemory: '64',
      RequestDisk: '10',
      Requirements: 'true',
      ...extra,
    },
  });

  test("security – dsched-rank: RunRank needs the job's key and its chunk's number; nothing else starts a process", async () => {
    assert.doesNotThrow(
      () => authorize('Startd.RunRank', { kind: 'anonymous', name: '', admin: false } as never),
      'a job calls it without a pool credential',
    );
    await startd.requestClaim(
      {
        slot: 'slot1@exec1',
        job: job({ GangRankKey: `"${KEY}"`, GangNodeNum: '1' }),
        schedd: 'central',
        schedd_address: 'central:1',
        lease: 60,
        activate: false,
        claim: 'follower',
      },
      'central',
    );
    await assert.rejects(
      startd.runRank({ key: 'x'.repeat(32), procno: 1, args: ['/bin/true'] }),
      denied,
      'a guessed key',
    );
    await assert.rejects(
      startd.runRank({ key: KEY, procno: 2, args: ['/bin/true'] }),
      denied,
      "another chunk's number",
    );
    await assert.rejects(startd.runRank({ key: '', procno: 1, args: ['/bin/true'] }), denied, 'no key');
    assert.equal(machine.dslots.get('follower')!.job, undefined);
  });

  test("security – dsched-rank: the first chunk's claim and a claim without the schedd's key run no rank", async () => {
    await startd.requestClaim(
      {
        slot: 'slot1@exec1',
        job: job({ GangRankKey: `"${KEY}"`, GangNodeNum: '0' }),
        schedd: 'central',
        schedd_address: 'central:1',
        lease: 60,
        activate: false,
        claim: 'leader',
      },
      'central',
    );
    await startd.requestClaim(
      {
        slot: 'slot1@exec1',
        job: job({}),
        schedd: 'central',
        schedd_address: 'central:1',
        lease: 60,
        activate: false,
        claim: 'plain',
      },
      'central',
    );
    await assert.rejects(startd.runRank({ key: KEY, procno: 0, args: ['/bin/true'] }), denied);
    assert.equal(machine.dslots.get('leader')!.job, undefined);
    assert.equal(machine.dslots.get('plain')!.job, undefined);
  });
});
