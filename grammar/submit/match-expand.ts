// Match-time substitution, HTCondor's `$$(Attr)`, `$$(Attr:default)` and `$$([expr])`: the submit side keeps
// them verbatim in the job's string attributes (macros.ts), and they are filled in from the ad of the slot
// the job runs on, when it meets that slot. Pure: the startd calls it with the claimed slot's ad (made only
// for a job that has a reference).
//
// As HTCondor does: every string-valued job attribute except the `MATCH_*` records is expanded, once, left to
// right (a substituted value is not searched again); `$$(Attr)` takes the slot's value of Attr (a string's
// text, else the expression as written) and records it as `MATCH_<Attr>`; `$$(Attr:default)` takes the
// default when the slot has no Attr; `$$([expr])` evaluates `string(expr)` with the job as MY and the slot as
// TARGET (unscoped names fall back to the slot); `$$(DOLLARDOLLAR)` is a literal `$$`. Each expanded
// attribute is recorded as `MATCH_EXP_<Attr>`. A reference that cannot be filled in holds the job. V2
// `Arguments` and `Environment` are filled in word by word (expandWords).
import { ClassAd, parseExpr, printValue, unparse, type Expr, type Value } from '../classad/index.js';
import { joinV2Raw, quoteV2Word, splitV2Raw } from './args-env.js';
import { matchRefEnd } from '../../lib/file-list.js';

/** An expanded attribute larger than this holds the job (nothing else bounds a slot's values or an expression's). */
export const MAX_EXPANDED_CHARS = 1 << 20;
/** More references than this in one ad hold the job. */
export const MAX_MATCH_REFS = 10_000;

export type MatchExpansion =
  /** the job ad with its references filled in (and the `MATCH_*` records), and those records alone */
  | { ad: ClassAd; attrs: Record<string, string> }
  /** why the job cannot run on this slot */
  | { error: string };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A reference as a hold reason quotes it: bounded, whatever the job wrote. */
function shown(ref: string): string {
  return ref.length > 200 ? `${ref.slice(0, 190)}…${ref.slice(-9)}` : ref;
}

/** The text a slot attribute puts in place of `$$(Attr)`: a literal's value, else the expression as written. */
function slotText(e: Expr): string {
  if (e.kind === 'literal') return typeof e.value === 'string' ? e.value : printValue(e.value);
  return unparse(e);
}

/** What one expansion of an ad carries along: the slot (made when first needed), the records, the count. */
interface Scope {
  job: ClassAd;
  slot: () => ClassAd;
  slotName: string;
  records: Map<string, Expr>;
  refs: number;
}

class Refused {
  constructor(readonly error: string) {}
}

/** `s` with its references filled in; `undefined` when it has none. Throws Refused. */
function expandText(s: string, attr: string, sc: Scope): string | undefined {
  let j = s.indexOf('$$(');
  if (j < 0) return undefined;
  let out = '';
  let i = 0;
  let n = 0;
  for (; j >= 0; j = s.indexOf('$$(', i)) {
    const end = matchRefEnd(s, j + 2);
    if (end < 0) break; // not a reference (the submit side refuses an unterminated one): kept as it is
    if (++sc.refs > MAX_MATCH_REFS) throw new Refused(`The job has more than ${MAX_MATCH_REFS} $$() references`);
    const ref = shown(s.slice(j, end + 1));
    const value = referenceValue(s.slice(j + 3, end), ref, attr, sc);
    if (value.includes('\0')) throw new Refused(`Cannot expand ${ref} in ${attr}: its value holds a NUL character`);
    out += s.slice(i, j) + value;
    i = end + 1;
    n++;
    if (out.length > MAX_EXPANDED_CHARS) throw tooLarge(attr);
  }
  return n ? out + s.slice(i) : undefined;
}

function tooLarge(attr: string): Refused {
  return new Refused(`Cannot expand ${attr}: it expands to more than ${MAX_EXPANDED_CHARS} characters`);
}

/** The text in place of one reference (`body` is what the parentheses hold). */
function referenceValue(body: string, ref: string, attr: string, sc: Scope): string {
  const fail = (why: string) => new Refused(`Cannot expand ${ref} in ${attr}: ${why}`);
  if (body.startsWith('[')) {
    let tree: Expr;
    try {
      tree = parseExpr(body.slice(1, -1), { file: `<${attr}>`, line: 1, column: 1 });
    } catch (err) {
      throw fail((err as Error).message.split('\n')[0]!);
    }
    let v: Value;
    try {
      v = sc.job.evalExpr({ kind: 'call', name: 'string', args: [tree] }, sc.slot());
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (typeof v !== 'string') throw fail(`it evaluates to ${printValue(v)} against ${sc.slotName}`);
    return v;
  }
  const colon = body.indexOf(':');
  const name = (colon < 0 ? body : body.slice(0, colon)).trim();
  if (!NAME_RE.test(name))
    throw fail(`'${shown(name)}' is not an attribute name (name a slot attribute without MY. or TARGET.)`);
  if (name.toUpperCase() === 'DOLLARDOLLAR') return '$$';
  const se = sc.slot().get(name);
  if (se) {
    sc.records.set(`MATCH_${name}`, se);
    return slotText(se);
  }
  if (colon >= 0) return body.slice(colon + 1);
  throw fail(`${sc.slotName} has no attribute ${shown(name)}, and no default is given`);
}

/**
 * V2 arguments and environment are expanded word by word, so a value with spaces or quotes stays one
 * argument (one variable) and an expression's spaces, which the stored form quotes, read as written.
 */
function expandWords(s: string, attr: string, sc: Scope, join: (words: string[]) => string): string | undefined {
  let words: string[];
  try {
    words = splitV2Raw(s);
  } catch {
    return expandText(s, attr, sc); // not V2 after all: as text, as for any other attribute
  }
  let changed = false;
  let size = 0;
  const out = words.map((w) => {
    const x = expandText(w, attr, sc);
    if (x !== undefined) changed = true;
    size += (x ?? w).length;
    if (size > MAX_EXPANDED_CHARS) throw tooLarge(attr);
    return x ?? w;
  });
  return changed ? join(out) : undefined;
}

/**
 * Fill in the `$$()` references of `job` from the slot's ad; `undefined` when the job has none (the usual
 * case, at the cost of one look at each string attribute). `slotName` names the slot in the reasons.
 */
export function expandMatchRefs(job: ClassAd, slotAd: () => ClassAd, slotName: string): MatchExpansion | undefined {
  let slot: ClassAd | undefined;
  const sc: Scope = { job, slot: () => (slot ??= slotAd()), slotName, records: new Map(), refs: 0 };
  let ad: ClassAd | undefined;
  try {
    for (const attr of job.names()) {
      if (/^match_/i.test(attr)) continue;
      const e = job.get(attr);
      if (!e || e.kind !== 'literal' || typeof e.value !== 'string' || !e.value.includes('$$(')) continue;
      const key = attr.toLowerCase();
      const out =
        key === 'arguments'
          ? expandWords(e.value, attr, sc, joinV2Raw)
          : key === 'environment'
            ? expandWords(e.value, attr, sc, (w) => w.map(quoteV2Word).join(' '))
            : expandText(e.value, attr, sc);
      if (out === undefined) continue;
      if (out.length > MAX_EXPANDED_CHARS) throw tooLarge(attr);
      ad ??= job.clone();
      ad.setValue(attr, out);
      sc.records.set(`MATCH_EXP_${attr}`, { kind: 'literal', value: out });
    }
  } catch (e) {
    if (e instanceof Refused) return { error: e.error };
    throw e;
  }
  if (!ad) return undefined;
  const attrs: Record<string, string> = {};
  for (const [name, e] of sc.records) {
    ad.set(name, e);
    attrs[name] = unparse(e);
  }
  return { ad, attrs };
}

/**
 * Whether `value` is what filling in the `$$()` references of `template` can give: the text around the
 * references kept, in order, and only the references replaced (by anything). The schedd checks so the values a
 * startd says it filled in (Schedd.FetchInput) change only what the job left to the slot. No regular
 * expression: the pieces are found left to right, which is exact for wildcards that match any text.
 */
export function fillsTemplate(template: string, value: string): boolean {
  const pieces: string[] = [];
  let i = 0;
  for (let j = template.indexOf('$$('); j >= 0; j = template.indexOf('$$(', i)) {
    const end = matchRefEnd(template, j + 2);
    if (end < 0) break;
    pieces.push(template.slice(i, j));
    i = end + 1;
  }
  if (!pieces.length) return template === value;
  const last = template.slice(i);
  if (!value.startsWith(pieces[0]!) || !value.endsWith(last)) return false;
  let at = pieces[0]!.length;
  for (const p of pieces.slice(1)) {
    const k = value.indexOf(p, at);
    if (k < 0) return false;
    at = k + p.length;
  }
  return at <= value.length - last.length;
}
