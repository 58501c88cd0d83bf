#!/usr/bin/env node
// Builds the startd's job spawner, a small C program (daemons/startd/spawner/spawner.c), into
// dist/daemons/startd/dsched-spawner beside the bundled startd. Warnings are errors: it runs as root.
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
mkdirSync(dirname(target), { recursive: true });
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2', '-o', target, source], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.error(`error: ${cc} could not build ${source}`);
  process.exit(1);
}
