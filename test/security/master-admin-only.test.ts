// Stopping or reconfiguring the pool is an admin's decision: a user's token (what the schedd gives any local
// user who proves who they are) is refused by Master.Shutdown, Master.Reconfig and Master.StartDaemon, and the
// pool keeps running.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { MasterClient } from '../../lib/rpc/clients/master.js';
import { alive, TestPool } from '../integration/harness/pool.js';

describe('master – admin only', () => {
  let pool: TestPool | undefined;
  after(async () => {
    await pool?.stop();
  });

  test('master – a user token cannot stop, reconfigure or start a daemon of the pool', async () => {
    pool = await TestPool.start();
    const [address] = (await import('node:fs'))
      .readFileSync(join(pool.home, 'run', 'master.address'), 'utf8')
      .split('\n');
    const master = new MasterClient(address!.trim(), pool.creds(pool.token('nobody')));
    try {
      for (const call of [() => master.shutdown(), () => master.reconfig(), () => master.startDaemon('schedd')]) {
        await assert.rejects(call(), (e: unknown) => e instanceof DschedError && e.code === 'PERMISSION_DENIED');
      }
      assert.ok((await master.status()).daemons.length > 0);
    } finally {
      master.close();
    }
    assert.ok(alive(pool.daemonPid('master')));
    const st = await pool.run('dsched', ['status']);
    assert.equal(st.code, 0, st.stderr);
  });
});
