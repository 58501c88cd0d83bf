// web – event streams are bounded for the daemon and per client: one client (an anonymous reader by its
// address, a user by name) holding its share leaves the others theirs, and a stream given back is free again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DschedError } from '../../../lib/errors.js';
import { StreamBudget } from '../../../daemons/web/stream-budget.js';

const taken = (r: ReturnType<StreamBudget['take']>) => {
  assert.ok(!(r instanceof DschedError), String(r));
  return r as () => void;
};

describe('web – event stream budget', () => {
  test('web streams – one client takes its share, not every stream; others still get theirs', () => {
    const b = new StreamBudget(10, 3);
    const mine = [1, 2, 3].map(() => taken(b.take('address 127.0.0.1')));
    const refused = b.take('address 127.0.0.1');
    assert.ok(refused instanceof DschedError && refused.code === 'TOO_MANY_CLIENTS', String(refused));
    assert.match(refused.message, /3 event streams of this client \(address 127\.0\.0\.1\)/);
    taken(b.take('user alice'));
    // a stream given back (twice: once counts) is free again for that client
    mine[0]!();
    mine[0]!();
    taken(b.take('address 127.0.0.1'));
    assert.ok(b.take('address 127.0.0.1') instanceof DschedError);
  });

  test('web streams – the daemon’s bound holds whatever the clients', () => {
    const b = new StreamBudget(4, 3);
    for (const c of ['a', 'a', 'b', 'c']) taken(b.take(c));
    const refused = b.take('d');
    assert.ok(refused instanceof DschedError && /4 event streams are open already/.test(refused.message));
  });
});
