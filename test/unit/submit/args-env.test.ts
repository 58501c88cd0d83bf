// args and env – HTCondor's V1/V2 argument and environment strings, as the startd reads them back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEnv, splitArgs } from '../../../grammar/submit/index.js';
import { joinV2Env, joinV2Raw, splitV2Raw } from '../../../grammar/submit/args-env.js';

const argCases: Array<[string | undefined, string | undefined, string[]]> = [
  [undefined, undefined, []],
  ['', undefined, []],
  ['a b  c', undefined, ['a', 'b', 'c']],
  ['one "two" \'three\'', undefined, ['one', '"two"', "'three'"]],
  [undefined, '3 simple arguments', ['3', 'simple', 'arguments']],
  [undefined, "one 'two with spaces' 3", ['one', 'two with spaces', '3']],
  [undefined, `one "two" 'spacey ''quoted'' argument'`, ['one', '"two"', "spacey 'quoted' argument"]],
  [undefined, "-c 'print(''Hello, HTCondor!'')'", ['-c', "print('Hello, HTCondor!')"]],
  [undefined, "''", ['']],
  [undefined, "a'b c'd", ['ab cd']],
  ['ignored', 'wins', ['wins']],
  [undefined, "unterminated 'quote", ['unterminated', 'quote']],
];

const envCases: Array<[string | undefined, string | undefined, Record<string, string>]> = [
  [undefined, undefined, {}],
  ['one=1;two=2', undefined, { one: '1', two: '2' }],
  ['three="quotes have no \'special\' meaning"', undefined, { three: `"quotes have no 'special' meaning"` }],
  ['a=1;;b=x=y', undefined, { a: '1', b: 'x=y' }],
  [
    undefined,
    `one=1 two="2" three='spacey ''quoted'' value'`,
    { one: '1', two: '"2"', three: "spacey 'quoted' value" },
  ],
  [undefined, 'MYVAR1=foo MYVAR2=bar', { MYVAR1: 'foo', MYVAR2: 'bar' }],
  [undefined, 'EMPTY=', { EMPTY: '' }],
  ['v1=ignored', 'v2=wins', { v2: 'wins' }],
];

describe('args and env – splitArgs', () => {
  for (const [v1, v2, want] of argCases) {
    test(`args and env – splitArgs(${JSON.stringify(v1)}, ${JSON.stringify(v2)})`, () => {
      assert.deepEqual(splitArgs(v1, v2), want);
    });
  }
});

describe('args and env – parseEnv', () => {
  for (const [v1, v2, want] of envCases) {
    test(`args and env – parseEnv(${JSON.stringify(v1)}, ${JSON.stringify(v2)})`, () => {
      assert.deepEqual({ ...parseEnv(v1, v2) }, want);
    });
  }
  test('args and env – a variable named __proto__ is an ordinary variable', () => {
    const env = parseEnv(undefined, '__proto__=x A=1');
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(env, '__proto__')?.value, 'x');
  });
});

describe('args and env – round trips', () => {
  test('args and env – joinV2Raw then splitV2Raw gives the words back', () => {
    const words = ['plain', 'with space', "it's", '', 'tab\there', 'new\nline', '"dq"'];
    assert.deepEqual(splitV2Raw(joinV2Raw(words)), words);
  });
  test('args and env – joinV2Raw quotes as HTCondor stores Arguments: each space and quote where it stands, runs merged', () => {
    const cases: Array<[string[], string]> = [
      [['-c', "print('Hello, dsched!')"], "-c print(''''Hello,' 'dsched!'''')"],
      [['one', 'two three', '"four"'], `one two' 'three "four"`],
      [['a  b', ''], "a'  'b ''"],
      [["it's"], "it''''s"],
      [['plain', 'words'], 'plain words'],
    ];
    for (const [words, raw] of cases) {
      assert.equal(joinV2Raw(words), raw, words.join('|'));
      assert.deepEqual(splitV2Raw(raw), words);
    }
  });
  test('args and env – joinV2Env then parseEnv gives the variables back', () => {
    const env: Array<[string, string]> = [
      ['A', 'x y'],
      ['B', "it's"],
      ['C', ''],
      ['D', 'a=b'],
    ];
    assert.deepEqual({ ...parseEnv(undefined, joinV2Env(env)) }, Object.fromEntries(env));
  });
});
