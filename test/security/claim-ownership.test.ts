// Claims belong to hosts: the schedd takes job events and input requests for a claim only from a startd on
// the host of the slot it gave the claim to, and a startd lets a claim be used only by the schedd host that
// made it. Daemon identities are made here directly (how daemons prove them is the transport's business).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { Config, parseConfigText } from '../../lib/config/load.js';
import type { DaemonRole } from '../../lib/rpc/auth.js';
import type { CallContext } from '../../lib/rpc/server.js';
import { Machine } from '../../daemons/startd/slots.js';
import { Startd } from '../../daemons/startd/startd.js';
import { startdService } from '../../daemons/startd/service.js';
import type { EventReporter } from '../../daemons/startd/reporter.js';
import type { Launchers } from '../../daemons/startd/launcher.js';
import { JobQueue } from '../../daemons/schedd/queue.js';
import { Schedd } from '../../daemons/schedd/schedd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import { scheddService } from '../../daemons/schedd/service.js';
import type { FsAuth } from '../../daemons/schedd/fs-auth.js';
import { openQueueDb } from '../../daemons/schedd/store/db.js';

const log = pino({ level: 'silent' });
const as = (role: DaemonRole, host: string): CallContext => ({
  identity: { kind: 'daemon', host, roles: new Set([role]), name: `${role}@${host}`, admin: false },
  peer: 'test',
  cancelled: () => false,
});
const denied = (e: unknown) => (e as { code?: string }).code === 'PERMISSION_DENIED';

describe('startd – a claim is used only by the schedd host that made it', () => {
  const config = new Config('/nonexistent-dsched-home', [{ source: 'test', entries: parseConfigText('', 'test') }]);
  const machine = new Machine('exec1', 'exec1', config, { cpus: 2, memory: 1024, disk: 10000, custom: {} }, 'exec1:9', {
    custom: [],
    benchmarks: { kflops: 1, mips: 1, durationMs: 1 },
  });
  const reporter = { endOf: () => undefined, readdress: () => undefined } as unknown as EventReporter;
  const startd = new Startd(machine, config, log, reporter, {} as Launchers);
  const svc = startdService(startd);
  const call = (m: string, req: object, ctx: CallContext) => svc.unary[m]!(req, ctx);
  const owner = as('schedd', 'central');
  const other = as('schedd', 'rogue');

  test('startd – another schedd host cannot activate, stop, release, renew or look at the claim', async () => {
    const reply = (await call(
      'RequestClaim',
      {
        slot: 'slot1@exec1',
        job: { attrs: { RequestCpus: '1', RequestMemory: '64', RequestDisk: '10', Requirements: 'true' } },
        schedd: 'central',
        schedd_address: 'central:1',
        lease: 60,
        activate: false,
        claim: 'c1',
      },
      owner,
    )) as { claim: string };
    assert.equal(reply.claim, 'c1');
    await assert.rejects(async () => call('ActivateClaim', { claim: 'c1', job: { attrs: {} } }, other), denied);
    // batched, the claim it does not hold is refused alone (with why), and nothing starts
    const batch = (await call(
      'ActivateClaims',
      {
        claims: [
          { claim: 'c1', job: { attrs: {} } },
          { claim: 'nope', job: { attrs: {} } },
        ],
      },
      other,
    )) as { errors: string[] };
    assert.match(batch.errors[0]!, /claimed by the schedd on central, not by one on rogue/);
    assert.match(batch.errors[1]!, /no such claim/);
    assert.equal(machine.dslots.get('c1')!.job, undefined, 'no job started on the claim');
    assert.throws(() => call('DeactivateClaim', { claim: 'c1', fast: true, reason: 'x' }, other), denied);
    assert.throws(() => call('ReleaseClaim', { claim: 'c1' }, other), denied);
    const d = machine.dslots.get('c1')!;
    const lease = d.leaseExpires;
    // the reply names the startd, so a schedd takes "no such claim" only from the claim's own startd
    assert.deepEqual(call('RenewLeases', { claims: ['c1'], lease: 9999, schedd_address: 'rogue:1' }, other), {
      name: 'exec1',
      unknown: ['c1'],
    });
    assert.deepEqual(call('ClaimStatus', { claims: ['c1'], schedd_address: 'rogue:1' }, other), {
      claims: [{ claim: 'c1', state: 'unknown' }],
      name: 'exec1',
    });
    assert.equal(d.leaseExpires, lease, 'the lease was not renewed');
    assert.equal(d.scheddAddress, 'central:1', "the claim's events still go to its schedd");
    // the schedd that holds it can
    assert.deepEqual(call('ClaimStatus', { claims: ['c1'], schedd_address: 'central:1' }, owner), {
      name: 'exec1',
      claims: [{ claim: 'c1', state: 'idle' }],
    });
    call('ReleaseClaim', { claim: 'c1' }, owner);
    assert.equal(machine.dslots.has('c1'), false);
  });
});

describe("schedd – job events and input only from a startd on the claim's host", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-claims-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openQueueDb(join(dir, 'job_queue.db'));
  const queue = new JobQueue(db);
  const schedd = new Schedd(queue, log, {
    name: 'central',
    address: 'central:2',
    hostName: 'central',
    lease: () => 60,
    isAdmin: () => false,
    creds: {} as ClientCredentials,
    maxProcs: () => 100,
    mailCommand: () => '',
    spool: dir,
  });
  const svc = scheddService(schedd, {} as FsAuth, { cpuLimitSec: () => 0, privateAttrs: () => [] });

  test('schedd – a startd of another host is refused, the right one is heard', async () => {
    const cluster = queue.reserveCluster('nobody');
    const [job] = schedd.submit(
      { kind: 'user', name: 'nobody', admin: false },
      cluster,
      { Cmd: '"/bin/true"', Iwd: JSON.stringify(dir) },
      [{}],
    );
    // as if claimed on exec1's slot and running there
    job!.claim = { id: 'c1', startd: 'exec1:9', slot: 'slot1_1@exec1' };
    const ev = {
      claim: 'c1',
      id: { cluster, proc: 0 },
      type: 'update',
      update: { attrs: { Progress: '0.5' } },
      seq: 's1',
      time: 0,
    };
    await assert.rejects(async () => svc.unary.JobEvents!({ events: [ev] }, as('startd', 'exec2')), denied);
    assert.equal(queue.value(job!, 'Progress'), undefined, 'the refused event changed nothing');
    await assert.rejects(async () => schedd.sendInput('c1', { cluster, proc: 0 }, async () => {}, 'exec2'), denied);
    assert.deepEqual(await svc.unary.JobEvents!({ events: [ev] }, as('startd', 'EXEC1')), { acked: ['s1'] });
    assert.equal(queue.value(job!, 'Progress'), 0.5);
    schedd.close();
  });
});
