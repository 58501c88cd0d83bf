// Inputs the fuzzer found crashing (or taking seconds), one per input class, kept as plain cases: each must
// now give a result or a typed error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassAd, compile, formatReal, parseExpr, printValue, unparse } from '../../../grammar/classad/index.js';
import { parseDagString } from '../../../grammar/dag/index.js';
import { DschedError } from '../../../lib/errors.js';
import { runOne } from '../../fuzz/engine.js';
import { pbsTarget } from '../../fuzz/targets/pbs.js';
import { submitTarget } from '../../fuzz/targets/submit.js';

function typedOrOk(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof DschedError, `expected a typed error, got ${(e as Error)?.stack}`);
    return e.code;
  }
}

describe('fuzz – regressions', () => {
  test('classad – the largest double prints as a number that reads back finite', () => {
    const e = parseExpr('1.7976931348623157e308');
    const printed = unparse(e);
    assert.equal(unparse(parseExpr(printed)), printed);
    assert.equal(printValue(compile(parseExpr(printed))(new ClassAd())), printValue(compile(e)(new ClassAd())));
    assert.equal(Number(formatReal(Number.MAX_VALUE)), Number.MAX_VALUE);
    assert.equal(formatReal(0.1), '0.1');
  });

  test('classad – an absTime before the year 1000 prints with a four-digit year, so it reads back the same', () => {
    const v = printValue(compile(parseExpr('absTime("0001-12-31T00:00:00-00:00")'))(new ClassAd()));
    assert.equal(v, 'absTime("0001-12-31T00:00:00-00:00")');
    assert.equal(printValue(compile(parseExpr(v))(new ClassAd())), v);
  });

  test('pbs – array indexes past 2^53 are refused, not expanded forever', () => {
    for (const args of [
      ['-J', '99999999999999999999-99999999999999999999'],
      ['-t', '99999999999999999999-99999999999999999999%14'],
      ['-J', '1-10:99999999999999999999'],
    ]) {
      const o = runOne(pbsTarget, { text: '#!/bin/sh\n#PBS -N a\ntrue\n', args });
      assert.ok(o.ok, JSON.stringify(o));
      assert.equal(
        typedOrOk(() => pbsTarget.run({ text: '#!/bin/sh\n#PBS -N a\ntrue\n', args })),
        'PBS_SYNTAX',
      );
    }
  });

  test('submit – a key with pattern characters or 33,000 characters is read, not a crash', () => {
    for (const key of ['a(b', 'x[', 'a*+?', 'k'.repeat(33_000)]) {
      const o = runOne(submitTarget, { text: `executable = job.sh\n${key} = $(${key}) more\nqueue\n` });
      assert.ok(o.ok, JSON.stringify(o).slice(0, 300));
    }
  });

  test('submit – a $INT/$REAL/$STRING field wider than 4096 characters is refused, not expanded per proc for minutes', () => {
    const text =
      'executable = job.sh\ncron_month = $(Item) $INT(Process,%999999d)\nX = a $(X)$(X)$(X)$(X)\nqueue 35 ClusterId in (a, b)\n';
    const o = runOne(submitTarget, { text });
    assert.ok(o.ok, JSON.stringify(o).slice(0, 300));
    assert.match(
      typedOrOk(() => submitTarget.run({ text })),
      /^SUBMIT_/,
    );
  });

  test('submit – self-references still take the previous value', () => {
    const o = runOne(submitTarget, {
      text: 'executable = job.sh\nFoo = a\nFOO = $(foo) b $(Foo:x)\narguments = $(foo)\nqueue\n',
    });
    assert.ok(o.ok);
  });

  test('submit – thousands of nested or unterminated macro functions are read', () => {
    for (const text of ['$INT(N,'.repeat(3000), '$INT(N,'.repeat(300) + '1' + ')'.repeat(300)]) {
      const o = runOne(submitTarget, { text: `executable = job.sh\nN = 3\narguments = ${text}\nqueue\n` });
      assert.ok(o.ok, JSON.stringify(o).slice(0, 300));
    }
  });

  test('dag – a long run of blanks inside a line is read (the trailing-blank trim)', () => {
    for (const text of [
      'SU' + ' '.repeat(40_000) + 'BMIT-DESCRIPTION d {\nqueue\n}\n',
      'JOB A a.sub' + ' '.repeat(40_000) + '\n',
    ]) {
      for (const grammarOnly of [false, true]) {
        const r = typedOrOk(() =>
          parseDagString(text, 'f.dag', { cwd: '/x', readFile: () => '', isDirectory: () => false, grammarOnly }),
        );
        assert.ok(r === 'ok' || r === 'DAG_SYNTAX', r);
      }
    }
  });

  test('dag – a last line ending in a lone carriage return reads the same with the scanner and the grammar', () => {
    for (const grammarOnly of [false, true]) {
      const d = parseDagString('JOB B. b\r', 'f.dag', {
        cwd: '/x',
        readFile: () => '',
        isDirectory: () => false,
        grammarOnly,
      });
      assert.deepEqual(
        d.nodes.map((n) => [n.name, n.file]),
        [['B.', 'b']],
      );
    }
  });

  test('submit – a definition that doubles itself on every line stops with a typed error', () => {
    const text =
      'executable = job.sh\nX = $429496729642949672964294967296(X)\n' + 'X = $(X)$(X)$(X)$(X)\n'.repeat(14) + 'queue\n';
    const o = runOne(submitTarget, { text });
    assert.ok(o.ok, JSON.stringify(o).slice(0, 300));
    assert.equal(
      typedOrOk(() => submitTarget.run({ text })),
      'SUBMIT_INVALID',
    );
  });
});
