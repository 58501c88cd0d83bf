// Shared helpers for the ClassAd tests: evaluate expression text the way `dsched eval` does, once with generated
// code and once with closures only, and insist both give the same printed value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setCodegen } from '../../../grammar/classad/compile.js';
import { ClassAd, compile, parseClassAd, parseExpr, printValue } from '../../../grammar/classad/index.js';

/** A case: expression text and the value classad_eval prints for it. */
export type Case = readonly [expr: string, printed: string];

export function ad(text: string): ClassAd {
  return parseClassAd(text, '<test ad>');
}

/** The printed value of `text` with MY = my and TARGET = target. */
export function evalPrinted(text: string, my: ClassAd = new ClassAd(), target?: ClassAd): string {
  const viaCodegen = printValue(compile(parseExpr(text))(my, target));
  setCodegen(false);
  try {
    const viaClosures = printValue(compile(parseExpr(text))(my, target));
    assert.equal(viaClosures, viaCodegen, `closures and generated code disagree on ${text}`);
  } finally {
    setCodegen(true);
  }
  return viaCodegen;
}

/** One test per case: `expr → printed`, with fresh MY/TARGET ads from the factories. */
export function caseTests(cases: readonly Case[], my?: () => ClassAd, target?: () => ClassAd): void {
  for (const [expr, want] of cases) {
    test(`${expr} → ${want}`, () => {
      assert.equal(evalPrinted(expr, my?.(), target?.()), want);
    });
  }
}
