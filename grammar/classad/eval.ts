// Evaluation semantics: the evaluation context, attribute lookup (MY, TARGET, parent scopes, special names)
// and the operators, following HTCondor's classad library in its default (non-strict) mode:
// operators.cpp (_doOperation, doComparison, doArithmetic, doLogical, doBitwise), attrrefs.cpp (FindExpr)
// and classad.cpp (LookupInScope).
import type { Expr } from './ast.js';
import { ClassAd } from './classad.js';
import { NOT_CONST, type AttrEntry, type LookupSite } from './slots.js';
import { compileFn, type CompiledFn } from './compile.js';
import {
  AbsTime,
  ERROR,
  RelTime,
  UNDEFINED,
  INT64_MAX,
  INT64_MIN,
  ListValue,
  boolEquiv,
  wrap64,
  typeOf,
  type Value,
} from './value.js';
import { nowSeconds } from '../../lib/time.js';

/** Attribute references nested deeper than this evaluate to error (HTCondor's depth_remaining). */
export const MAX_EVAL_DEPTH = 400;

/**
 * Bounds on one top-level evaluation, so that an expression any user can write (Requirements, Rank, policy
 * expressions, $$([...])) cannot hold a daemon's CPU or memory: HTCondor's library has none of these. Going over a
 * bound makes that evaluation ERROR, as a bad argument does.
 *  - steps: attribute evaluations, list element and eval() evaluations and function calls, plus one step per KiB
 *    of every string a function returns. References re-evaluate (nothing is cached), so a chain of attributes each
 *    using the previous one twice costs 2^n steps; real expressions take tens to thousands.
 *  - string length (UTF-16 code units) of any string a function builds, and the length of any list it builds.
 */
export const MAX_EVAL_STEPS = 100_000;
export const MAX_STRING_LENGTH = 1024 * 1024;
export const MAX_LIST_LENGTH = 100_000;

/**
 * The state of one evaluation. `ad` is the current scope (the ad whose attribute is being evaluated);
 * `my`/`target` are the two top-level ads of a match (target may be absent).
 */
export class Ctx {
  depth = 0;
  /** work done so far in this top-level evaluation (see MAX_EVAL_STEPS) */
  steps = 0;
  constructor(
    public ad: ClassAd | undefined,
    public my: ClassAd | undefined,
    public target: ClassAd | undefined,
  ) {}
}

/**
 * Work done by operators on long strings (one per KiB compared), which have no context to charge it to; the next
 * attribute or function evaluation moves it into its context's steps.
 */
export const stringWork = { steps: 0 };

/** Charge the pending string work to c; true when c is over its budget. */
export function chargeStringWork(c: Ctx): boolean {
  c.steps += stringWork.steps;
  stringWork.steps = 0;
  return c.steps > MAX_EVAL_STEPS;
}

/** Mark the evaluation as over a bound: it goes on cheaply (every later step is ERROR) and its result is ERROR. */
export function overBound(c: Ctx): Value {
  c.steps = MAX_EVAL_STEPS + 1;
  return ERROR;
}

// One context kept for reuse: top-level evaluations do not allocate (a nested top-level call makes its own).
let spare: Ctx | undefined = new Ctx(undefined, undefined, undefined);

/** Run a compiled expression at top level; a runaway recursion becomes the error value, never a crash. */
export function runTop(fn: CompiledFn, ad: ClassAd | undefined, target: ClassAd | undefined): Value {
  const c = acquire(ad, target);
  let v: Value;
  try {
    v = fn(c);
  } catch (err) {
    release(c);
    if (err instanceof RangeError) return ERROR; // runaway recursion
    throw err;
  }
  if (c.steps + stringWork.steps > MAX_EVAL_STEPS) v = ERROR; // even where isError() or ?: caught the bound
  release(c);
  return v;
}

/** The value of attribute `key` (lower-case) of `ad`, at top level (ClassAd.evaluate). */
export function evalAttrTop(ad: ClassAd, key: string, target: ClassAd | undefined): Value {
  const e = ad.entry(key);
  if (e !== undefined && e.konst !== NOT_CONST) return e.konst;
  const c = acquire(ad, target);
  let v: Value;
  try {
    v = e !== undefined ? evalEntry(c, ad, e) : lookupRest(c, ad, key, false);
  } catch (err) {
    release(c);
    if (err instanceof RangeError) return ERROR;
    throw err;
  }
  if (c.steps + stringWork.steps > MAX_EVAL_STEPS) v = ERROR;
  release(c);
  return v;
}

function acquire(ad: ClassAd | undefined, target: ClassAd | undefined): Ctx {
  const c = spare;
  if (c === undefined) return new Ctx(ad, ad, target);
  spare = undefined;
  c.ad = ad;
  c.my = ad;
  c.target = target;
  c.depth = 0;
  c.steps = 0;
  stringWork.steps = 0;
  return c;
}

function release(c: Ctx): void {
  c.ad = c.my = c.target = undefined;
  spare = c;
}

// ---- lookup ------------------------------------------------------------------------------------------------

/** Names resolved specially when the current ad has no attribute of that name (classad.cpp LookupInScope). */
export const SPECIAL_NAMES = new Set(['my', 'self', 'target', 'parent', 'root', 'toplevel', 'currenttime']);

export function rootOf(ad: ClassAd): ClassAd {
  let r = ad;
  while (r.parent) r = r.parent;
  return r;
}

/** The ad on the other side of the match from `ad` (walking out of nested ads), if any. */
export function targetOf(c: Ctx, ad: ClassAd | undefined): ClassAd | undefined {
  for (let a = ad; a; a = a.parent) {
    if (a === c.my) return c.target;
    if (a === c.target) return c.my;
  }
  return undefined;
}

/** Evaluate an attribute's expression with `ad` (where it was found) as the current scope. */
export function evalEntry(c: Ctx, ad: ClassAd, e: AttrEntry): Value {
  const k = e.konst;
  if (k !== NOT_CONST) return k;
  if (e.busy) return UNDEFINED; // a self-reference cycle
  if (c.depth >= MAX_EVAL_DEPTH || ++c.steps > MAX_EVAL_STEPS) return ERROR;
  if (stringWork.steps !== 0 && chargeStringWork(c)) return ERROR;
  const fn = e.fn ?? (e.fn = compileFn(e.expr));
  const saved = c.ad;
  e.busy = true;
  c.ad = ad;
  c.depth++;
  try {
    return fn(c);
  } finally {
    c.ad = saved;
    c.depth--;
    e.busy = false;
  }
}

/** Evaluate an expression in the scope of `ad` (list elements, eval()), counting depth. */
export function evalIn(c: Ctx, ad: ClassAd | undefined, fn: CompiledFn): Value {
  if (c.depth >= MAX_EVAL_DEPTH || ++c.steps > MAX_EVAL_STEPS) return ERROR;
  const saved = c.ad;
  c.ad = ad;
  c.depth++;
  try {
    return fn(c);
  } finally {
    c.ad = saved;
    c.depth--;
  }
}

function special(c: Ctx, ad: ClassAd, key: string): Value {
  switch (key) {
    case 'my':
    case 'self':
      return ad;
    case 'target':
      return targetOf(c, ad) ?? UNDEFINED;
    case 'parent':
      return ad.parent ?? UNDEFINED;
    case 'root':
    case 'toplevel':
      return rootOf(ad);
    default: // currenttime
      return BigInt(nowSeconds());
  }
}

/**
 * Look `key` (lower-case) up starting in `ad`: the ad itself, then special names, then its enclosing ads.
 * `alternate`: an unscoped reference from a top-level ad of a match falls back to the other ad (TARGET).
 */
export function lookup(c: Ctx, ad: ClassAd | undefined, key: string, alternate: boolean): Value {
  if (!ad) return UNDEFINED;
  const e = ad.entry(key);
  if (e) return evalEntry(c, ad, e);
  return lookupRest(c, ad, key, alternate);
}

/** lookup() after the first ad missed: special names, enclosing ads, then the other ad of the match. */
export function lookupRest(c: Ctx, ad: ClassAd, key: string, alternate: boolean, altSite?: LookupSite): Value {
  if (SPECIAL_NAMES.has(key)) return special(c, ad, key);
  for (let a = ad.parent; a; a = a.parent) {
    const e = a.entry(key);
    if (e) return evalEntry(c, a, e);
  }
  if (alternate) {
    const t = ad === c.my ? c.target : ad === c.target ? c.my : undefined;
    if (t) {
      const e = altSite ? t.entryAt(altSite) : t.entry(key);
      if (e) return evalEntry(c, t, e);
      for (let a = t.parent; a; a = a.parent) {
        const e2 = a.entry(key);
        if (e2) return evalEntry(c, a, e2);
      }
    }
  }
  return UNDEFINED;
}

/** `base.name` once base is evaluated: ads look the name up in their scope; lists map over their elements. */
export function select(c: Ctx, base: Value, key: string): Value {
  if (base instanceof ClassAd) return lookup(c, base, key, false);
  if (base === UNDEFINED) return UNDEFINED;
  if (base instanceof ListValue) {
    const out: Expr[] = [];
    c.steps += base.items.length >>> 7;
    for (let i = 0; i < base.items.length; i++) {
      const v = select(c, listItem(c, base, i), key);
      out.push(valueToExpr(v));
    }
    return new ListValue(out);
  }
  return ERROR;
}

/** Evaluate element i of a list in the list's own scope. */
export function listItem(c: Ctx, l: ListValue, i: number): Value {
  const item = l.items[i]!;
  if (item.kind === 'literal') return item.value;
  return evalIn(c, l.scope, compileFn(item));
}

/** All elements of a list, evaluated. */
export function listValues(c: Ctx, l: ListValue): Value[] {
  c.steps += l.items.length >>> 7; // as functions charge a walk over a list
  const out = new Array<Value>(l.items.length);
  for (let i = 0; i < l.items.length; i++) out[i] = listItem(c, l, i);
  return out;
}

/** A value as an expression (for lists built by functions). Ads and lists become value-carrying nodes. */
export function valueToExpr(v: Value): Expr {
  if (v instanceof ClassAd) return { kind: 'record', attrs: v.entries().map((e) => [e.name, e.expr] as const) };
  if (v instanceof ListValue) return { kind: 'list', items: v.items };
  return { kind: 'literal', value: v };
}

// ---- operators --------------------------------------------------------------------------------------------

export function unaryMinus(v: Value): Value {
  if (typeof v === 'bigint') return wrap64(-v);
  if (typeof v === 'number') return -v;
  if (v === UNDEFINED || v === ERROR) return v;
  if (v instanceof RelTime) return new RelTime(-v.secs);
  return ERROR; // booleans too (HTCondor falls through to error), and absolute times
}

export function unaryPlus(v: Value): Value {
  if (typeof v === 'bigint' || typeof v === 'number' || v === UNDEFINED || v === ERROR || v instanceof RelTime)
    return v;
  return ERROR;
}

export function logicalNot(v: Value): Value {
  if (v === ERROR || v === UNDEFINED) return v;
  const b = boolEquiv(v);
  return b === undefined ? ERROR : !b;
}

export function bitNot(v: Value): Value {
  if (v === ERROR || v === UNDEFINED) return v;
  return typeof v === 'bigint' ? ~v : ERROR;
}

/** The right operand of && after a left operand that did not short-circuit (doLogical). */
export function andRest(a: Value, b: Value): Value {
  const ba = boolEquiv(a);
  const bb = boolEquiv(b);
  if (ba === undefined && a !== UNDEFINED && a !== ERROR) return ERROR;
  if (bb === undefined && b !== UNDEFINED && b !== ERROR) return ERROR;
  if (ba === false) return false;
  if (a === ERROR) return ERROR;
  if (ba === true) return bb === undefined ? b : bb;
  // a is undefined
  if (bb === undefined) return b;
  return bb ? UNDEFINED : false;
}

export function orRest(a: Value, b: Value): Value {
  const ba = boolEquiv(a);
  const bb = boolEquiv(b);
  if (ba === undefined && a !== UNDEFINED && a !== ERROR) return ERROR;
  if (bb === undefined && b !== UNDEFINED && b !== ERROR) return ERROR;
  if (ba === true) return true;
  if (a === ERROR) return ERROR;
  if (ba === false) return bb === undefined ? b : bb;
  if (bb === undefined) return b;
  return bb ? true : UNDEFINED;
}

export type ArithOp = '+' | '-' | '*' | '/' | '%';

function isArith(v: Value): boolean {
  const t = typeof v;
  return t === 'bigint' || t === 'number' || t === 'boolean';
}

export function arith(op: ArithOp, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  if (isTime(a) || isTime(b)) return timeArith(op, a, b);
  if (!isArith(a) || !isArith(b)) return ERROR;
  if (typeof a === 'boolean') a = a ? 1n : 0n;
  if (typeof b === 'boolean') b = b ? 1n : 0n;
  if (typeof a === 'bigint' && typeof b === 'bigint') return intArith(op, a, b);
  return realArith(op, Number(a), Number(b));
}

function isTime(v: Value): v is AbsTime | RelTime {
  return v instanceof AbsTime || v instanceof RelTime;
}

/** C's (int) cast of a double, as HTCondor adds relative seconds to an absolute time. */
export function toCInt(x: number): number {
  return Number.isFinite(x) ? Math.trunc(x) | 0 : -2147483648;
}

/**
 * Arithmetic with a time operand (operators.cpp doTimeArithmetic): abstime ± reltime → abstime (whole seconds),
 * abstime - abstime → reltime, reltime ± reltime, reltime * or / a number, a number * reltime. Anything else,
 * including booleans, strings and lists as the other operand, is error.
 */
function timeArith(op: ArithOp, a: Value, b: Value): Value {
  if (!isTime(a) && !isArith(a)) return ERROR;
  if (!isTime(b) && !isArith(b)) return ERROR;
  if (op === '+' || op === '-') {
    const sign = op === '+' ? 1 : -1;
    if (a instanceof AbsTime && b instanceof RelTime) return new AbsTime(a.secs + sign * toCInt(b.secs), a.offset);
    if (a instanceof RelTime && b instanceof RelTime) return new RelTime(a.secs + sign * b.secs);
    if (op === '+' && a instanceof RelTime && b instanceof AbsTime)
      return new AbsTime(b.secs + toCInt(a.secs), b.offset);
    if (op === '-' && a instanceof AbsTime && b instanceof AbsTime) return new RelTime(a.secs - b.secs);
    return ERROR;
  }
  if (op === '*' || op === '/') {
    if (a instanceof RelTime && (typeof b === 'bigint' || typeof b === 'number')) {
      return new RelTime(op === '*' ? a.secs * Number(b) : a.secs / Number(b));
    }
    if (op === '*' && typeof a === 'bigint' && b instanceof RelTime) return new RelTime(Number(a) * b.secs);
    // real * reltime: HTCondor reads the operands the wrong way round and multiplies 0 by an unset number
    if (op === '*' && typeof a === 'number' && b instanceof RelTime) return new RelTime(0);
  }
  return ERROR;
}

export function intArith(op: ArithOp, a: bigint, b: bigint): Value {
  switch (op) {
    case '+':
      return wrap64(a + b);
    case '-':
      return wrap64(a - b);
    case '*':
      return wrap64(a * b);
    case '/':
      if (b === 0n) return ERROR;
      if (a === INT64_MIN && b === -1n) return INT64_MAX;
      return a / b;
    case '%':
      if (b === 0n) return ERROR;
      if (a === INT64_MIN && b === -1n) return 0n;
      return a % b;
  }
}

export function realArith(op: ArithOp, a: number, b: number): Value {
  let r: number;
  switch (op) {
    case '+':
      r = a + b;
      break;
    case '-':
      r = a - b;
      break;
    case '*':
      r = a * b;
      break;
    case '/':
      r = a / b;
      break;
    case '%':
      return ERROR; // HTCondor has no real modulus
  }
  return r === Infinity ? ERROR : r; // HTCondor treats HUGE_VAL as an error
}

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** strcasecmp in the C locale: ASCII letters fold, everything else compares by code unit. */
export function strcasecmp(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  stringWork.steps += n >>> 10;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

export function strcmp(a: string, b: string): number {
  stringWork.steps += Math.min(a.length, b.length) >>> 10;
  return a === b ? 0 : a < b ? -1 : 1;
}

function cmpResult(op: CompareOp, c: number): boolean {
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
  }
}

export function compare(op: CompareOp, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'object' || tb === 'object') {
    // times compare only with times of the same kind (absolute times by instant, whatever their zones)
    if (a instanceof AbsTime && b instanceof AbsTime) return cmpResult(op, a.secs - b.secs);
    if (a instanceof RelTime && b instanceof RelTime) return cmpNumbers(op, a.secs, b.secs);
    return ERROR; // lists and ads do not compare
  }
  if (ta === 'string' || tb === 'string') {
    if (ta !== 'string' || tb !== 'string') return ERROR;
    return cmpResult(op, strcasecmp(a as string, b as string));
  }
  if (ta === 'boolean') a = a ? 1n : 0n;
  if (tb === 'boolean') b = b ? 1n : 0n;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '==':
        return a === b;
      case '!=':
        return a !== b;
    }
  }
  return cmpNumbers(op, Number(a), Number(b));
}

/** A comparison of doubles (NaN compares false except with !=). */
function cmpNumbers(op: CompareOp, x: number, y: number): boolean {
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '==':
      return x === y;
    case '!=':
      return x !== y;
  }
}

/** =?= (is): same type and same value, strings case-sensitively; never undefined. Lists and ads: error. */
export function metaEqual(a: Value, b: Value): Value {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  switch (ta) {
    case 'undefined':
    case 'error':
      return true;
    case 'list':
    case 'classad':
      return ERROR;
    case 'real':
      return (a as number) === (b as number);
    case 'abstime':
      return (a as AbsTime).secs === (b as AbsTime).secs && (a as AbsTime).offset === (b as AbsTime).offset;
    case 'reltime':
      return (a as RelTime).secs === (b as RelTime).secs;
    default:
      if (typeof a === 'string') stringWork.steps += (a.length + (b as string).length) >>> 11;
      return a === b;
  }
}

export function metaNotEqual(a: Value, b: Value): Value {
  const r = metaEqual(a, b);
  return typeof r === 'boolean' ? !r : r;
}

export type BitOp = '&' | '|' | '^' | '<<' | '>>' | '>>>';

export function bitwise(op: BitOp, a: Value, b: Value): Value {
  if (a === ERROR || b === ERROR) return ERROR;
  if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
  if (typeof a !== 'bigint' || typeof b !== 'bigint') return ERROR;
  switch (op) {
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '<<':
      return BigInt.asIntN(64, a << (b & 63n)); // x86-64 masks the count to 6 bits
    case '>>':
      if (a >= 0n) return a >> (b & 63n);
      return b <= 0n ? a : a >> (b < 64n ? b : 64n); // sign-extending, at most 64 steps
    case '>>>': {
      if (a >= 0n) return a >> (b & 63n);
      const v = (a >> 1n) & INT64_MAX;
      return v >> ((b - 1n) & 63n);
    }
  }
}

/** Subscripts: list[int] (bounds-checked) and ad["name"]. */
export function subscriptValue(c: Ctx, base: Value, index: Value): Value {
  if (base === ERROR || index === ERROR) return ERROR;
  if (base === UNDEFINED || index === UNDEFINED) return UNDEFINED;
  if (base instanceof ClassAd && typeof index === 'string') {
    const e = base.entry(index.toLowerCase());
    return e ? evalEntry(c, base, e) : UNDEFINED;
  }
  if (base instanceof ListValue && typeof index === 'bigint') {
    const i = Number(BigInt.asIntN(32, index)); // HTCondor reads the index into a C int
    if (i < 0 || i >= base.items.length) return ERROR;
    return listItem(c, base, i);
  }
  return ERROR;
}
