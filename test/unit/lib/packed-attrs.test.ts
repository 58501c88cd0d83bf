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
});
