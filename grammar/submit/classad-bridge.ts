// What the submit language needs from the ClassAd language (grammar/classad): check an expression
// (errors at the submit file's line:column), list the attributes it names, evaluate a constant expression
// (`queue N*2`, $INT(), `if` conditions) and quote a string the way HTCondor prints it.
//
// A small built-in reader of the same expression syntax stays as a fallback: should the ClassAd library
// ever throw something other than a SourceError, submission still gets an answer instead of a crash.
import * as classadLib from '../classad/index.js';
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../source.js';

export interface Origin {
  file: string;
  line: number;
  column: number;
  sourceLine?: string;
}

interface ClassAdModule {
  parseExpr(text: string, origin?: Origin): unknown;
  referencedAttrs(e: unknown): { my: Set<string>; target: Set<string>; unscoped: Set<string> };
  ClassAd: new () => { evalExpr(e: unknown): unknown };
  valueToJS(v: unknown): unknown;
}

const classad: ClassAdModule | null =
  typeof classadLib.parseExpr === 'function' ? (classadLib as unknown as ClassAdModule) : null;

/** True when the ClassAd library answers (tests report which one ran). */
export const usingClassAdLibrary = classad !== null;

// ---------------------------------------------------------------------------------------------
// Strings

/** A JS string as a ClassAd string literal: "…" with \\ \" \n \t \r escaped. */
const NEEDS_ESCAPE = /["\\\x00-\x1f]/;

export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\t': out += '\\t'; break;
      case '\r': out += '\\r'; break;
      default: {
        const c = ch.charCodeAt(0);
        out += c < 32 ? '\\' + c.toString(8).padStart(3, '0') : ch;
      }
    }
  }
  return out + '"';
}

/** The inverse of quoteString for a literal string expression text; undefined when `text` is not one. */
export function unquoteString(text: string): string | undefined {
  const t = text.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') return undefined;
  let out = '';
  for (let i = 1; i < t.length - 1; i++) {
    const c = t[i]!;
    if (c === '"') return undefined;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = t[++i];
    if (n === undefined || i >= t.length - 1) return undefined;
    if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else if (n === 'r') out += '\r';
    else if (n === 'b') out += '\b';
    else if (n === 'f') out += '\f';
    else if (/[0-7]/.test(n)) {
      let o = n;
      while (o.length < 3 && /[0-7]/.test(t[i + 1] ?? '') && i + 1 < t.length - 1) o += t[++i];
      out += String.fromCharCode(parseInt(o, 8));
    } else out += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A small ClassAd reader for checking, attribute listing and constant folding.

type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'end'; v: string; pos: number };

const OPS = [
  '=?=', '=!=', '>>>', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||',
  '+', '-', '*', '/', '%', '<', '>', '!', '~', '&', '|', '^', '?', ':', '(', ')', '[', ']', '{', '}', ',', '.', ';', '=',
];

class MiniSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

function lex(src: string): Tok[] {
  let depth = 0;
  for (let k = 0; k < src.length; k++) {
    const c = src[k];
    if (c === '(' || c === '[' || c === '{') {
      if (++depth > 200) throw new MiniSyntaxError('brackets nested more than 200 deep', k);
    } else if (c === ')' || c === ']' || c === '}') depth--;
  }
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      if (e < 0) throw new MiniSyntaxError('unterminated comment', i);
      i = e + 2;
      continue;
    }
    if (c === '"') {
      const start = i++;
      let s = '';
      for (;;) {
        if (i >= src.length) throw new MiniSyntaxError('unterminated string', start);
        const d = src[i]!;
        if (d === '"') break;
        if (d === '\\') {
          s += d + (src[i + 1] ?? '');
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      toks.push({ t: 'str', v: unquoteString('"' + s + '"') ?? s, pos: start });
      continue;
    }
    if (c === "'") {
      // quoted attribute name
      const start = i++;
      while (i < src.length && src[i] !== "'") i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) throw new MiniSyntaxError('unterminated quoted attribute name', start);
      toks.push({ t: 'id', v: src.slice(start + 1, i), pos: start });
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)/.exec(src.slice(i))!;
      toks.push({ t: 'num', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'id', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new MiniSyntaxError(`unexpected character '${c}'`, i);
    toks.push({ t: 'op', v: op, pos: i });
    i += op.length;
  }
  toks.push({ t: 'end', v: '', pos: src.length });
  return toks;
}

type Val = number | string | boolean | null | undefined | { error: true } | Val[];
const ERR = { error: true } as const;

interface MiniNode {
  eval(): Val;
}

const BIN_PREC: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5,
  '==': 6, '!=': 6, '=?=': 6, '=!=': 6, is: 6, isnt: 6,
  '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '>>>': 8,
  '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

/** Parses (and can evaluate without an ad) the ClassAd expression subset; collects attribute names. */
class MiniParser {
  private i = 0;
  readonly attrs = { my: new Set<string>(), target: new Set<string>(), unscoped: new Set<string>() };
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private expectOp(v: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== v) throw new MiniSyntaxError(`expected '${v}'${t.t === 'end' ? ' before the end' : ` but found '${t.v}'`}`, t.pos);
  }

  parseAll(): MiniNode {
    if (this.peek().t === 'end') throw new MiniSyntaxError('expected an expression', this.peek().pos);
    const e = this.ternary();
    const t = this.peek();
    if (t.t !== 'end') throw new MiniSyntaxError(`unexpected '${t.v}' after the expression`, t.pos);
    return e;
  }

  private ternary(): MiniNode {
    const c = this.binary(1);
    const t = this.peek();
    if (t.t === 'op' && t.v === '?') {
      this.next();
      if (this.peek().t === 'op' && this.peek().v === ':') {
        // elvis a ?: b
        this.next();
        const b = this.ternary();
        return { eval: () => { const v = c.eval(); return v === undefined || isErr(v) ? b.eval() : v; } };
      }
      const a = this.ternary();
      this.expectOp(':');
      const b = this.ternary();
      return { eval: () => { const v = c.eval(); const tv = truth(v); return tv === undefined ? v === undefined ? undefined : ERR : tv ? a.eval() : b.eval(); } };
    }
    return c;
  }

  private binary(minPrec: number): MiniNode {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const op = t.t === 'op' ? t.v : t.t === 'id' && /^(is|isnt)$/i.test(t.v) ? t.v.toLowerCase() : '';
      const prec = BIN_PREC[op];
      if (!prec || prec < minPrec) return left;
      this.next();
      const right = this.binary(prec + 1);
      const l = left;
      left = { eval: () => binop(op, l.eval(), right.eval()) };
    }
  }

  private unary(): MiniNode {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+' || t.v === '!' || t.v === '~')) {
      this.next();
      const e = this.unary();
      return { eval: () => unop(t.v, e.eval()) };
    }
    return this.postfix();
  }

  private postfix(): MiniNode {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && t.v === '[') {
        this.next();
        this.ternary();
        this.expectOp(']');
        e = { eval: () => undefined };
      } else if (t.t === 'op' && t.v === '.') {
        this.next();
        const n = this.next();
        if (n.t !== 'id') throw new MiniSyntaxError('expected an attribute name after \'.\'', n.pos);
        e = { eval: () => undefined };
      } else return e;
    }
  }

  private primary(): MiniNode {
    const t = this.next();
    if (t.t === 'num') {
      const v = /^0[xX]/.test(t.v) ? parseInt(t.v, 16) : Number(t.v);
      if (Number.isNaN(v)) throw new MiniSyntaxError(`bad number '${t.v}'`, t.pos);
      return { eval: () => v };
    }
    if (t.t === 'str') {
      let s = t.v;
      // adjacent string literals concatenate
      while (this.peek().t === 'str') s += this.next().v;
      return { eval: () => s };
    }
    if (t.t === 'op' && t.v === '(') {
      const e = this.ternary();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'op' && t.v === '{') {
      const items: MiniNode[] = [];
      if (!(this.peek().t === 'op' && this.peek().v === '}')) {
        for (;;) {
          items.push(this.ternary());
          if (this.peek().t === 'op' && this.peek().v === ',') {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expectOp('}');
      return { eval: () => items.map((x) => x.eval()) };
    }
    if (t.t === 'op' && t.v === '[') {
      // nested ad: [ a = 1; b = 2 ]
      while (!(this.peek().t === 'op' && this.peek().v === ']')) {
        const n = this.next();
        if (n.t !== 'id') throw new MiniSyntaxError('expected an attribute name in a nested ad', n.pos);
        this.expectOp('=');
        this.ternary();
        if (this.peek().t === 'op' && this.peek().v === ';') this.next();
        else break;
      }
      this.expectOp(']');
      return { eval: () => undefined };
    }
    if (t.t === 'id') {
      const lower = t.v.toLowerCase();
      if (lower === 'true') return { eval: () => true };
      if (lower === 'false') return { eval: () => false };
      if (lower === 'undefined') return { eval: () => undefined };
      if (lower === 'error') return { eval: () => ERR };
      if (this.peek().t === 'op' && this.peek().v === '(') {
        this.next();
        const args: MiniNode[] = [];
        if (!(this.peek().t === 'op' && this.peek().v === ')')) {
          for (;;) {
            args.push(this.ternary());
            if (this.peek().t === 'op' && this.peek().v === ',') {
              this.next();
              continue;
            }
            break;
          }
        }
        this.expectOp(')');
        return { eval: () => callFn(lower, args.map((a) => a.eval())) };
      }
      if ((lower === 'my' || lower === 'target') && this.peek().t === 'op' && this.peek().v === '.') {
        this.next();
        const n = this.next();
        if (n.t !== 'id') throw new MiniSyntaxError(`expected an attribute name after '${t.v}.'`, n.pos);
        (lower === 'my' ? this.attrs.my : this.attrs.target).add(n.v.toLowerCase());
        return { eval: () => undefined };
      }
      this.attrs.unscoped.add(lower);
      return { eval: () => undefined };
    }
    throw new MiniSyntaxError(t.t === 'end' ? 'expected an expression before the end' : `unexpected '${t.v}'`, t.pos);
  }
}

function isErr(v: Val): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'error' in v;
}
function truth(v: Val): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return undefined;
}
function num(v: Val): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
function unop(op: string, v: Val): Val {
  if (v === undefined) return undefined;
  if (op === '!') {
    const t = truth(v);
    return t === undefined ? ERR : !t;
  }
  const n = num(v);
  if (n === undefined) return ERR;
  return op === '-' ? -n : op === '~' ? ~n : n;
}
function binop(op: string, a: Val, b: Val): Val {
  if (op === '=?=' || op === 'is') return a === b || (typeof a === typeof b && JSON.stringify(a) === JSON.stringify(b));
  if (op === '=!=' || op === 'isnt') return !(a === b || (typeof a === typeof b && JSON.stringify(a) === JSON.stringify(b)));
  if (op === '&&') {
    const x = truth(a);
    if (x === false) return false;
    const y = truth(b);
    if (y === false) return a === undefined || x === true ? false : ERR;
    if (a === undefined || b === undefined) return undefined;
    return x === undefined || y === undefined ? ERR : true;
  }
  if (op === '||') {
    const x = truth(a);
    if (x === true) return true;
    const y = truth(b);
    if (y === true) return a === undefined || x === false ? true : ERR;
    if (a === undefined || b === undefined) return undefined;
    return x === undefined || y === undefined ? ERR : false;
  }
  if (isErr(a) || isErr(b)) return ERR;
  if (a === undefined || b === undefined) return undefined;
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    switch (op) {
      case '==': return x === y;
      case '!=': return x !== y;
      case '<': return x < y;
      case '<=': return x <= y;
      case '>': return x > y;
      case '>=': return x >= y;
      default: return ERR;
    }
  }
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) return ERR;
  const ints = Number.isInteger(x) && Number.isInteger(y) && typeof a !== 'boolean' && typeof b !== 'boolean' ? true : Number.isInteger(x) && Number.isInteger(y);
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return y === 0 ? (ints ? ERR : x / y) : ints ? Math.trunc(x / y) : x / y;
    case '%': return y === 0 ? ERR : x % y;
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
    case '&': return x & y;
    case '|': return x | y;
    case '^': return x ^ y;
    case '<<': return x << y;
    case '>>': return x >> y;
    case '>>>': return x >>> y;
    default: return ERR;
  }
}
function callFn(name: string, args: Val[]): Val {
  const n0 = num(args[0]);
  switch (name) {
    case 'int': return n0 === undefined ? (typeof args[0] === 'string' && args[0].trim() !== '' && !Number.isNaN(Number(args[0])) ? Math.trunc(Number(args[0])) : ERR) : Math.trunc(n0);
    case 'real': return n0 === undefined ? (typeof args[0] === 'string' && !Number.isNaN(Number(args[0])) ? Number(args[0]) : ERR) : n0;
    case 'floor': return n0 === undefined ? ERR : Math.floor(n0);
    case 'ceiling': return n0 === undefined ? ERR : Math.ceil(n0);
    case 'round': return n0 === undefined ? ERR : Math.round(n0);
    case 'min': { const ns = (Array.isArray(args[0]) ? args[0] : args).map(num); return ns.some((x) => x === undefined) ? ERR : Math.min(...(ns as number[])); }
    case 'max': { const ns = (Array.isArray(args[0]) ? args[0] : args).map(num); return ns.some((x) => x === undefined) ? ERR : Math.max(...(ns as number[])); }
    case 'pow': { const b = num(args[1]); return n0 === undefined || b === undefined ? ERR : n0 ** b; }
    case 'strcat': return args.map((a) => (typeof a === 'string' ? a : String(a))).join('');
    case 'tolower': return typeof args[0] === 'string' ? args[0].toLowerCase() : ERR;
    case 'toupper': return typeof args[0] === 'string' ? args[0].toUpperCase() : ERR;
    case 'size': return typeof args[0] === 'string' ? args[0].length : Array.isArray(args[0]) ? args[0].length : ERR;
    case 'string': return typeof args[0] === 'string' ? args[0] : String(args[0]);
    case 'ifthenelse': { const t = truth(args[0]); return t === undefined ? ERR : t ? args[1] : args[2]; }
    case 'isundefined': return args[0] === undefined;
    case 'time': return Math.floor(Date.now() / 1000);
    default: return ERR;
  }
}

// ---------------------------------------------------------------------------------------------
// The operations the submit language uses

/** The attributes an expression names (lower-cased), by scope. Throws SourceError on bad syntax. */
export interface CheckedExpr {
  attrs: { my: Set<string>; target: Set<string>; unscoped: Set<string> };
}

/**
 * Check `text` as a ClassAd expression. `origin` is where it starts in the submit file when the text is
 * exactly what the file says (so columns are right); otherwise errors point at `fallback`.
 */
export function checkExpr(text: string, origin: Origin | undefined, fallback: Location, fallbackLine: string | undefined, what: string): CheckedExpr {
  if (classad) {
    try {
      const e = classad.parseExpr(text, origin);
      return { attrs: classad.referencedAttrs(e) };
    } catch (err) {
      if (err instanceof SourceError) {
        if (origin) throw err;
        throw new SourceError('SUBMIT_INVALID', `${what}: ${err.bareMessage} in '${text}'`, fallback, fallbackLine, { cause: err });
      }
      // a library bug must not break submission: fall through to the built-in reader
    }
  }
  try {
    const p = new MiniParser(lex(text));
    p.parseAll();
    return { attrs: p.attrs };
  } catch (err) {
    if (!(err instanceof MiniSyntaxError)) throw err;
    if (origin) {
      const before = text.slice(0, err.pos);
      const nl = before.lastIndexOf('\n');
      const line = origin.line + (before.match(/\n/g)?.length ?? 0);
      const column = nl < 0 ? origin.column + err.pos : err.pos - nl;
      throw new SourceError('CLASSAD_SYNTAX', `${what}: ${err.message}`, { file: origin.file, line, column }, line === origin.line ? origin.sourceLine : undefined);
    }
    throw new SourceError('SUBMIT_INVALID', `${what}: ${err.message} in '${text}'`, fallback, fallbackLine);
  }
}

/** Evaluate a constant expression (no ad). Returns JS: number, string, boolean, null (undefined), 'error' marker. */
export function evalConstant(text: string): number | string | boolean | null | { error: true } | unknown[] {
  if (classad) {
    try {
      const e = classad.parseExpr(text);
      const ad = new classad.ClassAd();
      const v = classad.valueToJS(ad.evalExpr(e));
      if (v === undefined) return null;
      return v as number | string | boolean | null;
    } catch {
      // fall back
    }
  }
  try {
    const v = new MiniParser(lex(text)).parseAll().eval();
    if (v === undefined || v === null) return null;
    return v as number | string | boolean | { error: true } | unknown[];
  } catch {
    return { error: true };
  }
}
