// ClassAd values. The representation is chosen for evaluation speed:
//   undefined → UNDEFINED (singleton)      error  → ERROR (singleton)
//   boolean   → JS boolean                 int    → JS bigint (always within signed 64 bits)
//   real      → JS number                  string → JS string
//   list      → ListValue (unevaluated element expressions + the scope they belong to, as HTCondor keeps them)
//   classad   → ClassAd
//   abstime   → AbsTime (epoch seconds + the zone offset it is shown in)   reltime → RelTime (seconds)
import type { Expr } from './ast.js';
import type { ClassAd } from './classad.js';

export class UndefinedValue {
  readonly kind = 'undefined' as const;
  toString(): string {
    return 'undefined';
  }
}
export class ErrorValue {
  readonly kind = 'error' as const;
  toString(): string {
    return 'error';
  }
}

export const UNDEFINED: UndefinedValue = Object.freeze(new UndefinedValue()) as UndefinedValue;
export const ERROR: ErrorValue = Object.freeze(new ErrorValue()) as ErrorValue;

/** A list value: the element expressions, evaluated lazily in `scope` (the ad the list literal belongs to). */
export class ListValue {
  constructor(
    readonly items: readonly Expr[],
    readonly scope?: ClassAd,
  ) {}
  get length(): number {
    return this.items.length;
  }
}

/** HTCondor's absolute time (abstime_t): whole epoch seconds and the offset east of UTC, in seconds, it is shown in. */
export class AbsTime {
  constructor(
    readonly secs: number,
    readonly offset: number,
  ) {}
}

/** HTCondor's relative time: a (possibly fractional) number of seconds. */
export class RelTime {
  constructor(readonly secs: number) {}
}

export type Value =
  UndefinedValue | ErrorValue | boolean | bigint | number | string | ListValue | ClassAd | AbsTime | RelTime;

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** Wrap to signed 64 bits, as C's long long arithmetic does on every platform HTCondor runs on. */
export function wrap64(v: bigint): bigint {
  return v >= INT64_MIN && v <= INT64_MAX ? v : BigInt.asIntN(64, v);
}

export function isUndefined(v: Value): v is UndefinedValue {
  return v === UNDEFINED;
}
export function isError(v: Value): v is ErrorValue {
  return v === ERROR;
}
/** undefined or error */
export function isExceptional(v: Value): v is UndefinedValue | ErrorValue {
  return v === UNDEFINED || v === ERROR;
}

/** Type name as HTCondor's Value::GetType would name it (used in messages and by =?=). */
export type ValueType =
  'undefined' | 'error' | 'boolean' | 'integer' | 'real' | 'string' | 'list' | 'classad' | 'abstime' | 'reltime';

export function typeOf(v: Value): ValueType {
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'integer';
    case 'number':
      return 'real';
    case 'string':
      return 'string';
    default:
      if (v === UNDEFINED) return 'undefined';
      if (v === ERROR) return 'error';
      if (v instanceof ListValue) return 'list';
      if (v instanceof AbsTime) return 'abstime';
      if (v instanceof RelTime) return 'reltime';
      return 'classad';
  }
}

/**
 * HTCondor's IsBooleanValueEquiv with old-ClassAd semantics (the default, STRICT_CLASSAD_EVALUATION = false):
 * booleans, and numbers as non-zero. Returns undefined when the value is not boolean-equivalent.
 */
export function boolEquiv(v: Value): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0; // NaN counts as true, as in C
  return undefined;
}

/** true for bool true and non-zero numbers (HTCondor EvalBool). */
export function isTrue(v: Value): boolean {
  return boolEquiv(v) === true;
}

/** The number a value stands for (booleans as 1/0), or undefined. */
export function toNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
