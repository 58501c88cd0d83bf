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

/** A job's ClassAd from its attribute texts. */
export function adOfRecord(attrs: Record<string, string>): ClassAd {
  const ad = new ClassAd();
  for (const name of Object.keys(attrs)) ad.set(name, parsedText(name, attrs[name]!));
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
export function jsonElements(records: ReadonlyArray<Record<string, string>>): string {
  let out = '';
  for (const rec of records) {
    const names = Object.keys(rec);
    const sorted = sortedNames(names);
    let el: string;
    if (!sorted) el = JSON.stringify([jsonOf(adOfRecord(rec))], null, 2).slice(2, -2);
    else if (!names.length) el = '  {}';
    else {
      el = '  {\n';
      for (let i = 0; i < sorted.names.length; i++) {
        const n = sorted.names[i]!;
        el += sorted.keys[i]! + jsonValue(n, rec[n]!);
      }
      el += '\n  }';
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
