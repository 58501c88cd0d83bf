// The daemons' logs as an admin keeps them: rotated past MAX_DAEMON_LOG into NAME.log.old (and .old.2 … up to
// MAX_NUM_DAEMON_LOG), whole lines in each file, and the pool working on across the rotations; NAME.out too.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('daemon logs', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ MAX_DAEMON_LOG: '2K', MAX_NUM_DAEMON_LOG: '2' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('daemon logs – past MAX_DAEMON_LOG a log becomes NAME.log.old, older copies .old.2, never more than MAX_NUM_DAEMON_LOG', async () => {
    pool.file('many.sub', 'executable = /bin/true\nlog = many.log\nqueue 30\n');
    const c = await pool.submit('many.sub');
    await pool.waitForHistory(c, 30);
    const log = (name: string) => join(pool.home, 'log', name);
    await pool.waitFor('the schedd log to be rotated twice', () => existsSync(log('schedd.log.old.2')));
    assert.equal(existsSync(log('schedd.log.old.3')), false, 'MAX_NUM_DAEMON_LOG = 2 keeps two copies');
    for (const f of ['schedd.log', 'schedd.log.old', 'schedd.log.old.2']) {
      const text = readFileSync(log(f), 'utf8');
      // each copy holds whole JSON lines: nothing is cut at the rotation
      for (const line of text.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `${f}: ${line}`);
      // the size of what was read: the schedd may write on (and rotate) after the jobs are done
      const longest = Math.max(...text.split('\n').map((l) => Buffer.byteLength(l) + 1));
      const size = Buffer.byteLength(text);
      assert.ok(size < 2048 + longest, `${f} is ${size} bytes`);
    }
    // the pool goes on after its logs were rotated: another job runs, and its lines are in the new log
    pool.file('after.sub', 'executable = /bin/true\nqueue\n');
    const next = await pool.submit('after.sub');
    const [ad] = await pool.waitForHistory(next, 1);
    assert.equal(ad!.ExitCode, 0);
  });

  test("daemon logs – a daemon's .out past MAX_DAEMON_LOG is renamed .out.old when the master starts it again", async () => {
    const out = join(pool.home, 'log', 'schedd.out');
    // what a daemon that kept dying would have left there
    appendFileSync(out, 'Error: an old crash\n'.repeat(200));
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    assert.match(readFileSync(`${out}.old`, 'utf8'), /an old crash/);
    assert.doesNotMatch(readFileSync(out, 'utf8'), /an old crash/);
  });

  test('daemon logs – MAX_DAEMON_LOG = 0 stops the rotation at once, without a restart', async () => {
    const log = join(pool.home, 'log', 'schedd.log');
    // the reload's own log line may be the one that rotates the log: it is looked for in both files
    appendFileSync(join(pool.home, 'config'), 'MAX_DAEMON_LOG = 0\n');
    await pool.waitFor('the schedd to reload MAX_DAEMON_LOG', () =>
      [log, `${log}.old`].some((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .some((l) => l.includes('"configuration reloaded"') && l.includes('MAX_DAEMON_LOG')),
      ),
    );
    const old = readFileSync(`${log}.old`, 'utf8');
    pool.file('more.sub', 'executable = /bin/true\nqueue 20\n');
    const c = await pool.submit('more.sub');
    await pool.waitForHistory(c, 20);
    assert.equal(readFileSync(`${log}.old`, 'utf8'), old, 'not rotated again');
    assert.ok(statSync(log).size > 2048, 'the log grows past the old limit');
  });
});
