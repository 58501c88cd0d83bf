import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  codePointWidth,
  colorEnabled,
  displayWidth,
  padEndWidth,
  padStartWidth,
  paint,
  renderTable,
  stripAnsi,
  terminalWidth,
  truncateToWidth,
} from '../../../cli/shared/output/columns.js';

describe('output/columns – display width', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['hello', 5],
    ['数据处理', 8], // CJK ideographs are two cells each
    ['ジョブ', 6], // katakana
    ['작업', 4], // Hangul syllables
    ['ＡＢＣ', 6], // fullwidth Latin
    ['job-数据', 8],
    ['e\u0301', 1], // e + combining acute
    ['\u200b', 0], // zero-width space
    ['👍', 2],
    ['👍🏽', 2], // with a skin tone modifier
    ['👨‍👩‍👧', 2], // ZWJ family
    ['🇫🇷', 2], // a flag
    ['\x1b[31mred\x1b[39m', 3], // colour codes take no cells
    ['½', 1],
  ];
  for (const [s, w] of cases)
    test(`output/columns – ${JSON.stringify(s)} is ${w} cells`, () => assert.equal(displayWidth(s), w));

  test('output/columns – code point widths', () => {
    assert.equal(codePointWidth(0x41), 1);
    assert.equal(codePointWidth(0x4e00), 2);
    assert.equal(codePointWidth(0x0301), 0);
    assert.equal(codePointWidth(0x3000), 2); // ideographic space
    assert.equal(codePointWidth(0x303f), 1); // half-fill space is narrow
    assert.equal(codePointWidth(0x20000), 2);
  });
});

describe('output/columns – truncation and padding', () => {
  test('output/columns – truncation never splits a wide character', () => {
    assert.equal(truncateToWidth('数据处理', 5), '数据');
    assert.equal(truncateToWidth('数据处理', 4), '数据');
    assert.equal(truncateToWidth('abcdef', 4), 'abcd');
    assert.equal(truncateToWidth('abcdef', 4, '…'), 'abc…');
    assert.equal(truncateToWidth('abc', 4, '…'), 'abc');
    assert.equal(truncateToWidth('abc', 0), '');
  });
  test('output/columns – truncation keeps combining marks with their letter', () => {
    assert.equal(truncateToWidth('e\u0301e\u0301e\u0301', 2), 'e\u0301e\u0301');
  });
  test('output/columns – padding by display width', () => {
    assert.equal(padEndWidth('数据', 6), '数据  ');
    assert.equal(padStartWidth('数据', 6), '  数据');
    assert.equal(padEndWidth('toolong', 3), 'toolong');
  });
  test('output/columns – a truncated string always fits (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 0, max: 40 }), (s, w) => {
        assert.ok(displayWidth(truncateToWidth(s, w)) <= w);
        assert.ok(displayWidth(truncateToWidth(s, w, '…')) <= Math.max(w, 0));
      }),
    );
  });
});

describe('output/columns – tables', () => {
  test('output/columns – left and right alignment, one space between, no trailing spaces', () => {
    const lines = renderTable(
      [{ header: 'NAME' }, { header: 'N', align: 'right' }, { header: 'LAST' }],
      [
        ['a', '1', 'x'],
        ['bbbbb', '100', ''],
      ],
    );
    assert.deepEqual(lines, ['NAME    N LAST', 'a       1 x', 'bbbbb 100']);
  });
  test('output/columns – a CJK cell lines up with ASCII rows', () => {
    const lines = renderTable(
      [{ header: 'BATCH' }, { header: 'TOTAL', align: 'right' }],
      [
        ['数据处理', '1'],
        ['ascii', '20'],
      ],
    );
    assert.deepEqual(lines, ['BATCH    TOTAL', '数据处理     1', 'ascii       20']);
    // Every line ends at the same display column.
    assert.deepEqual(new Set(lines.map(displayWidth)).size, 1);
  });
  test('output/columns – minWidth, maxWidth and noSeparator', () => {
    const lines = renderTable(
      [
        { header: 'A', minWidth: 4 },
        { header: 'B', maxWidth: 3, ellipsis: '…' },
        { header: 'C', noSeparator: true },
      ],
      [['x', 'abcdef', '!']],
    );
    assert.deepEqual(lines, ['A    B  C', 'x    ab…!']);
  });
  test('output/columns – the flex column is cut to fit the width, never below its header', () => {
    const rows = [['1', 'a very long command line that will not fit']];
    const lines = renderTable([{ header: 'ID' }, { header: 'CMD', flex: true }], rows, { width: 20 });
    assert.deepEqual(lines, ['ID CMD', '1  a very long comma']);
    assert.ok(lines.every((l) => displayWidth(l) <= 20));
    const tight = renderTable([{ header: 'ID' }, { header: 'CMD', flex: true }], rows, { width: 2 });
    assert.equal(tight[1], '1  a v'); // CMD keeps at least its header's width
  });
  test('output/columns – no header line when asked', () => {
    assert.deepEqual(renderTable([{ header: 'A' }], [['x']], { header: false }), ['x']);
  });
  test('output/columns – colour only with color, and it never changes the layout', () => {
    const cols = [{ header: 'ST' }, { header: 'X' }];
    const rows = [[{ text: 'R', style: 'green' as const }, 'y']];
    const plain = renderTable(cols, rows);
    const colored = renderTable(cols, rows, { color: true });
    assert.deepEqual(plain, ['ST X', 'R  y']);
    assert.notDeepEqual(colored, plain);
    assert.deepEqual(colored.map(stripAnsi), plain);
    assert.match(colored[1]!, /\x1b\[32mR\x1b\[39m/);
  });
  test('output/columns – colour and width come from the stream', () => {
    const tty = {
      isTTY: true,
      columns: 100,
      hasColors: (_n?: number, env?: Record<string, string | undefined>) => env?.NO_COLOR === undefined,
    };
    assert.equal(colorEnabled(tty, {}), true);
    assert.equal(colorEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({}, {}), false, 'a pipe gets no colour');
    assert.equal(colorEnabled({}, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled({}, { FORCE_COLOR: '0' }), false);
    assert.equal(colorEnabled({}, { FORCE_COLOR: '1', NO_COLOR: '1' }), false);
    assert.equal(terminalWidth(tty), 100);
    assert.equal(terminalWidth({ isTTY: false, columns: 100 }), undefined, 'a pipe is never cut');
  });
  test('output/columns – paint is a no-op when colour is off', () => {
    assert.equal(paint('x', 'red', false), 'x');
    assert.equal(paint('x', 'red', true), '\x1b[31mx\x1b[39m');
  });
});
