// A job-change stream (Schedd.WatchJobs) keeps what its request names (jobs, owners, attributes) for as long
// as it is open. The schedd bounded what a user's streams hold of changes, not of requests: a local user
// (uid 65534) whose streams each named 16 MB of owners made the schedd hold all of them, gigabytes as the streams
// opened grew, until it ran out of memory for everyone. What a request names now counts with the stream's
// backlog against the user's bound (64 MB), past which their biggest stream is cut off. (A request that selects
// jobs is now at most 4 MiB on the wire, so the streams here name 3 MiB each.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

describe('job-change streams – what a request names', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(() => pool.stop());

  test("security – a user's streams naming 120 MB of owners are cut off past the user's bound", async () => {
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    const ended: Error[] = [];
    const streams = [];
    try {
      for (let i = 0; i < 40; i++) {
        const s = schedd.jobChanges({ owners: [`${i}${'x'.repeat(3 << 20)}`] });
        s.on('data', () => undefined);
        s.on('error', (e: Error) => ended.push(e));
        streams.push(s);
      }
      // all but 21 (63 MB) are cut off: each ends, told why
      await pool.waitFor('the streams past the bound to be cut off', () => ended.length >= 19, 120_000);
      assert.match(ended[0]!.message, /what they name/);
      // the schedd still serves the user
      const r = await pool.run('dq', ['-totals']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      for (const s of streams) s.cancel();
      schedd.close();
    }
  });
});
