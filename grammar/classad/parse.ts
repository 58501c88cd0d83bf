// The parser wrapper: runs the generated peggy parser, enforces input limits, and turns peggy's SyntaxError
// into SourceError('CLASSAD_SYNTAX') at file:line:column (shifted by where the text sits in a bigger file).
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { SourceText } from '../source.js';
import { builders, exprDepth, type Expr } from './ast.js';
import { parse as peggyParse, SyntaxError as PeggySyntaxError, type Expectation } from './generated/classad.js';

/** Where `text` starts in a bigger file (1-based line and column); `sourceLine` is that whole first line. */
export interface Origin {
  file: string;
  line: number;
  column: number;
  sourceLine?: string;
}

export const limits = {
  /** Largest expression or ad text accepted, in characters. */
  maxInputChars: 1 << 20,
  /** Deepest nesting of ( [ { accepted (the generated parser recurses on these). */
  maxNesting: 200,
  /** Deepest expression tree accepted (evaluation and printing recurse on it). */
  maxDepth: 1000,
};

const DEFAULT_ORIGIN: Origin = { file: '<expr>', line: 1, column: 1 };

type StartRule = 'Expr' | 'ClassAd' | 'Assignment';

/**
 * Parse one expression. Throws SourceError('CLASSAD_SYNTAX') naming file:line:column and what was expected.
 * Trees are immutable, so equal texts share one tree (and with it the compiled evaluator); the plain
 * literals and names that make up most of a stored ad skip the generated parser altogether.
 */
export function parseExpr(text: string, origin?: Origin): Expr {
  const fast = simpleLiteral(text);
  if (fast) return fast;
  let e = recent.get(text);
  if (e) return e;
  e = run(text, 'Expr', origin) as Expr;
  if (text.length <= 4096) {
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(text, e);
  }
  return e;
}

const recent = new Map<string, Expr>();
const RECENT_MAX = 20_000;

const FAST_INT = /^-?(?:0|[1-9][0-9]{0,17})$/; // at most 18 digits: always within 64 bits
const FAST_REAL = /^-?[0-9]{0,15}\.[0-9]{1,15}$/;
const FAST_STRING = /^"[^"\\\x00-\x1f\x7f]*"$/;
const FAST_WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The tree for texts that are a bare integer, real, string without escapes, keyword or name; else undefined. */
function simpleLiteral(text: string): Expr | undefined {
  if (text.length > 64) {
    return text.length < 4096 && FAST_STRING.test(text) ? builders.lit(text.slice(1, -1)) : undefined;
  }
  if (FAST_INT.test(text)) return builders.lit(BigInt(text));
  if (FAST_STRING.test(text)) return builders.lit(text.slice(1, -1));
  if (FAST_WORD.test(text)) {
    if (builders.isLiteralWord(text)) return builders.keyword(text);
    return builders.isMetaWord(text) ? undefined : builders.attr(text);
  }
  if (FAST_REAL.test(text)) return builders.lit(Number(text));
  return undefined;
}

/** Parse `[ a = 1; b = "x" ]` (new ClassAd syntax) into its record tree. */
export function parseRecordText(text: string, origin?: Origin): Expr {
  return run(text, 'ClassAd', origin) as Expr;
}

/** Parse `Name = expr` (one attribute of HTCondor's long form, or a classad_eval assignment). */
export function parseAssignment(text: string, origin?: Origin): [string, Expr] {
  return run(text, 'Assignment', origin) as [string, Expr];
}

function run(text: string, startRule: StartRule, origin: Origin = DEFAULT_ORIGIN): unknown {
  const src = new SourceText(origin.file, text);
  if (text.length > limits.maxInputChars) {
    throw makeError(
      'INPUT_TOO_LARGE',
      `input of ${text.length} characters is larger than the limit of ${limits.maxInputChars}`,
      src,
      origin,
      0,
    );
  }
  const deepAt = nestingOverflow(text, limits.maxNesting);
  if (deepAt >= 0) {
    throw makeError('INPUT_TOO_LARGE', `brackets nested more than ${limits.maxNesting} deep`, src, origin, deepAt);
  }
  let result: unknown;
  try {
    result = peggyParse(text, { startRule, builders });
  } catch (err) {
    if (err instanceof PeggySyntaxError) {
      const e = makeError(
        'CLASSAD_SYNTAX',
        describe(err, text),
        src,
        origin,
        err.location.start.offset,
        err.location.end.offset,
        err,
      );
      throw e;
    }
    if (err instanceof RangeError)
      throw makeError('INPUT_TOO_LARGE', 'expression nested too deeply', src, origin, 0, undefined, err);
    throw err;
  }
  const tree = startRule === 'Assignment' ? (result as [string, Expr])[1] : (result as Expr);
  if (exprDepth(tree) > limits.maxDepth) {
    throw makeError('INPUT_TOO_LARGE', `expression is more than ${limits.maxDepth} levels deep`, src, origin, 0);
  }
  return result;
}

/** Offset of the first bracket opening past `max` levels, or -1. Strings and comments are skipped. */
function nestingOverflow(text: string, max: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 41 || c === 93 || c === 125) {
      if (depth > 0) depth--;
    } else if (c === 34 || c === 39) {
      // "..." or '...' with backslash escapes
      for (i++; i < n && text.charCodeAt(i) !== c; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
    }
  }
  return -1;
}

// Expectations that together mean "an expression could start here" (a lone name means "an attribute name").
const OPERAND_MARKERS = new Set(['number', 'string']);
const OPERAND_STARTS = new Set([
  ...OPERAND_MARKERS,
  'unary operator',
  '"("',
  '"["',
  '"{"',
  '"."',
  '"true"',
  '"false"',
  '"undefined"',
  '"error"',
]);

function describeExpectation(e: Expectation): string {
  switch (e.type) {
    case 'literal':
      return JSON.stringify(e.text);
    case 'other':
      return e.description;
    case 'end':
      return 'end of input';
    case 'any':
      return 'any character';
    case 'class':
      return e.parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : `${p[0]}-${p[1]}`)).join('|');
  }
}

/** "expected an expression, ")" or "," but found "]"" */
function describe(err: InstanceType<typeof PeggySyntaxError>, text: string): string {
  if (!err.expected) return err.message; // a message from error() in the grammar
  const wanted = new Set(err.expected.flatMap((e) => describeExpectation(e).split('|')));
  wanted.delete('whitespace');
  const parts: string[] = [];
  let operand = false;
  for (const w of wanted) if (OPERAND_MARKERS.has(w)) operand = true;
  if (operand) parts.push('an expression');
  else if (wanted.has('attribute name')) parts.push('an attribute name');
  if (wanted.has('operator')) parts.push('an operator');
  const rest = [...wanted]
    .filter(
      (w) => !(operand && OPERAND_STARTS.has(w)) && w !== 'operator' && w !== 'attribute name' && w !== 'end of input',
    )
    .sort();
  parts.push(...rest);
  if (wanted.has('end of input')) parts.push('end of input');
  const list =
    parts.length <= 1
      ? (parts[0] ?? 'something else')
      : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
  return `expected ${list} but found ${foundToken(text, err.location.start.offset)}`;
}

function foundToken(text: string, offset: number): string {
  if (offset >= text.length) return 'end of input';
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.eE]*|\S)/.exec(text.slice(offset, offset + 64));
  if (!m) return JSON.stringify(text[offset]);
  return JSON.stringify(m[0]);
}

function makeError(
  code: 'CLASSAD_SYNTAX' | 'INPUT_TOO_LARGE',
  message: string,
  src: SourceText,
  origin: Origin,
  offset: number,
  endOffset?: number,
  cause?: unknown,
): SourceError {
  const p = src.position(offset);
  const loc: Location = shift(p.line, p.column, origin);
  if (endOffset !== undefined && endOffset > offset) {
    const q = src.position(endOffset);
    if (q.line === p.line) {
      const end = shift(q.line, q.column, origin);
      loc.endLine = end.line;
      loc.endColumn = end.column;
    }
  }
  let sourceLine: string;
  if (p.line === 1) {
    // the first line of `text` sits at origin.column of the file's line
    sourceLine = origin.sourceLine ?? ' '.repeat(Math.max(0, origin.column - 1)) + src.lineText(1);
  } else {
    sourceLine = src.lineText(p.line);
  }
  return new SourceError(code, message, loc, sourceLine, cause === undefined ? {} : { cause });
}

function shift(line: number, column: number, origin: Origin): Location {
  return {
    file: origin.file,
    line: origin.line + line - 1,
    column: line === 1 ? origin.column + column - 1 : column,
  };
}
