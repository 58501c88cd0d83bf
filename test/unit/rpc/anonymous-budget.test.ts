import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmittingDecoder, AnonymousBudget, budgetHost } from '../../../lib/rpc/anonymous-budget.js';
import { DschedError } from '../../../lib/errors.js';

const frame = (body: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

describe('anonymous request budget', () => {
  test('one host holds at most its part, all hosts at most the whole; what is given back may be taken again', () => {
    const b = new AnonymousBudget({ total: 10, perHost: 6, bodySeconds: 60 });
    b.take('a', 6);
    assert.throws(
      () => b.take('a', 1),
      (e) => e instanceof DschedError && /PER_HOST/.test(e.message),
    );
    b.take('b', 4);
    assert.throws(
      () => b.take('c', 1),
      (e) => e instanceof DschedError && e.code === 'ANONYMOUS_LIMIT' && /BUDGET\)/.test(e.message),
    );
    assert.equal(b.inUse(), 10);
    b.give('a', 6);
    assert.equal(b.inUse('a'), 0);
    b.take('c', 6);
    b.give('b', 4);
    b.give('c', 6);
    assert.equal(b.inUse(), 0);
  });

  test('a host is an IPv4 address or an IPv6 /64', () => {
    assert.equal(budgetHost('10.1.2.3'), '10.1.2.3');
    assert.equal(budgetHost('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(budgetHost('2001:db8:0:1:aaaa::1'), '2001:db8:0:1::/64');
    assert.equal(budgetHost('2001:db8:0:1:bbbb:1:2:3'), '2001:db8:0:1::/64');
    assert.equal(budgetHost('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(budgetHost('::1'), '0:0:0:0::/64');
    assert.equal(budgetHost(undefined), 'unknown');
  });

  test('the decoder frames messages split anywhere, and asks before it reads a body', () => {
    const seen: number[] = [];
    const d = new AdmittingDecoder(100, (n) => seen.push(n));
    const bytes = Buffer.concat([frame(Buffer.from('hello')), frame(Buffer.alloc(0)), frame(Buffer.from('x'))]);
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...d.write(bytes.subarray(i, i + 3)));
    assert.deepEqual(
      out.map((m) => m.subarray(5).toString()),
      ['hello', '', 'x'],
    );
    assert.deepEqual(seen, [5, 0, 1]);
    assert.throws(() => new AdmittingDecoder(4).write(frame(Buffer.from('hello'))), /larger than max/);
  });

  test('a refused message ends the call and nothing after it is read', () => {
    const refusals: unknown[] = [];
    const d = new AdmittingDecoder(
      100,
      () => {
        throw new Error('no');
      },
      (e) => refusals.push(e),
    );
    assert.deepEqual(d.write(frame(Buffer.from('hello'))), []);
    assert.deepEqual(d.write(frame(Buffer.from('again'))), []);
    assert.equal(refusals.length, 1);
  });
});
