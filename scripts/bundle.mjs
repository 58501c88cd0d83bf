#!/usr/bin/env node
// Builds what runs: each command and each daemon bundled into one file at the path tsc would have written
// (dist/cli/dq.js, dist/daemons/schedd/main.js, …), so a command loads one file instead of hundreds of small
// modules. Type checking is tsc's job (`npm run typecheck`); this only transpiles and bundles.
// better-sqlite3 stays outside (a native addon found through node_modules at run time).
import { build } from 'esbuild';
import { cpSync, readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = [];
for (const f of readdirSync(join(root, 'cli'))) {
  if (f.endsWith('.ts') && readFileSync(join(root, 'cli', f), 'utf8').startsWith('#!')) entries.push(`cli/${f}`);
}
for (const d of readdirSync(join(root, 'daemons'))) {
  if (existsSync(join(root, 'daemons', d, 'main.ts'))) entries.push(`daemons/${d}/main.ts`);
}
entries.push('daemons/startd/spawner.ts');

// a fresh dist/: nothing left from an older layout can be loaded by mistake
rmSync(join(root, 'dist'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: entries.map((e) => ({ in: e, out: e.replace(/\.ts$/, '') })),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3'],
  // CommonJS dependencies bundled into ES modules still call require() for node's built-ins
  banner: { js: "import { createRequire as __dschedRequire } from 'node:module'; const require = __dschedRequire(import.meta.url);" },
  logLevel: 'warning',
});

// the web daemon's dashboard (plain HTML, CSS and JS, no CDN) goes beside its bundle
cpSync(join(root, 'daemons', 'web', 'ui'), join(root, 'dist', 'daemons', 'web', 'ui'), { recursive: true });
