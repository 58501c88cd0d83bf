// Attribute lookup: case-insensitive names, MY then TARGET for unscoped names, MY./TARGET. scopes, nested ads
// and their enclosing scopes, self-reference cycles (undefined, never a stack overflow), and matchmaking.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClassAd,
  ERROR,
  UNDEFINED,
  compile,
  parseClassAd,
  parseExpr,
  printValue,
  rankOf,
  symmetricMatch,
} from '../../../grammar/classad/index.js';
import { ad, caseTests, evalPrinted, type Case } from './helpers.js';

const my = () =>
  ad(`A = 1
B = A + 1
Str = "Hello"
C = TARGET.X
D = X
Lst = { A, B, 3 }
Nested = [ v = A + 10; w = [ z = v * 2 ]; abs = .A; par = parent.Str ]
Cyc1 = Cyc2
Cyc2 = Cyc1
Self = Self + 1
Indirect = eval("Indirect")
ListSelf = { ListSelf[0] }
LoopList = { LoopList }`);

const target = () =>
  ad(`X = 10
A = 100
Y = A
Z = B
Name = "slot1@host"`);

const SCOPES: Case[] = [
  ['A', '1'],
  ['a', '1'],
  ['MY.A', '1'],
  ['my.a', '1'],
  ['B', '2'],
  ['MY.B', '2'],
  ['C', '10'],
  ['D', '10'],
  ['X', '10'],
  ['TARGET.A', '100'],
  ['target.a', '100'],
  ['TARGET.Y', '100'],
  ['TARGET.Z', '2'],
  ['TARGET.B', 'undefined'],
  ['TARGET.NoSuch', 'undefined'],
  ['NoSuch', 'undefined'],
  ['Name', '"slot1@host"'],
  ['Nested.v', '11'],
  ['Nested.w.z', '22'],
  ['Nested.abs', '1'],
  ['Nested.par', '"Hello"'],
  ['Nested["v"]', '11'],
  ['Nested["V"]', '11'],
  ['Nested.NoSuch', 'undefined'],
  ['Lst', '{ A,B,3 }'],
  ['Lst[1]', '2'],
  ['sum(Lst)', '6'],
  ['member(2, Lst)', 'true'],
  ['Cyc1', 'undefined'],
  ['Cyc2', 'undefined'],
  ['Self', 'undefined'],
  ['Indirect', 'undefined'],
  ['isError(ListSelf[0])', 'true'],
  ['size(LoopList)', '1'],
  ['Str.x', 'error'],
  ['undefined.x', 'undefined'],
  ['error.x', 'error'],
  ['{ [a = 1], [a = 2] }.a', '{ 1,2 }'],
  ['{ [a = 1], 3 }.a', '{ 1,error }'],
];

describe('classad scoping – MY, TARGET, nested ads, cycles', () => caseTests(SCOPES, my, target));

describe('classad scoping – without a target', () => {
  caseTests(
    [
      ['TARGET.X', 'undefined'],
      ['X', 'undefined'],
      ['C', 'undefined'],
      ['A + B', '3'],
      ['isClassAd(MY)', 'true'],
      ['isClassAd(TARGET)', 'false'],
    ],
    () => ad('A = 1\nB = 2\nC = TARGET.X'),
  );
  test('classad scoping – an attribute named Target hides the TARGET scope, as in HTCondor', () => {
    const m = ad('Target = "not the target ad"\nMy = [ X = 5 ]');
    assert.equal(evalPrinted('Target', m, target()), '"not the target ad"');
    assert.equal(evalPrinted('TARGET.X', m, target()), 'error');
    assert.equal(evalPrinted('MY.X', m, target()), '5');
  });
});

describe('classad scoping – cycles and runaway recursion never crash', () => {
  test('classad scoping – a long chain of references ends in a value or error, not a stack overflow', () => {
    const a = new ClassAd();
    for (let i = 0; i < 5000; i++) a.setExprText(`a${i}`, `a${i + 1} + 1`);
    a.setValue('a5000', 0);
    const v = a.evaluate('a0');
    assert.ok(v === ERROR || typeof v === 'bigint');
    a.setExprText('a5000', 'a0');
    assert.ok([ERROR, UNDEFINED].includes(a.evaluate('a0') as never));
  });
  test('classad scoping – mutual recursion through TARGET is undefined', () => {
    const job = parseClassAd('Requirements = TARGET.Requirements');
    const slot = parseClassAd('Requirements = TARGET.Requirements');
    assert.equal(job.evaluate('Requirements', slot), UNDEFINED);
    assert.equal(symmetricMatch(job, slot), false);
  });
  test('classad scoping – a deep expression evaluates', () => {
    const text = Array.from({ length: 900 }, () => '1').join(' + ');
    assert.equal(printValue(compile(parseExpr(text))(new ClassAd())), '900');
  });
});

describe('classad matching – symmetricMatch and rankOf', () => {
  const job = () =>
    parseClassAd(`RequestMemory = 1024
RequestCpus = 2
Owner = "alice"
Rank = TARGET.Memory / 1024
Requirements = TARGET.Memory >= RequestMemory && TARGET.Cpus >= RequestCpus && TARGET.Arch == "x86_64"`);
  const slot = (mem: number, owner = 'alice') =>
    parseClassAd(`[ Memory = ${mem}; Cpus = 4; Arch = "X86_64"; Rank = Owner == "alice";
      Requirements = START; START = TARGET.Owner == "${owner}" && TARGET.RequestMemory <= Memory ]`);
  test('classad matching – both Requirements true matches', () => {
    assert.equal(symmetricMatch(job(), slot(2048)), true);
  });
  test('classad matching – the job side can refuse', () => {
    assert.equal(symmetricMatch(job(), slot(512)), false);
  });
  test('classad matching – the slot side can refuse', () => {
    assert.equal(symmetricMatch(job(), slot(4096, 'bob')), false);
  });
  test('classad matching – a slot with only START uses START', () => {
    const s = parseClassAd('[ Memory = 4096; Cpus = 4; Arch = "x86_64"; START = TARGET.Owner == "alice" ]');
    assert.equal(symmetricMatch(job(), s), true);
    s.setExprText('START', 'false');
    assert.equal(symmetricMatch(job(), s), false);
  });
  test('classad matching – undefined Requirements never match', () => {
    const j = job();
    j.setExprText('Requirements', 'TARGET.NoSuch > 1');
    assert.equal(symmetricMatch(j, slot(4096)), false);
    j.delete('Requirements');
    assert.equal(symmetricMatch(j, slot(4096)), false);
  });
  test('classad matching – matching is symmetric in what each side sees', () => {
    const j = job();
    const s = slot(2048);
    assert.equal(j.evaluate('Requirements', s), true);
    assert.equal(s.evaluate('START', j), true);
    assert.equal(printValue(s.evaluate('Rank', j)), 'true');
  });
  test('classad matching – rankOf reads Rank as a number', () => {
    assert.equal(rankOf(job(), slot(4096)), 4);
    assert.equal(rankOf(slot(4096), job()), 1);
    const j = job();
    j.setExprText('Rank', '"high"');
    assert.equal(rankOf(j, slot(4096)), 0);
    j.delete('Rank');
    assert.equal(rankOf(j, slot(4096)), 0);
  });
  test('classad matching – one compiled Requirements serves many slots', () => {
    const req = compile(parseExpr('TARGET.Memory >= RequestMemory && TARGET.Arch == "X86_64"'));
    const j = job();
    const results = [512, 1024, 2048, 256].map((m) => req(j, slot(m)));
    assert.deepEqual(results, [false, true, true, false]);
    const other = parseClassAd('[ Arch = "X86_64"; Disk = 1; Memory = 4096 ]'); // another shape
    assert.equal(req(j, other), true);
  });
});
