// Commands start from a per-user V8 code cache (cli/shared/launch.ts): made by the first run, used by the
// next ones, made again when it does not fit, and never needed for a command to work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
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

  test('code cache – caches of a removed copy of the command are dropped, those of another copy kept', () => {
    const home = freshHome();
    dryRun(home);
    const dir = join(home, 'dsched', 'code-cache');
    const [file] = cacheFiles(home);
    const v8 = readFileSync(file!).subarray(readFileSync(file!).indexOf(10) + 1);
    const other = (tag: string, bundle: string) => {
      const f = join(dir, `dsubmit-${tag}-00000000000000000000-x64-v0.bin`);
      writeFileSync(f, Buffer.concat([Buffer.from(`dsched-code-cache 00000000000000000000 1 ${bundle}\n`), v8]), {
        mode: 0o600,
      });
      return f;
    };
    const gone = other('0000dead', join(work, 'removed-install', 'dist', 'cli', 'bundles', 'dsubmit.cjs'));
    const kept = other('0000beef', join(work, 'job.sub')); // any file that exists stands for another install
    rmSync(file!); // the next run writes its cache again, and looks at the others then
    dryRun(home);
    assert.equal(existsSync(gone), false, "the removed copy's cache is dropped");
    assert.equal(existsSync(kept), true, "another copy's cache is kept");
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
