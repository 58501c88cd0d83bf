// The builtin functions, following HTCondor's fnCall.cpp and the compat layer (stringList*, split*, ...).
// Where HTCondor's manual and its code disagree, the code wins: users compare against what classad_eval prints.
// Function names are case-insensitive; a wrong argument count gives the error value.
import { children, lit, type Expr } from './ast.js';
import { envV1ToV2, joinArgsV1, joinArgsV2, mergeEnvironments, splitArgsV1, splitArgsV2 } from './args-env.js';
import { ClassAd } from './classad.js';
import type { CompiledFn } from './compile.js';
import { compileFn } from './compile.js';
import {
  Ctx,
  MAX_EVAL_DEPTH,
  MAX_EVAL_STEPS,
  MAX_LIST_LENGTH,
  MAX_STRING_LENGTH,
  arith,
  chargeStringWork,
  overBound,
  stringWork,
  toCInt,
  compare,
  evalIn,
  listItem,
  listValues,
  metaEqual,
  metaNotEqual,
  strcasecmp,
  strcmp,
  type CompareOp,
} from './eval.js';
import { parseExpr } from './parse.js';
import { compilePcre, substitute, type Pcre } from './pcre.js';
import { printValueNew, unparseNew } from './unparse.js';
import {
  absTimeToString,
  dayNumbers,
  gmFields,
  localFields,
  localOffset,
  parseAbsTime,
  parseRelTime,
  relTimeToString,
  strftime,
  type Tm,
} from './time.js';
import { AbsTime, ERROR, INT64_MIN, RelTime, UNDEFINED, ListValue, boolEquiv, type Value } from './value.js';
import { nowSeconds as nowSecs } from '../../lib/time.js';

type Impl = (c: Ctx, args: readonly CompiledFn[], exprs: readonly Expr[]) => Value;

export interface FnDef {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly impl: Impl;
}

const table = new Map<string, FnDef>();

function def(names: string | string[], min: number, max: number, impl: Impl): void {
  for (const name of Array.isArray(names) ? names : [names]) table.set(name.toLowerCase(), { name, min, max, impl });
}

export function lookupFunction(name: string): FnDef | undefined {
  return table.get(name.toLowerCase());
}

/** Names of every builtin (for documentation and tests). */
export function functionNames(): string[] {
  return [...table.values()].map((d) => d.name);
}

/**
 * Charge the work of reading strings (one step per KiB): a function that scans a long string returns something
 * small, so its output does not show what it cost.
 */
function charge(c: Ctx, ...strings: Value[]): void {
  for (const s of strings) if (typeof s === 'string') c.steps += s.length >>> 10;
}

/** Charge a walk over a list: one step per 128 items (literal items cost no step of their own). */
function chargeList(c: Ctx, l: ListValue): void {
  c.steps += l.items.length >>> 7;
}

export function callFunction(d: FnDef, c: Ctx, args: readonly CompiledFn[], exprs: readonly Expr[]): Value {
  if (args.length < d.min || args.length > d.max) return ERROR;
  if (++c.steps > MAX_EVAL_STEPS || (stringWork.steps !== 0 && chargeStringWork(c))) return ERROR;
  const v = d.impl(c, args, exprs);
  // every string and list a function builds is bounded, and a big string costs work in proportion to its size
  if (typeof v === 'string') {
    if (v.length > MAX_STRING_LENGTH) return overBound(c);
    c.steps += v.length >>> 10;
  } else if (v instanceof ListValue) {
    if (v.items.length > MAX_LIST_LENGTH) return overBound(c);
    // and a big list a step per 8 items: split() of 100,000 items took 16 ms for 300 steps (its string's KiB)
    c.steps += v.items.length >>> 3;
  }
  return v;
}

// ---- conversions (value.cpp convertValueTo*) -------------------------------------------------------------

/** C strtod on the start of s: [value, index after the number] (index 0 when nothing was read). */
export function strtod(s: string): [number, number] {
  const m =
    /^[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)|(0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))/i.exec(
      s,
    );
  if (!m) return [0, 0];
  const neg = m[1] === '-';
  let v: number;
  if (m[2]) v = m[2].toLowerCase().startsWith('inf') ? Infinity : NaN;
  else if (m[3]) v = hexFloat(m[3]);
  else {
    // "1e" or "1e+" reads as "1"
    const num = m[4]!;
    v = Number(num);
  }
  return [neg ? -v : v, m[0].length];
}

function hexFloat(t: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?$/.exec(t)!;
  const int = m[1] ? parseInt(m[1], 16) : 0;
  const frac = m[2] ? parseInt(m[2], 16) / 16 ** m[2].length : 0;
  return (int + frac) * 2 ** Number(m[3] ?? 0);
}

/** C's (long long) cast of a double on x86-64: out of range and NaN give INT64_MIN. */
export function dtoll(x: number): bigint {
  if (!Number.isFinite(x) || x >= 9223372036854775808 || x < -9223372036854775808) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/**
 * convertValueToRealValue: a real, or UNDEFINED/ERROR when it cannot convert. Strings read as strtod reads
 * them (no K/M/G suffixes: current HTCondor dropped those); times give their seconds.
 */
export function toReal(v: Value): Value {
  switch (typeof v) {
    case 'number':
      return v;
    case 'bigint':
      return Number(v);
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      const [r, end] = strtod(v);
      return end === 0 && r === 0 ? ERROR : r;
    }
    default:
      if (v instanceof AbsTime || v instanceof RelTime) return v.secs;
      return v === UNDEFINED ? UNDEFINED : ERROR;
  }
}

/** convertValueToIntegerValue: an int, or UNDEFINED/ERROR when it cannot convert ("3.7" reads as 3). */
export function toInt(v: Value): Value {
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'number':
      return dtoll(v);
    case 'boolean':
      return v ? 1n : 0n;
    case 'string': {
      const [r, end] = strtod(v);
      const i = dtoll(r);
      return end === 0 && i === 0n ? ERROR : i;
    }
    default:
      if (v instanceof AbsTime) return BigInt(v.secs);
      if (v instanceof RelTime) return dtoll(v.secs);
      return v === UNDEFINED ? UNDEFINED : ERROR;
  }
}

/**
 * convertValueToStringValue: strings as they are, times in their text form without the absTime()/relTime()
 * wrapper (relative times in whole seconds), other values unparsed (new-ClassAd printing).
 */
export function toStr(v: Value): Value {
  if (typeof v === 'string') return v;
  if (v === UNDEFINED || v === ERROR) return v;
  if (v instanceof AbsTime) return absTimeToString(v);
  if (v instanceof RelTime) return relTimeToString(Math.trunc(v.secs));
  return printed(printValueNew(v));
}

/**
 * Charge printing as eval() charges parsing, a step per 16 characters: a step per KiB (a function's result) let
 * one evaluation print a list of 400 KiB 150 times, 4 s of a daemon's time.
 */
function printed(s: string): string {
  stringWork.steps += s.length >>> 4;
  return s;
}

// ---- type predicates ---------------------------------------------------------------------------------------

def('isUndefined', 1, 1, (c, a) => a[0]!(c) === UNDEFINED);
def('isError', 1, 1, (c, a) => a[0]!(c) === ERROR);
def('isString', 1, 1, (c, a) => typeof a[0]!(c) === 'string');
def('isInteger', 1, 1, (c, a) => typeof a[0]!(c) === 'bigint');
def('isReal', 1, 1, (c, a) => typeof a[0]!(c) === 'number');
def('isBoolean', 1, 1, (c, a) => typeof a[0]!(c) === 'boolean');
def('isList', 1, 1, (c, a) => a[0]!(c) instanceof ListValue);
def('isClassAd', 1, 1, (c, a) => a[0]!(c) instanceof ClassAd);
def('isAbsTime', 1, 1, (c, a) => a[0]!(c) instanceof AbsTime);
def('isRelTime', 1, 1, (c, a) => a[0]!(c) instanceof RelTime);

// ---- control -----------------------------------------------------------------------------------------------

def('ifThenElse', 3, 3, (c, a) => {
  const t = a[0]!(c);
  if (t === UNDEFINED) return UNDEFINED;
  const b = boolEquiv(t);
  if (b === undefined) return ERROR;
  return b ? a[1]!(c) : a[2]!(c);
});

def('eval', 1, 1, (c, a) => {
  const s = toStr(a[0]!(c));
  if (typeof s !== 'string') return ERROR;
  if (c.depth >= MAX_EVAL_DEPTH) return ERROR;
  c.steps += s.length >>> 4; // parsing costs far more per character than scanning
  if (c.steps > MAX_EVAL_STEPS) return ERROR;
  let e: Expr;
  try {
    e = parseExpr(s);
  } catch {
    return ERROR;
  }
  return evalIn(c, c.ad, compileFn(e));
});

def('debug', 1, 1, (c, a) => a[0]!(c));

def('unparse', 1, 1, (c, _a, x) => {
  const e = x[0]!;
  if (e.kind !== 'attr') return ERROR;
  if (e.scope || e.absolute || !c.ad) return '';
  const entry = c.ad.entry(e.name.toLowerCase());
  return entry ? printed(unparseNew(entry.expr)) : '';
});

def('unresolved', 1, 2, (c, a, x) => {
  const e = x[0]!;
  if (e.kind !== 'attr') return ERROR;
  const ad = c.ad;
  const entry = !e.scope && !e.absolute && ad ? ad.entry(e.name.toLowerCase()) : undefined;
  if (!entry || !ad) return UNDEFINED;
  let re: Pcre | undefined;
  if (a.length === 2) {
    const p = a[1]!(c);
    if (typeof p !== 'string') return ERROR;
    const r = compilePcre(p, 'i');
    if (!r) return ERROR;
    re = r;
  }
  // external references: plain names this ad (and its enclosing ads) do not define, and TARGET.x
  const names = new Map<string, string>();
  const stack: Expr[] = [entry.expr];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'attr' && !x.absolute) {
      const key = x.name.toLowerCase();
      const s = x.scope;
      if (!s) {
        if (!SPECIAL.has(key) && !definedInScope(ad, key)) names.set(key, x.name);
        continue;
      }
      if (s.kind === 'attr' && !s.scope && !s.absolute) {
        const sk = s.name.toLowerCase();
        if (sk === 'target') {
          names.set(key, x.name);
          continue;
        }
        if (sk === 'my' || sk === 'self') {
          if (!definedInScope(ad, key)) names.set(key, x.name);
          continue;
        }
      }
    }
    stack.push(...children(x));
  }
  const sorted = [...names.entries()].sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0)).map((e) => e[1]);
  if (re) return sorted.some((n) => re!.test(n));
  return sorted.join(',');
});

const SPECIAL = new Set(['my', 'self', 'target', 'parent', 'root', 'toplevel']);

function definedInScope(ad: ClassAd, key: string): boolean {
  for (let a: ClassAd | undefined = ad; a; a = a.parent) if (a.entry(key)) return true;
  return false;
}

// ---- lists -------------------------------------------------------------------------------------------------

def('member', 2, 2, (c, a) => memberOf(c, a[0]!(c), a[1]!(c), false));
def('identicalMember', 2, 2, (c, a) => memberOf(c, a[0]!(c), a[1]!(c), true));

function memberOf(c: Ctx, x: Value, l: Value, identical: boolean): Value {
  if (l === UNDEFINED || (!identical && x === UNDEFINED)) return UNDEFINED;
  if (!(l instanceof ListValue) || x instanceof ListValue || x instanceof ClassAd) return ERROR;
  if (!identical && x === ERROR) return ERROR;
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const v = listItem(c, l, i);
    const r = identical ? metaEqual(v, x) : compare('==', v, x);
    if (r === true) return true;
  }
  return false;
}

def('size', 1, 1, (c, a) => {
  const v = a[0]!(c);
  if (v === UNDEFINED) return UNDEFINED;
  if (v instanceof ListValue) return BigInt(v.items.length);
  if (v instanceof ClassAd) return BigInt(v.size);
  if (typeof v === 'string') {
    charge(c, v);
    return BigInt(utf8Length(v));
  }
  return ERROR;
});

const utf8 = new TextEncoder();
const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

/** HTCondor strings are bytes: lengths and offsets count UTF-8 bytes. */
function utf8Length(s: string): number {
  return isAscii(s) ? s.length : utf8.encode(s).length;
}

def('sum', 1, 1, (c, a) => sumAvg(c, a[0]!(c), false));
def('avg', 1, 1, (c, a) => sumAvg(c, a[0]!(c), true));

function sumAvg(c: Ctx, l: Value, avg: boolean): Value {
  if (l === UNDEFINED) return UNDEFINED;
  if (!(l instanceof ListValue)) return ERROR;
  let result: Value = 0n;
  let first = true;
  let len = 0;
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const v = listItem(c, l, i);
    if (v === UNDEFINED) continue;
    if (typeof v !== 'bigint' && typeof v !== 'number') return ERROR;
    len++;
    if (first) {
      result = v;
      first = false;
    } else result = arith('+', result, v);
  }
  if (!avg) return result;
  return len > 0 ? arith('/', result, len) : result;
}

def('min', 1, 1, (c, a) => minMax(c, a[0]!(c), '<'));
def('max', 1, 1, (c, a) => minMax(c, a[0]!(c), '>'));

function minMax(c: Ctx, l: Value, op: CompareOp): Value {
  if (l === UNDEFINED) return UNDEFINED;
  if (!(l instanceof ListValue)) return ERROR;
  let result: Value = UNDEFINED;
  let first = true;
  // as HTCondor: a list that holds a real has a real minimum and maximum (max({1, 3, 2.0}) is 3.0)
  let real = false;
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const v = listItem(c, l, i);
    if (v === UNDEFINED) continue;
    if (typeof v !== 'bigint' && typeof v !== 'number') return ERROR;
    if (typeof v === 'number') real = true;
    if (first) {
      result = v;
      first = false;
    } else if (compare(op, v, result) === true) result = v;
  }
  return real && typeof result === 'bigint' ? Number(result) : result;
}

const LIST_OPS: Record<string, (a: Value, b: Value) => Value> = {
  '<': (a, b) => compare('<', a, b),
  '<=': (a, b) => compare('<=', a, b),
  '!=': (a, b) => compare('!=', a, b),
  '==': (a, b) => compare('==', a, b),
  '>': (a, b) => compare('>', a, b),
  '>=': (a, b) => compare('>=', a, b),
  is: metaEqual,
  isnt: metaNotEqual,
};

def('anyCompare', 3, 3, (c, a) => listCompare(c, a, false));
def('allCompare', 3, 3, (c, a) => listCompare(c, a, true));

function listCompare(c: Ctx, a: readonly CompiledFn[], all: boolean): Value {
  const opv = a[0]!(c);
  if (opv === UNDEFINED) return UNDEFINED;
  if (typeof opv !== 'string') return ERROR;
  const op = Object.prototype.hasOwnProperty.call(LIST_OPS, opv) ? LIST_OPS[opv]! : undefined;
  if (!op) return ERROR;
  const l = a[1]!(c);
  if (l === UNDEFINED) return UNDEFINED;
  if (!(l instanceof ListValue)) return ERROR;
  const x = a[2]!(c);
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const r = op(listItem(c, l, i), x);
    if (typeof r !== 'boolean') {
      if (r === UNDEFINED) return false; // HTCondor stops at the first undefined comparison
      return ERROR;
    }
    if (r && !all) return true;
    if (!r && all) return false;
  }
  return all;
}

def('evalInEachContext', 2, 2, (c, a) => {
  const l = a[1]!(c);
  if (!(l instanceof ListValue)) return ERROR;
  const out: Expr[] = [];
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const ad = listItem(c, l, i);
    if (!(ad instanceof ClassAd)) return ERROR;
    out.push(valueExpr(evalIn(c, ad, a[0]!)));
  }
  return new ListValue(out);
});

def('countMatches', 2, 2, (c, a) => {
  const l = a[1]!(c);
  if (l === ERROR) return ERROR;
  if (!(l instanceof ListValue)) return 0n;
  let n = 0n;
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const ad = listItem(c, l, i);
    if (ad instanceof ClassAd && evalIn(c, ad, a[0]!) === true) n++;
  }
  return n;
});

function valueExpr(v: Value): Expr {
  if (v instanceof ListValue) return { kind: 'list', items: v.items };
  if (v instanceof ClassAd) return { kind: 'record', attrs: v.entries().map((e) => [e.name, e.expr] as const) };
  return { kind: 'literal', value: v };
}

// ---- strings -----------------------------------------------------------------------------------------------

def('strcat', 0, Infinity, (c, a) => {
  let out = '';
  for (const f of a) {
    const s = toStr(f(c));
    if (s === UNDEFINED) return UNDEFINED;
    if (typeof s !== 'string') return ERROR;
    out += s;
    if (out.length > MAX_STRING_LENGTH) return overBound(c);
  }
  return out;
});

def('join', 0, Infinity, (c, a) => {
  let items: Value[];
  if (a.length >= 1 && a.length <= 2) {
    const last = a[a.length - 1]!(c);
    if (last instanceof ListValue) {
      items = [a.length === 2 ? a[0]!(c) : '', ...listValues(c, last)];
    } else items = a.length === 2 ? [a[0]!(c), last] : [last];
  } else items = a.map((f) => f(c));
  let buf = '';
  let sep = '';
  let undef = false;
  let defined = false;
  for (let i = 0; i < items.length; i++) {
    const s = toStr(items[i]!);
    if (s === UNDEFINED) {
      undef = true;
      continue;
    }
    if (typeof s !== 'string') return ERROR;
    if (i === 0) {
      sep = s;
      continue;
    }
    if (buf !== '') buf += sep;
    defined = true;
    buf += s;
    if (buf.length > MAX_STRING_LENGTH) return overBound(c);
  }
  if (undef && !defined) return UNDEFINED;
  return buf;
});

def('toUpper', 1, 1, (c, a) => changeCase(a[0]!(c), true));
def('toLower', 1, 1, (c, a) => changeCase(a[0]!(c), false));

function changeCase(v: Value, upper: boolean): Value {
  const s = toStr(v);
  if (typeof s !== 'string') return s === UNDEFINED ? UNDEFINED : ERROR;
  return upper ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

def('substr', 2, 3, (c, a) => {
  const s = a[0]!(c);
  const o = a[1]!(c);
  const l = a.length > 2 ? a[2]!(c) : 0n;
  if (s === UNDEFINED || o === UNDEFINED || l === UNDEFINED) return UNDEFINED;
  if (typeof s !== 'string' || typeof o !== 'bigint' || typeof l !== 'bigint') return ERROR;
  charge(c, s);
  const bytes = isAscii(s) ? undefined : utf8.encode(s);
  const alen = bytes ? bytes.length : s.length;
  let offset = clampInt(o);
  let len = clampInt(l);
  if (offset < 0) offset = Math.max(0, alen + offset);
  else if (offset >= alen) offset = alen;
  if (len <= 0) len = Math.max(0, alen - offset + len);
  else if (len > alen - offset) len = alen - offset;
  if (a.length === 3 && l === 0n) len = 0;
  // a cut inside a multi-byte character leaves U+FFFD where HTCondor leaves the stray bytes
  return bytes ? new TextDecoder().decode(bytes.subarray(offset, offset + len)) : s.substr(offset, len);
});

/** A C int read from a 64-bit value (HTCondor reads these arguments into int). */
function clampInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

def('strcmp', 2, 2, (c, a) => compareStrings(c, a[0]!(c), a[1]!(c), false));
def('stricmp', 2, 2, (c, a) => compareStrings(c, a[0]!(c), a[1]!(c), true));

function compareStrings(c: Ctx, x: Value, y: Value, ignoreCase: boolean): Value {
  if (x === UNDEFINED || y === UNDEFINED) return UNDEFINED;
  const s = toStr(x);
  const t = toStr(y);
  if (typeof s !== 'string' || typeof t !== 'string') return ERROR;
  charge(c, s, t);
  const r = ignoreCase ? strcasecmp(s, t) : strcmp(s, t);
  return r < 0 ? -1n : r > 0 ? 1n : 0n;
}

def('versioncmp', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => BigInt(r)));
def('versionLT', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => r < 0));
def('versionLE', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => r <= 0));
def('versionGT', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => r > 0));
def('versionGE', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => r >= 0));
def('versionEQ', 2, 2, (c, a) => versionOp(a[0]!(c), a[1]!(c), (r) => r === 0));
def('version_in_range', 3, 3, (c, a) => {
  const v = a[0]!(c);
  const lo = a[1]!(c);
  const hi = a[2]!(c);
  if (lo === UNDEFINED || hi === UNDEFINED) return UNDEFINED;
  const s = toStr(v);
  const l = toStr(lo);
  const h = toStr(hi);
  if (typeof s !== 'string' || typeof l !== 'string' || typeof h !== 'string') return ERROR;
  return verscmp(l, s) <= 0 && verscmp(s, h) <= 0;
});

function versionOp(x: Value, y: Value, f: (r: number) => Value): Value {
  if (x === UNDEFINED || y === UNDEFINED) return UNDEFINED;
  const s = toStr(x);
  const t = toStr(y);
  if (typeof s !== 'string' || typeof t !== 'string') return ERROR;
  return f(verscmp(s, t));
}

/** glibc strverscmp: numbers compare by value, leading zeros mark a fractional part. Returns -1, 0 or 1. */
export function verscmp(a: string, b: string): number {
  const S_N = 0,
    S_I = 3,
    S_F = 6,
    S_Z = 9,
    CMP = 2,
    LEN = 3;
  const next = [S_N, S_I, S_Z, S_N, S_I, S_I, S_N, S_F, S_F, S_N, S_F, S_Z];
  const res = [
    CMP,
    CMP,
    CMP,
    CMP,
    LEN,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    -1,
    -1,
    +1,
    LEN,
    LEN,
    +1,
    LEN,
    LEN,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    +1,
    +1,
    -1,
    CMP,
    CMP,
    -1,
    CMP,
    CMP,
  ];
  const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : 0);
  const isd = (ch: number): number => (ch >= 48 && ch <= 57 ? 1 : 0);
  const cls = (ch: number): number => (ch === 48 ? 1 : 0) + isd(ch);
  let i = 0;
  let c1 = at(a, i);
  let c2 = at(b, i);
  i++;
  let state = S_N + cls(c1);
  let diff: number;
  while ((diff = c1 - c2) === 0) {
    if (c1 === 0) return 0;
    state = next[state]!;
    c1 = at(a, i);
    c2 = at(b, i);
    i++;
    state += cls(c1);
  }
  const r = res[state * 3 + cls(c2)]!;
  if (r === CMP) return Math.sign(diff);
  if (r === LEN) {
    let p = i;
    let q = i;
    while (isd(at(a, p++))) if (!isd(at(b, q++))) return 1;
    return isd(at(b, q)) ? -1 : Math.sign(diff);
  }
  return r;
}

// ---- conversions -------------------------------------------------------------------------------------------

def('int', 1, 1, (c, a) => toInt(a[0]!(c)));
def('real', 1, 1, (c, a) => toReal(a[0]!(c)));
def('string', 1, 1, (c, a) => toStr(a[0]!(c)));
def('bool', 1, 1, (c, a) => {
  const v = a[0]!(c);
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'string':
      if (strcasecmp(v, 'false') === 0) return false;
      if (strcasecmp(v, 'true') === 0) return true;
      return UNDEFINED;
    default:
      if (v instanceof RelTime) return v.secs !== 0;
      return v === UNDEFINED ? UNDEFINED : ERROR;
  }
});

// ---- arithmetic --------------------------------------------------------------------------------------------

function rounder(f: (x: number) => number): Impl {
  return (c, a) => {
    const v = a[0]!(c);
    if (typeof v === 'bigint') return v;
    const r = toReal(v);
    if (typeof r !== 'number') return ERROR;
    return dtoll(f(r));
  };
}

/** rint(): round half to even */
export function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

def('floor', 1, 1, rounder(Math.floor));
def(['ceiling', 'ceil'], 1, 1, rounder(Math.ceil));
def('round', 1, 1, rounder(rint));

def('pow', 2, 2, (c, a) => {
  const x = a[0]!(c);
  const y = a[1]!(c);
  if (typeof x === 'bigint' && typeof y === 'bigint' && y >= 0n) {
    const r = Math.pow(Number(x), Number(y));
    // HTCondor adds 0.5 and truncates; rounding to nearest gives the same for every non-negative result
    return dtoll(r >= 0 ? Math.floor(r + 0.5) : -Math.floor(-r + 0.5));
  }
  const rx = toReal(x);
  const ry = toReal(y);
  if (typeof rx !== 'number' || typeof ry !== 'number') return ERROR;
  return Math.pow(rx, ry);
});

def('quantize', 2, 2, (c, a) => {
  const x = a[0]!(c);
  let b = a[1]!(c);
  const rv = toReal(x);
  if (typeof rv !== 'number') return ERROR;
  let rbase: number;
  if (b instanceof ListValue) {
    let base: Value = 0;
    rbase = 0;
    chargeList(c, b);
    for (let i = 0; i < b.items.length; i++) {
      base = listItem(c, b, i);
      const r = toReal(base);
      if (typeof r !== 'number') return ERROR;
      rbase = r;
      if (rbase >= rv) return base;
    }
    b = base;
  } else {
    const r = toReal(b);
    if (typeof r !== 'number') return ERROR;
    rbase = r;
  }
  if (typeof b === 'bigint') {
    if (b === 0n) return x;
    if (typeof x === 'bigint') return ((x + b - 1n) / b) * b;
    return Math.ceil(rv / Number(b)) * Number(b);
  }
  if (rbase >= -1e-8 && rbase <= 1e-8) return x;
  return Math.ceil(rv / rbase) * rbase;
});

def('random', 0, 1, (c, a) => {
  const v = a.length ? a[0]!(c) : 1.0;
  if (typeof v === 'bigint') {
    if (v <= 0n) return ERROR;
    return BigInt(Math.floor(Math.random() * 2147483647)) % v;
  }
  if (typeof v === 'number') {
    if (!(v > 0)) return ERROR;
    return v * Math.random();
  }
  return ERROR;
});

// ---- string lists ------------------------------------------------------------------------------------------

/** StringTokenIterator: maximal runs of characters not in `delims` (so no empty items). */
/** The items of a string list, a step of work each (a 600 KB list of 100,000 items took a tenth of a second to
 *  split, charged 600 steps by its KiB, so one evaluation of a few hundred such calls held a daemon for minutes). */
function tokens(c: Ctx, s: string, delims: string): string[] {
  const out: string[] = [];
  const isDelim = new Set(delims);
  let cur = '';
  for (const ch of s) {
    if (isDelim.has(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  c.steps += out.length;
  return out;
}

/** Items of a string list, trimmed of whitespace, empty ones dropped. */
function trimmedTokens(c: Ctx, s: string, delims: string): string[] {
  return tokens(c, s, delims)
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

def('stringListSize', 1, 2, (c, a) => {
  const l = a[0]!(c);
  const d = a.length === 2 ? a[1]!(c) : ', ';
  if (typeof l !== 'string' || typeof d !== 'string') return ERROR;
  charge(c, l);
  return BigInt(tokens(c, l, d).length);
});

function summarize(kind: 'sum' | 'avg' | 'min' | 'max'): Impl {
  return (c, a) => {
    const l = a[0]!(c);
    const d = a.length === 2 ? a[1]!(c) : ', ';
    if (typeof l !== 'string' || typeof d !== 'string') return ERROR;
    charge(c, l);
    const FLT_MAX = 3.4028234663852886e38;
    const FLT_MIN = 1.1754943508222875e-38;
    let acc = kind === 'min' ? FLT_MAX : kind === 'max' ? FLT_MIN : 0;
    let isReal = false;
    let n = 0;
    for (const t of tokens(c, l, d)) {
      n++;
      const [v, end] = strtod(t);
      if (end === 0) return ERROR;
      if (!/^[+\-0-9]*$/.test(t)) isReal = true;
      if (kind === 'min') acc = v < acc ? v : acc;
      else if (kind === 'max') acc = v > acc ? v : acc;
      else acc = v + acc;
    }
    if (n === 0) return kind === 'sum' || kind === 'avg' ? 0 : UNDEFINED;
    if (kind === 'avg') acc /= n;
    return isReal ? acc : dtoll(acc);
  };
}
def('stringListSum', 1, 2, summarize('sum'));
def('stringListAvg', 1, 2, summarize('avg'));
def('stringListMin', 1, 2, summarize('min'));
def('stringListMax', 1, 2, summarize('max'));

function stringListMember(mode: 'member' | 'subset', ignoreCase: boolean): Impl {
  return (c, a) => {
    const x = a[0]!(c);
    const l = a[1]!(c);
    const d = a.length === 3 ? a[2]!(c) : ', \t\r\n';
    const ok = (v: Value) => v === UNDEFINED || typeof v === 'string';
    if (!ok(x) || !ok(l) || (a.length === 3 && !ok(d))) return ERROR;
    if (x === UNDEFINED && l === UNDEFINED) return UNDEFINED;
    const item = typeof x === 'string' ? x : '';
    const list = typeof l === 'string' ? l : '';
    const delims = typeof d === 'string' ? d : ', \t\r\n';
    charge(c, item, list);
    // strcasecmp equality is equality after folding ASCII letters; a Set keeps subset matching linear
    const fold = ignoreCase ? (t: string) => t.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : (t: string) => t;
    const items = new Set(trimmedTokens(c, list, delims).map(fold));
    if (mode === 'member') return items.has(fold(item));
    if (item === '') return true;
    return trimmedTokens(c, item, delims).every((t) => items.has(fold(t)));
  };
}
def('stringListMember', 2, 3, stringListMember('member', false));
def('stringListIMember', 2, 3, stringListMember('member', true));
def('stringListSubsetMatch', 2, 3, stringListMember('subset', false));
def('stringListISubsetMatch', 2, 3, stringListMember('subset', true));

def('stringListsIntersect', 2, 3, (c, a) => {
  const x = a[0]!(c);
  const y = a[1]!(c);
  const d = a.length === 3 ? a[2]!(c) : '';
  if (x === ERROR || y === ERROR || d === ERROR) return ERROR;
  if (x === UNDEFINED || y === UNDEFINED || d === UNDEFINED) return UNDEFINED;
  if (typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') return ERROR;
  const delims = d || ' ,';
  charge(c, x, y);
  const set = new Set(tokens(c, y, delims));
  return tokens(c, x, delims).some((t) => set.has(t));
});

def('stringList_regexpMember', 2, 4, (c, a) => {
  const p = a[0]!(c);
  const l = a[1]!(c);
  const d = a.length >= 3 ? a[2]!(c) : ', ';
  const o = a.length === 4 ? a[3]!(c) : '';
  if (typeof p !== 'string' || typeof l !== 'string' || typeof d !== 'string' || typeof o !== 'string') return ERROR;
  const re = compilePcre(p, o);
  if (!re) return ERROR;
  charge(c, l);
  const items = tokens(c, l, d);
  if (items.length === 0) return UNDEFINED;
  return items.some((t) => re.test(t));
});

// ---- splitting ---------------------------------------------------------------------------------------------

function strList(items: string[]): ListValue {
  return new ListValue(items.map((s) => ({ kind: 'literal', value: s }) as Expr));
}

def('splitUserName', 1, 1, (c, a) => splitAt(a[0]!(c), false));
def('splitSlotName', 1, 1, (c, a) => splitAt(a[0]!(c), true));

function splitAt(v: Value, slot: boolean): Value {
  if (typeof v !== 'string') return ERROR;
  const i = v.indexOf('@');
  if (i < 0) return strList(slot ? ['', v] : [v, '']);
  return strList([v.slice(0, i), v.slice(i + 1)]);
}

def('split', 1, 2, (c, a) => {
  const v = a[0]!(c);
  const s = a.length === 2 ? a[1]!(c) : ', \t';
  if (typeof v !== 'string' || typeof s !== 'string') return ERROR;
  charge(c, v);
  const out: string[] = [];
  let last = 0;
  if (s.length > 0) {
    let prev = -1; // the last non-space separator seen
    const isSep = new Set(s.split('')); // UTF-16 units, as s.includes(ch) compared them
    for (let i = 0; i < v.length; i++) {
      const ch = v[i]!;
      if (!isSep.has(ch)) continue;
      if (i - last > 0) out.push(v.slice(last, i));
      else if (!isSpace(prev) && prev === ch.charCodeAt(0)) out.push('');
      if (!isSpace(ch.charCodeAt(0))) prev = ch.charCodeAt(0);
      last = i + 1;
    }
  }
  if (v.length > last) out.push(v.slice(last));
  return strList(out);
});

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

// ---- arguments, environment, user maps (the compat layer's ArgsToList, ListToArgs, EnvironmentV1ToV2,
// MergeEnvironment, userMap_func) ----------------------------------------------------------------------------

/** The optional syntax version argument (1 or 2, default 2), or undefined when it is anything else. */
function syntaxVersion(c: Ctx, a: readonly CompiledFn[]): 1 | 2 | undefined {
  if (a.length < 2) return 2;
  const v = a[1]!(c);
  if (typeof v !== 'bigint') return undefined;
  const n = clampInt(v);
  return n === 1 || n === 2 ? n : undefined;
}

def('argsToList', 1, 2, (c, a) => {
  const vers = syntaxVersion(c, a);
  if (!vers) return ERROR;
  const s = a[0]!(c);
  if (typeof s !== 'string') return ERROR;
  const args = vers === 1 ? splitArgsV1(s) : splitArgsV2(s);
  return args ? strList(args) : ERROR;
});

def('listToArgs', 1, 2, (c, a) => {
  const vers = syntaxVersion(c, a);
  if (!vers) return ERROR;
  const l = a[0]!(c);
  if (!(l instanceof ListValue)) return ERROR;
  const args: string[] = [];
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const v = listItem(c, l, i);
    if (typeof v !== 'string') return ERROR;
    args.push(v);
  }
  return (vers === 1 ? joinArgsV1(args) : joinArgsV2(args)) ?? ERROR;
});

def('envV1ToV2', 1, 1, (c, a) => {
  const v = a[0]!(c);
  if (v === UNDEFINED) return UNDEFINED;
  return typeof v === 'string' ? (envV1ToV2(v) ?? ERROR) : ERROR;
});

def('mergeEnvironment', 0, Infinity, (c, a) => {
  const parts: string[] = [];
  for (const f of a) {
    const v = f(c);
    if (v === UNDEFINED) continue; // an environment the job does not set
    if (typeof v !== 'string') return ERROR;
    parts.push(v);
  }
  return mergeEnvironments(parts) ?? ERROR;
});

/**
 * userMap(map, name[, preferred[, default]]): dsched has no CLASSAD_USER_MAPFILE_* maps, so no name maps, and
 * the result is what HTCondor gives for an unmapped name: the default when there is one, else undefined.
 */
def('userMap', 2, 4, (c, a) => {
  const vs = a.map((f) => f(c));
  const dflt = vs.length === 4 ? vs[3]! : UNDEFINED;
  if (typeof vs[0] !== 'string' || typeof vs[1] !== 'string') {
    return vs[0] === ERROR || vs[1] === ERROR ? ERROR : dflt;
  }
  return dflt;
});

// ---- time (fnCall.cpp epochTime, convTime, splitTime, formatTime, getField, interval) -----------------------

def('time', 0, 0, () => BigInt(nowSecs()));
def('currentTime', 0, 0, () => nowAbsTime());
def('timeZoneOffset', 0, 0, () => new RelTime(localOffset(nowSecs())));
def('dayTime', 0, 0, () => {
  const f = localFields(nowSecs());
  return new RelTime(f.hour * 3600 + f.min * 60 + f.sec);
});

function nowAbsTime(): AbsTime {
  const t = nowSecs();
  return new AbsTime(t, localOffset(t));
}

def('absTime', 0, 2, (c, a) => (a.length === 0 ? nowAbsTime() : convTime(c, a, false)));
def('relTime', 1, 2, (c, a) => convTime(c, a, true));

/**
 * absTime(x[, offset]) / relTime(x): numbers are epoch seconds (absTime, in the local zone unless an offset in
 * seconds is given) or seconds (relTime); times convert to each other by their seconds. A string that is not a
 * literal is read like the literal form (HTCondor's code falls through there; see README).
 */
function convTime(c: Ctx, a: readonly CompiledFn[], relative: boolean): Value {
  const v = a[0]!(c);
  let offset: number | undefined;
  if (a.length === 2) {
    const o = a[1]!(c);
    if (relative) return ERROR;
    if (typeof o === 'bigint') offset = clampInt(o);
    else if (typeof o === 'number') offset = toCInt(o);
    else if (o instanceof RelTime) offset = Math.trunc(o.secs);
    else return ERROR;
  }
  const abs = (secs: number): AbsTime => new AbsTime(secs, offset ?? localOffset(secs));
  if (v === UNDEFINED) return UNDEFINED;
  if (typeof v === 'bigint') {
    if (relative) return new RelTime(clampInt(v));
    return offset === -1 ? ERROR : abs(clampInt(v)); // -1 is HTCondor's "no offset" marker
  }
  if (typeof v === 'number') return relative ? new RelTime(v) : abs(toCInt(v));
  if (typeof v === 'string') {
    const t = relative ? parseRelTime(v) : parseAbsTime(v);
    if (!t) return ERROR;
    return t instanceof AbsTime && offset !== undefined ? new AbsTime(t.secs, offset) : t;
  }
  if (v instanceof AbsTime) return relative ? new RelTime(v.secs) : v;
  if (v instanceof RelTime) return relative ? v : abs(Math.trunc(v.secs));
  return ERROR;
}

/** doSplitTime's reading of a time: numbers are epoch seconds in the local zone. */
function asTime(v: Value): AbsTime | RelTime | undefined {
  if (typeof v === 'bigint') {
    const s = clampInt(v);
    return new AbsTime(s, localOffset(s));
  }
  if (typeof v === 'number') {
    const s = toCInt(v);
    return new AbsTime(s, localOffset(s));
  }
  return v instanceof AbsTime || v instanceof RelTime ? v : undefined;
}

def('splitTime', 1, 1, (c, a) => {
  const v = a[0]!(c);
  if (v === UNDEFINED) return UNDEFINED;
  const t = asTime(v);
  return t ? splitTimeAd(t) : ERROR;
});

/** The parts of a time as splitTime gives them: absolute times in their own zone, relative ones signed once. */
function splitTimeAd(t: AbsTime | RelTime): ClassAd {
  const ad = new ClassAd();
  const put = (name: string, v: bigint | number | string) => ad.set(name, lit(v));
  if (t instanceof AbsTime) {
    const f = gmFields(t.secs + t.offset);
    put('Type', 'AbsoluteTime');
    put('Year', BigInt(f.year));
    put('Month', BigInt(f.mon + 1));
    put('Day', BigInt(f.mday));
    put('Hours', BigInt(f.hour));
    put('Minutes', BigInt(f.min));
    put('Seconds', BigInt(f.sec));
    put('Offset', BigInt(t.offset));
    return ad;
  }
  const r = Math.abs(t.secs);
  const whole = Math.trunc(r);
  const parts = [Math.trunc(whole / 86400), Math.trunc((whole % 86400) / 3600), Math.trunc((whole % 3600) / 60)];
  let secs = (whole % 60) + (r - Math.floor(r));
  if (t.secs < 0) {
    const first = parts.findIndex((p) => p > 0);
    if (first >= 0) parts[first] = -parts[first]!;
    else secs = -secs;
  }
  put('Type', 'RelativeTime');
  put('Days', BigInt(parts[0]!));
  put('Hours', BigInt(parts[1]!));
  put('Minutes', BigInt(parts[2]!));
  put('Seconds', secs); // a real, as HTCondor stores it
  return ad;
}

def('formatTime', 0, 2, (c, a) => {
  if (a.length === 0) return strftime('%c', localFields(nowSecs()));
  const v = a[0]!(c);
  if (v instanceof RelTime) return ERROR;
  const t = v instanceof ClassAd ? v : asTime(v);
  if (!t) return ERROR;
  const ad = t instanceof ClassAd ? t : splitTimeAd(t);
  const num = (name: string): number | undefined => {
    const x = ad.evaluate(name);
    return typeof x === 'bigint' ? clampInt(x) : typeof x === 'number' ? toCInt(x) : undefined;
  };
  const month = num('Month');
  const year = num('Year');
  const tm: Tm = {
    sec: num('Seconds') ?? 0,
    min: num('Minutes') ?? 0,
    hour: num('Hours') ?? 0,
    mday: num('Day') ?? 0,
    mon: month === undefined ? 0 : month - 1,
    year: year ?? 1900,
    wday: 0,
    yday: 0,
    gmtoff: 0,
    zone: '',
  };
  const d = dayNumbers(tm.year, tm.mon + 1, tm.mday);
  tm.wday = d.wday;
  tm.yday = d.yday;
  if (a.length === 1) return strftime('%c', tm);
  const f = a[1]!(c);
  return typeof f === 'string' ? strftime(f, tm) : ERROR;
});

/** getYear() … getSeconds(): fields of an absolute time (local zone) or a relative time (getField). */
const ABS_FIELDS: Record<string, (f: Tm) => number> = {
  getYear: (f) => f.year,
  getMonth: (f) => f.mon + 1,
  getDayOfYear: (f) => f.yday,
  getDayOfMonth: (f) => f.mday,
  getDayOfWeek: (f) => f.wday,
  getHours: (f) => f.hour,
  getMinutes: (f) => f.min,
  getSeconds: (f) => f.sec,
};
const REL_FIELDS: Record<string, (r: number) => number> = {
  getDays: (r) => Math.trunc(r / 86400),
  getHours: (r) => Math.trunc((r % 86400) / 3600),
  getMinutes: (r) => Math.trunc((r % 3600) / 60),
  getSeconds: (r) => r % 60,
};
for (const name of new Set([...Object.keys(ABS_FIELDS), ...Object.keys(REL_FIELDS)])) {
  def(name, 1, 1, (c, a) => {
    const v = a[0]!(c);
    const af = ABS_FIELDS[name];
    const rf = REL_FIELDS[name];
    if (v instanceof AbsTime) return af ? BigInt(af(localFields(v.secs))) : ERROR;
    if (v instanceof RelTime) return rf ? BigInt(rf(Math.trunc(v.secs))) : ERROR;
    return ERROR;
  });
}

def('interval', 1, 1, (c, a) => {
  const v = toInt(a[0]!(c));
  if (typeof v !== 'bigint') return ERROR;
  let t = clampInt(v);
  const days = Math.trunc(t / 86400);
  t %= 86400;
  const hours = Math.trunc(t / 3600);
  t %= 3600;
  const min = Math.trunc(t / 60);
  const secs = t % 60;
  const p2 = (n: number) => String(Math.abs(n)).padStart(2, '0');
  if (days !== 0) return `${days}+${p2(hours)}:${p2(min)}:${p2(secs)}`;
  if (hours !== 0) return `${hours}:${p2(min)}:${p2(secs)}`;
  if (min !== 0) return `${min}:${p2(secs)}`;
  return `${secs}`;
});

// ---- regular expressions (pcre.ts: HTCondor's option letters on a linear-time engine) ----------------------

function regexpHelper(c: Ctx, pattern: string, target: string, replace: string | undefined, options: string): Value {
  const re = compilePcre(pattern, options);
  if (!re) return ERROR;
  if (replace === undefined) return re.test(target);
  const o = options.toLowerCase();
  // a step per match: replaceAll("a", 60,000 a's, "bb") cost 180 steps (its strings' KiB) and a third of a
  // second, so one evaluation of a few hundred of them held a daemon for minutes within its step bound
  const out = substitute(re, target, replace, o.includes('f'), o.includes('g'), MAX_STRING_LENGTH, () => {
    return ++c.steps <= MAX_EVAL_STEPS;
  });
  return out ?? (c.steps > MAX_EVAL_STEPS ? overBound(c) : ERROR);
}

function regexArgs(c: Ctx, a: readonly CompiledFn[], n: number): Value[] | Value {
  const vs = a.map((f) => f(c));
  charge(c, ...vs);
  if (vs.some((v) => v === ERROR)) return ERROR;
  if (vs.some((v) => v === UNDEFINED)) return UNDEFINED;
  if (vs.length > n && typeof vs[n] !== 'string') return ERROR;
  return vs;
}

def('regexp', 2, 3, (c, a) => {
  const vs = regexArgs(c, a, 2);
  if (!Array.isArray(vs)) return vs;
  const [p, t, o] = vs as Value[];
  if (typeof p !== 'string' || typeof t !== 'string') return ERROR;
  return regexpHelper(c, p, t, undefined, (o as string | undefined) ?? '');
});

function subst(extra: string): Impl {
  return (c, a) => {
    const vs = regexArgs(c, a, 3);
    if (!Array.isArray(vs)) return vs;
    const [p, t, r, o] = vs as Value[];
    if (typeof p !== 'string' || typeof t !== 'string' || typeof r !== 'string') return ERROR;
    return regexpHelper(c, p, t, r, ((o as string | undefined) ?? '') + extra);
  };
}
def('regexps', 3, 4, subst(''));
def('replace', 3, 4, subst('f'));
def('replaceAll', 3, 4, subst('fg'));

def('regexpMember', 2, 3, (c, a) => {
  const vs = regexArgs(c, a, 2);
  if (!Array.isArray(vs)) return vs;
  const [p, l, o] = vs as Value[];
  if (typeof p !== 'string' || !(l instanceof ListValue)) return ERROR;
  const re = compilePcre(p, (o as string | undefined) ?? '');
  if (!re) return ERROR;
  let maybe = false;
  chargeList(c, l);
  for (let i = 0; i < l.items.length; i++) {
    const v = listItem(c, l, i);
    if (typeof v !== 'string') {
      if (v === UNDEFINED) maybe = true;
      else return ERROR;
      continue;
    }
    if (re.test(v)) return true;
  }
  return maybe ? UNDEFINED : false;
});
