#!/usr/bin/env node
// Builds the startd's job spawner, a small C program (daemons/startd/spawner/spawner.c), into
// dist/daemons/startd/dsched-spawner beside the bundled startd, the container launcher's init helper
// (spawner/container-init.c) into dsched-container-init, and the execute hosts' native master
// (daemons/master/native-master.c) into dist/daemons/master/dsched-master. Warnings are errors: they run as root.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
/** Compile one program that runs as root (warnings are errors); stop the build if it does not compile. */
function build(source, target) {
  mkdirSync(dirname(target), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2', '-o', target, source], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`error: ${cc} could not build ${source}`);
    process.exit(1);
  }
}
build(source, target);
// The native master of execute hosts whose only daemon is a startd (daemons/master/native-master.c).
build(join(root, 'daemons/master/native-master.c'), join(root, 'dist/daemons/master/dsched-master'));
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
