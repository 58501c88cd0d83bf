// The CI slice of `npm run fuzz -- --only grpc`: malformed protobuf bodies at every rpc of every daemon of a
// real pool, with no token, a garbage token, a user's and an admin's token. No call may come back INTERNAL
// or UNKNOWN, no daemon may exit or stop answering, and `dsched status` works at the end. The constraint
// whose regexp backtracks for ever (a known issue, fixed separately) is left out here.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { runGrpc } from '../fuzz/grpc.js';
import { TestPool } from './harness/pool.js';

describe('fuzz – gRPC', () => {
  let pool: TestPool | undefined;
  after(async () => {
    await pool?.stop();
  });

  test(
    'fuzz – 400 malformed calls at every daemon leave the pool up and answer with typed errors',
    { timeout: 600_000 },
    async () => {
      pool = await TestPool.start();
      const r = await runGrpc({ count: 400, seed: 20261206, write: false, home: pool.home, skipKnownIssues: true });
      assert.deepEqual(
        r.distinct.map((c) => `${c.signature}: ${c.message}`),
        [],
        `${r.crashes} crashes (npm run fuzz -- --only grpc --seed 20261206 writes reproducers)`,
      );
      assert.ok(r.ran > 0);
      const st = await pool.run('dsched', ['status']);
      assert.equal(st.code, 0, st.stderr);
    },
  );
});
