// Attribute storage shared by ClassAd and the compiler (a leaf module, so both can use it at load time).
import type { Expr } from './ast.js';
import type { CompiledFn } from './compile.js';
import type { Value } from './value.js';

/** Marker for "not a literal" in AttrEntry.konst. */
export const NOT_CONST: unique symbol = Symbol('not-const');

/** One attribute of an ad. */
export interface AttrEntry {
  /** the name as first set (printing keeps this case) */
  name: string;
  expr: Expr;
  /** the value when expr is a literal, else NOT_CONST */
  konst: Value | typeof NOT_CONST;
  /** compiled closure, filled on first evaluation */
  fn: CompiledFn | undefined;
  /** being evaluated right now (a second entry means a cycle) */
  busy: boolean;
}

/**
 * The layout of an ad's attributes (which lower-case name sits at which slot), shared by every ad built with
 * the same names in the same order, like a JS engine's hidden classes. A reference site remembers the last
 * shape it saw and the slot the name had there, so evaluating the same expression over many alike ads
 * (every slot of a pool, every job of a cluster) looks no name up twice.
 */
export class Shape {
  private readonly next = new Map<string, Shape>();
  /**
   * `key`: the lower-case name added last, `name`: its first spelling. Ads of one shape keep these strings
   * rather than their own copies (a daemon holds thousands of ads with the same names).
   */
  private constructor(
    readonly size: number,
    readonly key: string,
    readonly name: string,
  ) {}
  static readonly EMPTY = new Shape(0, '', '');
  /** The shape after adding `key` (lower-case; spelled `name`) at the end. */
  with(key: string, name = key): Shape {
    let s = this.next.get(key);
    if (!s) {
      s = new Shape(this.size + 1, key, name);
      this.next.set(key, s);
    }
    return s;
  }
}

/** A reference site's one-entry cache: in ads of `shape`, the name is at `index` (-1: absent). */
export class LookupSite {
  shape: Shape | undefined = undefined;
  index = -1;
  constructor(readonly key: string) {}
}
