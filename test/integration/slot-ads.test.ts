// The pool's directory tells the truth about slots: once jobs end and their claims are released, the
// dynamic slots leave the collector and only the partitionable slot remains, with all its cpus free. When
// the collector answered slowly, a startd had several updates on the wire at once, and a released slot's
// last ad could arrive after its invalidation: dstatus showed it Claimed for three update intervals.
// UPDATE_INTERVAL is long here, so no periodic update can hide that; the collector is frozen (SIGSTOP) while
// the jobs end, which makes every update wait as a loaded collector would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('slot ads after claims are released', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '4', UPDATE_INTERVAL: '300' });
  });
  after(async () => {
    await pool?.stop();
  });

  const released = () =>
    readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8').split('"claim released"').length - 1;

  test('no dynamic slot is left in the collector once every job has ended, even after a slow collector', async () => {
    // each job waits for its own go file, so the test decides when each one ends
    pool.file(
      'wait.sub',
      'executable = /bin/sh\narguments = "-c \'while [ ! -e go.$(Process) ]; do sleep 0.05; done\'"\n' +
        'request_memory = 64\nlog = wait.log\nqueue 2\n',
    );
    const cluster = await pool.submit('wait.sub');
    await pool.waitFor('both jobs to run', async () => {
      const ads = await pool.json('dstatus', ['-long']);
      return ads.filter((a) => a.State === 'Claimed' && a.Activity === 'Busy').length === 2;
    });
    const collector = pool.daemonPid('collector');
    process.kill(collector, 'SIGSTOP');
    try {
      for (const proc of [0, 1]) {
        const before = released();
        pool.file(`go.${proc}`, '');
        await pool.waitFor(`the claim of job ${cluster}.${proc} to be released`, () => released() > before);
      }
    } finally {
      process.kill(collector, 'SIGCONT');
    }
    await pool.waitForHistory(cluster, 2);
    const slots = await pool.waitFor('the partitionable slot to show all 4 cpus free', async () => {
      const ads = await pool.json('dstatus', ['-long']);
      return ads.find((a) => a.PartitionableSlot === true)?.Cpus === 4 && ads;
    });
    assert.deepEqual(
      slots.filter((a) => a.PartitionableSlot !== true).map((a) => `${a.Name} ${a.State}`),
      [],
      'ads of released slots are still in the collector',
    );
  });
});
