// The negotiator keeps slot ads parsed from one cycle to the next while their text does not change.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { AdCache } from '../../../daemons/negotiator/cycle.js';

describe('negotiator – slot ad cache', () => {
  test('negotiator – an unchanged ad is parsed once; a changed or new one again; a gone one is forgotten', () => {
    const cache = new AdCache();
    const a = { Name: '"slot1@a"', Cpus: '4' };
    const b = { Name: '"slot1@b"', Cpus: '2' };
    const [a1, b1] = cache.ads([a, b]);
    const [a2, b2] = cache.ads([{ ...a }, { ...b, Cpus: '1' }]);
    assert.equal(a2, a1);
    assert.notEqual(b2, b1);
    assert.equal(b2!.lookupJS('Cpus'), 1);
    // an extra attribute is a change too
    const [a3] = cache.ads([{ ...a, Rank: '1' }]);
    assert.notEqual(a3, a1);
    cache.ads([]);
    const [a4] = cache.ads([{ ...a, Rank: '1' }]);
    assert.notEqual(a4, a3);
  });
});
