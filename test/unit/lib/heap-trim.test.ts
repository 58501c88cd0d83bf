// heap trim – after a full collection of V8's own (a burst of work), a daemon started with its flags makes one
// more, forced, which gives back the pages the burst left half empty.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { daemonNodeFlags } from '../../../lib/node-flags.js';

const trim = fileURLToPath(new URL('../../../lib/heap-trim.ts', import.meta.url));

// A burst of allocation that lives a while (a full collection of V8's own follows), then a quiet process: it
// prints "trimmed" at the first forced full collection, or "none" if none came in a long while.
const BURST = `
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { trimHeapAfterBursts } from ${JSON.stringify(trim)};
trimHeapAfterBursts(100, 0);
const quiet = setTimeout(() => process.stdout.write('none'), 20000);
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) {
      process.stdout.write('trimmed');
      clearTimeout(quiet);
      process.exit(0);
    }
}).observe({ entryTypes: ['gc'] });
let held = [];
for (let i = 0; i < 3e6; i++) {
  held.push({ i, s: 'job ' + i });
  if (held.length > 2e5) held = [];
}
held = [];
`;

function run(flags: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...flags, '--input-type=module', '-e', BURST], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('a daemon collects its heap once more when a burst is over', () => {
  for (const name of ['startd', 'schedd']) assert.equal(run(daemonNodeFlags(name)), 'trimmed', name);
});
