// Syntax errors are SourceError('CLASSAD_SYNTAX') naming file:line:column (shifted by where the text sits in a
// bigger file), saying what was expected, with the offending line and a caret in the message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClassAd, parseExpr, type Origin } from '../../../grammar/classad/index.js';
import { SourceError } from '../../../lib/errors.js';

interface ErrorCase {
  text: string;
  origin?: Origin;
  classad?: string; // parse as an ad from this file instead of an expression
  code?: string;
  message: string;
  at: [file: string, line: number, column: number];
}

const CASES: ErrorCase[] = [
  { text: '1 +', message: 'expected an expression but found end of input', at: ['<expr>', 1, 4] },
  { text: '', message: 'expected an expression but found end of input', at: ['<expr>', 1, 1] },
  { text: 'a b', message: 'expected an operator, "(" or end of input but found "b"', at: ['<expr>', 1, 3] },
  { text: '(1 + 2', message: 'expected an operator or ")" but found end of input', at: ['<expr>', 1, 7] },
  { text: '"abc', message: 'unterminated string literal', at: ['<expr>', 1, 1] },
  { text: "x + 'abc", message: 'unterminated quoted attribute name', at: ['<expr>', 1, 5] },
  {
    text: '010',
    message: 'invalid integer literal 010 (octal and hexadecimal are not ClassAd syntax)',
    at: ['<expr>', 1, 1],
  },
  {
    text: '0x1F',
    message: 'invalid integer literal 0x1F (octal and hexadecimal are not ClassAd syntax)',
    at: ['<expr>', 1, 1],
  },
  {
    text: 'x - 99999999999999999999',
    message: 'integer literal 99999999999999999999 does not fit in 64 bits',
    at: ['<expr>', 1, 5],
  },
  { text: 'a &&\n  b +\n  ', message: 'expected an expression but found end of input', at: ['<expr>', 3, 3] },
  { text: 'f(,)', message: 'expected an expression or ")" but found ","', at: ['<expr>', 1, 3] },
  { text: 'f(1 2)', message: 'expected an operator, ")", "," or ";" but found "2"', at: ['<expr>', 1, 5] },
  { text: '{1 2}', message: 'expected an operator, "," or "}" but found "2"', at: ['<expr>', 1, 4] },
  { text: 'a.5', message: 'expected an attribute name but found "5"', at: ['<expr>', 1, 3] },
  { text: '1.', message: 'expected an attribute name but found end of input', at: ['<expr>', 1, 3] },
  { text: 'a =? b', message: 'expected an operator, "(" or end of input but found "="', at: ['<expr>', 1, 3] },
  { text: '1 /* open', message: 'unterminated comment', at: ['<expr>', 1, 3] },
  { text: '1 # 2', message: 'expected an operator or end of input but found "#"', at: ['<expr>', 1, 3] },
  { text: 'true ? 1', message: 'expected an operator or ":" but found end of input', at: ['<expr>', 1, 9] },
  { text: '"a\\0b"', message: 'a string may not contain a NUL character', at: ['<expr>', 1, 1] },
  { text: '10K', message: 'expected an operator or end of input but found "K"', at: ['<expr>', 1, 3] },
  {
    text: 'x +',
    origin: { file: 'job.sub', line: 12, column: 16, sourceLine: 'requirements = x +' },
    message: 'expected an expression but found end of input',
    at: ['job.sub', 12, 19],
  },
  {
    text: 'a &&\n) b',
    origin: { file: 'job.sub', line: 3, column: 10 },
    message: 'expected an expression but found ")"',
    at: ['job.sub', 4, 1],
  },
  {
    text: 'A = 1\nB = 2 +\nC = 3',
    classad: 'ad.txt',
    message: 'expected an expression but found end of input',
    at: ['ad.txt', 2, 8],
  },
  { text: '# comment\n\nA == 1', classad: 'ad.txt', message: 'expected "=" but found "="', at: ['ad.txt', 3, 3] },
  { text: 'JustAName', classad: 'ad.txt', message: 'expected "=" but found end of input', at: ['ad.txt', 1, 10] },
  { text: '[a = 1; b = ]', classad: 'r.ad', message: 'expected an expression but found "]"', at: ['r.ad', 1, 13] },
  {
    text: '[a = 1 b = 2]',
    classad: 'r.ad',
    message: 'expected an operator, ";" or "]" but found "b"',
    at: ['r.ad', 1, 8],
  },
  {
    text: '[\n  a = 1;\n  true = 1\n]',
    classad: 'r.ad',
    message: 'expected an attribute name, ";" or "]" but found "true"',
    at: ['r.ad', 3, 3],
  },
  { text: '[a = 1]  extra', classad: 'r.ad', message: 'expected end of input but found "extra"', at: ['r.ad', 1, 10] },
  {
    text: '('.repeat(300) + '1' + ')'.repeat(300),
    code: 'INPUT_TOO_LARGE',
    message: 'brackets nested more than 200 deep',
    at: ['<expr>', 1, 201],
  },
  {
    text: '!'.repeat(5000) + 'x',
    code: 'INPUT_TOO_LARGE',
    message: 'expression is more than 1000 levels deep',
    at: ['<expr>', 1, 1],
  },
];

describe('classad syntax errors – exact location and message', () => {
  for (const c of CASES) {
    test(`classad syntax errors – ${JSON.stringify(c.text.length > 40 ? c.text.slice(0, 40) + '…' : c.text)}`, () => {
      let err: unknown;
      try {
        if (c.classad) parseClassAd(c.text, c.classad);
        else parseExpr(c.text, c.origin);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SourceError, `expected a SourceError, got ${String(err)}`);
      assert.equal(err.code, c.code ?? 'CLASSAD_SYNTAX');
      assert.equal(err.bareMessage, c.message);
      assert.deepEqual([err.location.file, err.location.line, err.location.column], c.at);
      assert.ok(err.message.includes(`--> ${c.at[0]}:${c.at[1]}:${c.at[2]}`));
    });
  }
});

describe('classad syntax errors – the diagnostic shows the line and a caret', () => {
  test("classad syntax errors – caret under the column, in the caller's file line", () => {
    try {
      parseExpr('x +', { file: 'job.sub', line: 12, column: 16, sourceLine: 'requirements = x +' });
      assert.fail('no error');
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      assert.deepEqual(lines, [
        'expected an expression but found end of input',
        '--> job.sub:12:19',
        '   |',
        '12 | requirements = x +',
        '   |                   ^',
      ]);
    }
  });
  test('classad syntax errors – a long line is shown around its column only, the caret under the fault', () => {
    const text = `"${'x'.repeat(100_000)}" + * ${'y'.repeat(100_000)}`;
    try {
      parseExpr(text);
      assert.fail('no error');
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      assert.equal(lines[1], '--> <expr>:1:100006');
      assert.ok(lines[3]!.length < 200, `a line of ${lines[3]!.length}`);
      const caret = lines[4]!.indexOf('^');
      assert.equal(lines[3]!.slice(caret, caret + 3), '* y');
      assert.match(lines[3]!, /^1 \| …x+" \+ \* y+…$/);
    }
  });
  test('classad syntax errors – the cause is kept', () => {
    try {
      parseExpr('a b');
      assert.fail('no error');
    } catch (e) {
      assert.equal(((e as Error).cause as Error).name, 'SyntaxError');
    }
  });
});
