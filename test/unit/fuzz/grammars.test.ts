// The CI slice of `npm run fuzz`: a few thousand generated and mutated inputs per grammar with a fixed seed,
// run in this process through the same entry points, must give a result or a typed error (no other throw,
// no disagreement between the evaluators or the parsers). The full run is `npm run fuzz`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GRAMMAR_TARGETS, batchInputs, runOne } from '../../fuzz/engine.js';

const SEED = 20261206;
const COUNTS: Record<string, number> = { classad: 2000, submit: 800, pbs: 800, dag: 600 };

describe('fuzz – grammars', () => {
  for (const [name, count] of Object.entries(COUNTS)) {
    test(`fuzz – ${count} ${name} inputs give a result or a typed error`, { timeout: 600_000 }, () => {
      const t = GRAMMAR_TARGETS[name]!;
      const crashes: string[] = [];
      for (let batch = 0, done = 0; done < count; batch++) {
        for (const input of batchInputs(t, SEED, batch)) {
          if (done++ >= count) break;
          const o = runOne(t, input);
          if (!o.ok) crashes.push(`${o.signature}\n  input: ${JSON.stringify(input).slice(0, 300)}`);
        }
      }
      assert.deepEqual(
        crashes,
        [],
        `${crashes.length} crashes (npm run fuzz -- --only ${name} --seed ${SEED} writes reproducers)`,
      );
    });
  }
});
