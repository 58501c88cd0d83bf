// Any user may query the collector (dstatus), and a constraint is evaluated against every ad, each evaluation
// up to the ClassAd bounds (a tenth of a second and more). Evaluated in one turn, a user's query held the
// collector (advertisements, the negotiator's and everyone's queries) for as long as the pool had ads, and
// queries sent side by side for longer. Now the ads are evaluated a slice at a time, others served between,
// and past QUERY_CPU_LIMIT of the collector's time the query ends with QUERY_TOO_EXPENSIVE.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { AdStore } from '../../daemons/collector/ad-store.js';
import { DschedError } from '../../lib/errors.js';

describe('security – a costly collector query', () => {
  test('security – it ends past its time budget, and another query is answered meanwhile', async () => {
    const store = new AdStore();
    for (let i = 0; i < 40; i++)
      store.update('Machine', `slot${i}@exec`, 'i1', { MyType: '"Machine"', Name: `"slot${i}@exec"` }, 600);
    // about 60,000 steps of work per ad, within the bound of one evaluation
    const costly = `size(replaceAll("x", "${'x'.repeat(60_000)}", "yy")) < 0`;
    const attack = store.query('Machine', costly, ['Name'], 1);
    const ended = attack.then(
      () => 'answered',
      (e: unknown) => e,
    );
    const other = await Promise.race([store.query('Machine', 'Name == "slot7@exec"', ['Name'], 1), ended]);
    assert.deepEqual(other, [{ Name: '"slot7@exec"' }], 'the other query is answered first');
    const e = await ended;
    assert.ok(e instanceof DschedError, `the costly query ends with an error, not ${String(e)}`);
    assert.equal(e.code, 'QUERY_TOO_EXPENSIVE');
    assert.match(e.message, /used more than 1 s of the collector's time and was stopped/);
  });
});
