#!/usr/bin/env node
// Guard rails (style.md 5.9): no import cycles, type-only imports included, except inside the ClassAd library
// (a ClassAd and its evaluator recurse into each other); cli/ and daemons/ may import lib/ and grammar/;
// daemons/X never imports daemons/Y (they talk over proto); lib/ imports nothing from grammar/, daemons/ or
// cli/; grammar/ imports nothing from lib/rpc, daemons/ or cli/. A part that calls back into its owner (the DAG
// runner into the schedd, the DAG outputs into the engine) gets a narrow interface from it instead of importing it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
(function walk(d) {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (['node_modules', 'dist', 'generated', 'test', 'bench', '.git'].includes(e)) continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
})(root);

const problems = [];
const graph = new Map();
for (const f of files) {
  const rel = relative(root, f);
  const src = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = relative(root, resolve(dirname(f), m[1])).replace(/\.js$/, '.ts');
    deps.push(target);
    const [top, sub] = rel.split('/');
    const [ttop, tsub] = target.split('/');
    if (top === 'lib' && (ttop === 'grammar' || ttop === 'daemons' || ttop === 'cli'))
      problems.push(`${rel} imports ${target}: lib/ must not depend on ${ttop}/`);
    if (top === 'grammar' && (ttop === 'daemons' || ttop === 'cli' || target.startsWith('lib/rpc')))
      problems.push(`${rel} imports ${target}: grammar/ must stay free of daemons, CLIs and RPC`);
    if (top === 'daemons' && ttop === 'daemons' && sub !== tsub)
      problems.push(`${rel} imports ${target}: daemons talk over gRPC, not imports`);
    // the web daemon is a client that shows the CLIs' views (dq -json, dq -analyze, dstatus -total) over HTTP
    const webView = sub === 'web' && target.startsWith('cli/shared/') && !target.startsWith('cli/shared/session');
    if (top === 'daemons' && ttop === 'cli' && !webView)
      problems.push(`${rel} imports ${target}: daemons must not depend on cli/`);
  }
  graph.set(
    rel,
    deps.filter((d) => d.includes('/') && !d.includes('generated/')),
  );
}

// cycles (depth-first search with colours)
const colour = new Map();
const stack = [];
function visit(n) {
  colour.set(n, 1);
  stack.push(n);
  for (const d of graph.get(n) ?? []) {
    if (!graph.has(d)) continue;
    if (colour.get(d) === 1) {
      // Mutual recursion inside the ClassAd library (a ClassAd and its evaluator) is allowed; any other
      // cycle, even inside one folder, is a layering mistake.
      const cyc = [...stack.slice(stack.indexOf(d)), d];
      if (!cyc.every((c) => dirname(c) === 'grammar/classad')) problems.push(`import cycle: ${cyc.join(' -> ')}`);
    } else if (!colour.get(d)) visit(d);
  }
  stack.pop();
  colour.set(n, 2);
}
for (const n of graph.keys()) if (!colour.get(n)) visit(n);

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)\n  ${[...new Set(problems)].join('\n  ')}`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, no cycles, layers respected`);
