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
import {
  closeSync,
  constants as fsc,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
} from 'node:fs';
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

/** Most cache files kept in the folder, all commands and copies together: past it the least recently written go. */
export const MAX_CACHE_FILES = 64;
/** A temporary file older than this is a write that was killed; younger, another command may be writing it. */
const STALE_WRITE_MS = 3_600_000;

/** The first bytes of a regular file (never waiting on a FIFO), or undefined. */
function head(path: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(max);
    return buf.subarray(0, readSync(fd, buf, 0, max, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a cache file still serves a build that exists: its bundle's stub (dist/cli/NAME.js, which names the
 * build's hash) is there and launches that very build. A rebuilt or removed copy leaves caches that never will.
 */
function serves(path: string, f: string): boolean {
  const m = /^([a-z][a-z0-9-]*?)-[0-9a-f]{8}-([0-9a-f]+)-/.exec(f);
  const data = m && head(path, HEADER_MAX);
  const bundle = data && headerOf(data)?.split(' ').slice(3).join(' ');
  if (!m || !bundle) return false;
  const stub = head(join(dirname(dirname(bundle)), `${m[1]}.js`), 4096);
  return !!stub && stub.includes(`'${m[2]}'`);
}

/**
 * Write the cache whole or not at all (a temporary file renamed), and drop the caches that no longer serve:
 * older builds of this copy (`copy`), caches of builds that are gone (a copy rebuilt or removed), writes that
 * were killed, and past MAX_CACHE_FILES the least recently written. `sibling` is this build's other cache (see
 * HELP_ARGS), which stays. Without this the folder grew by a few megabytes with every build of every checkout.
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
  const kept: Array<{ path: string; mtime: number }> = [];
  const now = Date.now();
  let ours = 1;
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    if (path === sibling) ours = 2;
    if (path === file || path === sibling) continue;
    try {
      if (f.endsWith('.tmp')) {
        if (now - lstatSync(path).mtimeMs > STALE_WRITE_MS) rmSync(path, { force: true });
      } else if (f.startsWith(`${name}-${copy}-`) || !serves(path, f)) rmSync(path, { force: true });
      else kept.push({ path, mtime: lstatSync(path).mtimeMs });
    } catch {
      /* another command's write or removal: it is theirs to finish */
    }
  }
  kept.sort((a, b) => a.mtime - b.mtime);
  for (const k of kept.slice(0, Math.max(0, kept.length + ours - MAX_CACHE_FILES))) rmSync(k.path, { force: true });
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
