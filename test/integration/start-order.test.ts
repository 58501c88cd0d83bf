// Any start order works: a startd started before the collector joins the pool once the collector is up.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('start order', () => {
  let pool: TestPool | undefined;
  after(async () => {
    await pool?.stop();
  });

  test('startd – started before the collector, it joins once the collector is up', async () => {
    // no periodic update within the test: the slots can only come by the startd's retries
    pool = TestPool.create({ UPDATE_INTERVAL: '3600' });
    const init = await pool.run('dsched', ['config', 'UPDATE_INTERVAL']);
    assert.equal(init.stdout.trim(), '3600');
    // a home needs its CA and host credential before a daemon runs alone; `dsched <daemon>` makes them
    pool.startDaemon('startd');
    // serving, so it is already advertising to a collector that is not there
    await pool.waitFor('the startd to serve', () => pool!.daemonPid('startd') > 0);
    pool.startDaemon('collector');
    const slots = await pool.waitFor('the startd to appear in dstatus', async () => {
      const s = await pool!.json('dstatus', []);
      return s.length ? s : undefined;
    });
    assert.equal(slots[0]!.SlotType, 'Partitionable');
    pool.startDaemon('negotiator');
    pool.startDaemon('schedd');
    await pool.waitFor('the schedd to serve', () => {
      try {
        return pool!.daemonPid('schedd') > 0;
      } catch {
        return false;
      }
    });
    pool.file('one.sub', `executable = /bin/echo\narguments = hello\noutput = one.out\nqueue\n`);
    const r = await pool.run('dsubmit', ['one.sub']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitForHistory(cluster, 1);
    assert.equal(pool.read('one.out'), 'hello\n');
  });
});
