// A schedd its master keeps down (it exited 99: its job queue is damaged) while the rest of the pool runs:
// `dsched status` says failed and why, `dsched start` no longer says the pool "is already running" and
// exits 0, but names the daemon that is down and the way back, and `dsched on schedd` (HTCondor's condor_on
// -subsystem schedd) starts it again once the queue is mended, without a restart of the pool and with every job.
import assert from 'node:assert/strict';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const QUEUE_FILES = ['job_queue.db', 'job_queue.db-wal', 'job_queue.db-shm'];

describe('failed daemon', () => {
  let pool: TestPool;
  let cluster = 0;
  let collector = 0;
  before(async () => {
    pool = await TestPool.start();
    cluster = await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 3\n'));
    collector = pool.daemonPid('collector');
  });
  after(async () => {
    await pool.run('dsched', ['stop']);
  });

  test('failed daemon – a schedd kept down: status and start say so, dsched on brings it back with its jobs', async () => {
    // the queue is taken away (kept) while the schedd is stopped, garbage put in its place, and the schedd
    // killed: its master starts it again, and it refuses the queue with exit 99
    const spool = join(pool.home, 'spool');
    const schedd = pool.daemonPid('schedd');
    process.kill(schedd, 'SIGSTOP');
    for (const f of QUEUE_FILES) if (existsSync(join(spool, f))) renameSync(join(spool, f), join(spool, `${f}.kept`));
    writeFileSync(join(spool, 'job_queue.db'), Buffer.alloc(8192, 0x5a));
    process.kill(schedd, 'SIGKILL');
    await pool.waitFor('the schedd to be kept down', async () => {
      const s = await pool.run('dsched', ['status']);
      return /^schedd\s+failed\s/m.test(s.stdout) && s;
    });
    const s = await pool.run('dsched', ['status']);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /^schedd\s+failed\s.*last exit: exit code 99: QUEUE_CORRUPT: the job queue \S+ is damaged/m);

    const started = await pool.run('dsched', ['start']);
    assert.equal(started.code, 1, started.stdout + started.stderr);
    assert.doesNotMatch(started.stdout, /already running/);
    assert.match(
      started.stderr,
      /^dsched: error\[POOL_NOT_RUNNING\]: the pool of \S+ is running \(master pid \d+\), but its master keeps schedd down: schedd: exit code 99: QUEUE_CORRUPT/m,
    );
    assert.match(started.stderr, /`dsched on schedd` starts it again/);
    assert.equal(pool.daemonPid('collector'), collector, 'the rest of the pool runs on');

    // the admin mends the queue (here: puts the kept one back) and asks for the schedd alone
    for (const f of QUEUE_FILES) rmSync(join(spool, f), { force: true });
    for (const f of QUEUE_FILES)
      if (existsSync(join(spool, `${f}.kept`))) renameSync(join(spool, `${f}.kept`), join(spool, f));
    const on = await pool.run('dsched', ['on', 'schedd']);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /the master starts the schedd again \(it was failed\)/);
    await pool.waitFor('the schedd to serve again', async () => (await pool.run('dsched', ['status'])).code === 0);
    assert.equal((await pool.json('dq', [String(cluster)])).length, 3, 'every job is back');
    assert.equal(pool.daemonPid('collector'), collector);

    const again = await pool.run('dsched', ['on', '-subsystem', 'schedd']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /the schedd is running: nothing to do/);
    const started2 = await pool.run('dsched', ['start']);
    assert.equal(started2.code, 0);
    assert.match(started2.stdout, /already running/);
  });

  test('failed daemon – dsched on names only daemons there are', async () => {
    const r = await pool.run('dsched', ['on', 'scheduler']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[USAGE\]: dsched on: no daemon is named scheduler; the daemons: collector/);
  });
});
