// grpc-js reads a whole request, up to the server's limit (512 MB: a large submission travels as one message),
// before any handler runs. A caller with no credential at all (anyone who reaches a daemon's port) sent a few
// requests of 200 MB to the schedd and its memory went up by gigabytes, as many as it had calls open: the check
// of who may call came only after. A caller is now identified and checked when its call's headers arrive, and a
// refused call is answered before a byte of its request is read; a method open to anyone (the authentication
// handshake, a job's chirp) reads at most 2 MiB.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { ANONYMOUS_REQUEST_BYTES } from '../../lib/rpc/server.js';
import { TestPool } from '../integration/harness/pool.js';

/** The most memory the process has held at once, in MB. */
const peakMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('security – request size before authentication', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – requests of 200 MB without a credential, or to a method the caller may not call, are refused unread', async () => {
    const schedd = pool.daemonPid('schedd');
    const collector = pool.daemonPid('collector');
    const before = { schedd: peakMb(schedd), collector: peakMb(collector) };
    const big = 'x'.repeat(200 * 1024 * 1024);
    const anonymous = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(undefined));
    const user = new CollectorClient(pool.daemonAddress('collector'), pool.creds(pool.token('nobody')));
    try {
      const errors = await Promise.all([
        ...[0, 1, 2].map(() => refusal(anonymous.rpc.unary('Query', { constraint: big }, { deadlineMs: 120_000 }))),
        refusal(user.rpc.unary('Invalidate', { type: 'Machine', names: [big] }, { deadlineMs: 120_000 })),
      ]);
      for (const e of errors.slice(0, 3))
        assert.ok(e instanceof DschedError && e.code === 'UNAUTHENTICATED', String(e));
      assert.ok(errors[3] instanceof DschedError && errors[3].code === 'PERMISSION_DENIED', String(errors[3]));
      // a method open to anyone takes a request of its size, and no more
      const tooLarge = await refusal(
        anonymous.rpc.unary('BeginAuth', { user: 'x'.repeat(ANONYMOUS_REQUEST_BYTES + 1) }, { deadlineMs: 60_000 }),
      );
      assert.ok(tooLarge instanceof Error, String(tooLarge));
      assert.match(tooLarge.message, /larger than/);
    } finally {
      anonymous.close();
      user.close();
    }
    // the requests were never held: a few MB at most, not the 600 MB sent (with gigabytes of decoding)
    assert.ok(peakMb(schedd) - before.schedd < 100, `schedd peak ${before.schedd} -> ${peakMb(schedd)} MB`);
    assert.ok(
      peakMb(collector) - before.collector < 100,
      `collector peak ${before.collector} -> ${peakMb(collector)} MB`,
    );
    // the pool answers its users as before
    const q = await pool.run('dq', ['-allusers']);
    assert.equal(q.code, 0, q.stderr);
    pool.file('ok.sub', 'executable = /bin/true\nqueue\n');
    await pool.waitForHistory(await pool.submit('ok.sub'), 1);
  });
});
