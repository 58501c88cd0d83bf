// What an admin gets from `dsched start` and `dsched restart` when the pool cannot come up as configured: a
// fixed port something else listens on, a knob value the daemons would refuse, a home the user may not write.
// Each is said at once with its cause, and nothing is started (a restart leaves the running pool running). A
// daemon that fails once started is named with its reason; one slow to serve is waited for.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adsTakenFile, poolPaths } from '../../lib/config/paths.js';
import { DIST, runChild, TestPool } from './harness/pool.js';

const asRoot = process.getuid?.() === 0;

describe('start refusals', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('start refusals – dsched restart with a knob the daemons would refuse says which, and leaves the pool running', async () => {
    const schedd = pool.daemonPid('schedd');
    const config = readFileSync(join(pool.home, 'config'), 'utf8');
    appendFileSync(join(pool.home, 'config'), 'NUM_CPUS = four\n');
    try {
      const r = await pool.run('dsched', ['restart']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^dsched: error\[CONFIG_INVALID\]: NUM_CPUS = four \(from .*config:\d+\) is not a whole number$/m,
      );
      assert.doesNotMatch(r.stdout, /pool stopped/);
      assert.equal(pool.daemonPid('schedd'), schedd, 'the same schedd still serves');
      const s = await pool.run('dsched', ['status']);
      assert.equal(s.code, 0, s.stdout + s.stderr);
    } finally {
      writeFileSync(join(pool.home, 'config'), config);
    }
  });

  test('start refusals – a fixed port something listens on is refused before any daemon starts', async () => {
    const other = TestPool.create();
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      appendFileSync(join(other.home, 'config'), `COLLECTOR_PORT = ${port}\n`);
      const r = await other.run('dsched', ['start']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^dsched: error\\[PORT_IN_USE\\]: the collector cannot listen on 127\\.0\\.0\\.1:${port} \\(COLLECTOR_PORT\\): something already listens there$`,
          'm',
        ),
      );
      assert.ok(!existsSync(join(other.home, 'run', 'master.pid')), 'no master was started');
      const s = await other.run('dsched', ['status']);
      assert.equal(s.code, 1);
      assert.match(s.stderr, /POOL_NOT_RUNNING/);
    } finally {
      busy.close();
      await other.stop();
    }
  });

  test('start refusals – a daemon that cannot start is named with its reason, from its log or its standard error', async () => {
    const other = TestPool.create();
    try {
      // a job queue that is not a database: the schedd cannot open it, and exits
      mkdirSync(join(other.home, 'spool'), { mode: 0o700 });
      writeFileSync(join(other.home, 'spool', 'job_queue.db'), 'this is not a database, whatever its name says\n');
      const r = await other.run('dsched', ['start'], { timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      // one that cannot run until an admin acts says why at once, and is not restarted
      assert.match(
        r.stderr,
        /^dsched: error\[QUEUE_CORRUPT\]: the schedd did not start: the job queue \S+job_queue\.db is damaged \(SQLite: file is not a database\)/m,
      );
    } finally {
      await other.stop();
    }
  });

  test('start refusals – a daemon slow to serve is waited for past 30 s while it is on its first start, and dsched start says so', async () => {
    const other = TestPool.create();
    const go = join(other.work, 'go');
    try {
      // every daemon the master starts loads this first: the schedd waits for the test's go-ahead to serve
      const hook = join(other.work, 'slow-schedd.mjs');
      writeFileSync(
        hook,
        `import { existsSync } from 'node:fs';\n` +
          `if (/schedd/.test(process.argv[1] ?? '')) while (!existsSync(${JSON.stringify(go)})) ` +
          `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);\n`,
      );
      let said!: () => void;
      const saidWaiting = new Promise<void>((r) => (said = r));
      const start = runChild(
        process.execPath,
        [join(DIST, 'cli', 'dsched.js'), 'start'],
        {
          env: { ...other.env, DSCHED_DAEMON_NODE_ARGS: `--import=${hook}` },
          timeoutMs: 600_000,
          onStderr: (text) => /still waiting for the schedd to serve/.test(text) && said(),
        },
        other.work,
      );
      await Promise.race([
        saidWaiting,
        start.then((r) => assert.fail(`dsched start ended before it said it waits: ${r.stdout}${r.stderr}`)),
      ]);
      writeFileSync(go, '');
      const r = await start;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^dsched: pool started/m);
      const q = await other.run('dq', []);
      assert.equal(q.code, 0, q.stderr);
    } finally {
      writeFileSync(go, '');
      await other.stop();
    }
  });

  test(
    'start refusals – a home the user may not write is error[PERMISSION_DENIED] naming the folder, not an internal error',
    { skip: !asRoot && 'needs root (runs dsched as uid 65534)' },
    async () => {
      const parent = mkdtempSync(join(tmpdir(), 'dsched-locked-'));
      try {
        const home = join(parent, 'home');
        const r = await pool.run('dsched', ['start'], {
          uid: 65534,
          gid: 65534,
          env: { USER: 'nobody', HOME: '/tmp', DSCHED_HOME: home },
        });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `^dsched: error\\[PERMISSION_DENIED\\]: cannot make the pool's folder ${home}: permission denied$`,
            'm',
          ),
        );
        assert.doesNotMatch(r.stderr, /internal error/);
        assert.ok(!existsSync(home), 'nothing was made');
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    },
  );
  test("start refusals – dsched start returns once the collector has this host's slot ads", async () => {
    const other = TestPool.create();
    try {
      const r = await other.run('dsched', ['start']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const slotTypes = async () => {
        const s = await other.run('dstatus', ['-af', 'SlotType']);
        assert.equal(s.code, 0, s.stderr);
        return s.stdout.trim();
      };
      // dsched start waits for the ads a bounded time (5 s), then warns and returns: a loaded machine may take
      // longer, so that warning is allowed, and then the mark dsched start waits for must still come
      if (/warning/.test(r.stderr)) {
        assert.match(r.stderr, /^dsched: warning: the collector has not taken this host's slot ads yet/m);
        await other.waitFor('the collector to take the slot ads', () =>
          existsSync(adsTakenFile(poolPaths(other.home))),
        );
        assert.equal(await slotTypes(), 'Partitionable');
      }
      // without the warning, no waiting here: the machine shows as soon as the command has returned
      else assert.equal(await slotTypes(), 'Partitionable');
    } finally {
      await other.stop();
    }
  });

  test('start refusals – an execute host whose collector does not answer starts, and says its slots are not in the pool yet', async () => {
    // a collector's port that drops every connection: kept bound for the whole test, where a port picked free
    // and closed could be taken meanwhile by any program listening on port 0 (another pool's collector)
    const closed = createServer((s) => s.destroy());
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    const exec = TestPool.create({ DAEMON_LIST: 'STARTD', COLLECTOR_HOST: `127.0.0.1:${port}` });
    try {
      const r = await exec.run('dsched', ['start']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^dsched: warning: the collector at 127\\.0\\.0\\.1:${port} has not taken this host's slot ads yet \\(the startd keeps trying\\)`,
          'm',
        ),
      );
      assert.ok(exec.daemonPid('startd') > 0, 'the startd runs on');
    } finally {
      await exec.stop();
      await new Promise((r) => closed.close(r));
    }
  });
});
