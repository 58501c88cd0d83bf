// The local user the security tests attack a root pool as (uid 65534), and a folder of that user's files.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, type RunOptions, type TestPool } from '../integration/harness/pool.js';

export const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

/** A folder `name` in `parent`, owned by nobody, and a writer of nobody's files in it (returns the path). */
export function nobodyFolder(parent: string, name = 'user') {
  const dir = join(parent, name);
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, 65534, 65534);
  const put = (file: string, text: string, mode = 0o644) => {
    const p = join(dir, file);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    chownSync(p, 65534, 65534);
    return p;
  };
  return { dir, put };
}

/** Run a hostile script (TypeScript imports allowed) as nobody with `args`; its last line of output, as JSON. */
export function scriptAsNobody(pool: TestPool, script: string, args: string[]): Promise<Record<string, unknown>> {
  const loader = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', loader, script, ...args],
      { uid: NOBODY.uid, gid: NOBODY.gid, env: { ...pool.env, ...NOBODY.env } },
      (err, stdout) =>
        err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>),
    ),
  );
}

/**
 * Write a hostile client `name` into the pool's work folder: `c` is a ScheddClient with no credential (anyone
 * on the network), `lines` what it does with it (`node:fs`'s `imports` too). Returns its path.
 */
export function anonymousScheddScript(pool: TestPool, name: string, imports: string[], lines: string[]): string {
  const path = join(pool.work, name);
  writeFileSync(
    path,
    [
      `import { readFileSync, ${imports.join(', ')} } from 'node:fs';`,
      `import { ScheddClient } from ${JSON.stringify(join(ROOT, 'lib/rpc/clients/schedd.ts'))};`,
      `const c = new ScheddClient(process.argv[2], { tls: { ca: readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))}) } });`,
      ...lines,
    ].join('\n'),
    { mode: 0o644 },
  );
  return path;
}

/**
 * Lines of a hostile script that opens 320 connections to `address` (host:port) one after another, then waits
 * until 64 of them were closed (past the 256 one client holds) and prints how many were. `open`: lines that make
 * the connection `s` and call `resolve` once the next may be opened (default: a plain TCP connection).
 */
export function connectionFlood(address: string, imports: string[] = [], open?: string[]): string[] {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const port = Number(address.split(':').pop());
  return [
    ...(open ? imports : [`import { connect } from 'node:net';`]),
    `let closed = 0, wake;`,
    `const done = new Promise((resolve) => (wake = () => closed >= 64 && resolve(undefined)));`,
    `const held = [];`,
    `for (let i = 0; i < 320; i++) await new Promise((resolve) => {`,
    ...(open ?? [`  const s = connect({ host: ${JSON.stringify(host)}, port: ${port} }, () => resolve(undefined));`]),
    `  s.on('error', () => resolve(undefined));`,
    `  s.on('close', () => { closed++; wake(); });`,
    `  held.push(s);`,
    `});`,
    `await done;`,
    `console.log(JSON.stringify({ closed }));`,
  ];
}
