// The package as npm ships it: `npm pack` holds the built commands, the daemons and what they read at run
// time (proto/, the queue's migrations, libexec/dchirp), and no tests or TypeScript sources; its tarball
// installs with `npm install -g` and puts every command on PATH. The install is offline when npm's cache
// has the dependencies (it has after one install); with no cache and no registry the test is skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './harness/pool.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
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
        /^(test|bench|scripts|lib|grammar|cli)\//.test(f) ||
        /\.(ts|map)$/.test(f) ||
        (f.startsWith('daemons/') && !f.includes('/migrations/')),
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
    // the shims of an installed copy run the installed commands
    const shims = join(tmp, 'shims');
    const s = spawnSync(join(bin, 'dsched'), ['shims', 'install', shims], { cwd: tmp, encoding: 'utf8' });
    assert.equal(s.status, 0, s.stderr);
    assert.match(
      readFileSync(join(shims, 'condor_q'), 'utf8'),
      new RegExp(`${installed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dist/cli/dq\\.js`),
    );
    const q = spawnSync(join(shims, 'qsub'), ['--version'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(q.stdout.trim(), `dsubmit (dsched) ${pkg.version}`);
  });
});
