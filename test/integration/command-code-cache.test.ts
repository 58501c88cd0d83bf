// Commands start from a per-user V8 code cache (cli/shared/launch.ts): made by the first run, used by the
// next ones, made again when it does not fit, and never needed for a command to work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MAX_CACHE_FILES } from '../../cli/shared/launch.js';
import { DIST, TestPool } from './harness/pool.js';

const work = mkdtempSync(join(tmpdir(), 'dsched-code-cache-'));
chmodSync(work, 0o700);
writeFileSync(join(work, 'job.sub'), 'executable = /bin/true\nqueue\n');

/** dsubmit --dry-run (no pool needed) with the cache under `cacheHome`. */
function dryRun(cacheHome: string, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: work, XDG_CACHE_HOME: cacheHome, ...extra };
  delete env.DSCHED_CODE_CACHE;
  Object.assign(env, extra);
  const r = spawnSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), '--dry-run', 'job.sub'], {
    cwd: work,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Cmd = "\/bin\/true"$/m);
}
const cacheFiles = (cacheHome: string) => {
  const dir = join(cacheHome, 'dsched', 'code-cache');
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
};
const freshHome = () => {
  const d = mkdtempSync(join(work, 'cache-'));
  chmodSync(d, 0o700);
  return d;
};

/** A first run's cache in a fresh cache home: its folder, its file and V8's data in it. */
function firstCache() {
  const home = freshHome();
  dryRun(home);
  const [file] = cacheFiles(home);
  const data = readFileSync(file!);
  return { home, dir: join(home, 'dsched', 'code-cache'), file: file!, v8: data.subarray(data.indexOf(10) + 1) };
}

/** Another installed copy of dsubmit at `root` (dist/cli), built with `hash`: its stub names the build it launches. */
function install(root: string, hash: string) {
  mkdirSync(join(root, 'bundles'), { recursive: true });
  writeFileSync(
    join(root, 'dsubmit.js'),
    `require('./bundles/launch.cjs').launch(__filename, "dsubmit", '${hash}');\n`,
  );
}

/** A cache file of the copy at `root` (tagged `tag`) for the build `hash`. */
function cacheOf(dir: string, v8: Buffer, tag: string, root: string, hash: string) {
  const f = join(dir, `dsubmit-${tag}-${hash}-x64-v0.bin`);
  const bundle = join(root, 'bundles', 'dsubmit.cjs');
  writeFileSync(f, Buffer.concat([Buffer.from(`dsched-code-cache ${hash} 0 ${bundle}\n`), v8]), { mode: 0o600 });
  return f;
}

describe('command code cache', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  test('code cache – the first run makes it (this user only), the next ones use it unchanged', () => {
    const home = freshHome();
    dryRun(home);
    const [file, ...more] = cacheFiles(home);
    assert.ok(file, 'a cache file');
    assert.deepEqual(more, []);
    assert.match(file!, /dsubmit-[0-9a-f]{8}-[0-9a-f]{20}-/);
    const s = statSync(file!);
    assert.equal(s.mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'dsched', 'code-cache')).mode & 0o777, 0o700);
    const before = readFileSync(file!);
    dryRun(home);
    assert.deepEqual(readFileSync(file!), before, 'a cache that fits is not written again');
  });

  test('code cache – a damaged cache is replaced and the command still works', () => {
    const home = freshHome();
    dryRun(home);
    const [file] = cacheFiles(home);
    const data = readFileSync(file!);
    const headerEnd = data.indexOf(10) + 1;
    assert.match(
      data.subarray(0, headerEnd).toString('latin1'),
      /^dsched-code-cache [0-9a-f]{20} \d+ \/.*\/dist\/cli\/bundles\/dsubmit\.cjs\n$/,
    );
    // V8's data garbled after our header: node refuses it, the command compiles its bundle and writes a new one
    data.fill(7, headerEnd);
    writeFileSync(file!, data);
    dryRun(home);
    assert.notDeepEqual(readFileSync(file!), data);
    // a header for another build is not read at all
    writeFileSync(file!, Buffer.concat([Buffer.from('dsched-code-cache 0000 1 /x\n'), data.subarray(headerEnd)]));
    dryRun(home);
    assert.match(readFileSync(file!).toString('latin1'), /^dsched-code-cache [0-9a-f]{20} \d+ \//);
  });

  test('code cache – only the current build of each copy is kept: removed copies, rebuilt ones and killed writes go', () => {
    const { home, dir, file, v8 } = firstCache();
    const current = 'c'.repeat(20);
    install(join(work, 'other-install'), current);
    const gone = cacheOf(dir, v8, '0000dead', join(work, 'removed-install'), current);
    const kept = cacheOf(dir, v8, '0000beef', join(work, 'other-install'), current);
    const rebuilt = cacheOf(dir, v8, '0000beef', join(work, 'other-install'), 'a'.repeat(20));
    const killed = join(dir, 'dsubmit-0000beef-x.bin.123.tmp');
    const writing = join(dir, 'dsubmit-0000beef-y.bin.124.tmp');
    writeFileSync(killed, 'half');
    writeFileSync(writing, 'half');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(killed, old, old);
    rmSync(file); // the next run writes its cache again, and looks at the others then
    dryRun(home);
    assert.equal(existsSync(gone), false, "the removed copy's cache is dropped");
    assert.equal(existsSync(rebuilt), false, 'an older build of another copy is dropped');
    assert.equal(existsSync(killed), false, 'a write killed long ago is dropped');
    assert.equal(existsSync(kept), true, "another copy's current build is kept");
    assert.equal(existsSync(writing), true, 'a write that may be under way is left to its writer');
  });

  test('code cache – the folder holds at most MAX_CACHE_FILES, the least recently written going first', () => {
    const { home, dir, file, v8 } = firstCache();
    const made: string[] = [];
    for (let i = 0; i < MAX_CACHE_FILES + 10; i++) {
      const root = join(work, `copy-${i}`);
      const hash = i.toString(16).padStart(20, '0');
      install(root, hash);
      const f = cacheOf(dir, v8, i.toString(16).padStart(8, '0'), root, hash);
      const t = new Date(Date.now() - (MAX_CACHE_FILES + 10 - i) * 60_000);
      utimesSync(f, t, t);
      made.push(f);
    }
    rmSync(file);
    dryRun(home);
    const left = cacheFiles(home);
    assert.equal(left.length, MAX_CACHE_FILES);
    assert.ok(
      left.some((f) => !made.includes(f)),
      "this build's cache is there",
    );
    assert.equal(existsSync(made[0]!), false, 'the least recently written went');
    assert.equal(existsSync(made.at(-1)!), true, 'the most recently written stayed');
  });

  test('code cache – commands that talk to a pool work the same from their cache (import() of built-ins, held jobs, totals)', async () => {
    const home = freshHome();
    const pool = await TestPool.start();
    try {
      const env = { XDG_CACHE_HOME: home };
      for (const round of ['makes the cache', 'reads it']) {
        const s = await pool.run('dsubmit', ['-'], { env, input: 'executable = /bin/true\nhold = true\nqueue 2\n' });
        assert.equal(s.code, 0, `${round}: ${s.stderr}`);
        assert.match(s.stdout, /2 job\(s\) submitted to cluster \d+\./);
        for (const args of [['-totals'], ['-af', 'ClusterId', 'ProcId'], ['-hold']]) {
          const q = await pool.run('dq', args, { env });
          assert.equal(q.code, 0, `${round}: dq ${args.join(' ')}: ${q.stderr}`);
          assert.equal(q.stderr, '', `${round}: dq ${args.join(' ')} warns of nothing`);
        }
        const t = await pool.run('dq', ['-totals'], { env });
        assert.match(t.stdout, round === 'reads it' ? /4 jobs;.*4 held/ : /2 jobs;.*2 held/);
      }
      assert.ok(cacheFiles(home).some((f) => /\/dq-/.test(f)) && cacheFiles(home).some((f) => /\/dsubmit-/.test(f)));
    } finally {
      await pool.stop();
    }
  });

  test('code cache – --help and --version keep a cache of their own, beside the one real runs make', () => {
    const home = freshHome();
    const run = (args: string[]) => {
      const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: work, XDG_CACHE_HOME: home };
      delete env.DSCHED_CODE_CACHE;
      const r = spawnSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), ...args], {
        cwd: work,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.match(run(['--help']), /^usage: dsubmit/);
    const [helpFile, ...none] = cacheFiles(home);
    assert.match(helpFile!, /dsubmit-[0-9a-f]{8}-[0-9a-f]{20}-.*-help\.bin$/);
    assert.deepEqual(none, []);
    const helpCache = readFileSync(helpFile!);
    dryRun(home);
    const files = cacheFiles(home);
    assert.equal(files.length, 2, 'the real run made its own cache and kept the other');
    const runFile = files.find((f) => f !== helpFile)!;
    const runCache = readFileSync(runFile);
    run(['--version']);
    dryRun(home);
    assert.deepEqual(readFileSync(helpFile!), helpCache, 'each kind of run reads its own cache and leaves it');
    assert.deepEqual(readFileSync(runFile), runCache);
  });

  test('code cache – DSCHED_CODE_CACHE=off runs without one', () => {
    const home = freshHome();
    dryRun(home, { DSCHED_CODE_CACHE: 'off' });
    assert.deepEqual(cacheFiles(home), []);
  });
});
