// The collector's ads (ad-store.ts): what its watchers (the negotiator, the web daemon) are told.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { AdStore, type ChangeKind } from '../../../daemons/collector/ad-store.js';

function watched() {
  const store = new AdStore();
  const seen: Array<{ name: string; kind: ChangeKind; attrs: Record<string, string> }> = [];
  store.onChange((_type, name, kind, attrs) => seen.push({ name, kind, attrs }));
  return { store, seen };
}

describe('collector – ad store', () => {
  test('collector – an ad sent again unchanged keeps it alive and tells the watchers nothing', async () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '4', State: '"Unclaimed"' }, 60);
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '4', State: '"Unclaimed"' }, 60);
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['added'],
    );
    assert.equal((await store.query('Machine', '', [])).length, 1);
    assert.ok(
      (await store.query('Machine', '', []))[0]!.LastHeardFrom,
      'the collector still stamps when it heard from it',
    );
  });

  test('collector – a changed, added or removed attribute is told', () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '4' }, 60);
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '3' }, 60);
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '3', JobId: '"1.0"' }, 60);
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '3' }, 60);
    assert.deepEqual(
      seen.map((s) => [s.kind, s.attrs.Cpus, s.attrs.JobId]),
      [
        ['added', '4', undefined],
        ['updated', '3', undefined],
        ['updated', '3', '"1.0"'],
        ['updated', '3', undefined],
      ],
    );
  });

  test('collector – an ad that had expired is added again, even unchanged', () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '4' }, -1); // expired already
    store.update('Machine', 'slot1@h', 'i1', { Cpus: '4' }, 60);
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['added', 'added'],
    );
  });

  test('collector – a renewal tells the watchers only when it moved a load average', async () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1_1@h', 'i1', { Cpus: '1', LoadAvg: '0.5', MyCurrentTime: '100' }, 60, 'v1');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60), 'kept alive, nothing new');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '0.50' }), 'the same load');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '1.0', Cpus: '8' }));
    assert.deepEqual(
      seen.map((s) => [s.kind, s.attrs.LoadAvg, s.attrs.Cpus]),
      [
        ['added', '0.5', '1'],
        ['updated', '1.0', '1'],
      ],
    );
    assert.equal((await store.query('Machine', '', []))[0]!.LoadAvg, '1.0');
  });
});
