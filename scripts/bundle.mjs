#!/usr/bin/env node
// Builds what runs: each command and each daemon bundled into one file at the path tsc would have written
// (dist/cli/dq.js, dist/daemons/schedd/main.js, …), so a command loads one file instead of hundreds of small
// modules. Type checking is tsc's job (`npm run typecheck`); this only transpiles and bundles.
// better-sqlite3 stays outside (a native addon found through node_modules at run time).
// Code splitting: what a program imports dynamically (the RPC clients, the ClassAd library, …) goes into
// dist/chunks/ and is read only when used, so `dq --help` or a usage error loads neither gRPC nor the protos.
import { build } from 'esbuild';
import { cpSync, readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = [];
for (const f of readdirSync(join(root, 'cli'))) {
  if (f.endsWith('.ts') && readFileSync(join(root, 'cli', f), 'utf8').startsWith('#!')) commands.push(`cli/${f}`);
}
const daemons = [];
for (const d of readdirSync(join(root, 'daemons'))) {
  if (existsSync(join(root, 'daemons', d, 'main.ts'))) daemons.push(`daemons/${d}/main.ts`);
}
daemons.push('daemons/startd/spawner.ts');

// a fresh dist/: nothing left from an older layout can be loaded by mistake
rmSync(join(root, 'dist'), { recursive: true, force: true });

// Lighter stand-ins for two modules yargs loads at every start (see each shim for why): string-width, whose
// module makes an Intl.Segmenter as it loads (about a third of a bare yargs start), and node:assert for yargs.
const shim = (name) => resolve(root, 'scripts/shims', name);
const SHIMS = [
  { filter: /^string-width$/, path: shim('string-width.cjs'), from: /./ },
  { filter: /^assert$/, path: shim('assert.cjs'), from: /node_modules[\\/]yargs[\\/]/ },
];
// A package loaded with import() lands in a chunk of its own, and a CommonJS chunk offers only a default
// export there: such packages are bundled from their ES module build, whose named exports stay.
const esmBuildOf = (pkg) => {
  const dir = dirname(createRequire(join(root, 'package.json')).resolve(`${pkg}/package.json`));
  return join(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).module);
};
const IMPORTED_LAZILY = ['@peculiar/x509'];
const startupShims = {
  name: 'startup-shims',
  setup(b) {
    for (const pkg of IMPORTED_LAZILY) b.onResolve({ filter: new RegExp(`^${pkg}$`) }, () => ({ path: esmBuildOf(pkg) }));
    for (const s of SHIMS) {
      // the shim itself reaches the real module
      b.onResolve({ filter: s.filter }, (args) => (args.importer === s.path || !s.from.test(args.importer) ? undefined : { path: s.path }));
    }
  },
};

// Commands and daemons are built apart, each group with its own chunks: a chunk then holds what a group's
// programs share, and a command's start reads a few files rather than many small pieces shared with daemons.
for (const [group, entries] of [['cli', commands], ['daemons', daemons]]) {
  await build({
    absWorkingDir: root,
    plugins: [startupShims],
    splitting: true,
    chunkNames: `chunks/${group}-[hash]`,
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
}

// the web daemon's dashboard (plain HTML, CSS and JS, no CDN) goes beside its bundle
cpSync(join(root, 'daemons', 'web', 'ui'), join(root, 'dist', 'daemons', 'web', 'ui'), { recursive: true });
