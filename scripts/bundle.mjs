#!/usr/bin/env node
// Builds what runs: each command and each daemon bundled into one file at the path tsc would have written
// (dist/cli/dq.js, dist/daemons/schedd/main.js, …), so a command loads one file instead of hundreds of small
// modules. Type checking is tsc's job (`npm run typecheck`); this only transpiles and bundles.
// better-sqlite3 stays outside (a native addon found through node_modules at run time).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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

// a fresh dist/: nothing left from an older layout can be loaded by mistake
rmSync(join(root, 'dist'), { recursive: true, force: true });

// Lighter stand-ins for modules that would load at every start or cost it (see each shim for why):
// string-width, whose module makes an Intl.Segmenter as it loads (about a third of a bare yargs start),
// node:assert for yargs, node:net for grpc-js, whose first isIPv6 compiles a large regular expression,
// node:zlib for grpc-js, which it needs only for compressed messages, node:dns for grpc-js, which makes a
// resolver for every channel but needs it only to look a name up, cliui for yargs, whose wrap-ansi
// took most of a usage text's layout, long.js for protobufjs, and escalade for yargs, which listed the
// working folder whole at every start (see the shim).
const shim = (name) => resolve(root, 'scripts/shims', name);
const SHIMS = [
  { filter: /^string-width$/, path: shim('string-width.cjs'), from: /./ },
  { filter: /^assert$/, path: shim('assert.cjs'), from: /node_modules[\\/]yargs[\\/]/ },
  { filter: /^cliui$/, path: shim('cliui.cjs'), from: /node_modules[\\/]yargs[\\/]/ },
  { filter: /^net$/, path: shim('net.cjs'), from: /node_modules[\\/]@grpc[\\/]grpc-js[\\/]/ },
  { filter: /^zlib$/, path: shim('zlib.cjs'), from: /node_modules[\\/]@grpc[\\/]grpc-js[\\/]/ },
  { filter: /^dns$/, path: shim('dns.cjs'), from: /node_modules[\\/]@grpc[\\/]grpc-js[\\/]/ },
  { filter: /^long$/, path: shim('long.cjs'), from: /node_modules[\\/]protobufjs[\\/]/ },
  { filter: /^escalade\/sync$/, path: shim('escalade-sync.cjs'), from: /node_modules[\\/]yargs[\\/]/ },
];
// A package loaded with import() lands in a chunk of its own, and a CommonJS chunk offers only a default
// export there: such packages are bundled from their ES module build, whose named exports stay.
const esmBuildOf = (pkg) => {
  const dir = dirname(createRequire(join(root, 'package.json')).resolve(`${pkg}/package.json`));
  return join(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).module);
};
const IMPORTED_LAZILY = ['@peculiar/x509'];
// cliui's layout without the modules its entry imports (the cliui shim gives it its own); the package
// exports only that entry, so its file is found beside it
const cliuiLayout = join(dirname(createRequire(join(root, 'package.json')).resolve('cliui')), 'build/lib/index.js');
// grpc-js's server framing without a copy per stream for replies framed once (scripts/grpc-framing.cjs)
const { FRAMING_FILE, frameWithoutCopy } = createRequire(import.meta.url)('./grpc-framing.cjs');
let framingRewritten = false;
const startupShims = {
  name: 'startup-shims',
  setup(b) {
    b.onLoad({ filter: FRAMING_FILE }, (args) => {
      framingRewritten = true;
      return { contents: frameWithoutCopy(readFileSync(args.path, 'utf8')), loader: 'js' };
    });
    for (const pkg of IMPORTED_LAZILY)
      b.onResolve({ filter: new RegExp(`^${pkg}$`) }, () => ({ path: esmBuildOf(pkg) }));
    b.onResolve({ filter: /^cliui\/build\/lib\/index\.js$/ }, () => ({ path: cliuiLayout }));
    for (const s of SHIMS) {
      // the shim itself reaches the real module
      b.onResolve({ filter: s.filter }, (args) =>
        args.importer === s.path || !s.from.test(args.importer) ? undefined : { path: s.path },
      );
    }
  },
};

const COMMON = {
  absWorkingDir: root,
  plugins: [startupShims],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // a native module, and a large client loaded only by the provisioner's Kubernetes provider: both are
  // read from node_modules when used rather than copied into dist/; and proto-loader, which grpc-js requires
  // only to serve channelz or ORCA (never here): bundled, it brought protobufjs's full build (its .proto
  // parser, Google's descriptors, long.js), about 200 KB of source every daemon held for as long as it ran
  external: ['better-sqlite3', '@kubernetes/client-node', '@grpc/proto-loader'],
  logLevel: 'warning',
};

// Daemons: ES modules, split; what a daemon imports with import() lands in dist/chunks/ and is read only when used.
await build({
  ...COMMON,
  splitting: true,
  chunkNames: 'chunks/daemons-[hash]',
  entryPoints: daemons.map((e) => ({ in: e, out: e.replace(/\.ts$/, '') })),
  format: 'esm',
  // a daemon holds the source of every module it loaded for as long as it runs (V8 keeps it to compile
  // functions lazily): without indentation, and in ASCII, which V8 keeps at one byte a character where a
  // single other character anywhere in a chunk makes it two (names stay, for readable stack traces)
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  // CommonJS dependencies bundled into ES modules still call require() for node's built-ins
  banner: {
    js: "import { createRequire as __dschedRequire } from 'node:module'; const require = __dschedRequire(import.meta.url);",
  },
});

// the daemons serve gRPC: a grpc-js that no longer has the file rewritten must fail here, not run slower
if (!framingRewritten) throw new Error(`bundle: no daemon loaded a file matching ${FRAMING_FILE} (grpc-js upgraded?)`);

// Commands: each one script (dist/cli/bundles/X.cjs, what it imports lazily inside, evaluated only when used)
// that dist/cli/X.js runs through cli/shared/launch.ts with V8's code cache: a command's start is then mostly
// node's own, not parsing and compiling its bundle. The stub passes the bundle's hash, so a cache made from
// another build is never used.
await build({
  ...COMMON,
  entryPoints: commands.map((e) => ({ in: e, out: `cli/bundles/${basename(e, '.ts')}` })),
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // node 20 loses import() in code read from a code cache ("a dynamic import callback was not specified"):
  // import() becomes require() (node's built-ins, other commands), and an ES module (a daemon's main) is
  // imported through the launcher (cli/shared/import-module.ts)
  supported: { 'dynamic-import': false },
  // the launcher gives each bundle its stub's URL (dist/cli/X.js): the program's own file, as with ES modules
  define: { 'import.meta.url': '__dschedUrl' },
  // ASCII only (comments included), so the launcher reads it as latin1, with no UTF-8 decoding
  charset: 'ascii',
});
await build({
  ...COMMON,
  entryPoints: [{ in: 'cli/shared/launch.ts', out: 'cli/bundles/launch' }],
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
});
// dist/cli/X.js are CommonJS: a stub then starts without node's ES module loader
writeFileSync(join(root, 'dist', 'cli', 'package.json'), '{ "type": "commonjs" }\n');
for (const e of commands) {
  const name = basename(e, '.ts');
  const file = join(root, 'dist', 'cli', 'bundles', `${name}.cjs`);
  // the launcher wraps the bundle in a function, where a #! line is a syntax error (// keeps lines and columns);
  // with charset ascii only comments can still hold other characters: ? keeps the columns, and the launcher
  // reads the file as latin1, several ms faster than decoding UTF-8
  const code = readFileSync(file, 'utf8')
    .replace(/^#!/, '//')
    .replace(/[^\x00-\x7f]/g, '?');
  writeFileSync(file, code);
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 20);
  const stub = join(root, 'dist', 'cli', `${name}.js`);
  writeFileSync(
    stub,
    `#!/usr/bin/env node\nrequire('./bundles/launch.cjs').launch(__filename, ${JSON.stringify(name)}, '${hash}');\n`,
    { mode: 0o755 },
  );
}

// the web daemon's dashboard (plain HTML, CSS and JS, no CDN) goes beside its bundle
cpSync(join(root, 'daemons', 'web', 'ui'), join(root, 'dist', 'daemons', 'web', 'ui'), { recursive: true });
