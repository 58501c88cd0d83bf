// ClassAd regular expressions on a linear-time engine: HTCondor's option letters, PCRE's `$`, what RE2 cannot
// run (an ERROR value, never a crash), and patterns that take exponential time on a backtracking engine.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePcre, substitute } from '../../../grammar/classad/pcre.js';
import { caseTests, evalPrinted } from './helpers.js';

describe('classad regexp – option letters (either case)', () => {
  caseTests([
    ['regexp("ABC", "xabcx", "i")', 'true'],
    ['regexp("ABC", "xabcx", "I")', 'true'],
    ['regexp("ABC", "xabcx")', 'false'],
    ['regexp("^b$", "a\\nb\\nc", "M")', 'true'],
    ['regexp("^b$", "a\\nb\\nc")', 'false'],
    ['regexp("a.c", "a\\nc", "S")', 'true'],
    ['regexp("a.c", "a\\nc")', 'false'],
    ['regexp("a b # comment", "ab", "X")', 'true'],
    ['regexp("a b", "ab")', 'false'],
    ['regexp("a\\\\ b", "a b", "x")', 'true'],
    ['regexp("[[:upper:]][[:digit:]]", "xA1")', 'true'],
    ['regexp("\\\\Aab\\\\z", "ab")', 'true'],
    ['regexp("ab\\\\Z", "ab\\n")', 'true'],
    ['regexp("(?P<user>\\\\w+)@", "me@host")', 'true'],
    ['replaceAll("o", "foo boo", "0", "G")', '"f00 b00"'],
    ['regexps("o", "foo", "0", "f")', '"f0o"'],
    ['regexps("o", "foo", "0", "fg")', '"f00"'],
    ['replaceAll("O", "foo", "0", "i")', '"f00"'],
    ['replaceAll("b$", "ab\\n", "X")', '"aX\\n"'],
    ['replaceAll("x*", "ab", "-")', '"-a-b-"'],
    ['stringList_regexpMember("^B", "a,bc", ",", "i")', 'true'],
    ['regexpMember("^B", {"a", "bc"}, "i")', 'true'],
  ]);
});

describe('classad regexp – constructs a linear-time engine cannot run are ERROR', () => {
  caseTests([
    ['regexp("(a)\\\\1", "aa")', 'error'],
    ['regexp("a(?=b)", "ab")', 'error'],
    ['regexps("(a)\\\\1", "aa", "x")', 'error'],
    ['regexp("a{5000}", "a")', 'error'],
    ['regexp("[", "a")', 'error'],
  ]);
});

describe('classad regexp – catastrophic patterns finish, with the right answer', () => {
  test('^(a+)+$ against 5,000 a then b: false, in both evaluation paths', () => {
    const t = 'a'.repeat(5000) + 'b';
    assert.equal(evalPrinted(`regexp("^(a+)+$", "${t}")`), 'false');
    assert.equal(evalPrinted(`regexp("^(a+)+$", "${'a'.repeat(5000)}")`), 'true');
  });
  test('(x+x+)+y and (a|aa)+$ on long non-matching input', () => {
    assert.equal(evalPrinted(`regexp("(x+x+)+y", "${'x'.repeat(3000)}")`), 'false');
    assert.equal(evalPrinted(`replaceAll("(a|aa)+$", "${'a'.repeat(3000)}b", "X")`), `"${'a'.repeat(3000)}b"`);
  });
  test('compiled patterns are cached and the cache stays bounded', () => {
    const a = compilePcre('^x(y)', 'i');
    assert.equal(compilePcre('^x(y)', 'I'), a);
    for (let i = 0; i < 2000; i++) compilePcre(`p${i}`, '');
    assert.ok(compilePcre('^x(y)', 'i'));
  });
  test('group numbering ignores the group PCRE $ is translated with', () => {
    const re = compilePcre('(a)(b)$', '')!;
    assert.equal(substitute(re, 'ab\n', '\\2\\1', true, false), 'ba\n');
    assert.equal(substitute(re, 'ab', '\\3', true, false), undefined);
  });
});
