// The standard gRPC health service on every daemon, read by `dsched status`: SERVING on a working pool;
// the schedd NOT_SERVING while its queue cannot be written (a full spool) and SERVING again once it can;
// a daemon that does not answer is `unreachable`; each case exits non-zero. Needs root for the small spool.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DAEMON_ROLES } from '../../lib/daemons.js';
import { HealthClient } from '../../lib/rpc/clients/health.js';
import type { TestPool } from './harness/pool.js';
import { fill, startOnSmallSpool } from './harness/small-spool.js';

const isRoot = process.getuid?.() === 0;

describe('health', { skip: !isRoot && 'needs root to mount a small file system' }, () => {
  let pool: TestPool;
  let spool: string;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    ({ pool, spool, stop } = await startOnSmallSpool());
  });
  after(async () => {
    await stop?.();
  });

  const healthOf = (out: string, d: string) =>
    new RegExp(`^${d} .*?  (SERVING|NOT_SERVING|unreachable) `, 'm').exec(out)?.[1];

  test('dsched status – every daemon SERVING, exit 0; a user without a token reads it too', async () => {
    const st = await pool.run('dsched', ['status']);
    assert.equal(st.code, 0, st.stdout + st.stderr);
    for (const d of DAEMON_ROLES) assert.equal(healthOf(st.stdout, d), 'SERVING', st.stdout);
    // Check is open to anyone (probes carry no credential); the standard protocol answers
    const c = new HealthClient(pool.daemonAddress('schedd'), pool.creds(), 'schedd');
    try {
      assert.equal(await c.check(''), 'SERVING');
      assert.equal(await c.check('dsched.v1.Schedd'), 'SERVING');
      await assert.rejects(c.check('no.such.Service'), /SERVICE_UNKNOWN|no service named/);
    } finally {
      c.close();
    }
  });

  test('schedd – NOT_SERVING while its queue cannot be written, SERVING once it can; Watch tells both', async () => {
    const trigger = join(pool.work, 'go');
    pool.file('wait.sh', `#!/bin/sh\nwhile [ ! -e ${trigger} ]; do sleep 0.1; done\necho done\n`, 0o755);
    pool.file('wait.sub', 'executable = wait.sh\noutput = wait.out\nqueue\n');
    const cluster = await pool.submit('wait.sub');
    await pool.waitFor('the job to run', async () => (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2);
    const watcher = new HealthClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root', true)), 'schedd');
    const seen: string[] = [];
    const stream = watcher.watch('');
    const next = async () => {
      const r = await stream.next();
      if (r.done) throw new Error('the health watch ended');
      seen.push(r.value.status);
      return r.value.status;
    };
    try {
      assert.equal(await next(), 'SERVING');
      const filler = join(spool, 'filler');
      fill(filler);
      // the job's exit is a change the schedd must write: with no room, it cannot
      mkdirSync(trigger);
      assert.equal(await next(), 'NOT_SERVING');
      const st = await pool.run('dsched', ['status']);
      assert.equal(st.code, 1, st.stdout);
      assert.equal(healthOf(st.stdout, 'schedd'), 'NOT_SERVING', st.stdout);
      assert.match(st.stderr, /not every daemon is serving: schedd NOT_SERVING/);
      rmSync(filler);
      assert.equal(await next(), 'SERVING');
      await pool.waitForHistory(cluster, 1);
      assert.equal((await pool.run('dsched', ['status'])).code, 0);
    } finally {
      await stream.return(undefined);
      watcher.close();
    }
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
  });

  test('dsched status – a daemon that does not answer is unreachable, exit 1', async () => {
    const pid = pool.daemonPid('negotiator');
    process.kill(pid, 'SIGSTOP');
    try {
      const st = await pool.run('dsched', ['status']);
      assert.equal(st.code, 1, st.stdout);
      assert.equal(healthOf(st.stdout, 'negotiator'), 'unreachable', st.stdout);
      assert.equal(healthOf(st.stdout, 'schedd'), 'SERVING', st.stdout);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
