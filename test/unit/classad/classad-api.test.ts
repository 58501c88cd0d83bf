// The ClassAd object and the conversions around it: case-insensitive names that keep their spelling, the long
// form, records (the wire form), JSON as condor_q -json writes it, referencedAttrs, and literal()/valueToJS().
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClassAd,
  ERROR,
  ListValue,
  UNDEFINED,
  isTrue,
  literal,
  parseClassAd,
  parseExpr,
  printValue,
  referencedAttrs,
  toNumber,
  typeOf,
  unparse,
  valueToJS,
} from '../../../grammar/classad/index.js';

describe('classad api – attributes', () => {
  test('classad api – names are case-insensitive and keep their first spelling', () => {
    const ad = new ClassAd();
    ad.setValue('RequestMemory', 1024);
    ad.setValue('requestmemory', 2048);
    assert.deepEqual(ad.names(), ['RequestMemory']);
    assert.equal(ad.lookupJS('REQUESTMEMORY'), 2048);
    assert.equal(ad.has('requestMEMORY'), true);
    assert.equal(unparse(ad.get('requestmemory')!), '2048');
  });
  test('classad api – names() keeps insertion order; delete removes', () => {
    const ad = parseClassAd('B = 1\nA = 2\nC = A + B');
    assert.deepEqual(ad.names(), ['B', 'A', 'C']);
    assert.equal(ad.delete('a'), true);
    assert.equal(ad.delete('a'), false);
    assert.deepEqual(ad.names(), ['B', 'C']);
    assert.equal(ad.evaluate('C'), UNDEFINED);
    ad.setValue('A', 5);
    assert.equal(ad.evaluate('C'), 6n);
  });
  test('classad api – setValue makes literals of JS values', () => {
    const ad = new ClassAd();
    ad.setValue('I', 3).setValue('R', 2.5).setValue('S', 'x').setValue('B', true).setValue('N', null);
    ad.setValue('L', [1, 'a'])
      .setValue('O', { k: 1 })
      .setValue('Big', 2n ** 62n);
    assert.equal(
      ad.toLong(),
      'B = true\nBig = 4611686018427387904\nI = 3\nL = { 1,"a" }\nN = undefined\nO = [ k = 1 ]\nR = 2.5\nS = "x"\n',
    );
    assert.equal(typeOf(ad.evaluate('I')), 'integer');
    assert.equal(typeOf(ad.evaluate('R')), 'real');
  });
  test("classad api – setExprText parses with the caller's origin", () => {
    const ad = new ClassAd();
    ad.setExprText('Requirements', 'Memory > 1024');
    assert.equal(unparse(ad.get('Requirements')!), 'Memory > 1024');
    assert.throws(() => ad.setExprText('X', '1 +', { file: 'job.sub', line: 4, column: 9 }), /job\.sub:4:12/);
  });
  test('classad api – evalExpr takes text or trees, with an optional target', () => {
    const ad = parseClassAd('A = 2');
    const t = parseClassAd('A = 40');
    assert.equal(ad.evalExpr('A + TARGET.A', t), 42n);
    assert.equal(ad.evalExpr(parseExpr('A * 3')), 6n);
  });
  test('classad api – clone copies attributes, not identity', () => {
    const a = parseClassAd('X = 1\nY = X + 1');
    const b = a.clone();
    b.setValue('X', 10);
    assert.equal(a.evaluate('Y'), 2n);
    assert.equal(b.evaluate('Y'), 11n);
  });
  test('classad api – a parent scope supplies missing attributes', () => {
    const parent = parseClassAd('Site = "uw"');
    const child = new ClassAd(parent);
    child.setExprText('Where', 'strcat("at ", Site)');
    assert.equal(child.evaluate('Where'), 'at uw');
  });
});

describe('classad api – forms', () => {
  const text = `# a job
Owner = "alice"

RequestMemory = 1024
Requirements = TARGET.Memory >= RequestMemory && Arch == "X86_64"
Args = "a \\"b\\""
Ratio = 0.5
Nested = [ a = 1 ]
List = { 1,2 }
Undef = undefined
Err = error
`;
  test('classad api – parseClassAd reads the long form and the [ ] form alike', () => {
    const a = parseClassAd(text, 'job.ad');
    const b = parseClassAd(
      `[ ${a
        .names()
        .map((n) => `${n} = ${unparse(a.get(n)!)}`)
        .join('; ')} ]`,
    );
    assert.deepEqual(a.toRecord(), b.toRecord());
    assert.equal(a.evaluate('Args'), 'a "b"');
  });
  test("classad api – toLong sorts by name and prints HTCondor's form", () => {
    assert.equal(
      parseClassAd(text).toLong(),
      `Args = "a \\"b\\""
Err = error
List = { 1,2 }
Nested = [ a = 1 ]
Owner = "alice"
Ratio = 0.5
RequestMemory = 1024
Requirements = TARGET.Memory >= RequestMemory && Arch == "X86_64"
Undef = undefined
`,
    );
  });
  test('classad api – toRecord / fromRecord round-trip', () => {
    const a = parseClassAd(text);
    const r = a.toRecord();
    assert.equal(r.Requirements, 'TARGET.Memory >= RequestMemory && Arch == "X86_64"');
    assert.deepEqual(ClassAd.fromRecord(r).toRecord(), r);
    assert.throws(
      () => ClassAd.fromRecord({ Bad: '1 +' }),
      (e: Error & { code?: string }) => e.code === 'CLASSAD_SYNTAX' && e.message.includes('<attribute Bad>'),
    );
  });
  test('classad api – toJSON writes literals as JSON and other expressions as /Expr(...)/', () => {
    assert.deepEqual(parseClassAd(text).toJSON(), {
      Owner: 'alice',
      RequestMemory: 1024,
      Requirements: '/Expr(TARGET.Memory >= RequestMemory && Arch == "X86_64")/',
      Args: 'a "b"',
      Ratio: 0.5,
      Nested: { a: 1 },
      List: [1, 2],
      Undef: null,
      Err: '/Expr(error)/',
    });
  });
  test('classad api – toString is the [ ] form in insertion order', () => {
    assert.equal(parseClassAd('B = 1\nA = "x"').toString(), '[ B = 1; A = "x" ]');
  });
});

describe('classad api – values', () => {
  test('classad api – valueToJS', () => {
    const ad = parseClassAd('L = { 1, 2.5, "x", undefined, { true } }\nN = [ a = 1; b = a + 1 ]');
    assert.deepEqual(valueToJS(ad.evaluate('L')), [1, 2.5, 'x', null, [true]]);
    assert.deepEqual(valueToJS(ad.evaluate('N')), { a: 1, b: 2 });
    assert.equal(valueToJS(ERROR), null);
    assert.equal(valueToJS(UNDEFINED), null);
    assert.equal(valueToJS(5n), 5);
  });
  test("classad api – isTrue and toNumber follow HTCondor's EvalBool", () => {
    assert.deepEqual([true, false, 1n, 0n, 2.5, 0, 'true', UNDEFINED, ERROR].map(isTrue), [
      true,
      false,
      true,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    assert.deepEqual([3n, 1.5, true, false, 'x', UNDEFINED].map(toNumber), [3, 1.5, 1, 0, undefined, undefined]);
  });
  test('classad api – literal() of ads and lists', () => {
    const inner = parseClassAd('x = 1');
    assert.equal(unparse(literal({ ad: inner, l: new ListValue([literal(2)]) })), '[ ad = [ x = 1 ]; l = { 2 } ]');
    assert.equal(unparse(literal(1.0)), '1');
    assert.equal(unparse(literal(1.25)), '1.25');
    assert.equal(printValue(new ClassAd().evalExpr(literal(undefined))), 'undefined');
  });
});

describe('classad api – referencedAttrs', () => {
  test('classad api – MY, TARGET and plain references, lower-cased', () => {
    const r = referencedAttrs(
      parseExpr('TARGET.Memory >= RequestMemory && MY.Owner == "a" && target.ARCH == Arch && f(Disk, [x = Cpus].x)'),
    );
    assert.deepEqual([...r.target].sort(), ['arch', 'memory']);
    assert.deepEqual([...r.my].sort(), ['owner']);
    assert.deepEqual([...r.unscoped].sort(), ['arch', 'cpus', 'disk', 'requestmemory']);
  });
});
