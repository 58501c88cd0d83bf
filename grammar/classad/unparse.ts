// Printing, as HTCondor prints attribute values (ClassAdUnParser with old-ClassAd operators, as condor_q -long):
// reals "%.16G" plus ".0" when that looks integral, `=?=`/`=!=`, unary operators with a leading space,
// `(x)` kept as written, `f(a,b)`, lists `{ 1,2 }`, ads `[ a = 1; b = 2 ]`, strings with C escapes.
// Trees built by hand (not by the parser) get parentheses where precedence needs them, so that
// parse(unparse(e)) always means e.
import { BINARY_PRECEDENCE as PREC, type Expr } from './ast.js';
import { ClassAd } from './classad.js';
import { absTimeToString, relTimeToString } from './time.js';
import { AbsTime, ERROR, RelTime, UNDEFINED, ListValue, type Value } from './value.js';

/** printf("%.16G") with HTCondor's ".0" suffix when the text has no '.', 'E' or 'e'. */
export function formatReal(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (Number.isNaN(x)) return 'real("NaN")';
  if (x === Infinity) return 'real("INF")';
  if (x === -Infinity) return 'real("-INF")';
  let s = formatG(x, 16);
  // near the largest double, 16 digits round up past it and the printed number would read back as infinity
  if (!Number.isFinite(Number(s))) s = formatG(x, 17);
  return /[.Ee]/.test(s) ? s : s + '.0';
}

/** C's %.<p>G */
export function formatG(x: number, p: number): string {
  if (p === 0) p = 1;
  const exp = x.toExponential(p - 1); // d.ddde±X, rounded to p significant digits
  const ei = exp.indexOf('e');
  const X = Number(exp.slice(ei + 1));
  if (X < p && X >= -4) {
    let f = x.toFixed(p - 1 - X);
    if (f.indexOf('.') >= 0) f = f.replace(/0+$/, '').replace(/\.$/, '');
    return f;
  }
  let m = exp.slice(0, ei);
  if (m.indexOf('.') >= 0) m = m.replace(/0+$/, '').replace(/\.$/, '');
  const ax = Math.abs(X);
  return `${m}E${X < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
}

/** A string literal with HTCondor's escapes; `delim` is " for strings and ' for quoted names. */
export function quoteString(s: string, delim: '"' | "'" = '"'): string {
  let out = delim;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (ch === delim) {
      out += '\\' + delim;
      continue;
    }
    switch (ch) {
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
      case '\\':
        out += '\\\\';
        continue;
    }
    if (code < 0x20 || code === 0x7f) {
      out += '\\' + code.toString(8).padStart(3, '0');
      continue;
    }
    out += ch;
  }
  return out + delim;
}

const RESERVED = new Set(['error', 'false', 'is', 'isnt', 'parent', 'true', 'undefined']);

/** An attribute name as written in an expression: bare when it is an identifier, else 'quoted'. */
export function quoteName(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return quoteString(name, "'");
}

// precedence: higher binds tighter (the binary operators' levels are the parser's)
const P_COND = 1;
const P_UNARY = 12;
const P_POSTFIX = 13;
const P_PRIMARY = 14;

function precOf(e: Expr): number {
  switch (e.kind) {
    case 'cond':
      return P_COND;
    case 'binary':
      return PREC[e.op]!;
    case 'unary':
      return P_UNARY;
    case 'subscript':
      return P_POSTFIX;
    case 'attr':
      return e.scope ? P_POSTFIX : P_PRIMARY;
    default:
      return P_PRIMARY;
  }
}

/** HTCondor's printed form of an expression (as condor_q -long prints attribute values). */
export function unparse(e: Expr): string {
  // most attributes of an ad are literals; trees are immutable and shared by equal texts (parse.ts), so
  // the form of a larger one is kept with it: daemons print the same job ads over and over
  if (e.kind === 'literal') return printScalar(e.value, false);
  let text = printed.get(e);
  if (text === undefined) {
    const out: string[] = [];
    emit(e, out, false);
    text = out.join('');
    printed.set(e, text);
  }
  return text;
}

const printed = new WeakMap<Expr, string>();

/**
 * The new-ClassAd printed form, which HTCondor uses when it converts a value to a string (string(), strcat(),
 * unparse()): reals as "%1.15E", `is`/`isnt` instead of `=?=`/`=!=`.
 */
export function unparseNew(e: Expr): string {
  const out: string[] = [];
  emit(e, out, true);
  return out.join('');
}

/** C's %1.15E */
export function formatE15(x: number): string {
  const s = x.toExponential(15);
  const i = s.indexOf('e');
  const exp = Number(s.slice(i + 1));
  const ax = Math.abs(exp);
  return `${s.slice(0, i)}E${exp < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
}

function emitAt(e: Expr, min: number, out: string[], nm: boolean): void {
  if (precOf(e) < min) {
    out.push('(');
    emit(e, out, nm);
    out.push(')');
  } else emit(e, out, nm);
}

/** nm: new-ClassAd mode */
function emit(e: Expr, out: string[], nm: boolean): void {
  switch (e.kind) {
    case 'literal':
      out.push(printScalar(e.value, nm));
      return;
    case 'attr':
      if (e.scope) {
        emitAt(e.scope, P_POSTFIX, out, nm);
        out.push('.', quoteName(e.name));
      } else {
        if (e.absolute) out.push('.');
        out.push(quoteName(e.name));
      }
      return;
    case 'paren':
      out.push('(');
      emit(e.expr, out, nm);
      out.push(')');
      return;
    case 'unary': {
      out.push(' ', e.op);
      const start = out.length;
      emitAt(e.operand, P_UNARY, out, nm);
      // "-5" would read back as a negative literal: keep a unary minus of a number apart from it
      if (e.op === '-' && /^[0-9.]/.test(out[start] ?? '')) out.splice(start, 0, ' ');
      return;
    }
    case 'binary': {
      const p = PREC[e.op]!;
      emitAt(e.left, p, out, nm);
      out.push(nm && e.op === '=?=' ? ' is ' : nm && e.op === '=!=' ? ' isnt ' : ` ${e.op} `);
      emitAt(e.right, p + 1, out, nm);
      return;
    }
    case 'cond':
      emitAt(e.test, P_COND + 1, out, nm);
      if (e.then) {
        out.push(' ? ');
        emit(e.then, out, nm);
        out.push(' : ');
      } else out.push(' ?: ');
      emit(e.else, out, nm);
      return;
    case 'subscript':
      emitAt(e.base, P_POSTFIX, out, nm);
      out.push('[');
      emit(e.index, out, nm);
      out.push(']');
      return;
    case 'call':
      out.push(e.name, '(');
      e.args.forEach((a, i) => {
        if (i) out.push(',');
        emit(a, out, nm);
      });
      out.push(')');
      return;
    case 'list':
      out.push('{ ');
      e.items.forEach((a, i) => {
        if (i) out.push(',');
        emit(a, out, nm);
      });
      out.push(' }');
      return;
    case 'record':
      out.push('[ ');
      e.attrs.forEach(([n, a], i) => {
        if (i) out.push('; ');
        out.push(quoteName(n), ' = ');
        emit(a, out, nm);
      });
      out.push(' ]');
      return;
  }
}

function printScalar(v: Value, nm: boolean): string {
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return nm && v !== 0 && Number.isFinite(v) ? formatE15(v) : formatReal(v);
    case 'string':
      return quoteString(v);
    default:
      if (v === UNDEFINED) return 'undefined';
      if (v === ERROR) return 'error';
      if (v instanceof AbsTime) return `absTime(${quoteString(absTimeToString(v))})`;
      if (v instanceof RelTime) return `relTime(${quoteString(relTimeToString(v.secs))})`;
      return nm ? printValueNew(v) : printValue(v);
  }
}

/** A value as classad_eval prints it: 3, 1.5, "x", true, undefined, error, { 1,2 }, [ a = 1 ]. */
export function printValue(v: Value): string {
  if (v instanceof ListValue) return unparse({ kind: 'list', items: v.items });
  if (v instanceof ClassAd) return unparse(adExpr(v));
  return printScalar(v, false);
}

/** A value in the new-ClassAd printed form (string conversion). */
export function printValueNew(v: Value): string {
  if (v instanceof ListValue) return unparseNew({ kind: 'list', items: v.items });
  if (v instanceof ClassAd) return unparseNew(adExpr(v));
  return printScalar(v, true);
}

function adExpr(ad: ClassAd): Expr {
  return { kind: 'record', attrs: ad.entries().map((e) => [e.name, e.expr] as const) };
}
