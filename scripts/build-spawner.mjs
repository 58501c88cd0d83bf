#!/usr/bin/env node
// Builds the startd's job spawner, a small C program (daemons/startd/spawner/spawner.c), into
// dist/daemons/startd/dsched-spawner beside the bundled startd, and the container launcher's init helper
// (spawner/container-init.c) into dsched-container-init. Warnings are errors: they run as root.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'daemons/startd/spawner/spawner.c');
const target = join(root, 'dist/daemons/startd/dsched-spawner');
const cc = process.env.CC || 'cc';

if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).error) {
  console.error(
    `error: building the job spawner needs a C compiler: '${cc}' was not found. Install one (Debian/Ubuntu: apt-get install gcc; RHEL: dnf install gcc) or set CC, then run npm run build again.`,
  );
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2', '-o', target, source], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.error(`error: ${cc} could not build ${source}`);
  process.exit(1);
}
// The container launcher's init helper runs inside images that may have no C library: linked statically.
// Without a static C library (Debian: libc6-dev has it; RHEL: glibc-static) the startd runs no container.
const init = join(root, 'daemons/startd/spawner/container-init.c');
const initTarget = join(root, 'dist/daemons/startd/dsched-container-init');
const ri = spawnSync(cc, ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', initTarget, init], {
  stdio: ['ignore', 'inherit', 'pipe'],
});
if (ri.status !== 0)
  console.error(
    `warning: ${cc} could not build ${init} statically (${String(ri.stderr).trim().split('\n').pop()}): this host's startd will run no container jobs`,
  );

// The commands' launcher (libexec/dcmd.c): package.json's "bin" entries point at it. Its build id is the hash
// of the bundles it may reach through the command agent, so a new build never talks to an old agent.
const bundles = join(root, 'dist/cli/bundles');
const buildId = createHash('sha256');
for (const f of readdirSync(bundles).sort())
  if (f.endsWith('.cjs')) buildId.update(f).update(readFileSync(join(bundles, f)));
const dcmd = join(root, 'dist/cli/dcmd');
const rd = spawnSync(
  cc,
  [
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-D_FORTIFY_SOURCE=2',
    `-DDSCHED_BUILD_ID="${buildId.digest('hex').slice(0, 20)}"`,
    '-o',
    dcmd,
    join(root, 'libexec/dcmd.c'),
  ],
  { stdio: 'inherit' },
);
if (rd.status !== 0) {
  console.error(`error: ${cc} could not build libexec/dcmd.c`);
  process.exit(1);
}
