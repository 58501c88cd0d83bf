#!/usr/bin/env node
// `npm run fuzz`: runs test/fuzz/main.ts under tsx (the fuzz targets import the TypeScript sources directly,
// so no build is needed for the grammars; the gRPC target starts the built daemons from dist/).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(root, 'test', 'fuzz', 'main.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
process.exit(r.status ?? 1);
