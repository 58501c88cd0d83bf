// Compiles expression trees into closures, once per tree (cached by identity), so matchmaking evaluates
// without walking or re-parsing the tree.
//
// Speed comes from three things:
//  - attribute references carry a LookupSite (pre-lowercased name + the slot it had in the last ad shape seen),
//    so a reference into an ad shaped like the last one is an array index, not a hash lookup;
//  - comparisons read simple operands (literals, x, MY.x, TARGET.x) through one small function the optimiser
//    inlines, instead of calling a closure per operand;
//  - chains of && and || are flattened into one closure.
// Everything else is a plain closure per node. Values are not boxed: booleans and numbers are JS primitives.
import type { BinaryExpr, Expr } from './ast.js';
import { ClassAd } from './classad.js';
import { LookupSite, NOT_CONST } from './slots.js';
import {
  Ctx,
  SPECIAL_NAMES,
  andRest,
  arith,
  bitNot,
  bitwise,
  compare,
  evalEntry,
  intArith,
  logicalNot,
  lookup,
  lookupRest,
  metaEqual,
  metaNotEqual,
  orRest,
  rootOf,
  runTop,
  select,
  strcasecmp,
  subscriptValue,
  targetOf,
  unaryMinus,
  unaryPlus,
  type ArithOp,
  type BitOp,
  type CompareOp,
} from './eval.js';
import { generate, worthGenerating } from './codegen.js';
import { callFunction, lookupFunction } from './functions.js';
import { ERROR, UNDEFINED, ListValue, boolEquiv, type Value } from './value.js';

export type CompiledFn = (c: Ctx) => Value;

const cache = new WeakMap<Expr, CompiledFn>();
const closureCache = new WeakMap<Expr, CompiledFn>();
let codegenEnabled = true;

/**
 * Generated code by tree structure: the 100,000 jobs of a cluster parse 100,000 equal Requirements trees, and
 * they share one generated function (generating one costs far more than evaluating it).
 */
const byStructure = new Map<string, CompiledFn>();
const MAX_SHARED = 10_000;

/** An exact structural key for a tree (reals by their full value, not their printed form). */
function structureKey(e: Expr): string {
  return JSON.stringify(e, (_k, v: unknown) => {
    switch (typeof v) {
      case 'bigint':
        return `i:${v}`;
      case 'number':
        return `r:${Object.is(v, -0) ? '-0' : String(v)}`;
      case 'string':
        return `s:${v}`;
      default:
        if (v === UNDEFINED) return 'u';
        if (v === ERROR) return 'e';
        return v;
    }
  });
}

function generated(e: Expr): CompiledFn {
  const key = structureKey(e);
  let fn = byStructure.get(key);
  if (!fn) {
    fn = generate(e, closureFn);
    if (byStructure.size >= MAX_SHARED) byStructure.delete(byStructure.keys().next().value!);
    byStructure.set(key, fn);
  }
  return fn;
}

/** Turn generated code off (everything runs as closures) or on; for tests comparing the two. */
export function setCodegen(enabled: boolean): void {
  codegenEnabled = enabled;
}

/**
 * The evaluator for a tree, made on first use and then shared by every ad holding the same tree: generated
 * code for trees with operators (see codegen.ts), closures for the rest.
 */
export function compileFn(e: Expr): CompiledFn {
  let fn = cache.get(e);
  if (!fn) {
    fn = codegenEnabled && worthGenerating(e) ? generated(e) : closureFn(e);
    if (codegenEnabled) cache.set(e, fn);
  }
  return fn;
}

/** The closure-compiled evaluator for a tree (no generated code). */
export function closureFn(e: Expr): CompiledFn {
  let fn = closureCache.get(e);
  if (!fn) {
    fn = build(e);
    closureCache.set(e, fn);
  }
  return fn;
}

/** Compile once, evaluate many times: MY is `my`, TARGET is `target`. */
export function compile(e: Expr): (my: ClassAd, target?: ClassAd) => Value {
  const fn = compileFn(e);
  return (my, target) => runTop(fn, my, target);
}

// ---- operands ----------------------------------------------------------------------------------------------

const K_LIT = 0;
const K_UNSCOPED = 1;
const K_TARGET = 2;
const K_MY = 3;
const K_FN = 4;

/** A comparison operand, read by read() without a closure call for the simple kinds. */
class Operand {
  constructor(
    readonly kind: number,
    readonly value: Value,
    readonly site: LookupSite,
    readonly alt: LookupSite,
    readonly fn: CompiledFn,
  ) {}
}

const NO_SITE = new LookupSite('');
const NO_FN: CompiledFn = () => ERROR;

function operand(e: Expr): Operand {
  while (e.kind === 'paren') e = e.expr;
  if (e.kind === 'literal') return new Operand(K_LIT, e.value, NO_SITE, NO_SITE, NO_FN);
  if (e.kind === 'attr' && !e.absolute) {
    const key = e.name.toLowerCase();
    if (!e.scope) return new Operand(K_UNSCOPED, UNDEFINED, new LookupSite(key), new LookupSite(key), closureFn(e));
    const s = e.scope;
    if (s.kind === 'attr' && !s.scope && !s.absolute) {
      const sk = s.name.toLowerCase();
      if (sk === 'target') return new Operand(K_TARGET, UNDEFINED, new LookupSite(key), NO_SITE, closureFn(e));
      if (sk === 'my') return new Operand(K_MY, UNDEFINED, new LookupSite(key), NO_SITE, closureFn(e));
    }
  }
  return new Operand(K_FN, UNDEFINED, NO_SITE, NO_SITE, closureFn(e));
}

/** The value of an operand. The common cases (a literal attribute of an ad shaped as last time) stay inline. */
function read(c: Ctx, o: Operand): Value {
  const kind = o.kind;
  if (kind === K_LIT) return o.value;
  if (kind !== K_FN) {
    const ad = c.ad;
    if (ad !== undefined && ad.specialCount === 0) {
      const a = kind === K_TARGET ? (ad === c.my ? c.target : targetOf(c, ad)) : ad;
      if (a !== undefined) {
        const site = o.site;
        if (a.shape === site.shape && site.index >= 0) {
          const k = a.slots[site.index]!.konst;
          if (k !== NOT_CONST) return k;
        }
      }
    }
  }
  return o.fn(c);
}

// ---- nodes -------------------------------------------------------------------------------------------------

function build(e: Expr): CompiledFn {
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'paren':
      return closureFn(e.expr);
    case 'attr':
      return buildAttr(e.name, e.scope, e.absolute === true);
    case 'unary': {
      const f = closureFn(e.operand);
      switch (e.op) {
        case '-':
          return (c) => unaryMinus(f(c));
        case '+':
          return (c) => unaryPlus(f(c));
        case '!':
          return (c) => {
            const v = f(c);
            return typeof v === 'boolean' ? !v : logicalNot(v);
          };
        case '~':
          return (c) => bitNot(f(c));
      }
      break;
    }
    case 'binary':
      return buildBinary(e);
    case 'cond': {
      const t = closureFn(e.test);
      const x = closureFn(e.else);
      if (!e.then) {
        // elvis: the test's value unless it is undefined
        return (c) => {
          const v = t(c);
          return v === UNDEFINED ? x(c) : v;
        };
      }
      const y = closureFn(e.then);
      return (c) => {
        const v = t(c);
        if (v === true) return y(c);
        if (v === false) return x(c);
        const b = boolEquiv(v);
        if (b === undefined) return v === UNDEFINED ? UNDEFINED : ERROR;
        return b ? y(c) : x(c);
      };
    }
    case 'subscript': {
      const b = closureFn(e.base);
      const i = closureFn(e.index);
      return (c) => subscriptValue(c, b(c), i(c));
    }
    case 'call': {
      const def = lookupFunction(e.name);
      if (!def) return () => ERROR; // unknown function: the error value, as in HTCondor
      const args = e.args.map(compileFn);
      const exprs = e.args;
      return (c) => callFunction(def, c, args, exprs);
    }
    case 'list': {
      const items = e.items;
      return (c) => new ListValue(items, c.ad);
    }
    case 'record': {
      const attrs = e.attrs;
      return (c) => {
        const ad = new ClassAd(c.ad);
        for (const [n, x] of attrs) ad.set(n, x);
        return ad;
      };
    }
  }
  return () => ERROR;
}

function buildAttr(name: string, scope: Expr | undefined, absolute: boolean): CompiledFn {
  const key = name.toLowerCase();
  if (absolute) return (c) => (c.ad ? lookup(c, rootOf(c.ad), key, false) : UNDEFINED);
  if (!scope) {
    const site = new LookupSite(key);
    const altSite = new LookupSite(key);
    return (c) => {
      const ad = c.ad;
      if (ad === undefined) return UNDEFINED;
      const e = ad.entryAt(site);
      if (e !== undefined) {
        const k = e.konst;
        return k !== NOT_CONST ? k : evalEntry(c, ad, e);
      }
      return lookupRest(c, ad, key, true, altSite);
    };
  }
  // MY.x and TARGET.x: resolve the scope directly unless the ad defines an attribute of that name
  if (scope.kind === 'attr' && !scope.scope && !scope.absolute) {
    const s = scope.name.toLowerCase();
    if (s === 'target') {
      const site = new LookupSite(key);
      return (c) => {
        const ad = c.ad;
        if (ad === undefined) return UNDEFINED;
        if (ad.specialCount === 0) {
          const t = targetOf(c, ad);
          if (t === undefined) return UNDEFINED;
          const e = t.entryAt(site);
          if (e !== undefined) {
            const k = e.konst;
            return k !== NOT_CONST ? k : evalEntry(c, t, e);
          }
          return lookupRest(c, t, key, false);
        }
        return select(c, lookup(c, ad, 'target', true), key);
      };
    }
    if (s === 'my' || s === 'self') {
      const site = new LookupSite(key);
      return (c) => {
        const ad = c.ad;
        if (ad === undefined) return UNDEFINED;
        if (ad.specialCount === 0) {
          const e = ad.entryAt(site);
          if (e !== undefined) {
            const k = e.konst;
            return k !== NOT_CONST ? k : evalEntry(c, ad, e);
          }
          return lookupRest(c, ad, key, false);
        }
        return select(c, lookup(c, ad, s, true), key);
      };
    }
  }
  const base = closureFn(scope);
  return (c) => select(c, base(c), key);
}

/** The operands of a left-nested chain of the same operator: a && b && c → [a, b, c]. */
function flatten(e: Expr, op: '&&' | '||'): Expr[] {
  const out: Expr[] = [];
  while (e.kind === 'binary' && e.op === op) {
    out.push(e.right);
    e = e.left;
  }
  out.push(e);
  return out.reverse();
}

function buildAnd(terms: CompiledFn[]): CompiledFn {
  if (terms.length === 2) {
    const [l, r] = terms as [CompiledFn, CompiledFn];
    return (c) => andStep(l(c), r, c);
  }
  const n = terms.length;
  return (c) => {
    // left-associative: fold the value so far with each further term
    let v = terms[0]!(c);
    for (let i = 1; i < n; i++) v = andStep(v, terms[i]!, c);
    return v;
  };
}

function andStep(a: Value, r: CompiledFn, c: Ctx): Value {
  if (a === false) return false;
  if (a === true) {
    const b = r(c);
    return typeof b === 'boolean' ? b : andRest(true, b);
  }
  if (boolEquiv(a) === false) return false;
  return andRest(a, r(c));
}

function buildOr(terms: CompiledFn[]): CompiledFn {
  const n = terms.length;
  return (c) => {
    let v = terms[0]!(c);
    for (let i = 1; i < n; i++) v = orStep(v, terms[i]!, c);
    return v;
  };
}

function orStep(a: Value, r: CompiledFn, c: Ctx): Value {
  if (a === true) return true;
  if (a === false) {
    const b = r(c);
    return typeof b === 'boolean' ? b : orRest(false, b);
  }
  if (boolEquiv(a) === true) return true;
  return orRest(a, r(c));
}

function buildBinary(e: BinaryExpr): CompiledFn {
  const op = e.op;
  if (op === '&&') return buildAnd(flatten(e, '&&').map(compileFn));
  if (op === '||') return buildOr(flatten(e, '||').map(compileFn));
  switch (op) {
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return buildCompare(op, e);
  }
  const l = closureFn(e.left);
  const r = closureFn(e.right);
  switch (op) {
    case '=?=':
      return (c) => metaEqual(l(c), r(c));
    case '=!=':
      return (c) => metaNotEqual(l(c), r(c));
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const aop: ArithOp = op;
      return (c) => {
        const a = l(c);
        const b = r(c);
        if (typeof a === 'bigint' && typeof b === 'bigint') return intArith(aop, a, b);
        return arith(aop, a, b);
      };
    }
    default: {
      const bop: BitOp = op;
      return (c) => bitwise(bop, l(c), r(c));
    }
  }
}

function buildCompare(op: CompareOp, e: BinaryExpr): CompiledFn {
  const L = operand(e.left);
  const R = operand(e.right);
  if ((op === '==' || op === '!=') && R.kind === K_LIT && typeof R.value === 'string') {
    // attr == "literal": the common shape in Requirements
    const k = R.value;
    const eq = op === '==';
    return (c) => {
      const a = read(c, L);
      if (typeof a === 'string') return (a === k || strcasecmp(a, k) === 0) === eq;
      return compare(op, a, k);
    };
  }
  switch (op) {
    case '>=':
      return (c) => {
        const a = read(c, L);
        const b = read(c, R);
        return typeof a === 'bigint' && typeof b === 'bigint' ? a >= b : compare(op, a, b);
      };
    case '<=':
      return (c) => {
        const a = read(c, L);
        const b = read(c, R);
        return typeof a === 'bigint' && typeof b === 'bigint' ? a <= b : compare(op, a, b);
      };
    case '>':
      return (c) => {
        const a = read(c, L);
        const b = read(c, R);
        return typeof a === 'bigint' && typeof b === 'bigint' ? a > b : compare(op, a, b);
      };
    case '<':
      return (c) => {
        const a = read(c, L);
        const b = read(c, R);
        return typeof a === 'bigint' && typeof b === 'bigint' ? a < b : compare(op, a, b);
      };
    default:
      return (c) => compare(op, read(c, L), read(c, R));
  }
}

export { SPECIAL_NAMES };
