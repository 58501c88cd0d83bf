// cli – help layout: the commands' usage texts are wrapped by a fast path for printable ASCII
// (scripts/shims/ascii-wrap.cjs, what the bundles give yargs' cliui); it gives wrap-ansi's lines exactly,
// for any options cliui or anyone passes, and hands every other text to wrap-ansi itself.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import stripAnsi from 'strip-ansi';
import wrapAnsi from 'wrap-ansi';

const { wrap, stripAnsi: fastStripAnsi } = createRequire(import.meta.url)('../../../scripts/shims/ascii-wrap.cjs') as {
  wrap: typeof wrapAnsi;
  stripAnsi: typeof stripAnsi;
};

// words of help texts, long words, runs of spaces and line ends, and some text the fast path must not take
const piece = fc.oneof(
  fc.constantFrom('a', 'dq', 'the', '--constraint', 'cluster.proc', '[boolean]', '"JobStatus == 2"', 'x'.repeat(30)),
  fc.constantFrom(' ', '  ', '   ', '\n', '\n\n', ' \n '),
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '-', '\n'), maxLength: 40 }),
  fc.constantFrom('\t', '\r\n', 'é', '作业', '\u001B[1mbold\u001B[22m', '\u009B'),
);
const text = fc.array(piece, { maxLength: 30 }).map((p) => p.join(''));
const options = fc.record({ hard: fc.boolean(), trim: fc.boolean(), wordWrap: fc.boolean() }, { requiredKeys: [] });

test('cli – help layout: the fast wrap gives wrap-ansi’s lines', () => {
  fc.assert(
    fc.property(text, fc.integer({ min: 1, max: 90 }), options, (t, columns, opts) => {
      assert.equal(wrap(t, columns, opts), wrapAnsi(t, columns, opts));
    }),
    { numRuns: 3000, seed: 42 },
  );
});

test('cli – help layout: the fast wrap of usage lines as cliui passes them', () => {
  const line =
    '  --constraint, -constraint  only jobs for which this ClassAd expression is true (HTCondor -constraint)';
  for (const columns of [1, 2, 10, 26, 40, 79, 80, 200])
    assert.equal(wrap(line, columns, { hard: true }), wrapAnsi(line, columns, { hard: true }));
});

test('cli – help layout: strip-ansi’s fast path', () => {
  for (const t of ['', 'plain text', '\u001B[31mred\u001B[39m', 'a\u009B1mb', 'é'])
    assert.equal(fastStripAnsi(t), stripAnsi(t));
});
