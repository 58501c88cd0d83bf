// The command agent runs commands as the user who started it, so only that user may reach it: its socket lives
// in a folder of that user's alone (checked, never a folder or link someone else placed in /tmp), the launcher
// checks the agent's uid, and the agent serves only a hello with its own uid. Here nobody (65534) and daemon (1)
// try against root's pool.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentPids, Launcher } from '../integration/harness/agent.js';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534 };
const DAEMON = { uid: 1, gid: 1 };
/** Where daemon's launcher puts its socket folder when it has no XDG_RUNTIME_DIR. */
const DAEMON_TMP = '/tmp/dsched-agent-1';

/** Connect to `path` as nobody: the error code, or 'connected'. */
function connectAsNobody(path: string): string {
  const script = `require('net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const r = spawnSync(process.execPath, ['-e', script], { ...NOBODY, encoding: 'utf8', timeout: 30_000 });
  return r.stdout.trim();
}

describe('command agent: other users', () => {
  let pool: TestPool;
  let root: Launcher;

  before(async () => {
    pool = await TestPool.start();
    root = new Launcher(pool);
    await root.waitForAgent();
    rmSync(DAEMON_TMP, { recursive: true, force: true });
  });
  after(async () => {
    root.close();
    for (const pid of agentPids(DAEMON_TMP)) process.kill(pid, 'SIGKILL');
    rmSync(DAEMON_TMP, { recursive: true, force: true });
    await pool.stop();
  });

  test("security – nobody cannot connect to root's agent socket", () => {
    const [sock] = readdirSync(root.socketDir).filter((f) => f.endsWith('.sock'));
    assert.ok(sock);
    assert.equal(connectAsNobody(join(root.socketDir, sock)), 'EACCES');
    assert.equal(lstatSync(root.socketDir).mode & 0o777, 0o700);
  });

  for (const squat of ['an open folder', 'a link to a folder of its own']) {
    test(`security – a socket folder squatted in /tmp by another uid (${squat}) is never used; the command works`, async () => {
      rmSync(DAEMON_TMP, { recursive: true, force: true });
      const target = mkdtempSync(join(tmpdir(), 'dsched-squat-'));
      chownSync(target, 65534, 65534);
      if (squat === 'an open folder') {
        spawnSync('mkdir', ['-m', '0777', DAEMON_TMP], NOBODY);
        assert.equal(lstatSync(DAEMON_TMP).uid, 65534);
      } else {
        spawnSync('ln', ['-s', target, DAEMON_TMP], NOBODY);
        assert.ok(lstatSync(DAEMON_TMP).isSymbolicLink());
      }
      try {
        const env = { USER: 'daemon', HOME: '/tmp', XDG_RUNTIME_DIR: undefined };
        const cold = await pool.run('dq', ['-allusers', '-af', 'ClusterId'], { ...DAEMON, env });
        for (let i = 0; i < 2; i++) {
          const r = await root.run('dq', ['-allusers', '-af', 'ClusterId', '--debug'], { ...DAEMON, env });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, cold.stdout);
          assert.match(r.stderr, /is not a folder of this user's alone: not used/);
        }
        // nothing was made in the squatter's folder, nor where its link points, and no agent started
        assert.deepEqual(readdirSync(squat === 'an open folder' ? DAEMON_TMP : target), []);
        assert.deepEqual(agentPids(DAEMON_TMP), []);
      } finally {
        rmSync(DAEMON_TMP, { recursive: true, force: true });
        rmSync(target, { recursive: true, force: true });
      }
    });
  }

  test("security – another user's agent (daemon's) cannot be reached by nobody", async () => {
    rmSync(DAEMON_TMP, { recursive: true, force: true });
    const env = { USER: 'daemon', HOME: '/tmp', XDG_RUNTIME_DIR: undefined };
    await root.waitForAgent({ ...DAEMON, env });
    const [sock] = readdirSync(DAEMON_TMP).filter((f) => f.endsWith('.sock'));
    assert.ok(sock);
    assert.equal(lstatSync(DAEMON_TMP).uid, 1);
    assert.equal(connectAsNobody(join(DAEMON_TMP, sock)), 'EACCES');
  });

  test('security – an agent serves no hello that names another uid', async () => {
    const [sock] = readdirSync(root.socketDir).filter((f) => f.endsWith('.sock'));
    const before = await pool.run('dq', ['-allusers', '-af', 'ClusterId']);
    pool.file('agent-job.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const fields = ['dsched-agent 1', 'dsubmit', '65534', '18', '0', '0', '0', pool.work, '1', 'agent-job.sub'];
    const env = Object.entries(pool.env).map(([k, v]) => `${k}=${v}`);
    const hello = Buffer.from([...fields, String(env.length), ...env].map((f) => `${f}\0`).join(''));
    const head = Buffer.alloc(5);
    head.writeUInt32LE(hello.length, 0);
    head[4] = 'H'.charCodeAt(0);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const c = connect(join(root.socketDir, sock!));
      const got: Buffer[] = [];
      c.on('data', (d) => got.push(d));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(got)));
      c.write(Buffer.concat([head, hello]));
    });
    assert.equal(reply.length, 0, 'closed without a word');
    const afterwards = await pool.run('dq', ['-allusers', '-af', 'ClusterId']);
    assert.equal(afterwards.stdout, before.stdout, 'nothing was queued');
  });

  test("security – nobody's launcher never talks to a socket of another uid placed in its folder", async () => {
    // root (an agent of another uid) listens where nobody's agent would
    const runtime = mkdtempSync(join(tmpdir(), 'dsched-run-nobody-'));
    chownSync(runtime, 65534, 65534);
    const dir = join(runtime, 'dsched');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    const env = { USER: 'nobody', HOME: '/tmp', XDG_RUNTIME_DIR: runtime };
    let heard = 0;
    const servers: Array<ReturnType<typeof createServer>> = [];
    try {
      // the launcher's first run tells the socket's name (it starts nobody's agent there: stopped at once)
      const first = await root.run('dq', ['-af', 'ClusterId', '--debug'], { ...NOBODY, env });
      assert.equal(first.code, 0, first.stderr);
      const name = /started an agent for (\S+)/.exec(first.stderr)?.[1];
      assert.ok(name, first.stderr);
      await pool.waitFor("nobody's agent to start", () => agentPids(runtime).length > 0);
      for (const pid of agentPids(runtime)) process.kill(pid, 'SIGKILL');
      await pool.waitFor("nobody's agent to end", () => agentPids(runtime).length === 0);
      rmSync(name, { force: true });
      const fake = createServer((s) => {
        heard++;
        s.destroy();
      });
      servers.push(fake);
      await new Promise<void>((res) => fake.listen(name, res));
      chownSync(name, 65534, 65534);
      const r = await root.run('dq', ['-af', 'ClusterId', '--debug'], { ...NOBODY, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /is not this user's agent: not used/);
      assert.equal(heard, 1, 'connected, then left at once');
      assert.ok(existsSync(name));
    } finally {
      for (const s of servers) s.close();
      for (const pid of agentPids(runtime)) process.kill(pid, 'SIGKILL');
      rmSync(runtime, { recursive: true, force: true });
    }
  });
});
