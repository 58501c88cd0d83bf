// A job ad read straight from its attribute texts (the wire's and the queue's form), for views that read a
// few attributes of many ads (dq -af, -format, the queue table). Most of what they read are literals (ids,
// owner, status, dates), whose value is the same in any ad: those are answered from the text alone, and the
// whole ClassAd is built only for an ad where something else is asked (an expression, an attribute that
// refers to others). Building a ClassAd of every job was most of `dq -af ClusterId`'s time over a large
// queue, and most of its garbage.
import { isReservedWord, type Expr } from './ast.js';
import type { ClassAd } from './classad.js';
import { SPECIAL_NAMES } from './eval.js';
import { adOfRecord, parsedText, type OnUnreadable } from './json-text.js';
import { valueToJS } from './literal.js';
import { UNDEFINED, type Value } from './value.js';

/** What a name of a record's set of names is in it: its own spelling (ClassAd names ignore case), or none. */
type Names = Map<string, string>;

/** Per set of names (a cluster's jobs share theirs), bounded; undefined when two names differ only in case. */
const namesOf = new Map<string, Names | undefined>();
function names(rec: Record<string, string>): Names | undefined {
  const keys = Object.keys(rec);
  const id = keys.join('\n');
  let n = namesOf.get(id);
  if (n === undefined && !namesOf.has(id)) {
    n = new Map(keys.map((k) => [k.toLowerCase(), k]));
    if (n.size !== keys.length) n = undefined;
    if (namesOf.size >= 1000) namesOf.clear();
    namesOf.set(id, n);
  }
  return n;
}

/** The attribute `e` names in the ad itself (no scope, not .name; text as a name, not true or undefined). */
const plainAttr = (e: Expr | string): string | undefined =>
  typeof e === 'string'
    ? /^[A-Za-z_][A-Za-z0-9_]*$/.test(e) && !isReservedWord(e)
      ? e
      : undefined
    : e.kind === 'attr' && e.scope === undefined && e.absolute !== true
      ? e.name
      : undefined;

const NOT_LITERAL = Symbol('not a literal');

export class RecordAd {
  private ad: ClassAd | undefined;
  private readonly names: Names | undefined;
  constructor(
    readonly record: Record<string, string>,
    /** told of an attribute whose text does not parse; the ad is then made without it (see adOfRecord) */
    private readonly onUnreadable?: OnUnreadable,
  ) {
    this.names = names(record);
  }

  /** The ClassAd of the record, made on first need. */
  classAd(): ClassAd {
    return (this.ad ??= adOfRecord(this.record, this.onUnreadable));
  }

  /** The value of a plain attribute answered from its text, or NOT_LITERAL when the ClassAd must answer. */
  private literal(e: Expr | string): Value | typeof NOT_LITERAL {
    const name = this.ad || !this.names ? undefined : plainAttr(e);
    if (name === undefined) return NOT_LITERAL;
    const key = name.toLowerCase();
    // my, target, currenttime, …: ClassAd's own meanings, whatever the record holds
    if (SPECIAL_NAMES.has(key)) return NOT_LITERAL;
    const own = this.names!.get(key);
    // a name the ad lacks is undefined in an ad with no parent and no target
    if (own === undefined) return UNDEFINED;
    const text = this.record[own]!;
    let x: Expr;
    try {
      x = parsedText(own, text);
    } catch {
      return NOT_LITERAL; // the ClassAd reports the syntax error as it always has
    }
    return x.kind === 'literal' ? x.value : NOT_LITERAL;
  }

  evalExpr(e: Expr | string, target?: ClassAd): Value {
    const v = target ? NOT_LITERAL : this.literal(e);
    return v === NOT_LITERAL ? this.classAd().evalExpr(e, target) : v;
  }

  evaluate(name: string): Value {
    const v = this.literal(name);
    return v === NOT_LITERAL ? this.classAd().evaluate(name) : v;
  }

  lookupJS(name: string): unknown {
    return valueToJS(this.evaluate(name));
  }

  get(name: string): Expr | undefined {
    return this.classAd().get(name);
  }
}
