// A damaged job queue (truncated, overwritten): the schedd refuses it with QUEUE_CORRUPT and one clear line,
// its master keeps it down instead of restarting it in a loop (`dsched status` says why), and
// `dsched start -set-aside-damaged-queue` moves the damaged file aside, kept byte for byte, for an empty queue.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { walCommittedFrames } from '../../daemons/schedd/store/queue-files.js';
import { TestPool } from './harness/pool.js';

const damages: Array<[string, (file: string) => void]> = [
  ['truncated', (f) => truncateSync(f, Math.floor(statSync(f).size / 3))],
  [
    'garbage bytes over its header',
    (f) => {
      const fd = openSync(f, 'r+');
      writeSync(fd, Buffer.alloc(512, 0x5a), 0, 512, 0);
      closeSync(fd);
    },
  ],
];

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every daemon of the pool killed at once, the schedd first (as in a host crash): its -wal and -shm stay as they were. */
function crash(pool: TestPool, daemons: string[]): void {
  const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
  // stopped first, so that it neither restarts the schedd nor has it close the queue cleanly
  process.kill(master, 'SIGSTOP');
  for (const pid of daemons.map((d) => pool.daemonPid(d))) process.kill(pid, 'SIGKILL');
  process.kill(master, 'SIGKILL');
}

describe('damaged queue', () => {
  test('damaged queue – a -wal cut short below what was committed is refused, naming it; a torn tail is not', async () => {
    const daemons = ['collector', 'schedd'];
    const pool = await TestPool.start({ DAEMON_LIST: daemons.join(', ') });
    try {
      const sub = pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 20\n');
      const cluster = await pool.submit(sub);
      await pool.submit(sub);
      crash(pool, daemons);
      const file = join(pool.home, 'spool', 'job_queue.db');
      const wal = `${file}-wal`;
      const committed = walCommittedFrames(wal);
      assert.ok(committed && committed.frames >= 2, `the -wal holds the submissions: ${JSON.stringify(committed)}`);
      const frameSize = 24 + readFileSync(wal).readUInt32BE(8);

      // half a frame of a transaction the crash interrupted: SQLite drops it, and nothing committed is lost
      appendFileSync(wal, randomBytes(Math.floor(frameSize / 2)));
      const torn = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(torn.code, 0, torn.stdout + torn.stderr);
      assert.equal((await pool.json('dq', [])).length, 40);

      crash(pool, daemons);
      const now = walCommittedFrames(wal)!.frames;
      truncateSync(wal, 32 + (now - 1) * frameSize + 100);
      const r = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /error\[QUEUE_CORRUPT\]: the schedd did not start: the job queue .*job_queue\.db is damaged \(job_queue\.db-wal is cut short or damaged: it holds \d+ frames of committed transactions, and the queue had committed \d+ to it/,
      );
      const s = await pool.run('dsched', ['status']);
      assert.match(
        s.stdout,
        /^schedd\s+failed\s+-\s+0\s.*last exit: exit code 99: QUEUE_CORRUPT: .*job_queue\.db-wal is cut short/m,
      );
      assert.ok(cluster >= 1);
    } finally {
      await pool.stop();
    }
  });

  test('damaged queue – a job_queue.db emptied to 0 bytes is refused, not taken for a new queue', async () => {
    const pool = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, SCHEDD' });
    try {
      await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 5\n'));
      assert.equal((await pool.run('dsched', ['stop'])).code, 0);
      truncateSync(join(pool.home, 'spool', 'job_queue.db'), 0);
      const r = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /error\[QUEUE_CORRUPT\]: .*job_queue\.db is empty \(0 bytes\)/);
    } finally {
      await pool.stop();
    }
  });

  test('damaged queue – a queue a newer release wrote is refused with QUEUE_TOO_NEW and left as it was', async () => {
    // a downgrade: the older schedd opened it without a word, on tables it may not know
    const pool = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, SCHEDD' });
    try {
      const cluster = await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 3\n'));
      assert.equal((await pool.run('dsched', ['stop'])).code, 0);
      const file = join(pool.home, 'spool', 'job_queue.db');
      const version = (v?: number) => {
        const db = new Database(file);
        try {
          if (v !== undefined) db.pragma(`user_version = ${v}`);
          return db.pragma('user_version', { simple: true }) as number;
        } finally {
          db.close();
        }
      };
      const known = version();
      version(known + 1);
      const r = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[QUEUE_TOO_NEW\\]: .*job_queue\\.db was written by a newer dsched \\(queue schema ${known + 1}; this release knows up to ${known}\\)`,
        ),
      );
      const s = await pool.run('dsched', ['status']);
      assert.match(s.stdout, /^schedd\s+failed\s.*exit code 99: QUEUE_TOO_NEW: /m);
      assert.equal(version(), known + 1);
      // the release that knows it again: nothing was lost
      assert.equal((await pool.run('dsched', ['stop'])).code, 0);
      version(known);
      const again = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal((await pool.json('dq', [String(cluster)])).length, 3);
    } finally {
      await pool.stop();
    }
  });

  for (const [what, damage] of damages) {
    test(`damaged queue – ${what}: QUEUE_CORRUPT, the schedd kept down with its reason, set aside on request`, async () => {
      const pool = await TestPool.start();
      try {
        const sub = pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 20\n');
        const cluster = await pool.submit(sub);
        const stopped = await pool.run('dsched', ['stop']);
        assert.equal(stopped.code, 0, stopped.stderr);
        const file = join(pool.home, 'spool', 'job_queue.db');
        damage(file);
        const damagedSha = sha(file);

        const r = await pool.run('dsched', ['start'], { timeoutMs: 120_000 });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          /^dsched: error\[QUEUE_CORRUPT\]: the schedd did not start: the job queue .*job_queue\.db is damaged \(SQLite: [^)]+\)/m,
        );
        assert.match(r.stderr, /dsched start -set-aside-damaged-queue/);
        // the master keeps it down (not a restart loop), and says why
        const s = await pool.run('dsched', ['status']);
        assert.equal(s.code, 1);
        assert.match(
          s.stdout,
          /^schedd\s+failed\s+-\s+0\s.*last exit: exit code 99: QUEUE_CORRUPT: the job queue .*is damaged/m,
        );
        const fatal = readFileSync(join(pool.home, 'log', 'schedd.log'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('"QUEUE_CORRUPT"'));
        assert.equal(fatal.length, 1, fatal.join('\n'));
        assert.equal(sha(file), damagedSha, 'the damaged queue is left as it was');

        assert.equal((await pool.run('dsched', ['stop'])).code, 0);
        const again = await pool.run('dsched', ['start', '-set-aside-damaged-queue'], { timeoutMs: 120_000 });
        assert.equal(again.code, 0, again.stdout + again.stderr);
        const m = /the damaged job queue was moved to (\S+) \(kept for recovery\)/.exec(again.stdout);
        assert.ok(m, again.stdout);
        assert.match(m[1]!, /job_queue\.db\.damaged-\S+Z$/);
        assert.equal(sha(m[1]!), damagedSha, 'the damaged queue is kept byte for byte');
        assert.deepEqual(await pool.json('dq', []), []);
        // the new queue takes jobs
        const next = await pool.submit(sub);
        assert.ok(next >= 1);
        assert.equal((await pool.json('dq', [String(next)])).length, 20);
        assert.ok(cluster >= 1);

        // asking again on a sound queue moves nothing: the request never costs a healthy queue its jobs
        assert.equal((await pool.run('dsched', ['stop'])).code, 0);
        const sound = await pool.run('dsched', ['start', '-set-aside-damaged-queue'], { timeoutMs: 120_000 });
        assert.equal(sound.code, 0, sound.stdout + sound.stderr);
        assert.match(sound.stdout, /job_queue\.db is not damaged: nothing was moved/);
        assert.equal((await pool.json('dq', [String(next)])).length, 20);
        assert.equal(
          readdirSync(join(pool.home, 'spool')).filter((f) => /^job_queue\.db\.damaged-.*Z$/.test(f)).length,
          1,
        );
        // a running pool is not asked: its schedd has long opened its queue
        const running = await pool.run('dsched', ['start', '-set-aside-damaged-queue']);
        assert.equal(running.code, 1);
        assert.match(running.stderr, /error\[POOL_ALREADY_RUNNING\]/);
      } finally {
        await pool.stop();
      }
    });
  }
});
