// The collector's per-ad checks, at the handler: a daemon advertises and withdraws only ads of its own role
// and host (a startd its own machine, a schedd its own Scheduler and Submitter ads). Daemon identities are
// made here directly: how daemons prove them (tokens today, certificates next) does not change these rules.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AdStore } from '../../daemons/collector/ad-store.js';
import { collectorService } from '../../daemons/collector/service.js';
import type { Admission } from '../../daemons/collector/admission.js';
import type { DaemonRole, Identity } from '../../lib/rpc/auth.js';
import type { CallContext } from '../../lib/rpc/server.js';

const q = (s: string) => JSON.stringify(s);
const daemon = (role: DaemonRole, host: string): CallContext => ({
  identity: { kind: 'daemon', host, roles: new Set([role]), name: `${role}@${host}`, admin: false } satisfies Identity,
  peer: 'test',
  cancelled: () => false,
});
const machineAd = (name: string, machine: string) => ({
  type: 'Machine',
  name,
  instance: 'i1',
  lifetime: 60,
  ad: { attrs: { MyType: q('Machine'), Name: q(name), Machine: q(machine) } },
});

function setup() {
  const store = new AdStore();
  const svc = collectorService(store, pino({ level: 'silent' }), () => 60, {} as Admission);
  const advertise = (ctx: CallContext, updates: object[]) =>
    svc.unary.Advertise!({ updates }, ctx) as { accepted: number };
  const invalidate = (ctx: CallContext, type: string, names: string[]) =>
    svc.unary.Invalidate!({ type, names, instance: '' }, ctx);
  const names = async (type: string) =>
    (await store.query(type, '', [])).map((a) => JSON.parse(a.Name!) as string).sort();
  return { store, advertise, invalidate, names };
}

const denied = (e: unknown) => (e as { code?: string }).code === 'PERMISSION_DENIED';

describe('collector – a daemon advertises only its own ads', () => {
  test('collector – a startd advertises its own machine', async () => {
    const c = setup();
    assert.equal(
      c.advertise(daemon('startd', 'exec1'), [machineAd('slot1@exec1', 'exec1'), machineAd('slot1_1@EXEC1', 'Exec1')])
        .accepted,
      2,
    );
    assert.deepEqual(await c.names('Machine'), ['slot1@exec1', 'slot1_1@EXEC1']);
  });

  test('collector – a startd cannot advertise a Scheduler ad', async () => {
    const c = setup();
    const sched = {
      type: 'Scheduler',
      name: 'exec1',
      instance: 'i1',
      lifetime: 60,
      ad: { attrs: { Name: q('exec1'), Machine: q('exec1'), MyAddress: q('10.0.0.9:9618') } },
    };
    assert.throws(
      () => c.advertise(daemon('startd', 'exec1'), [sched]),
      (e) => denied(e) && /Scheduler ads come from a schedd/.test((e as Error).message),
    );
    assert.deepEqual(await c.names('Scheduler'), []);
  });

  test("collector – a startd cannot advertise another host's Machine ad, by name or by Machine", async () => {
    const c = setup();
    const me = daemon('startd', 'exec1');
    assert.throws(() => c.advertise(me, [machineAd('slot1@exec2', 'exec2')]), denied);
    assert.throws(() => c.advertise(me, [machineAd('slot1@exec2', 'exec1')]), denied, 'the name is of another host');
    assert.throws(
      () => c.advertise(me, [machineAd('slot1@exec1', 'exec2')]),
      denied,
      'the Machine attribute is of another host',
    );
    const noMachine = {
      type: 'Machine',
      name: 'slot1@exec1',
      instance: 'i1',
      lifetime: 60,
      ad: { attrs: { Name: q('slot1@exec1') } },
    };
    assert.throws(() => c.advertise(me, [noMachine]), denied, 'a Machine ad names its Machine');
    const lying = {
      ...machineAd('slot1@exec1', 'exec1'),
      ad: { attrs: { Name: q('slot1@exec2'), Machine: q('exec1') } },
    };
    assert.throws(() => c.advertise(me, [lying]), denied, "the ad's Name attribute is the name it is stored under");
    // one bad ad refuses the whole update: nothing of it is stored
    assert.throws(
      () => c.advertise(me, [machineAd('slot1@exec1', 'exec1'), machineAd('slot1@exec2', 'exec2')]),
      denied,
    );
    assert.deepEqual(await c.names('Machine'), []);
  });

  test("collector – a startd cannot withdraw another host's ads; its own it can", async () => {
    const c = setup();
    c.advertise(daemon('startd', 'exec2'), [machineAd('slot1@exec2', 'exec2')]);
    c.advertise(daemon('startd', 'exec1'), [machineAd('slot1@exec1', 'exec1')]);
    assert.throws(() => c.invalidate(daemon('startd', 'exec1'), 'Machine', ['slot1@exec2']), denied);
    assert.throws(
      () => c.invalidate(daemon('schedd', 'exec2'), 'Machine', ['slot1@exec2']),
      denied,
      'a schedd withdraws no Machine ads',
    );
    assert.deepEqual(await c.names('Machine'), ['slot1@exec1', 'slot1@exec2']);
    c.invalidate(daemon('startd', 'exec1'), 'Machine', ['slot1@exec1']);
    assert.deepEqual(await c.names('Machine'), ['slot1@exec2']);
  });

  test('collector – a schedd advertises its Scheduler and Submitter ads, and no Machine ad', async () => {
    const c = setup();
    const s = daemon('schedd', 'central');
    const sched = {
      type: 'Scheduler',
      name: 'central',
      instance: 'i1',
      lifetime: 60,
      ad: { attrs: { Name: q('central'), Machine: q('central') } },
    };
    const sub = {
      type: 'Submitter',
      name: 'alice@central',
      instance: 'i1',
      lifetime: 60,
      ad: { attrs: { Name: q('alice@central'), ScheddName: q('central') } },
    };
    assert.equal(c.advertise(s, [sched, sub]).accepted, 2);
    assert.throws(() => c.advertise(s, [machineAd('slot1@central', 'central')]), denied);
    assert.throws(
      () => c.advertise(s, [{ ...sub, name: 'alice@other', ad: { attrs: { Name: q('alice@other') } } }]),
      denied,
    );
    assert.throws(
      () => c.advertise(s, [{ type: 'Negotiator', name: 'central', instance: 'i1', lifetime: 60, ad: { attrs: {} } }]),
      denied,
    );
    assert.throws(
      () => c.advertise(s, [{ type: 'Wizard', name: 'central', instance: 'i1', lifetime: 60, ad: { attrs: {} } }]),
      denied,
      'an unknown ad type',
    );
  });

  test('collector – a user cannot advertise at all', async () => {
    const c = setup();
    const user: CallContext = {
      identity: { kind: 'user', name: 'mallory', admin: true },
      peer: 'test',
      cancelled: () => false,
    };
    assert.throws(() => c.advertise(user, [machineAd('slot1@exec1', 'exec1')]), denied);
  });

  test('collector – Name and Machine are checked however they are spelled', async () => {
    const c = setup();
    const me = daemon('startd', 'exec1');
    const ad = (attrs: Record<string, string>) => ({
      type: 'Machine',
      name: 'slot1@exec1',
      instance: 'i1',
      lifetime: 60,
      ad: { attrs },
    });
    // an expression, another case, an escape: evaluated in the whole ad, as any ClassAd reader would
    for (const attrs of <Array<Record<string, string>>>[
      { Name: q('slot1@exec1'), Machine: 'strcat("exec", "2")' },
      { Name: q('slot1@exec1'), MACHINE: q('exec2') },
      { Name: q('slot1@exec1'), Machine: q('exec1'), machine: q('exec2') },
      { Name: q('slot1@exec1'), Machine: '"exec\\062"' }, // "exec2", its 2 an octal escape
      { Name: 'strcat("slot1@", Machine)', Machine: 'Other', Other: q('exec2') },
      { NAME: q('slot2@exec1'), Machine: q('exec1') },
    ])
      assert.throws(() => c.advertise(me, [ad(attrs)]), denied, JSON.stringify(attrs));
    assert.deepEqual(await c.names('Machine'), []);
    assert.equal(
      c.advertise(me, [ad({ Name: 'strcat("slot1@", Machine)', Machine: 'Other', Other: q('exec1') })]).accepted,
      1,
    );
  });

  test('collector – an attribute that does not parse refuses the update, also when the rest was sent before', async () => {
    const c = setup();
    const me = daemon('startd', 'exec1');
    const good = machineAd('slot1@exec1', 'exec1');
    assert.equal(c.advertise(me, [good]).accepted, 1);
    const broken = { ...good, ad: { attrs: { ...good.ad.attrs, Cpus: '(1 +' } } };
    assert.throws(
      () => c.advertise(me, [broken]),
      (e) => (e as { code?: string }).code === 'CLASSAD_SYNTAX' && /Cpus/.test((e as Error).message),
    );
    assert.equal(c.store.stored('Machine', 'slot1@exec1')?.Cpus, undefined, 'the stored ad is as it was');
    // the same values again, and a change that parses, are taken
    const next = { ...good, ad: { attrs: { ...good.ad.attrs, Cpus: '2' } } };
    assert.equal(c.advertise(me, [good, next]).accepted, 2);
    assert.equal(c.store.stored('Machine', 'slot1@exec1')?.Cpus, '2');
  });
});
