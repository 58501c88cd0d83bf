// Conversions between JS values and ClassAd literals/values.
import { list, lit, record, type Expr } from './ast.js';
import { ClassAd } from './classad.js';
import { Ctx, listValues } from './eval.js';
import { unparse } from './unparse.js';
import { absTimeToString, relTimeToString } from './time.js';
import { AbsTime, ERROR, RelTime, UNDEFINED, ListValue, type Value } from './value.js';

/**
 * A JS value as a literal expression: integral numbers → int, other numbers → real, bigint → int,
 * string, boolean, null/undefined → undefined, arrays → lists, plain objects → nested ads.
 * ClassAds and list values become the equivalent literal trees.
 */
export function literal(js: unknown): Expr {
  switch (typeof js) {
    case 'number':
      return Number.isInteger(js) && Math.abs(js) <= Number.MAX_SAFE_INTEGER ? lit(BigInt(js)) : lit(js);
    case 'bigint':
      return lit(BigInt.asIntN(64, js));
    case 'string':
      return lit(js);
    case 'boolean':
      return lit(js);
    case 'undefined':
      return lit(UNDEFINED);
    case 'object':
      if (js === null) return lit(UNDEFINED);
      if (js === UNDEFINED) return lit(UNDEFINED);
      if (js === ERROR) return lit(ERROR);
      if (js instanceof ClassAd) return record(js.entries().map((e) => [e.name, e.expr] as const));
      if (js instanceof ListValue) return list(js.items);
      if (Array.isArray(js)) return list(js.map(literal));
      return record(Object.entries(js as Record<string, unknown>).map(([k, v]) => [k, literal(v)] as const));
    default:
      return lit(ERROR);
  }
}

/** A value for JSON output: numbers, strings, booleans, null for undefined and error, arrays, objects; times as their text. */
export function valueToJS(v: Value): unknown {
  switch (typeof v) {
    case 'bigint':
      return Number(v);
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    default:
      if (v === UNDEFINED || v === ERROR) return null;
      if (v instanceof AbsTime) return absTimeToString(v);
      if (v instanceof RelTime) return relTimeToString(v.secs);
      if (v instanceof ListValue) {
        const c = new Ctx(v.scope, v.scope, undefined);
        return listValues(c, v).map(valueToJS);
      }
      if (v instanceof ClassAd) {
        const o: Record<string, unknown> = {};
        for (const n of v.names()) o[n] = valueToJS(v.evaluate(n));
        return o;
      }
      return null;
  }
}

/** An attribute's expression as condor_q -json writes it: literals as JSON, others as "/Expr(<text>)/". */
export function exprToJSON(e: Expr): unknown {
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'number' && !Number.isFinite(v)) break;
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
      if (v === UNDEFINED) return null;
      break;
    }
    case 'list':
      return e.items.map(exprToJSON);
    case 'record': {
      const o: Record<string, unknown> = {};
      for (const [n, x] of e.attrs) o[n] = exprToJSON(x);
      return o;
    }
  }
  return `/Expr(${unparse(e)})/`;
}
