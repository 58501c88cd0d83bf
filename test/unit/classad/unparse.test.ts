// Printing: unparse() gives HTCondor's printed form of an expression (as condor_q -long shows it), and reading
// that form back gives the same tree.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassAd, formatReal, literal, parseExpr, printValue, unparse } from '../../../grammar/classad/index.js';
import { binary, lit, unary, attr, call, cond, subscript } from '../../../grammar/classad/ast.js';

const FORMS: [string, string][] = [
  ['a==b', 'a == b'],
  ['a=?=b', 'a =?= b'],
  ['a is b', 'a =?= b'],
  ['a isnt b', 'a =!= b'],
  ['a=!=b', 'a =!= b'],
  ['!a', ' !a'],
  ['a && !b', 'a &&  !b'],
  ['-x', ' -x'],
  ['- 5', ' - 5'],
  ['-5', '-5'],
  ['~x', ' ~x'],
  ['+x', ' +x'],
  ['f( 1 , 2 )', 'f(1,2)'],
  ['strcat( "a" ;"b")', 'strcat("a","b")'],
  ['{1, 2}', '{ 1,2 }'],
  ['{ }', '{  }'],
  ['[a=1;b=2]', '[ a = 1; b = 2 ]'],
  ['[ ]', '[  ]'],
  ['x?y:z', 'x ? y : z'],
  ['x ?: z', 'x ?: z'],
  ['x ? : z', 'x ?: z'],
  ['(a+b)*c', '(a + b) * c'],
  ['( ( a ) )', '((a))'],
  ["'a b'", "'a b'"],
  ["'true'", "'true'"],
  ["'Parent'", "'Parent'"],
  ["'it''s'", 'its'],
  ["'a\\'b'", "'a\\'b'"],
  ['MY.x', 'MY.x'],
  ['target.Memory', 'target.Memory'],
  ['.x', '.x'],
  ['a.b.c', 'a.b.c'],
  ['a[0][1]', 'a[0][1]'],
  ['"\\n\\t\\"\\\\"', '"\\n\\t\\"\\\\"'],
  ['"\\001\\177"', '"\\001\\177"'],
  ['1.0', '1.0'],
  ['1e100', '1E+100'],
  ['1.5e-7', '1.5E-07'],
  ['123456.789', '123456.789'],
  ['TRUE', 'true'],
  ['UNDEFINED', 'undefined'],
  ['ERROR', 'error'],
  ['x >>> 2 << 1', 'x >>> 2 << 1'],
  ['a || b && c | d ^ e & f == g < h << i + j * k', 'a || b && c | d ^ e & f == g < h << i + j * k'],
  ['(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX")', '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX")'],
  ['ifThenElse(isUndefined(x),0,x)', 'ifThenElse(isUndefined(x),0,x)'],
];

describe('classad unparse – printed forms', () => {
  for (const [text, printed] of FORMS) {
    test(`classad unparse – ${text} prints as ${printed}`, () => {
      const e = parseExpr(text);
      assert.equal(unparse(e), printed);
      assert.deepEqual(parseExpr(unparse(e)), e, 'reading the printed form gives the same tree');
    });
  }
});

describe('classad unparse – reals print as %.16G with .0 when integral', () => {
  const REALS: [number, string][] = [
    [3, '3.0'],
    [1.5, '1.5'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1e20, '1E+20'],
    [1e15, '1000000000000000.0'],
    [1e16, '1E+16'],
    [123456789012345680, '1.234567890123457E+17'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.3333333333333333'],
    [1e-5, '1E-05'],
    [0.0001, '0.0001'],
    [-2.5, '-2.5'],
    [NaN, 'real("NaN")'],
    [Infinity, 'real("INF")'],
    [-Infinity, 'real("-INF")'],
    [5e-324, '4.940656458412465E-324'],
  ];
  for (const [x, s] of REALS) test(`classad unparse – real ${x} prints as ${s}`, () => assert.equal(formatReal(x), s));
});

describe('classad unparse – trees built by hand get the parentheses they need', () => {
  const CASES: [string, ReturnType<typeof binary> | ReturnType<typeof unary> | ReturnType<typeof attr>, string][] = [
    ['sum in a product', binary('*', binary('+', attr('a'), attr('b')), attr('c')), '(a + b) * c'],
    ['right-nested minus', binary('-', attr('a'), binary('-', attr('b'), attr('c'))), 'a - (b - c)'],
    ['unary of a sum', unary('-', binary('+', attr('a'), lit(1n))), ' -(a + 1)'],
    ['unary minus of a number', unary('-', lit(5n)), ' - 5'],
    ['selection from a sum', attr('x', binary('+', attr('a'), attr('b'))), '(a + b).x'],
    ['selection from a negative number', attr('x', lit(-5n)), '-5.x'],
  ];
  for (const [name, e, printed] of CASES) {
    test(`classad unparse – ${name}`, () => {
      assert.equal(unparse(e), printed);
      assert.equal(printValue(new ClassAd().evalExpr(parseExpr(printed))), printValue(new ClassAd().evalExpr(e)));
    });
  }
  test('classad unparse – a conditional inside an operator', () => {
    const e = binary('+', cond(attr('t'), lit(1n), lit(2n)), lit(3n));
    assert.equal(unparse(e), '(t ? 1 : 2) + 3');
    assert.equal(unparse(subscript(call('f', []), lit(0n))), 'f()[0]');
  });
});

describe('classad unparse – printValue of values', () => {
  const CASES: [unknown, string][] = [
    [3, '3'],
    [1.5, '1.5'],
    ['x', '"x"'],
    [true, 'true'],
    [null, 'undefined'],
    [[1, 2], '{ 1,2 }'],
    [{ a: 1, b: 'x' }, '[ a = 1; b = "x" ]'],
    [[[], {}], '{ {  },[  ] }'],
  ];
  for (const [js, printed] of CASES) {
    test(`classad unparse – literal(${JSON.stringify(js)}) prints as ${printed}`, () => {
      assert.equal(unparse(literal(js)), printed);
      assert.equal(printValue(new ClassAd().evalExpr(literal(js))), printed);
    });
  }
});
