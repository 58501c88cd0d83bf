// `dsched eval [--my AD] [--target AD] EXPR...`: HTCondor's classad_eval. Each expression is evaluated with
// MY = the --my ad and TARGET = the --target ad, and its value printed in ClassAd form, one per line.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ClassAd, compile, parseClassAd, parseExpr, printValue } from '../grammar/classad/index.js';
import { DschedError } from '../lib/errors.js';

export interface EvalOptions {
  /** the MY ad: inline `[ a = 1; b = "x" ]`, or a path to a file of `Attr = value` lines (or a `[...]` ad) */
  my?: string;
  /** the TARGET ad, in the same forms */
  target?: string;
  exprs: string[];
}

/** One printed result per expression. Syntax errors throw SourceError; an unreadable AD throws DschedError. */
export function evalCommand(opts: EvalOptions): string[] {
  const my = opts.my === undefined ? new ClassAd() : loadAd(opts.my, '--my');
  const target = opts.target === undefined ? undefined : loadAd(opts.target, '--target');
  // parse everything first, so a syntax error in any expression prints nothing
  const compiled = opts.exprs.map((text, i) =>
    compile(
      parseExpr(text, { file: opts.exprs.length > 1 ? `<expression ${i + 1}>` : '<expression>', line: 1, column: 1 }),
    ),
  );
  return compiled.map((f) => printValue(f(my, target)));
}

/**
 * An AD argument: inline when it starts with `[`; else the path of a file holding one; else, when it holds an
 * `=`, the attributes of an ad written without brackets (`a = 1; b = "x"`), as classad_eval accepts them.
 */
export function loadAd(arg: string, what: string): ClassAd {
  if (arg.trimStart().startsWith('[')) return parseClassAd(arg, `<${what}>`);
  if (existsSync(arg) && statSync(arg).isFile()) return parseClassAd(readFileSync(arg, 'utf8'), arg);
  if (arg.includes('=')) {
    // column 0: the added "[" sits just before the argument's first character
    return parseClassAd(`[${arg}]`, { file: `<${what}>`, line: 1, column: 0, sourceLine: arg });
  }
  throw new DschedError('USAGE', `${what} ${arg}: not an inline ad ([ a = 1; b = "x" ]) and no such file`);
}
