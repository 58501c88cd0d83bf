// Job ads as condor_q -json writes them (HTCondor attribute names, keys sorted case-insensitively, literal
// values as JSON, other expressions as "/Expr(<text>)/"), straight from records of attribute texts. Both ends
// of a query write it: the schedd, which renders a listing once for every reader of the same view, and dq,
// when a schedd sends ads. One module, so the two can never differ by a byte.
import { ClassAd } from './classad.js';
import { parseExpr } from './parse.js';
import type { Expr } from './ast.js';
import { sortKeys } from './json-keys.js';

/** Expressions by text (bounded): the ads of a listing repeat their cluster's forty texts, each parsed once. */
const parsedTexts = new Map<string, Expr>();

/** The expression of attribute `name`'s text, a text seen before not parsed again (expressions are never changed). */
export function parsedText(name: string, text: string): Expr {
  let e = parsedTexts.get(text);
  if (!e) {
    e = parseExpr(text, { file: `<attribute ${name}>`, line: 1, column: 1 });
    if (text.length <= 4096) {
      if (parsedTexts.size >= 20_000) parsedTexts.clear();
      parsedTexts.set(text, e);
    }
  }
  return e;
}

/**
 * Told of an attribute whose text is no ClassAd expression (a queue written by an older version may hold one
 * that does not parse or is over the size limit; every writer now refuses them). With one, the ad is made
 * without that attribute, so a listing still shows the job and says what it left out, instead of failing
 * the whole listing; without one, the error is thrown.
 */
export type OnUnreadable = (name: string, err: unknown) => void;

/** A job's ClassAd from its attribute texts. */
export function adOfRecord(attrs: Record<string, string>, onUnreadable?: OnUnreadable): ClassAd {
  const ad = new ClassAd();
  for (const name of Object.keys(attrs)) {
    let e: Expr;
    try {
      e = parsedText(name, attrs[name]!);
    } catch (err) {
      if (!onUnreadable) throw err;
      onUnreadable(name, err);
      continue;
    }
    ad.set(name, e);
  }
  return ad;
}

/** An ad's JSON form, keys sorted (condor_q -json). */
const jsonOf = (ad: ClassAd) => sortKeys(ad.toJSON()) as Record<string, unknown>;

/**
 * Job ads as the elements of `dq -json`'s array, byte for byte what JSON.stringify(ads.map((r) =>
 * adToJSON(adOfRecord(r))), null, 2) writes between its brackets, without a ClassAd or a sorted object per
 * job: fifty dq -json at once over 10,000 jobs spent most of their CPU sorting and copying every job's keys.
 * An attribute text's JSON is made once (texts repeat from job to job), the sorted order once per set of names.
 */
export function jsonElements(
  records: ReadonlyArray<Record<string, string>>,
  onUnreadable?: (rec: Record<string, string>, name: string, err: unknown) => void,
): string {
  let out = '';
  for (const rec of records) {
    const names = Object.keys(rec);
    const sorted = sortedNames(names);
    const whole = () =>
      JSON.stringify(
        [jsonOf(adOfRecord(rec, onUnreadable && ((name, err) => onUnreadable(rec, name, err))))],
        null,
        2,
      ).slice(2, -2);
    let el: string;
    if (!sorted) el = whole();
    else if (!names.length) el = '  {}';
    else {
      el = '  {\n';
      try {
        for (let i = 0; i < sorted.names.length; i++) {
          const n = sorted.names[i]!;
          el += sorted.keys[i]! + jsonValue(n, rec[n]!);
        }
        el += '\n  }';
      } catch (err) {
        if (!onUnreadable) throw err;
        // an attribute that does not parse: the ad's own way, which leaves it out and says so
        el = whole();
      }
    }
    out += (out ? ',\n' : '') + el;
  }
  return out;
}

/** The whole `dq -json` text of these records (an array, then a newline). */
export function jsonArrayText(records: ReadonlyArray<Record<string, string>>): string {
  return records.length ? `[\n${jsonElements(records)}\n]\n` : '[]\n';
}

/** Attribute texts → their JSON value as written inside a job's object (bounded, like parsedTexts). */
const jsonTexts = new Map<string, string>();
function jsonValue(name: string, text: string): string {
  let v = jsonTexts.get(text);
  if (v === undefined) {
    // the same conversion as the whole ad's, indented for its place two levels down
    v = JSON.stringify(jsonOf(adOfRecord({ [name]: text }))[name], null, 2).replace(/\n/g, '\n    ');
    if (text.length <= 4096) {
      if (jsonTexts.size >= 20_000) jsonTexts.clear();
      jsonTexts.set(text, v);
    }
  }
  return v;
}

/**
 * The names in the order sortKeys puts them, each with its key's text (`,\n` between members), per set of
 * names (jobs of a cluster share theirs); undefined when the ad would not be a plain copy of the record (two
 * names alike but for case are one ClassAd attribute, and `__proto__` is no ordinary key): those jobs take
 * the ClassAd's own way.
 */
const orders = new Map<string, { names: string[]; keys: string[] } | undefined>();
function sortedNames(names: string[]): { names: string[]; keys: string[] } | undefined {
  const id = names.join('\n');
  if (orders.has(id)) return orders.get(id);
  const lower = new Map(names.map((n) => [n, n.toLowerCase()]));
  let out: { names: string[]; keys: string[] } | undefined;
  if (new Set(lower.values()).size === names.length && ![...lower.values()].includes('__proto__')) {
    const sorted = [...names].sort((a, b) => {
      const la = lower.get(a)!;
      const lb = lower.get(b)!;
      return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
    });
    out = { names: sorted, keys: sorted.map((n, i) => `${i ? ',\n' : ''}    ${JSON.stringify(n)}: `) };
  }
  if (orders.size >= 1000) orders.clear();
  orders.set(id, out);
  return out;
}
