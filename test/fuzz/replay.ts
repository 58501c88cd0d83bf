// Replay findings: `node --import tsx test/fuzz/replay.ts test/fuzz/findings/<target>-<kind>-<id>.json …`
// runs each reproducer through its target once and prints the time and the outcome.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { GRAMMAR_TARGETS, runOne } from './engine.js';

for (const f of process.argv.slice(2)) {
  const info = JSON.parse(readFileSync(f, 'utf8')) as { target: string; args?: string[] };
  const t = GRAMMAR_TARGETS[info.target];
  if (!t) {
    console.log(`${f}: target ${info.target} cannot be replayed here`);
    continue;
  }
  const text = readFileSync(f.replace(/\.json$/, `.${t.ext}`), 'utf8');
  runOne(t, { text, args: info.args }); // once to load what it needs (parsers are loaded on first use)
  const t0 = performance.now();
  const o = runOne(t, { text, args: info.args });
  console.log(`${f}: ${(performance.now() - t0).toFixed(1)} ms, ${o.ok ? 'ok' : `crash: ${o.signature}`}`);
}
