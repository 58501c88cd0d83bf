// A renewal (type, name and version, no attributes) keeps an ad alive only for the daemon that sent it whole:
// it is an update of that ad, under the same checks as advertising it, and it never applies to an ad the
// collector holds as another version or from another daemon instance (it is reported stale instead). Of what
// a renewal carries, only the load averages given as numbers are taken: nothing else of the ad can be set
// without the checks a whole ad passes.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AdStore } from '../../daemons/collector/ad-store.js';
import { collectorService } from '../../daemons/collector/service.js';
import type { Admission } from '../../daemons/collector/admission.js';
import type { DaemonRole, Identity } from '../../lib/rpc/auth.js';
import type { CallContext } from '../../lib/rpc/server.js';

const q = (s: string) => JSON.stringify(s);
const ctxOf = (identity: Identity): CallContext => ({ identity, peer: 'test', cancelled: () => false });
const daemon = (role: DaemonRole, host: string) =>
  ctxOf({ kind: 'daemon', host, roles: new Set([role]), name: `${role}@${host}`, admin: false });
const whole = (name: string, version: string, lifetime = 60) => ({
  type: 'Machine',
  name,
  instance: 'i1',
  lifetime,
  version,
  ad: { attrs: { MyType: q('Machine'), Name: q(name), Machine: q('exec1'), Cpus: '1' } },
});
const renewal = (name: string, version: string, instance = 'i1', lifetime = 60) => ({
  type: 'Machine',
  name,
  instance,
  lifetime,
  version,
  renew: true,
});

interface Reply {
  accepted: number;
  renewals: boolean;
  stale: string[];
  renewal_loads?: boolean;
}

function setup() {
  const store = new AdStore();
  const svc = collectorService(store, pino({ level: 'silent' }), () => 60, {} as Admission);
  const advertise = (ctx: CallContext, updates: object[]) => svc.unary.Advertise!({ updates }, ctx) as Reply;
  return { store, advertise };
}

const denied = (e: unknown) => (e as { code?: string }).code === 'PERMISSION_DENIED';

describe('collector – ad renewals', () => {
  test('collector – a renewal of the version held keeps the ad, its attributes unchanged; others are stale', () => {
    const { store, advertise } = setup();
    const me = daemon('startd', 'exec1');
    const r1 = advertise(me, [whole('slot1_1@exec1', '7')]);
    assert.equal(r1.renewals, true, 'the reply says renewals are understood');
    const before = { ...store.stored('Machine', 'slot1_1@exec1') };
    const changes: string[] = [];
    store.onChange((_t, name, kind) => changes.push(`${kind} ${name}`));
    const r2 = advertise(me, [
      renewal('slot1_1@exec1', '7'),
      renewal('slot1_2@exec1', '1'), // never sent whole (a collector restarted)
    ]);
    assert.deepEqual(r2.stale, ['slot1_2@exec1']);
    assert.equal(r2.accepted, 1);
    assert.deepEqual(changes, [], 'a renewal is no news to watchers, and a stale one stores nothing');
    const after = store.stored('Machine', 'slot1_1@exec1')!;
    assert.equal(after.Cpus, before.Cpus);
    assert.equal(after.Name, before.Name);
    assert.equal(store.stored('Machine', 'slot1_2@exec1'), undefined);
    assert.deepEqual(advertise(me, [renewal('slot1_1@exec1', '6')]).stale, ['slot1_1@exec1'], 'another version');
    assert.deepEqual(advertise(me, [renewal('slot1_1@exec1', '')]).stale, ['slot1_1@exec1'], 'no version');
  });

  test('collector – an invalidated ad cannot be renewed: it is stale', () => {
    const { store, advertise } = setup();
    const me = daemon('startd', 'exec1');
    advertise(me, [whole('slot1_1@exec1', '3')]);
    store.invalidate('Machine', ['slot1_1@exec1'], 'i1');
    assert.deepEqual(advertise(me, [renewal('slot1_1@exec1', '3')]).stale, ['slot1_1@exec1'], 'after invalidation');
  });

  test("collector – no one renews another's ad: another host, another role, a user, another instance", () => {
    const { store, advertise } = setup();
    advertise(daemon('startd', 'exec1'), [whole('slot1_1@exec1', '5', 60)]);
    const held = { ...store.stored('Machine', 'slot1_1@exec1') };
    assert.throws(() => advertise(daemon('startd', 'exec2'), [renewal('slot1_1@exec1', '5')]), denied);
    assert.throws(() => advertise(daemon('schedd', 'exec1'), [renewal('slot1_1@exec1', '5')]), denied);
    const user = ctxOf({ kind: 'user', name: 'mallory', admin: false });
    assert.throws(() => advertise(user, [renewal('slot1_1@exec1', '5')]), denied);
    // one refused renewal refuses the whole update, as one refused ad does
    assert.throws(
      () => advertise(daemon('startd', 'exec2'), [renewal('slot1_1@exec2', '1'), renewal('slot1_1@exec1', '5')]),
      denied,
    );
    // a second startd of the same host (another instance) cannot keep the first one's ad alive
    assert.deepEqual(advertise(daemon('startd', 'exec1'), [renewal('slot1_1@exec1', '5', 'i2')]).stale, [
      'slot1_1@exec1',
    ]);
    assert.deepEqual(store.stored('Machine', 'slot1_1@exec1'), held, 'the ad held is untouched');
  });

  test('collector – a renewal sets the load averages it carries, as numbers, and nothing else', () => {
    const { store, advertise } = setup();
    const me = daemon('startd', 'exec1');
    advertise(me, [whole('slot1_1@exec1', '7')]);
    const changes: string[] = [];
    store.onChange((_t, name, kind) => changes.push(`${kind} ${name}`));
    const loads = { LoadAvg: '1.25', TotalLoadAvg: '1.25', CondorLoadAvg: '0.98', TotalCondorLoadAvg: '1.90' };
    const r = advertise(me, [{ ...renewal('slot1_1@exec1', '7'), ad: { attrs: loads } }]);
    assert.equal(r.renewal_loads, true, 'the reply says the loads a renewal carries are set');
    assert.deepEqual(r.stale, []);
    const held = store.stored('Machine', 'slot1_1@exec1')!;
    for (const [k, v] of Object.entries(loads)) assert.equal(held[k], v, k);
    // a load that moved is news: the negotiator matches on LoadAvg (told as a renewal: the texts renewals set)
    assert.deepEqual(changes, ['renewed slot1_1@exec1'], 'the watchers hear of the new loads');
    // anything else a renewal carries is ignored: an expression for a load, or any other attribute
    advertise(me, [
      {
        ...renewal('slot1_1@exec1', '7'),
        ad: { attrs: { LoadAvg: 'Start = true', CondorLoadAvg: '-1', Start: 'true', Cpus: '64', Machine: q('x') } },
      },
    ]);
    const after = store.stored('Machine', 'slot1_1@exec1')!;
    assert.equal(after.LoadAvg, '1.25');
    assert.equal(after.CondorLoadAvg, '0.98');
    assert.equal(after.Start, undefined);
    assert.equal(after.Cpus, '1');
    assert.equal(after.Machine, q('exec1'));
    // a stale renewal sets nothing, its loads included
    advertise(me, [{ ...renewal('slot1_1@exec1', '6'), ad: { attrs: { LoadAvg: '9.00' } } }]);
    assert.equal(store.stored('Machine', 'slot1_1@exec1')!.LoadAvg, '1.25');
    assert.deepEqual(changes, ['renewed slot1_1@exec1'], 'what was ignored is no news');
  });

  test('collector – an older startd (no version, no renew) is served as before', () => {
    const { store, advertise } = setup();
    const r = advertise(daemon('startd', 'exec1'), [{ ...whole('slot1@exec1', ''), version: undefined }]);
    assert.equal(r.accepted, 1);
    assert.equal(store.stored('Machine', 'slot1@exec1')?.Cpus, '1');
  });
});
