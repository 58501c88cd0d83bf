#!/usr/bin/env node
// Builds the C programs of dsched (PROGRAMS below) from their sources into dist/, where their daemons look for
// them: the startd's job spawner (daemons/startd/spawner/spawner.c) beside the bundled startd, the
// container launcher's init helper (spawner/container-init.c), the execute hosts' native master
// (daemons/master/native-master.c), the helper that starts the master and DAG scripts clean
// (libexec/dsched-clean-exec.c) and the commands' launcher (libexec/dcmd.c).
// Warnings are errors: they run as root.
//
// `--if-needed` is the package's install script: a tarball from `npm pack` carries programs built for the
// packing machine's CPU and C library, and their sources. Each program is asked `--check` (it exits 0 at once);
// one that does not run here, or is missing, is built from its source with this machine's compiler.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cc = process.env.CC || 'cc';
const ifNeeded = process.argv.includes('--if-needed');

/**
 * What to build: source and target relative to the package, extra compiler flags, and for a program the
 * pool can do without, what its absence costs (a warning instead of a failed build).
 */
const PROGRAMS = [
  {
    what: 'the job spawner',
    source: 'daemons/startd/spawner/spawner.c',
    target: 'dist/daemons/startd/dsched-spawner',
    flags: ['-D_FORTIFY_SOURCE=2'],
  },
  {
    // the master of execute hosts whose only daemon is a startd
    what: 'the native master',
    source: 'daemons/master/native-master.c',
    target: 'dist/daemons/master/dsched-master',
    flags: ['-D_FORTIFY_SOURCE=2'],
  },
  {
    // what root's daemons start beside jobs: the master, a DAG's scripts
    what: 'the clean exec helper',
    source: 'libexec/dsched-clean-exec.c',
    target: 'dist/libexec/dsched-clean-exec',
    flags: ['-D_FORTIFY_SOURCE=2'],
  },
  {
    // it runs inside images that may have no C library: linked statically. Without a static C library
    // (Debian: libc6-dev has it; RHEL: glibc-static) the startd runs no container.
    what: "the container launcher's init helper",
    source: 'daemons/startd/spawner/container-init.c',
    target: 'dist/daemons/startd/dsched-container-init',
    flags: ['-static'],
    optional: "this host's startd will run no container jobs",
  },
  {
    // package.json's "bin" entries point at it. Its build id is the hash of the bundles it may reach through
    // the command agent, so a new build never talks to an old agent.
    what: "the commands' launcher",
    source: 'libexec/dcmd.c',
    target: 'dist/cli/dcmd',
    flags: () => ['-D_FORTIFY_SOURCE=2', `-DDSCHED_BUILD_ID="${bundlesHash()}"`],
  },
];

function bundlesHash() {
  const bundles = join(root, 'dist/cli/bundles');
  const id = createHash('sha256');
  for (const f of readdirSync(bundles).sort())
    if (f.endsWith('.cjs')) id.update(f).update(readFileSync(join(bundles, f)));
  return id.digest('hex').slice(0, 20);
}

/** Whether a built program runs on this machine (CPU, C library, loader): it answers `--check` with 0. */
const runsHere = (target) => spawnSync(target, ['--check'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

// A source checkout's `npm ci` runs the install script before anything is built: the build (npm run build,
// which `prepare` runs next) makes every program, so there is nothing to check yet.
if (ifNeeded && !existsSync(join(root, 'dist/cli/bundles'))) process.exit(0);

let failed = false;
let haveCc;
for (const p of PROGRAMS) {
  const source = join(root, p.source);
  const target = join(root, p.target);
  if (ifNeeded && existsSync(target) && runsHere(target)) continue;
  const why = ifNeeded
    ? existsSync(target)
      ? `${p.target} does not run on this machine (built for another CPU or C library)`
      : `${p.target} is missing`
    : undefined;
  haveCc ??= !spawnSync(cc, ['--version'], { stdio: 'ignore' }).error;
  if (!haveCc) {
    console.error(
      `${p.optional ? 'warning' : 'error'}: ${why ? `${why}; ` : ''}building ${p.what} needs a C compiler: '${cc}' was not found. Install one (Debian/Ubuntu: apt-get install gcc; RHEL: dnf install gcc) or set CC, then ${ifNeeded ? 'install dsched again (npm rebuild -g dsched)' : 'run npm run build again'}.${p.optional ? ` Until then ${p.optional}.` : ''}`,
    );
    failed ||= !p.optional;
    continue;
  }
  if (why) console.error(`${why}: building ${p.what} with ${cc}`);
  mkdirSync(dirname(target), { recursive: true });
  const r = spawnSync(
    cc,
    [
      ...(typeof p.flags === 'function' ? p.flags() : p.flags),
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      target,
      source,
    ],
    {
      stdio: ['ignore', 'inherit', p.optional ? 'pipe' : 'inherit'],
    },
  );
  if (r.status === 0) continue;
  if (p.optional)
    console.error(
      `warning: ${cc} could not build ${source} (${String(r.stderr).trim().split('\n').pop()}): ${p.optional}`,
    );
  else {
    console.error(`error: ${cc} could not build ${source}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
