// The package as npm ships it: `npm pack` holds the built commands, the daemons and what they read at run
// time (proto/, the queue's migrations, libexec/dchirp), and no tests or TypeScript sources; its tarball
// installs with `npm install -g` and puts every command on PATH. The install is offline when npm's cache
// has the dependencies (it has after one install); with no cache and no registry the test is skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './harness/pool.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const tmp = mkdtempSync(join(tmpdir(), 'dsched-pack-'));

function npm(args: string[], cwd = ROOT) {
  // scripts are not run: the tarball carries dist/ built by `npm run build` (pretest), and better-sqlite3's
  // native build (a minute) is not what this test is about
  const r = spawnSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('npm package', () => {
  // one pack for both tests (its --json lists the files, as --dry-run would)
  let packed: { filename: string; files: Array<{ path: string }> };
  before(() => {
    const r = npm(['pack', '--json', '--pack-destination', tmp]);
    assert.equal(r.code, 0, r.stderr);
    packed = (JSON.parse(r.stdout) as Array<typeof packed>)[0]!;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('package – npm pack ships the built commands and what they read, not tests or sources', () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const target of Object.values(pkg.bin)) assert.ok(files.has(target), `${target} is shipped`);
    for (const d of ['collector', 'negotiator', 'schedd', 'startd', 'master'])
      assert.ok(files.has(`dist/daemons/${d}/main.js`), `the ${d}`);
    for (const f of [
      'dist/daemons/startd/dsched-spawner',
      'daemons/startd/spawner/spawner.c',
      'daemons/startd/spawner/container-init.c',
      'scripts/build-spawner.mjs',
      'dist/cli/dshim.js',
      'libexec/dchirp',
      'proto/dsched/v1/schedd.proto',
      'daemons/schedd/store/migrations/0001-init.sql',
      'README.md',
      'docs/submit.md',
      'examples/hello.sub',
    ])
      assert.ok(files.has(f), `${f} is shipped`);
    const stray = [...files].filter(
      (f) =>
        (/^(test|bench|scripts|lib|grammar|cli)\//.test(f) && f !== 'scripts/build-spawner.mjs') ||
        /\.(ts|map)$/.test(f) ||
        (f.startsWith('daemons/') && !f.includes('/migrations/') && !/^daemons\/startd\/spawner\/[\w-]+\.c$/.test(f)),
    );
    assert.deepEqual(stray, [], 'no tests, sources or source maps');
  });

  test('package – the tarball installs with npm install -g and its commands run from PATH', (t) => {
    const tarball = join(tmp, packed.filename);
    const prefix = join(tmp, 'prefix');
    let inst = npm(['install', '-g', '--prefix', prefix, '--offline', tarball], tmp);
    // the first install on a machine fetches the dependencies' metadata once
    if (inst.code !== 0 && /ENOTCACHED/.test(inst.stderr))
      inst = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], tmp);
    if (inst.code !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|ENOTCACHED/.test(inst.stderr)) {
      t.skip('no npm cache and no registry to install the dependencies from');
      return;
    }
    assert.equal(inst.code, 0, inst.stderr);
    const bin = join(prefix, 'bin');
    for (const cmd of Object.keys(pkg.bin)) {
      // run as a user would: by name, from PATH, in a folder that is not the repository
      const r = spawnSync(cmd, ['--version'], {
        cwd: tmp,
        // no command agent left behind by the test (the launcher's agent has tests of its own)
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DSCHED_AGENT: '0' },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), `${cmd} (dsched) ${pkg.version}`);
    }
    const installed = join(prefix, 'lib', 'node_modules', pkg.name);
    assert.ok(existsSync(join(installed, 'libexec', 'dchirp')), 'dchirp for jobs');
    // the shims of an installed copy run the installed commands, through its launcher
    const shims = join(tmp, 'shims');
    const s = spawnSync(join(bin, 'dsched'), ['shims', 'install', shims], { cwd: tmp, encoding: 'utf8' });
    assert.equal(s.status, 0, s.stderr);
    assert.match(
      readFileSync(join(shims, 'condor_q'), 'utf8'),
      new RegExp(`${installed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dist/cli/dcmd' 'condor_q' `),
    );
    const run = (name: string, args: string[]) =>
      spawnSync(join(shims, name), args, { cwd: tmp, encoding: 'utf8', env: { ...process.env, DSCHED_AGENT: '0' } });
    assert.equal(run('qsub', ['--version']).stdout.trim(), `qsub (dsched) ${pkg.version}`);
    // qstat's options are mapped onto dq's
    const qstat = run('qstat', ['-Z']);
    assert.equal(qstat.status, 2);
    assert.match(qstat.stderr, /^qstat: error\[USAGE\]: qstat: unknown option -Z\nusage: qstat /);
  });

  test('package – installing builds the C programs again where the shipped ones do not run (another CPU or C library)', () => {
    const unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    const x = spawnSync('tar', ['-xzf', join(tmp, packed.filename), '-C', unpacked], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    const dir = join(unpacked, 'package');
    const spawner = join(dir, 'dist', 'daemons', 'startd', 'dsched-spawner');
    const install = (env: NodeJS.ProcessEnv = {}) =>
      spawnSync('sh', ['-c', pkg.scripts.install], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
    const checks = () => spawnSync(spawner, ['--check']).status === 0;
    // built here: it runs, and the install leaves it as it is
    const before = statSync(spawner).mtimeMs;
    let r = install();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(spawner).mtimeMs, before, 'a program that runs here is not built again');
    // an ELF header for another CPU stands for a tarball packed elsewhere: execve refuses it
    const foreign = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(foreign);
    foreign.writeUInt16LE(2, 16);
    foreign.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18);
    writeFileSync(spawner, foreign, { mode: 0o755 });
    assert.equal(checks(), false);
    // without a compiler the install fails, saying why and what to do
    r = install({ CC: join(tmp, 'no-such-cc') });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /dsched-spawner does not run on this machine/);
    assert.match(r.stderr, /needs a C compiler: '.*no-such-cc' was not found\. Install one/);
    // with one, the spawner is built from the shipped source and runs
    r = install();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /building the job spawner with /);
    assert.equal(checks(), true);
  });
});
