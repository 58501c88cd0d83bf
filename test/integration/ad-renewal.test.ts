// A startd renews its unchanged dynamic slot ads at each UPDATE_INTERVAL instead of sending them again: the
// collector keeps them alive past their lifetime without new attributes (LastHeardFrom says when it last heard
// from the startd, with MyCurrentTime moved alike so the clock offset they tell stays); a collector killed and
// restarted holds none of them, says so, and gets them whole at once; an ad that changed goes whole.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { nowSeconds } from '../../lib/time.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolPaths } from '../../lib/config/paths.js';
import { hostTls } from '../../lib/rpc/tls.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';

describe('slot ad renewals', () => {
  let pool: TestPool;
  let cluster = 0;
  // lifetime 3 × UPDATE_INTERVAL = 3 s; the job barely uses a cpu, so its load never sends its ad whole
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '2', UPDATE_INTERVAL: '1' });
    pool.file(
      'wait.sub',
      'executable = /bin/sh\narguments = "-c \'while [ ! -e go ]; do sleep 1; done\'"\nrequest_memory = 64\nqueue\n',
    );
    cluster = await pool.submit('wait.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  const busySlot = async () => {
    const ads = await pool.json('dstatus', ['-long']);
    return ads.find((a) => a.DynamicSlot === true && a.Activity === 'Busy' && a.JobId === `${cluster}.0`);
  };

  test('a renewed slot ad stays in dstatus past its lifetime, heard from as it is renewed', async () => {
    const first = await pool.waitFor('the job to run', busySlot);
    // each periodic update (every second) renews it or, when it changed, sends it whole: either way it
    // outlives the 3 s lifetime, its LastHeardFrom moves on, and so does its MyCurrentTime
    const later = await pool.waitFor('the busy slot ad to outlive its lifetime', async () => {
      const ad = await busySlot();
      return ad && (ad.LastHeardFrom as number) > (first.LastHeardFrom as number) + 4 ? ad : undefined;
    });
    assert.equal(later.Name, first.Name);
    assert.equal(later.Cpus, first.Cpus);
    // The startd and the collector share this host's clock: the startd stamps an ad before the collector hears
    // it, whatever the delay between them on a busy machine. A renewal that left MyCurrentTime behind would
    // tell a clock offset growing by the lifetime each time; one that moved it past LastHeardFrom, a clock ahead.
    const sent = (ad: Record<string, unknown>) => ad.MyCurrentTime as number;
    const heard = (ad: Record<string, unknown>) => ad.LastHeardFrom as number;
    assert.ok(sent(later) > sent(first), `MyCurrentTime ${sent(later)} moved on from ${sent(first)}`);
    assert.ok(sent(later) <= heard(later), `sent at ${sent(later)}, heard at ${heard(later)}`);
    assert.ok(heard(later) <= nowSeconds(), 'LastHeardFrom is on the collector’s clock, not in the future');
  });

  test('after a kill -9 of the collector the idle slot ads come back whole', async () => {
    const before = await pool.waitFor('the job to run', busySlot);
    const pid = pool.daemonPid('collector');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('collector', pid);
    // the startd's next renewals are refused (the collector holds nothing): it sends those ads whole
    const back = await pool.waitFor('the busy slot ad in the restarted collector', busySlot);
    for (const k of ['Name', 'Cpus', 'Memory', 'State', 'JobId', 'RemoteOwner', 'Machine'])
      assert.deepEqual(back[k], before[k], k);
  });

  test('a slot ad the collector dropped (an invalidation) is refused renewal and comes back whole', async () => {
    const ad = await pool.waitFor('the job to run', busySlot);
    // as the startd's host would: the collector drops the ad, and the startd is not told
    const c = new CollectorClient(pool.daemonAddress('collector'), { tls: hostTls(poolPaths(pool.home)) });
    try {
      const instance = readFileSync(join(pool.home, 'run', 'startd.instance'), 'utf8').trim();
      await c.invalidate('Machine', [ad.Name as string], instance);
    } finally {
      c.close();
    }
    const back = await pool.waitFor('the busy slot ad again, sent whole', async () => {
      const a = await busySlot();
      return a && a.LastHeardFrom !== undefined && a;
    });
    assert.equal(back.JobId, ad.JobId);
    assert.equal(back.Cpus, ad.Cpus);
  });

  test('a slot ad that changed is sent whole', async () => {
    await pool.waitFor('the job to run', busySlot);
    await pool.reconfigure('Team = "blue"\nSTARTD_ATTRS = Team\n', ['startd']);
    const ad = await pool.waitFor('the busy slot ad to show the new attribute', async () => {
      const a = await busySlot();
      return a?.Team === 'blue' && a;
    });
    assert.equal(ad.JobId, `${cluster}.0`);
    pool.file('go', '');
    const [done] = await pool.waitForHistory(cluster, 1);
    assert.equal(done!.ExitCode, 0);
  });
});
