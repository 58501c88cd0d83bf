// Properties: printing then reading any tree gives the tree back; arbitrary input only ever parses or raises a
// SourceError; generated code and closures agree; matching is symmetric when both sides state Requirements.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  absAttr,
  attr,
  binary,
  call,
  cond,
  list,
  lit,
  paren,
  record,
  subscript,
  unary,
  type BinaryOp,
  type Expr,
  type UnaryOp,
} from '../../../grammar/classad/ast.js';
import { setCodegen } from '../../../grammar/classad/compile.js';
import {
  ClassAd,
  ERROR,
  UNDEFINED,
  compile,
  formatReal,
  parseClassAd,
  parseExpr,
  printValue,
  symmetricMatch,
  unparse,
} from '../../../grammar/classad/index.js';
import { SourceError } from '../../../lib/errors.js';

const RESERVED = new Set(['true', 'false', 'undefined', 'error', 'is', 'isnt']);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// precedence as the printer sees it (higher binds tighter)
const PREC: Record<BinaryOp, number> = {
  '||': 2,
  '&&': 3,
  '|': 4,
  '^': 5,
  '&': 6,
  '==': 7,
  '!=': 7,
  '=?=': 7,
  '=!=': 7,
  '<': 8,
  '<=': 8,
  '>': 8,
  '>=': 8,
  '<<': 9,
  '>>': 9,
  '>>>': 9,
  '+': 10,
  '-': 10,
  '*': 11,
  '/': 11,
  '%': 11,
};
function prec(e: Expr): number {
  switch (e.kind) {
    case 'cond':
      return 1;
    case 'binary':
      return PREC[e.op];
    case 'unary':
      return 12;
    case 'subscript':
      return 13;
    case 'attr':
      return e.scope ? 13 : 14;
    default:
      return 14;
  }
}
/** Parentheses where the grammar needs them, as a user would write them (so the parser keeps them). */
const wrap = (e: Expr, min: number): Expr => (prec(e) < min ? paren(e) : e);

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/).filter((s) => !RESERVED.has(s.toLowerCase()));
const anyName = fc.oneof(
  { weight: 4, arbitrary: identifier },
  {
    weight: 1,
    arbitrary: fc.string({ minLength: 1, maxLength: 6, unit: 'binary-ascii' }).filter((s) => !s.includes('\0')),
  },
);
const text = fc
  .oneof(fc.string({ maxLength: 8, unit: 'binary-ascii' }), fc.string({ maxLength: 4, unit: 'grapheme' }))
  .filter((s) => !s.includes('\0'));
// reals that survive printing with %.16G unchanged (HTCondor's printed form is not exact beyond that)
const real = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => Object.is(Number(formatReal(x)), x));

const literal = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((v) => lit(v)),
  fc.integer({ min: -1000, max: 1000 }).map((v) => lit(BigInt(v))),
  real.map((v) => lit(v)),
  text.map((s) => lit(s)),
  fc.constantFrom(lit(true), lit(false), lit(UNDEFINED), lit(ERROR)),
);

const UNARY: UnaryOp[] = ['-', '+', '!', '~'];
const BINARY = Object.keys(PREC) as BinaryOp[];
const FUNCS = ['strcat', 'size', 'ifThenElse', 'isUndefined', 'int', 'member', 'floor', 'toUpper', 'nosuchfn'];

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal,
    anyName.map((n) => attr(n)),
    anyName.map((n) => absAttr(n)),
    fc.tuple(fc.constantFrom(...UNARY), tie('expr')).map(([op, e]) => unary(op, wrap(e, 12))),
    fc
      .tuple(fc.constantFrom(...BINARY), tie('expr'), tie('expr'))
      .map(([op, l, r]) => binary(op, wrap(l, PREC[op]), wrap(r, PREC[op] + 1))),
    fc
      .tuple(tie('expr'), fc.option(tie('expr'), { nil: null }), tie('expr'))
      .map(([t, y, n]) => cond(wrap(t, 2), y, n)),
    fc.tuple(tie('expr'), tie('expr')).map(([b, i]) => subscript(wrap(b, 13), i)),
    fc.tuple(tie('expr'), anyName).map(([s, n]) => attr(n, wrap(s, 13))),
    fc
      .tuple(fc.oneof(fc.constantFrom(...FUNCS), identifier), fc.array(tie('expr'), { maxLength: 3 }))
      .map(([n, a]) => call(n, a)),
    fc.array(tie('expr'), { maxLength: 3 }).map((items) => list(items)),
    fc
      .uniqueArray(fc.tuple(anyName, tie('expr')), { maxLength: 3, selector: ([n]) => n.toLowerCase() })
      .map((attrs) => record(attrs)),
    tie('expr').map((e) => paren(e)),
  ),
}));

describe('classad properties', () => {
  test('classad properties – parse(unparse(e)) equals e', () => {
    fc.assert(
      fc.property(expr, (e) => {
        const printed = unparse(e);
        assert.deepStrictEqual(parseExpr(printed), e, printed);
      }),
      { numRuns: 2000 },
    );
  });

  test('classad properties – printing is stable: unparse(parse(unparse(e))) equals unparse(e)', () => {
    fc.assert(
      fc.property(expr, (e) => unparse(parseExpr(unparse(e))) === unparse(e)),
      { numRuns: 500 },
    );
  });

  const onlyParsesOrSourceError = (s: string) => {
    try {
      parseExpr(s);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      assert.ok(['CLASSAD_SYNTAX', 'INPUT_TOO_LARGE'].includes(err.code));
      assert.ok(err.location.line >= 1 && err.location.column >= 1);
    }
    try {
      parseClassAd(s);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
    }
  };

  test('classad properties – random bytes only ever parse or raise a SourceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) =>
        onlyParsesOrSourceError(Buffer.from(bytes).toString('latin1')),
      ),
      { numRuns: 3000 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 64, unit: 'binary' }), onlyParsesOrSourceError), { numRuns: 2000 });
  });

  test('classad properties – mutated expressions only ever parse or raise a SourceError', () => {
    const mutated = fc
      .tuple(
        expr,
        fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...'()[]{}"\'.;,=!?:-+*/%&|^~<> \n\\0aZ_'.split(''))), {
          maxLength: 4,
        }),
      )
      .map(([e, edits]) => {
        let s = unparse(e);
        for (const [at, kind, ch] of edits) {
          const i = s.length ? at % s.length : 0;
          if (kind === 0)
            s = s.slice(0, i) + s.slice(i + 1); // delete
          else if (kind === 1)
            s = s.slice(0, i) + ch + s.slice(i); // insert
          else s = s.slice(0, i) + ch + s.slice(i + 1); // replace
        }
        return s;
      });
    fc.assert(fc.property(mutated, onlyParsesOrSourceError), { numRuns: 2000 });
  });

  test('classad properties – generated code and closures evaluate alike', () => {
    const my = parseClassAd('A = 1\nB = 2.5\nS = "x"\nL = { 1, 2 }\nN = [ a = 1 ]\nC = C');
    const target = parseClassAd('A = 7\nT = "y"');
    fc.assert(
      fc.property(expr, (e) => {
        const viaCode = printValue(compile(e)(my, target));
        setCodegen(false);
        try {
          const viaClosures = printValue(compile(parseExpr(unparse(e)))(my, target));
          assert.equal(viaClosures, viaCode, unparse(e));
        } finally {
          setCodegen(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  test('classad properties – matching is symmetric when both sides state Requirements', () => {
    const clause = fc.constantFrom(
      'TARGET.Memory >= Memory',
      'TARGET.Cpus > 1',
      'Cpus <= TARGET.Cpus',
      'TARGET.Kind == Kind',
      'TARGET.Kind != "b"',
      'isUndefined(TARGET.Nope)',
      'TARGET.Memory * 2 > Memory',
      'true',
      'Memory > 100',
    );
    const side = fc.record({
      memory: fc.integer({ min: 0, max: 4096 }),
      cpus: fc.integer({ min: 0, max: 8 }),
      kind: fc.constantFrom('a', 'b'),
      req: fc.array(clause, { minLength: 1, maxLength: 3 }),
    });
    const mk = (s: { memory: number; cpus: number; kind: string; req: string[] }) => {
      const ad = new ClassAd();
      ad.setValue('Memory', s.memory).setValue('Cpus', s.cpus).setValue('Kind', s.kind);
      ad.setExprText('Requirements', s.req.join(' && '));
      return ad;
    };
    fc.assert(
      fc.property(side, side, (x, y) => symmetricMatch(mk(x), mk(y)) === symmetricMatch(mk(y), mk(x))),
      { numRuns: 1000 },
    );
  });
});
