// The command agent hands a large stdout to its launchers as a spool file in its socket folder, which each
// launcher opens itself (cli/dsched-agent.ts, libexec/dcmd.c). Another user must neither read nor replace
// such a file (the folder is its owner's alone), and the launcher must copy only a file its agent made: a
// regular file of its own effective uid, no one else's to read, with no other name, reached without a link,
// inside its folder. A link planted in root's 0700 folder by someone else cannot happen; what the launcher
// checks is tested here with a fake agent that names such files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentPids, Launcher } from '../integration/harness/agent.js';
import { agentFrame, frameReader, rawDq, submitHeld } from '../integration/harness/agent-client.js';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534 };
const SECRET = 'root-only secret\n';

/** What nobody gets trying `op` on `path` (read, append, remove, rename onto, link beside): the error code or 'done'. */
function asNobody(op: string, path: string): string {
  const script = `
    const fs = require('fs');
    const p = ${JSON.stringify(path)};
    try {
      ({
        read: () => fs.readFileSync(p),
        append: () => fs.appendFileSync(p, 'x'),
        remove: () => fs.unlinkSync(p),
        replace: () => {
          const t = '/tmp/dsched-spool-swap-' + process.pid;
          fs.writeFileSync(t, 'x');
          try { fs.renameSync(t, p); } finally { fs.rmSync(t, { force: true }); }
        },
        link: () => fs.symlinkSync('/etc/passwd', p + '.x'),
      })[${JSON.stringify(op)}]();
      console.log('done');
    } catch (e) { console.log(e.code); }`;
  return spawnSync(process.execPath, ['-e', script], { ...NOBODY, encoding: 'utf8', timeout: 30_000 }).stdout.trim();
}

describe('command agent: spool files', () => {
  let pool: TestPool;
  let l: Launcher;
  let cluster: string;

  before(async () => {
    pool = await TestPool.start();
    l = new Launcher(pool);
    await l.waitForAgent();
    cluster = await submitHeld(l);
  });
  after(async () => {
    l.close();
    await pool.stop();
  });

  test("security – nobody can neither read nor replace a spool file of root's agent", async () => {
    let release!: () => void;
    let offered!: (name: string) => void;
    const named = new Promise<string>((res) => (offered = res));
    // a launcher that holds the spool file offered to it: it stays in the folder meanwhile
    const held = rawDq(l, 'dsched-agent 2', [cluster, '-json'], (name, _reply, close) => {
      release = close;
      offered(name);
    });
    const path = join(l.socketDir, await named);
    const was = lstatSync(path);
    assert.ok(was.isFile());
    assert.equal(was.mode & 0o777, 0o600);
    for (const op of ['read', 'append', 'remove', 'replace', 'link'])
      assert.equal(asNobody(op, path), 'EACCES', `nobody's ${op} of ${path}`);
    const now = lstatSync(path);
    // the same file, root's (it may have grown: the agent appends while the query runs)
    assert.deepEqual([now.ino, now.uid, now.mode], [was.ino, 0, was.mode]);
    assert.ok(!existsSync(`${path}.x`));
    release();
    await held;
    await pool.waitFor('the spool file to go', () => !existsSync(path));
  });

  describe('a fake agent names files it did not make', () => {
    let fake: Launcher;
    let server: Server | undefined;
    let prefix: string;
    let secret: string;
    /** What the launcher answered each spool file offered. */
    let replies: string[] = [];
    /** The spool file the fake agent names next, and the range it then asks to copy. */
    let offer = '';

    before(async () => {
      fake = new Launcher(pool);
      // the first command tells the socket's name (and starts an agent there: stopped at once)
      const first = await fake.run('dq', ['-af', 'ClusterId', '--debug']);
      const sock = /started an agent for (\S+)/.exec(first.stderr)?.[1];
      assert.ok(sock, first.stderr);
      await pool.waitFor('the agent to start', () => fake.agents().length > 0);
      for (const pid of fake.agents()) process.kill(pid, 'SIGKILL');
      await pool.waitFor('the agent to end', () => agentPids(fake.runtime).length === 0);
      rmSync(sock, { force: true });
      prefix = `${basename(sock, '.sock')}.spool.`;
      secret = join(pool.work, 'secret');
      writeFileSync(secret, SECRET, { mode: 0o600 });
      // it takes the command, offers `offer`, asks for the secret's length from it whatever the answer, ends
      server = createServer((c) => {
        c.on('error', () => undefined);
        c.on(
          'data',
          frameReader((type) => {
            if (type === 'H') {
              c.write(agentFrame('A'));
              c.write(agentFrame('F', Buffer.from(offer)));
            } else if (type === 'F' || type === 'N') {
              replies.push(type);
              const range = Buffer.alloc(16);
              range.writeBigUInt64LE(BigInt(SECRET.length), 8);
              c.write(Buffer.concat([agentFrame('R', range), agentFrame('X', Buffer.alloc(4))]));
              c.end();
            }
          }),
        );
      });
      await new Promise<void>((res) => server!.listen(sock, res));
    });
    after(() => {
      server?.close();
      fake.close();
    });

    /** A dq through the fake agent offered `name` (in its folder). */
    const through = async (name: string) => {
      replies = [];
      offer = name;
      return fake.run('dq', ['-json', '--debug']);
    };

    test('security – the fake agent is followed for a file of its own (the control)', async () => {
      const own = join(fake.socketDir, `${prefix}1.1`);
      writeFileSync(own, SECRET, { mode: 0o600 });
      const r = await through(basename(own));
      assert.deepEqual([r.code, r.stdout, replies], [0, SECRET, ['F']], r.stderr);
      rmSync(own);
    });

    const cases: Array<[string, (path: string) => void]> = [
      ['a link to a file of root', (p) => symlinkSync(secret, p)],
      ['a second name of a file of root', (p) => linkSync(secret, p)],
      ["a file of nobody's", (p) => (writeFileSync(p, SECRET, { mode: 0o600 }), chownSync(p, 65534, 65534))],
      ['a file others may read', (p) => (writeFileSync(p, SECRET), chmodSync(p, 0o644))],
      ['a FIFO', (p) => assert.equal(spawnSync('mkfifo', ['-m', '0600', p]).status, 0)],
      ['a folder', (p) => spawnSync('mkdir', ['-m', '0700', p])],
    ];
    for (const [what, make] of cases) {
      test(`security – the launcher refuses a spool file that is ${what}, and copies nothing`, async () => {
        const path = join(fake.socketDir, `${prefix}1.2`);
        make(path);
        try {
          const r = await through(basename(path));
          assert.deepEqual(replies, ['N']);
          assert.match(r.stderr, /the spool file the agent named is refused/);
          assert.match(r.stderr, /error\[AGENT_LOST\]: the command agent sent output this launcher cannot read/);
          assert.deepEqual([r.code, r.stdout], [1, '']);
          assert.equal(readFileSync(secret, 'utf8'), SECRET);
        } finally {
          rmSync(path, { recursive: true, force: true });
        }
      });
    }

    test('security – the launcher refuses a spool name outside its folder or not its agent’s', async () => {
      const copy = join(fake.socketDir, 'secret-copy');
      writeFileSync(copy, SECRET, { mode: 0o600 });
      for (const name of [`${prefix}../../../${basename(pool.work)}/secret`, secret, 'secret-copy', prefix, '']) {
        const r = await through(name);
        assert.deepEqual([r.code, r.stdout, replies], [1, '', ['N']], `${name}: ${r.stderr}`);
        assert.match(r.stderr, /refused: not a spool file's name/);
      }
      rmSync(copy);
      assert.deepEqual(
        readdirSync(fake.socketDir).filter((f) => f.includes('.spool.')),
        [],
      );
    });
  });
});
