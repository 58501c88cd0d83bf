// An ad's attribute texts packed in one string: what goes in comes out, whatever the names and texts hold.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { PackedAttrs } from '../../../lib/packed-attrs.js';

describe('packed attrs – an ad kept in one string', () => {
  test('packed attrs – each text comes back by its name, in any case when asked so, and the whole record', () => {
    const attrs = { Name: '"slot1_1@a"', Cpus: '1', Requirements: 'START && TARGET.Cpus <= 1', Empty: '""' };
    const p = PackedAttrs.pack(attrs);
    assert.deepEqual(p.toRecord(), attrs);
    assert.equal(p.get('Cpus'), '1');
    assert.equal(p.get('Empty'), '""');
    assert.equal(p.get('cpus'), undefined);
    assert.equal(p.getIgnoreCase('cpus'), '1');
    assert.equal(p.getIgnoreCase('Missing'), undefined);
    assert.equal(p.size, 4);
  });

  test('packed attrs – ads with the same names keep their own texts', () => {
    const a = PackedAttrs.pack({ Name: '"slot1_1@a"', State: '"Claimed"' });
    const b = PackedAttrs.pack({ Name: '"slot1_2@a"', State: '"Unclaimed"' });
    assert.equal(a.get('State'), '"Claimed"');
    assert.equal(b.get('State'), '"Unclaimed"');
    assert.deepEqual(b.names(), ['Name', 'State']);
  });

  test('packed attrs – a NUL in a text or a name, and a name like __proto__, change nothing', () => {
    const attrs = JSON.parse('{"A":"\\"x\\u0000y\\"","B\\u0000C":"2","__proto__":"3"}') as Record<string, string>;
    const p = PackedAttrs.pack(attrs);
    assert.equal(p.get('A'), '"x\0y"');
    assert.equal(p.get('B\0C'), '2');
    assert.equal(p.get('__proto__'), '3');
    assert.deepEqual(p.toRecord(), attrs);
    assert.equal(Object.getPrototypeOf(p.toRecord()), Object.prototype);
    // the same names split elsewhere are another set of names
    assert.equal(PackedAttrs.pack({ B: '1', C: '2' }).get('B\0C'), undefined);
  });

  test('packed attrs – a version packed over the one before reads as itself, however it differs', () => {
    const v1 = {
      Name: '"slot1_1@a"',
      LoadAvg: '0.5',
      State: '"Claimed"',
      JobId: '"1.0"',
      Cpus: '1',
      Rank: '0',
      Memory: '64',
      Activity: '"Busy"',
    };
    const held = PackedAttrs.pack(v1);
    // a few texts moved (a renewal's load average), then again from the version that shares the string
    const v2 = { ...v1, LoadAvg: '1.25' };
    const p2 = PackedAttrs.packOver(v2, held);
    assert.deepEqual(p2.toRecord(), v2);
    assert.equal(p2.get('LoadAvg'), '1.25');
    assert.equal(held.get('LoadAvg'), '0.5', 'the version held is as it was');
    const v3 = { ...v1, LoadAvg: '0.5', JobId: '"1.1"', State: '""' };
    const p3 = PackedAttrs.packOver(v3, p2);
    assert.deepEqual(p3.toRecord(), v3);
    assert.equal(p3.getIgnoreCase('jobid'), '"1.1"');
    // other names, other orders, every text changed, a NUL: each packed as it is
    for (const v of <Array<Record<string, string>>>[
      { Name: '"slot1_1@a"', LoadAvg: '0.5' },
      { LoadAvg: '0.5', Name: '"slot1_1@a"', State: '"Claimed"', JobId: '"1.0"' },
      { Name: '""', LoadAvg: '1', State: '"x"', JobId: '"2.0"' },
      { ...v1, JobId: '"a\0b"' },
      { ...v1, Name: '"x\0y"' },
    ]) {
      const p = PackedAttrs.packOver(v, p2);
      assert.deepEqual(p.toRecord(), v);
      for (const k of Object.keys(v)) assert.equal(p.get(k), v[k]);
    }
    // over a version whose texts held a NUL
    const nul = PackedAttrs.pack({ ...v1, State: '"a\0b"' });
    assert.deepEqual(PackedAttrs.packOver(v2, nul).toRecord(), v2);
  });

  test('packed attrs – texts set over a version read as the record with them set, the version as it was', () => {
    const v1 = { Name: '"slot1_1@a"', LoadAvg: '0.5', State: '"Claimed"', MyCurrentTime: '100' };
    const held = PackedAttrs.pack(v1);
    const p2 = PackedAttrs.setOver(held, { LoadAvg: '1.25', MyCurrentTime: '105' });
    assert.deepEqual(p2.toRecord(), { ...v1, LoadAvg: '1.25', MyCurrentTime: '105' });
    assert.equal(held.get('LoadAvg'), '0.5');
    // again over that one, one text set twice over
    const p3 = PackedAttrs.setOver(p2, { LoadAvg: '2' });
    assert.deepEqual(p3.toRecord(), { ...v1, LoadAvg: '2', MyCurrentTime: '105' });
    assert.equal(p3.getIgnoreCase('loadavg'), '2');
    assert.equal(p2.get('LoadAvg'), '1.25');
    // a name it does not have, one spelled otherwise, a NUL, and over texts that held a NUL: the record as set
    for (const [base, texts] of <Array<[Record<string, string>, Record<string, string>]>>[
      [v1, { LastHeardFrom: '7' }],
      [v1, { loadavg: '3' }],
      [v1, { LoadAvg: '"a\0b"' }],
      [{ ...v1, State: '"a\0b"' }, { LoadAvg: '3' }],
    ]) {
      const p = PackedAttrs.setOver(PackedAttrs.pack(base), texts);
      assert.deepEqual(p.toRecord(), { ...base, ...texts });
      for (const [k, v] of Object.entries({ ...base, ...texts })) assert.equal(p.get(k), v);
    }
  });
});
