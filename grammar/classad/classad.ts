// The ClassAd: an ordered, case-insensitive map of attribute names to expressions, with an optional
// enclosing scope. Literal attributes keep their value ready, other attributes keep their compiled closure,
// so evaluation never re-parses or re-compiles.
import { isReservedWord, type Expr } from './ast.js';
import { compileFn } from './compile.js';
import { SPECIAL_NAMES, evalAttrTop, runTop } from './eval.js';
import { literal, valueToJS, exprToJSON } from './literal.js';
import { parseExpr, parseRecordText, parseAssignment, type Origin } from './parse.js';
import { quoteName, unparse } from './unparse.js';
import { type Value } from './value.js';
import { LookupSite, NOT_CONST, Shape, type AttrEntry } from './slots.js';

export { LookupSite, NOT_CONST, Shape, type AttrEntry };

export class ClassAd {
  /** @internal lower-case name → slot */
  private readonly index = new Map<string, number>();
  /** @internal entries in insertion order */
  slots: AttrEntry[] = [];
  /** @internal see Shape */
  shape: Shape = Shape.EMPTY;
  /** @internal how many attributes are named like a special scope (my, target, parent, ...) */
  specialCount = 0;

  constructor(readonly parent?: ClassAd) {}

  /** @internal the entry for a lower-case name */
  entry(key: string): AttrEntry | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.slots[i];
  }

  /** @internal the entry for a site's name, through the site's cache */
  entryAt(site: LookupSite): AttrEntry | undefined {
    if (this.shape !== site.shape) {
      site.shape = this.shape;
      site.index = this.index.get(site.key) ?? -1;
    }
    return site.index < 0 ? undefined : this.slots[site.index];
  }

  /** Set an attribute (names are case-insensitive; a new expression keeps the original spelling). */
  set(name: string, e: Expr): this {
    const key = name.toLowerCase();
    const i = this.index.get(key);
    const konst = e.kind === 'literal' ? e.value : NOT_CONST;
    if (i !== undefined) {
      // replace in place: entries are never shared between ads, closures stay cached per tree
      const old = this.slots[i]!;
      this.slots[i] = { name: old.name, expr: e, konst, fn: undefined, busy: false };
    } else {
      this.shape = this.shape.with(key, name);
      // the shape's strings, shared by every ad of this shape, when spelled the same
      const s = this.shape;
      this.index.set(s.key, this.slots.length);
      this.slots.push({ name: name === s.name ? s.name : name, expr: e, konst, fn: undefined, busy: false });
      if (SPECIAL_NAMES.has(key)) this.specialCount++;
    }
    return this;
  }

  /** Set an attribute to a literal made from a JS value (see literal()). */
  setValue(name: string, js: unknown): this {
    return this.set(name, literal(js));
  }

  /** Parse `text` as an expression and set it; syntax errors throw SourceError at origin. */
  setExprText(name: string, text: string, origin?: Origin): this {
    return this.set(name, parseExpr(text, origin));
  }

  get(name: string): Expr | undefined {
    return this.entry(name.toLowerCase())?.expr;
  }

  has(name: string): boolean {
    return this.index.has(name.toLowerCase());
  }

  delete(name: string): boolean {
    const key = name.toLowerCase();
    const at = this.index.get(key);
    if (at === undefined) return false;
    const rest = this.slots.filter((_, i) => i !== at);
    this.index.clear();
    this.slots = [];
    this.shape = Shape.EMPTY;
    this.specialCount = 0;
    for (const e of rest) {
      const k = e.name.toLowerCase();
      this.index.set(k, this.slots.length);
      this.slots.push(e);
      this.shape = this.shape.with(k);
      if (SPECIAL_NAMES.has(k)) this.specialCount++;
    }
    return true;
  }

  /** Attribute names in their original case, in insertion order. */
  names(): string[] {
    return this.slots.map((e) => e.name);
  }

  /** @internal entries in insertion order */
  entries(): AttrEntry[] {
    return this.slots.slice();
  }

  get size(): number {
    return this.slots.length;
  }

  /** The value of an attribute (MY is this ad, TARGET is `target`); missing → undefined. */
  evaluate(name: string, target?: ClassAd): Value {
    return evalAttrTop(this, name.toLowerCase(), target);
  }

  /** Evaluate an expression (or expression text) with this ad as MY. */
  evalExpr(e: Expr | string, target?: ClassAd): Value {
    const tree = typeof e === 'string' ? parseExpr(e) : e;
    return runTop(compileFn(tree), this, target);
  }

  /** valueToJS(evaluate(name)) */
  lookupJS(name: string): unknown {
    return valueToJS(this.evaluate(name));
  }

  /** name → unparsed expression text: the wire and storage form. */
  toRecord(): Record<string, string> {
    const r: Record<string, string> = {};
    for (const e of this.slots) r[e.name] = unparse(e.expr);
    return r;
  }

  static fromRecord(r: Record<string, string>): ClassAd {
    const ad = new ClassAd();
    for (const name of Object.keys(r)) {
      const text = r[name]!;
      let e: Expr;
      try {
        e = parseExpr(text);
      } catch {
        // the error names the attribute: its origin is made only then (daemons parse ads all the time)
        e = parseExpr(text, { file: `<attribute ${name}>`, line: 1, column: 1 });
      }
      ad.set(name, e);
    }
    return ad;
  }

  /** Literal values as JSON values; any other expression as "/Expr(<text>)/", as condor_q -json writes. */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const e of this.slots) o[e.name] = exprToJSON(e.expr);
    return o;
  }

  /** HTCondor's long form: `Attr = expr` lines sorted by name, each ending in a newline. */
  toLong(): string {
    // by the lower-case names the index holds (made once, not in every comparison)
    const keys = [...this.index.keys()].sort();
    let s = '';
    for (const k of keys) {
      const e = this.slots[this.index.get(k)!]!;
      s += `${quoteName(e.name)} = ${unparse(e.expr)}\n`;
    }
    return s;
  }

  /** The new-ClassAd form `[ a = 1; b = "x" ]`, attributes in insertion order. */
  toString(): string {
    return unparse({ kind: 'record', attrs: [...this.slots].map((e) => [e.name, e.expr] as const) });
  }

  /** A copy with the same attributes (trees are immutable and shared) and the same parent. */
  clone(): ClassAd {
    const ad = new ClassAd(this.parent);
    for (const e of this.slots) ad.set(e.name, e.expr);
    return ad;
  }

  /** Copy every attribute of `other` into this ad (HTCondor's Update). */
  update(other: ClassAd): this {
    for (const e of other.slots) this.set(e.name, e.expr);
    return this;
  }
}

const SIMPLE_ASSIGNMENT = /^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(?![=?]|!=)[ \t]*/;

/**
 * Parse an ad: either `[ a = 1; b = "x" ]` or HTCondor's long form, one `Attr = expr` per line
 * (blank lines and lines starting with # ignored). Errors throw SourceError at file:line:column; pass an
 * Origin instead of a file name when the text sits inside a bigger file.
 */
export function parseClassAd(text: string, where: string | Origin = '<classad>'): ClassAd {
  const origin: Origin = typeof where === 'string' ? { file: where, line: 1, column: 1 } : where;
  const start = /^\s*/.exec(text)![0].length;
  if (text[start] === '[') {
    const tree = parseRecordText(text, origin);
    const ad = new ClassAd();
    if (tree.kind === 'record') for (const [n, e] of tree.attrs) ad.set(n, e);
    return ad;
  }
  const ad = new ClassAd();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    // a line of the text, placed where it sits in the file
    const lineNo = origin.line + i;
    const col0 = i === 0 ? origin.column - 1 : 0;
    const sourceLine = i === 0 && origin.sourceLine !== undefined ? origin.sourceLine : ' '.repeat(col0) + line;
    const m = SIMPLE_ASSIGNMENT.exec(line);
    if (m && !isReservedWord(m[1]!)) {
      // `Name = expr`: parse the expression alone (fast paths, shared trees)
      ad.set(
        m[1]!,
        parseExpr(line.slice(m[0].length), {
          file: origin.file,
          line: lineNo,
          column: col0 + m[0].length + 1,
          sourceLine,
        }),
      );
      continue;
    }
    const [name, e] = parseAssignment(line, { file: origin.file, line: lineNo, column: col0 + 1, sourceLine });
    ad.set(name, e);
  }
  return ad;
}
