// A second master for the home of a running pool (`dsched master` run by hand, as admins run condor_master
// in the foreground) says that a master runs there and exits, leaving the running pool alone. It printed
// "internal error" and then never exited.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('master second', () => {
  let pool: TestPool;
  after(async () => {
    await pool?.stop();
  });

  test('master – a second master for a running home is refused with POOL_ALREADY_RUNNING and exits', async () => {
    pool = await TestPool.start({ DAEMON_LIST: 'COLLECTOR' });
    const first = pool.daemonPid('master');
    const r = await pool.run('dsched', ['master'], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`error\\[POOL_ALREADY_RUNNING\\]: a master \\(pid ${first}\\) already runs for `),
    );
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.equal(pool.daemonPid('master'), first);
    const s = await pool.run('dsched', ['status']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
  });
});
