// The ClassAd expression tree, and the builders the peggy grammar calls (one-liner actions, logic here).
// Trees are plain immutable objects, so deepStrictEqual compares them and `parse(unparse(e))` can be checked.
import { parseAbsTime, parseRelTime } from './time.js';
import {
  ERROR,
  UNDEFINED,
  INT64_MAX,
  INT64_MIN,
  type AbsTime,
  type ErrorValue,
  type RelTime,
  type UndefinedValue,
} from './value.js';

export type LiteralValue = UndefinedValue | ErrorValue | boolean | bigint | number | string | AbsTime | RelTime;

export type UnaryOp = '-' | '+' | '!' | '~';
export type BinaryOp =
  | '*'
  | '/'
  | '%'
  | '+'
  | '-'
  | '<<'
  | '>>'
  | '>>>'
  | '<'
  | '<='
  | '>'
  | '>='
  | '=='
  | '!='
  | '=?='
  | '=!='
  | '&'
  | '^'
  | '|'
  | '&&'
  | '||';

export interface LiteralExpr {
  readonly kind: 'literal';
  readonly value: LiteralValue;
}
/** `name` (scope absent), `.name` (absolute), `scope.name` (selection). */
export interface AttrExpr {
  readonly kind: 'attr';
  readonly name: string;
  readonly scope?: Expr;
  readonly absolute?: true;
}
export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
}
export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}
/** `test ? then : else`; `then` absent for the elvis form `test ?: else`. */
export interface CondExpr {
  readonly kind: 'cond';
  readonly test: Expr;
  readonly then?: Expr;
  readonly else: Expr;
}
export interface SubscriptExpr {
  readonly kind: 'subscript';
  readonly base: Expr;
  readonly index: Expr;
}
export interface CallExpr {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
}
export interface ListExpr {
  readonly kind: 'list';
  readonly items: readonly Expr[];
}
/** A nested ClassAd literal `[ a = 1; b = 2 ]`; names keep their case, lookups ignore it. */
export interface RecordExpr {
  readonly kind: 'record';
  readonly attrs: readonly (readonly [string, Expr])[];
}
/** Parentheses are kept, as HTCondor keeps them, so printed expressions look as written. */
export interface ParenExpr {
  readonly kind: 'paren';
  readonly expr: Expr;
}

export type Expr =
  | LiteralExpr
  | AttrExpr
  | UnaryExpr
  | BinaryExpr
  | CondExpr
  | SubscriptExpr
  | CallExpr
  | ListExpr
  | RecordExpr
  | ParenExpr;

// ---- builders -------------------------------------------------------------------------------------------

export function lit(value: LiteralValue): LiteralExpr {
  return { kind: 'literal', value };
}
export function attr(name: string, scope?: Expr): AttrExpr {
  return scope ? { kind: 'attr', name, scope } : { kind: 'attr', name };
}
export function absAttr(name: string): AttrExpr {
  return { kind: 'attr', name, absolute: true };
}
export function unary(op: UnaryOp, operand: Expr): UnaryExpr {
  return { kind: 'unary', op, operand };
}
export function binary(op: BinaryOp, left: Expr, right: Expr): BinaryExpr {
  return { kind: 'binary', op, left, right };
}
export function cond(test: Expr, then: Expr | null | undefined, els: Expr): CondExpr;
export function cond(test: Expr, then: Expr | null | undefined, els: Expr | undefined): CondExpr | undefined;
export function cond(test: Expr, then: Expr | null | undefined, els: Expr | undefined): CondExpr | undefined {
  if (!els) return undefined;
  return then ? { kind: 'cond', test, then, else: els } : { kind: 'cond', test, else: els };
}
export function subscript(base: Expr, index: Expr): SubscriptExpr {
  return { kind: 'subscript', base, index };
}
/**
 * A call; absTime("...") and relTime("...") of a string literal that reads as a time become time literals, as
 * HTCondor's parser makes them (so they print back the same way).
 */
export function call(name: string, args: readonly Expr[]): CallExpr | LiteralExpr {
  const a = args[0];
  if (args.length === 1 && a!.kind === 'literal' && typeof a!.value === 'string') {
    const l = name.toLowerCase();
    const t = l === 'abstime' ? parseAbsTime(a!.value) : l === 'reltime' ? parseRelTime(a!.value) : undefined;
    if (t) return lit(t);
  }
  return { kind: 'call', name, args };
}
export function list(items: readonly Expr[]): ListExpr {
  return { kind: 'list', items };
}
/** Later definitions of a name replace earlier ones (case-insensitively), keeping the first position and spelling. */
export function record(attrs: readonly (readonly [string, Expr])[]): RecordExpr {
  const out: (readonly [string, Expr])[] = [];
  const index = new Map<string, number>();
  for (const [n, e] of attrs) {
    const k = n.toLowerCase();
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push([n, e]);
    } else out[at] = [out[at]![0], e];
  }
  return { kind: 'record', attrs: out };
}
export function paren(expr: Expr): ParenExpr {
  return { kind: 'paren', expr };
}

/** Binding strength of the binary operators (higher binds tighter), as HTCondor's grammar levels give it. */
export const BINARY_PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
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

/** Arrange `head (op operand)*` by precedence, each level left-associative (precedence climbing). */
export function climb(head: Expr, tail: readonly (readonly [string, Expr])[]): Expr {
  if (tail.length === 0) return head;
  const operands: Expr[] = [head];
  const ops: BinaryOp[] = [];
  const reduce = () => {
    const r = operands.pop()!;
    const l = operands.pop()!;
    operands.push(binary(ops.pop()!, l, r));
  };
  for (const [text, operand] of tail) {
    const op = normalizeOp(text);
    const p = BINARY_PRECEDENCE[op];
    while (ops.length && BINARY_PRECEDENCE[ops[ops.length - 1]!] >= p) reduce();
    ops.push(op);
    operands.push(operand);
  }
  while (ops.length) reduce();
  return operands[0]!;
}

/** Fold `head (op operand)*` left-associatively. */
export function leftAssoc(head: Expr, tail: readonly (readonly [string, Expr])[]): Expr {
  let e = head;
  for (const [op, r] of tail) e = binary(normalizeOp(op), e, r);
  return e;
}

function normalizeOp(op: string): BinaryOp {
  const l = op.toLowerCase();
  if (l === 'is') return '=?=';
  if (l === 'isnt') return '=!=';
  return op as BinaryOp;
}

/** Fold postfix operations: `[index]` subscripts and `.name` selections. */
export function postfix(head: Expr, ops: readonly ({ index: Expr } | { name: string })[]): Expr {
  let e = head;
  for (const op of ops) e = 'index' in op ? subscript(e, op.index) : attr(op.name, e);
  return e;
}

// ---- literal tokens ---------------------------------------------------------------------------------------

/** An integer token (optionally signed). Returns an error message instead of a tree when HTCondor rejects it. */
export function intToken(text: string): LiteralExpr | string {
  const neg = text.startsWith('-');
  const digits = neg ? text.slice(1) : text;
  if (digits.length > 1 && digits[0] === '0')
    return `invalid integer literal ${text} (octal and hexadecimal are not ClassAd syntax)`;
  if (!/^[0-9]+$/.test(digits)) return `invalid integer literal ${text}`;
  const v = BigInt(text);
  if (v < INT64_MIN || v > INT64_MAX) return `integer literal ${text} does not fit in 64 bits`;
  return lit(v);
}

/** A real token (optionally signed), read as strtod reads it. */
export function realToken(text: string): LiteralExpr {
  return lit(Number(text));
}

const LITERAL_WORDS = new Set(['true', 'false', 'undefined', 'error']);
const META_WORDS = new Set(['is', 'isnt']);

/** true false undefined error, in any case */
export function isLiteralWord(w: string): boolean {
  return w.length >= 4 && w.length <= 9 && LITERAL_WORDS.has(w.toLowerCase());
}
/**
 * A ClassAd literal's text that needs no parse to be known for one: an integer that fits in 64 bits, a real,
 * a string without escapes, true, false or undefined. It refers to no attribute. (Texts it does not take
 * may still be literals: callers parse those.)
 */
const PLAIN_LITERAL = /^(?:-?(?:0|[1-9]\d{0,17})(?:\.\d+)?(?:[eE][-+]?\d+)?|"[^"\\]*"|true|false|undefined)$/i;
export function isPlainLiteral(text: string): boolean {
  return PLAIN_LITERAL.test(text); // linear: a long Environment string is known without a parse too
}
/** is / isnt, in any case */
export function isMetaWord(w: string): boolean {
  return w.length >= 2 && w.length <= 4 && META_WORDS.has(w.toLowerCase());
}
/** Words that cannot name an attribute without quotes. */
export function isReservedWord(w: string): boolean {
  return isLiteralWord(w) || isMetaWord(w);
}

export function keyword(text: string): LiteralExpr {
  switch (text.toLowerCase()) {
    case 'true':
      return lit(true);
    case 'false':
      return lit(false);
    case 'undefined':
      return lit(UNDEFINED);
    default:
      return lit(ERROR);
  }
}

/**
 * Convert the escapes of a string or quoted-name token (the raw text between the quotes, adjacent pieces
 * already joined) as HTCondor's convert_escapes does. Returns undefined when the result holds a NUL.
 */
export function unescape(raw: string): string | undefined {
  if (raw.indexOf('\\') < 0) return raw.indexOf('\0') < 0 ? raw : undefined;
  let out = '';
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    let ch = raw[i]!;
    if (ch === '\\' && i < n - 1) {
      ch = raw[++i]!;
      switch (ch) {
        case 'a':
          ch = '\x07';
          break;
        case 'b':
          ch = '\b';
          break;
        case 'f':
          ch = '\f';
          break;
        case 'n':
          ch = '\n';
          break;
        case 'r':
          ch = '\r';
          break;
        case 't':
          ch = '\t';
          break;
        case 'v':
          ch = '\v';
          break;
        default:
          if (ch >= '0' && ch <= '7') {
            let num = ch.charCodeAt(0) - 48;
            if (i + 1 < n && raw[i + 1]! >= '0' && raw[i + 1]! <= '7') {
              num = num * 8 + raw.charCodeAt(++i) - 48;
              if (num < 0x20 && i + 1 < n && raw[i + 1]! >= '0' && raw[i + 1]! <= '7')
                num = num * 8 + raw.charCodeAt(++i) - 48;
            }
            ch = String.fromCharCode(num & 0xff);
          }
        // any other character after a backslash stands for itself (\" \' \? \\ included)
      }
    }
    out += ch;
  }
  return out.indexOf('\0') < 0 ? out : undefined;
}

/** Builders handed to the generated parser (through its options), so grammar actions stay one-liners. */
export const builders = {
  lit,
  attr,
  absAttr,
  unary,
  binary,
  cond,
  subscript,
  call,
  list,
  record,
  paren,
  leftAssoc,
  climb,
  postfix,
  intToken,
  realToken,
  keyword,
  unescape,
  isLiteralWord,
  isMetaWord,
  isReservedWord,
};
export type Builders = typeof builders;

// ---- structural helpers -----------------------------------------------------------------------------------

/** Depth of a tree, computed without recursion (so absurd inputs cannot overflow the stack here). */
export function exprDepth(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length) {
    const [e, d] = stack.pop()!;
    if (d > max) max = d;
    for (const c of children(e)) stack.push([c, d + 1]);
  }
  return max;
}

export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'literal':
      return [];
    case 'attr':
      return e.scope ? [e.scope] : [];
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'cond':
      return e.then ? [e.test, e.then, e.else] : [e.test, e.else];
    case 'subscript':
      return [e.base, e.index];
    case 'call':
      return [...e.args];
    case 'list':
      return [...e.items];
    case 'record':
      return e.attrs.map((a) => a[1]);
    case 'paren':
      return [e.expr];
  }
}
