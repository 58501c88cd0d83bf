// How a built command starts: its bundle is compiled with V8's code cache, kept per user, so a command does
// not parse and compile the same megabyte of JavaScript at every start (workflow tools run thousands of
// them). Node 20 has no module.enableCompileCache; a vm.Script with cachedData does the same for one script.
// Built by scripts/bundle.mjs into dist/cli/bundles/launch.cjs; each dist/cli/X.js only calls launch().
//
// The cache is machine code for this process to run, so it is trusted only when this user wrote it: the
// cache folder and the file must be ours and writable by no one else (root with another user's HOME, as
// with `sudo -E`, uses no cache), and a file is read only for the bundle it was made from (the bundle's hash,
// computed at build time, its size and path are in the file's name and header; node checks its own version and
// flags). Anything unexpected means running without the cache, never failing the command.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { fnv1a, readOwnFile, userCacheDir, writeOwnFile } from './user-cache.js';

/** The folder for this user's caches, or undefined when there is none we can trust (or DSCHED_CODE_CACHE=off). */
function cacheDir(): string | undefined {
  const env = process.env.DSCHED_CODE_CACHE;
  return env === 'off' || env === '0' ? undefined : userCacheDir('code-cache');
}

/** The line before V8's data: "dsched-code-cache <hash> <size> <bundle path>\n" (at most this long). */
const HEADER_MAX = 4096;
const headerOf = (data: Buffer): string | undefined => {
  const end = data.subarray(0, HEADER_MAX).indexOf(10);
  return end < 0 ? undefined : data.subarray(0, end).toString('latin1');
};

/** The cached data for this bundle, when a trusted file holds it. */
function readCache(file: string, expect: string): Buffer | undefined {
  const data = readOwnFile(file);
  return data && headerOf(data) === expect ? data.subarray(Buffer.byteLength(expect, 'latin1') + 1) : undefined;
}

/**
 * Write the cache whole or not at all (a temporary file renamed), and drop this command's caches that no
 * longer serve: older builds of this copy (`copy`), and copies whose bundle is gone (a removed install).
 * `sibling` is this build's other cache (see HELP_ARGS), which stays.
 */
function writeCache(
  dir: string,
  name: string,
  copy: string,
  file: string,
  sibling: string,
  header: string,
  data: Buffer,
): void {
  if (!writeOwnFile(file, Buffer.concat([Buffer.from(`${header}\n`, 'latin1'), data]))) return;
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    if (!f.startsWith(`${name}-`) || path === file || path === sibling || f.endsWith('.tmp')) continue;
    try {
      const bundle = f.startsWith(`${name}-${copy}-`)
        ? undefined
        : headerOf(readFileSync(path))?.split(' ').slice(3).join(' ');
      if (bundle === undefined || !existsSync(bundle)) rmSync(path, { force: true });
    } catch {
      /* another command's write or removal: it is theirs to finish */
    }
  }
}

/**
 * Arguments with which a command runs a sliver of its bundle (it prints its usage or version): such a run
 * keeps a cache of its own. One cache for all runs is made by the first run that succeeds and kept: made by
 * `--help`, the next real runs compiled most of their code afresh (dq's CPU 12% more); made by a real run,
 * `--help` read the compiled code of a whole run (7% more). (`-h` is not here: for dsubmit it is qsub's hold.)
 */
const HELP_ARGS = new Set(['--help', '-help', '--version', '-version']);

/**
 * Run the command `name` whose bundle is bundles/NAME.cjs beside `stub` (dist/cli/NAME.js). `hash` is the
 * bundle's content hash from the build. The bundle sees the stub as its own file (import.meta.url).
 */
export function launch(stub: string, name: string, hash: string): void {
  const bundle = join(dirname(stub), 'bundles', `${name}.cjs`);
  const source = readFileSync(bundle, 'latin1'); // ASCII only (scripts/bundle.mjs)
  const dir = cacheDir();
  const header = `dsched-code-cache ${hash} ${source.length} ${bundle}`;
  // one file per installed copy of the command (a checkout and an npm install -g keep theirs apart)
  const copy = fnv1a(bundle);
  const cacheFile = (help: boolean) =>
    `${name}-${copy}-${hash}-${process.arch}-${process.version}${help ? '-help' : ''}.bin`;
  const help = process.argv.slice(2).some((a) => HELP_ARGS.has(a));
  const file = dir && join(dir, cacheFile(help));
  const cachedData = file ? readCache(file, header) : undefined;
  // the same wrapper CommonJS gives a module, plus the program's URL for import.meta.url and an import() that
  // works (the bundle's own cannot: cli/shared/import-module.ts)
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname, __dschedUrl, __dschedImport) {${source}\n})`,
    {
      filename: bundle,
      cachedData,
    },
  );
  if (dir && file && (!cachedData || script.cachedDataRejected)) {
    // made when the command ends, so that it holds the functions this run compiled too (not only the top level);
    // a command that failed may have stopped early: the next one makes it
    process.once('exit', (code) => {
      if (code === 0) writeCache(dir, name, copy, file, join(dir, cacheFile(!help)), header, script.createCachedData());
    });
  }
  const module = { exports: {} };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const importModule = (specifier: string) => import(specifier);
  fn.call(
    module.exports,
    module.exports,
    createRequire(bundle),
    module,
    bundle,
    dirname(bundle),
    pathToFileURL(stub).href,
    importModule,
  );
}
