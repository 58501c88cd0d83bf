// The test harness itself: a `dsched start` that fails leaves its master running (it keeps restarting what
// failed until `dsched stop`), and a test that got no pool could never stop it. The harness stops it, and
// everything else of that home, before it throws.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { homeProcesses, TestPool } from './harness/pool.js';

describe('test harness', () => {
  test('test harness – a pool whose dsched start fails is stopped, its home removed, before the failure is thrown', async () => {
    let home = '';
    // a damaged job queue: the schedd refuses it for good while the master and the other daemons run on
    await assert.rejects(
      TestPool.start({}, (pool) => {
        home = pool.home;
        mkdirSync(join(home, 'spool'), { mode: 0o700 });
        writeFileSync(join(home, 'spool', 'job_queue.db'), Buffer.alloc(8192, 0x5a));
      }),
      (e: Error) => {
        assert.match(e.message, /dsched start failed \(\d+\): .*the schedd did not start: .*damaged/s);
        assert.doesNotMatch(e.message, /left running after dsched stop/);
        return true;
      },
    );
    assert.ok(home);
    assert.deepEqual(homeProcesses(home), [], 'nothing of the pool runs on');
    assert.equal(existsSync(home), false, 'its home is removed');
  });
});
