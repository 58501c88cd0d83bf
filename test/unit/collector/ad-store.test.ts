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

  test('collector – a renewal tells the watchers only when it moved a load average, of its texts alone', async () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1_1@h', 'i1', { Cpus: '1', LoadAvg: '0.5', MyCurrentTime: '100' }, 60, 'v1');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60), 'kept alive, nothing new');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '0.50' }), 'the same load');
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '1.0', Cpus: '8' }));
    assert.deepEqual(
      seen.map((s) => [s.kind, s.attrs.LoadAvg, s.attrs.Cpus]),
      [
        ['added', '0.5', '1'],
        ['renewed', '1.0', undefined],
      ],
    );
    // set over the ad as told before, the renewal's texts make it as queries see it now
    const [ad] = await store.query('Machine', '', []);
    assert.equal(ad!.LoadAvg, '1.0');
    assert.deepEqual({ ...seen[0]!.attrs, ...seen[1]!.attrs }, ad);
    // a copy: the texts told do not change with the next renewal
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '2.0' }));
    assert.equal(seen[1]!.attrs.LoadAvg, '1.0');
    assert.deepEqual(
      { ...seen[0]!.attrs, ...seen[1]!.attrs, ...seen[2]!.attrs },
      (await store.query('Machine', '', []))[0],
    );
  });

  test('collector – an ad sent whole after renewals is compared with what they set, and queries see it', async () => {
    const { store, seen } = watched();
    store.update('Machine', 'slot1_1@h', 'i1', { Cpus: '1', LoadAvg: '0.5', MyCurrentTime: '100' }, 60, 'v1');
    assert.equal((await store.query('Machine', 'LoadAvg > 0.7', ['Name'])).length, 0);
    assert.ok(store.renew('Machine', 'slot1_1@h', 'i1', 'v1', 60, { LoadAvg: '1.0', CondorLoadAvg: '0.9' }));
    // the constraint sees the renewed load, though the ad was parsed for the query before
    assert.equal((await store.query('Machine', 'LoadAvg > 0.7 && CondorLoadAvg > 0.7', ['Name'])).length, 1);
    // sent whole as the renewals left it: no news; with the load it was first sent with: news
    store.update(
      'Machine',
      'slot1_1@h',
      'i1',
      { Cpus: '1', LoadAvg: '1.0', MyCurrentTime: '200', CondorLoadAvg: '0.9' },
      60,
      'v2',
    );
    store.update(
      'Machine',
      'slot1_1@h',
      'i1',
      { Cpus: '1', LoadAvg: '0.5', MyCurrentTime: '300', CondorLoadAvg: '0.9' },
      60,
      'v3',
    );
    assert.deepEqual(
      seen.map((s) => [s.kind, s.attrs.LoadAvg, s.attrs.CondorLoadAvg]),
      [
        ['added', '0.5', undefined],
        ['renewed', '1.0', '0.9'],
        ['updated', '0.5', '0.9'],
      ],
    );
    const [ad] = await store.query('Machine', '', []);
    assert.equal(ad!.LoadAvg, '0.5');
    assert.equal(ad!.MyCurrentTime, '300');
    assert.equal((await store.query('Machine', 'LoadAvg > 0.7', ['Name'])).length, 0);
  });
});
