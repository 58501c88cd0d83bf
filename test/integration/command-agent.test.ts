// The installed commands (the launcher, libexec/dcmd.c) run through this user's command agent
// (cli/dsched-agent.ts) and must behave exactly as the command run as its own process: the same output and
// exit codes, the command's own folder, environment and standard input, Ctrl-C, and no harm when the agent
// dies or belongs to another build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Launcher } from './harness/agent.js';
import { DIST, ROOT, TestPool, type RunResult } from './harness/pool.js';

/** What a user sees of a run: its output and exit code. */
const seen = (r: RunResult) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

describe('command agent', () => {
  let pool: TestPool;
  let l: Launcher;

  before(async () => {
    pool = await TestPool.start();
    l = new Launcher(pool);
    pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 2\n');
    pool.file('bad.sub', 'executable = /bin/true\nqueue\nfoo bar baz\n');
    await l.waitForAgent();
  });
  after(async () => {
    l.close();
    await pool.stop();
  });

  test('agent – dsubmit, dq and drm give what the command run alone gives, errors and exit codes too', async () => {
    const a = await l.run('dsubmit', ['held.sub']);
    assert.equal(a.code, 0, a.stderr);
    const cluster = Number(/cluster (\d+)/.exec(a.stdout)![1]);
    assert.match(a.stdout, /^2 job\(s\) submitted to cluster \d+\.\n$/);
    const cases: Array<[string, string[]]> = [
      ['dq', [String(cluster), '-af', 'ClusterId', 'ProcId', 'JobStatus']],
      ['dq', ['-nobatch', '-wide', String(cluster)]],
      ['dq', ['-json', String(cluster)]],
      ['dq', ['99999.0']],
      ['dq', ['-nosuchoption']],
      ['dq', ['-limit', 'abc']],
      ['dq', ['--help']],
      ['dsubmit', ['--version']],
      ['dsubmit', ['bad.sub']],
      ['dsubmit', ['missing.sub']],
      ['dsubmit', ['-nosuch']],
      ['drm', []],
      ['drm', ['99999']],
      ['dhold', ['-constraint', 'JobStatus ==']],
      ['dhistory', ['99999']],
      ['dstatus', ['-af', 'Name']],
    ];
    for (const [cmd, args] of cases) {
      const cold = await pool.run(cmd, args);
      const warm = await l.run(cmd, args);
      // the dq banner's clock may tick between the two
      const clock = (r: RunResult) => ({ ...seen(r), stdout: r.stdout.replace(/@ [\d/]+ [\d:]+/g, '@ T') });
      assert.deepEqual(clock(warm), clock(cold), `${cmd} ${args.join(' ')}`);
    }
    const bad = await l.run('dsubmit', ['bad.sub']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--> bad\.sub:3:1/);
    const rm = await l.run('drm', [String(cluster)]);
    assert.deepEqual(seen(rm), { code: 0, stdout: '2 job(s) marked for removal.\n', stderr: '' });
    const again = await l.run('drm', [String(cluster)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^drm: error\[/);
  });

  test('agent – relative paths and initialdir are the folder of each command, two at once from two folders', async () => {
    const dirs = ['A', 'B'].map((n) => join(pool.work, `folder-${n}`));
    for (const d of dirs) {
      mkdirSync(join(d, 'sub'), { recursive: true });
      writeFileSync(join(d, 'sub', 'in.txt'), 'x\n');
      writeFileSync(join(d, 'j.sub'), 'executable = /bin/true\ninitialdir = sub\ninput = in.txt\nhold = true\nqueue\n');
    }
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all(dirs.map((d) => l.run('dsubmit', ['-dry-run', '-json', 'j.sub'], { cwd: d })));
      runs.forEach((r, i) => {
        assert.equal(r.code, 0, r.stderr);
        const [ad] = JSON.parse(r.stdout) as Array<Record<string, string>>;
        assert.equal(ad!.Iwd, JSON.stringify(join(dirs[i]!, 'sub')));
      });
    }
    // queued for real too: the schedd gets each command's folder
    const both = await Promise.all(dirs.map((d) => l.run('dsubmit', ['-terse', 'j.sub'], { cwd: d })));
    for (const [i, r] of both.entries()) {
      assert.equal(r.code, 0, r.stderr);
      const cluster = r.stdout.split('.')[0]!;
      const q = await l.run('dq', [cluster, '-af', 'Iwd']);
      assert.equal(q.stdout, `${join(dirs[i]!, 'sub')}\n`);
      await l.run('drm', [cluster]);
    }
  });

  test("agent – getenv = true takes the command's environment, not the agent's", async () => {
    pool.file(
      'getenv.sub',
      'executable = /bin/true\ngetenv = true\n+FromEnv = "$ENV(AGENT_TEST_VAR)"\nhold = true\nqueue\n',
    );
    for (const v of ['first', 'second']) {
      const r = await l.run('dsubmit', ['-dry-run', '-json', 'getenv.sub'], { env: { AGENT_TEST_VAR: v } });
      assert.equal(r.code, 0, r.stderr);
      const [ad] = JSON.parse(r.stdout) as Array<Record<string, string>>;
      assert.match(ad!.Environment!, new RegExp(`\\bAGENT_TEST_VAR=${v}\\b`));
      assert.equal(ad!.FromEnv, `"${v}"`);
    }
    const none = await l.run('dsubmit', ['-dry-run', '-json', 'getenv.sub']);
    assert.doesNotMatch(none.stdout, /AGENT_TEST_VAR/);
  });

  test('agent – a submit description on standard input', async () => {
    const r = await l.run('dsubmit', ['-terse', '-'], { input: 'executable = /bin/true\nhold = true\nqueue 3\n' });
    assert.equal(r.code, 0, r.stderr);
    const [c, last] = r.stdout.trim().split(' - ');
    assert.equal(last, `${c!.split('.')[0]}.2`);
    await l.run('drm', [c!.split('.')[0]!]);
  });

  test('agent – Ctrl-C ends a command waiting on its input, nothing is queued, the agent serves on', async () => {
    const before = await l.run('dq', ['-allusers', '-af', 'ClusterId']);
    let pid = 0;
    let taken!: () => void;
    const accepted = new Promise<void>((res) => (taken = res));
    const waiting = l.run('dsubmit', ['-', '--debug'], {
      keepStdin: true,
      input: 'executable = /bin/true\n',
      onSpawn: (p) => (pid = p),
      onStderr: (text) => {
        if (/the agent at .* runs the command/.test(text)) taken();
      },
    });
    await accepted;
    process.kill(pid, 'SIGINT');
    const r = await waiting;
    assert.equal(r.signal, 'SIGINT', `${r.code} ${r.stderr}`);
    const afterwards = await l.run('dq', ['-allusers', '-af', 'ClusterId']);
    assert.equal(afterwards.stdout, before.stdout);
    await l.waitForAgent();
  });

  test('agent – a command from another folder is not held up behind a long one (nor is dq -watch run there)', async () => {
    const other = join(pool.work, 'other-folder');
    mkdirSync(other, { recursive: true });
    let taken!: () => void;
    const accepted = new Promise<void>((res) => (taken = res));
    let pid = 0;
    // a dsubmit reading a terminal that does not type: it holds the agent's folder for as long
    const long = l.run('dsubmit', ['-', '--debug'], {
      keepStdin: true,
      onSpawn: (p) => (pid = p),
      onStderr: (text) => {
        if (/the agent at .* runs the command/.test(text)) taken();
      },
    });
    await accepted;
    const q = await l.run('dq', ['-af', 'ClusterId', '--debug'], { cwd: other });
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stderr, /did not take the command: running it without/);
    process.kill(pid, 'SIGINT');
    assert.equal((await long).signal, 'SIGINT');
    const w = await l.run('dq', ['-watch', '99999', '--debug']);
    assert.match(w.stderr, /did not take the command/);
  });

  test('agent – a killed agent: the next command still works, and a new agent comes', async () => {
    await l.waitForAgent();
    const [pid] = l.agents();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await pool.waitFor('the agent to be gone', () => !l.agents().includes(pid));
    const r = await l.run('dq', ['-af', 'ClusterId']);
    assert.equal(r.code, 0, r.stderr);
    await l.waitForAgent();
    assert.ok(!l.agents().includes(pid));
  });

  test('agent – a launcher of another build never talks to this agent', () => {
    // the same launcher with another build id: its socket is another file
    const other = join(DIST, 'cli', 'dcmd-other-build');
    const cc = spawnSync(process.env.CC || 'cc', [
      '-O2',
      '-DDSCHED_BUILD_ID="another"',
      '-o',
      other,
      join(ROOT, 'libexec', 'dcmd.c'),
    ]);
    assert.equal(cc.status, 0, String(cc.stderr));
    // named as the command, as npm links it
    const link = join(l.bin, 'other', 'dq');
    mkdirSync(dirname(link));
    symlinkSync(other, link);
    try {
      const socks = () => readdirSync(l.socketDir).filter((f) => f.endsWith('.sock'));
      const mine = socks();
      assert.equal(mine.length, 1);
      const r = spawnSync(link, ['-af', 'ClusterId', '--debug'], {
        env: l.env,
        cwd: pool.work,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /runs the command/);
      assert.match(r.stderr, /started an agent for/);
      assert.doesNotMatch(r.stderr, new RegExp(mine[0]!.replace('.', '\\.')));
    } finally {
      rmSync(other, { force: true });
    }
  });

  test('agent – identical queries at once each get the whole answer; a dsubmit meanwhile is served', async () => {
    pool.file('many.sub', 'executable = /bin/true\nhold = true\nqueue 300\n');
    const s = await l.run('dsubmit', ['-terse', 'many.sub']);
    assert.equal(s.code, 0, s.stderr);
    const cluster = s.stdout.split('.')[0]!;
    const alone = await pool.run('dq', [cluster, '-json']);
    const [queries, submit] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => l.run('dq', [cluster, '-json']))),
      l.run('dsubmit', ['-terse', 'held.sub']),
    ]);
    for (const q of queries) assert.deepEqual(seen(q), seen(alone));
    assert.equal(submit.code, 0, submit.stderr);
    await l.run('drm', [cluster]);
    await l.run('drm', [submit.stdout.split('.')[0]!]);
  });

  test('agent – DSCHED_AGENT=0 runs the command without the agent', async () => {
    const r = await l.run('dq', ['-af', 'ClusterId', '--debug'], { env: { DSCHED_AGENT: '0' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /agent/);
  });
});
