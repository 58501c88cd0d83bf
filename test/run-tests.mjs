#!/usr/bin/env node
// Lists the test files for `node --test` (Node 20 expands no globs and finds no .ts files in a folder).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
function walk(dir, out = []) {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
// Usage: node test/run-tests.mjs [unit|integration|FILE.test.ts…] [node --test flags]
const args = process.argv.slice(2);
const only = args[0] === 'unit' || args[0] === 'integration' ? args.shift() : undefined;
const named = args.filter((a) => a.endsWith('.test.ts'));
for (const n of named) args.splice(args.indexOf(n), 1);
const files = named.length ? named : walk(join(root, 'test')).filter((f) => !only || f.startsWith(join('test', only)));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// Integration tests start whole pools; two at a time is what 2 cores carry.
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...args, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
