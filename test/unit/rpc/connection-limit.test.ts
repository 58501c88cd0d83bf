// Which connection gives way when a client, or all of them, hold as many as they may.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionLimiter, clientOf } from '../../../lib/rpc/connection-limit.js';

let port = 40000;
/** A socket from `address` that closes (as a net.Socket does, a moment later) when destroyed. */
function socketFrom(address: string) {
  const s = Object.assign(new EventEmitter(), {
    remoteAddress: address,
    remotePort: port++,
    destroyed: false,
    destroy() {
      s.destroyed = true;
      setImmediate(() => s.emit('close'));
    },
  });
  return s as typeof s & Socket;
}

describe('connection limit – who gives way', () => {
  test('connection limit – a client past its part closes its own oldest, not another client’s', () => {
    const limiter = new ConnectionLimiter({ perPeer: 3, total: 100 });
    const other = socketFrom('10.0.0.9');
    assert.ok(limiter.admit(other));
    const mine = [1, 2, 3, 4, 5].map(() => socketFrom('10.0.0.1'));
    for (const s of mine) assert.ok(limiter.admit(s));
    assert.deepEqual(
      mine.map((s) => s.destroyed),
      [true, true, false, false, false],
    );
    assert.equal(other.destroyed, false);
    assert.equal(limiter.inUse('10.0.0.1'), 3);
  });

  test('connection limit – past the total, the client holding the most gives way to a newcomer', () => {
    const limiter = new ConnectionLimiter({ perPeer: 100, total: 4 });
    const flood = [1, 2, 3].map(() => socketFrom('10.0.0.1'));
    const quiet = socketFrom('10.0.0.2');
    for (const s of [...flood, quiet]) limiter.admit(s);
    const newcomer = socketFrom('10.0.0.3');
    assert.ok(limiter.admit(newcomer));
    assert.equal(flood[0]!.destroyed, true);
    assert.equal(quiet.destroyed, false);
    assert.equal(limiter.inUse(), 4);
  });

  test('connection limit – a daemon’s connection never gives way', () => {
    const limiter = new ConnectionLimiter({ perPeer: 2, total: 100 });
    const daemon = socketFrom('10.0.0.1');
    limiter.admit(daemon);
    limiter.markDaemon(`10.0.0.1:${daemon.remotePort}`);
    const flood = [1, 2, 3, 4].map(() => socketFrom('10.0.0.1'));
    for (const s of flood) limiter.admit(s);
    assert.equal(daemon.destroyed, false);
    assert.deepEqual(
      flood.map((s) => s.destroyed),
      [true, true, false, false],
    );
  });

  test('connection limit – a connection that showed a token counts against its user, not its host', () => {
    const limiter = new ConnectionLimiter({ perPeer: 2, total: 100 });
    const root = socketFrom('127.0.0.1');
    limiter.admit(root);
    limiter.markUser(`127.0.0.1:${root.remotePort}`, 'root');
    // another local user: connections without a token, then as many showing their own token
    const anonymous = [1, 2, 3].map(() => socketFrom('127.0.0.1'));
    for (const s of anonymous) limiter.admit(s);
    const authenticated = [1, 2, 3].map(() => socketFrom('127.0.0.1'));
    for (const s of authenticated) {
      limiter.admit(s);
      limiter.markUser(`127.0.0.1:${s.remotePort}`, 'nobody');
    }
    assert.equal(root.destroyed, false);
    // (each authenticated one was this host's until its token: the first of them closed the oldest anonymous)
    assert.deepEqual(
      anonymous.map((s) => s.destroyed),
      [true, true, false],
    );
    assert.deepEqual(
      authenticated.map((s) => s.destroyed),
      [true, false, false],
    );
    assert.equal(limiter.inUse('user nobody'), 2);
    assert.equal(limiter.inUse('user root'), 1);
  });

  test('connection limit – a connection carrying two users’ calls is no longer the first one’s to close', () => {
    const limiter = new ConnectionLimiter({ perPeer: 2, total: 100 });
    const shared = socketFrom('127.0.0.1');
    limiter.admit(shared);
    limiter.markUser(`127.0.0.1:${shared.remotePort}`, 'nobody');
    limiter.markUser(`127.0.0.1:${shared.remotePort}`, 'alice');
    limiter.markUser(`127.0.0.1:${shared.remotePort}`, 'nobody');
    for (const s of [1, 2, 3].map(() => socketFrom('127.0.0.1'))) {
      limiter.admit(s);
      limiter.markUser(`127.0.0.1:${s.remotePort}`, 'nobody');
    }
    assert.equal(shared.destroyed, false);
    assert.equal(limiter.inUse('user nobody'), 2);
  });

  test("connection limit – this host's addresses are one client, other hosts one each (IPv6 by /64)", () => {
    assert.equal(clientOf('127.0.0.1'), clientOf('127.0.0.2'));
    assert.equal(clientOf('::ffff:127.0.0.5'), clientOf('::1'));
    assert.notEqual(clientOf('192.0.2.1'), clientOf('192.0.2.2'));
    assert.equal(clientOf('2001:db8:1:2::1'), clientOf('2001:db8:1:2::ffff'));
  });
});
