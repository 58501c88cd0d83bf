// What the views need from a ClassAd. The real `ClassAd` of grammar/classad satisfies this structurally; tests and
// callers may pass anything with the same methods. Views read attributes only through `lookupJS` (the evaluated
// value as plain JS: numbers, strings, booleans, null for undefined/error), so they never depend on the
// evaluator's value representation.
import { sortKeys } from '../../../grammar/classad/json-keys.js';

export interface OutputAd {
  /** The attribute's evaluated value as JS (null when undefined or error, undefined when absent). */
  lookupJS(name: string): unknown;
  /** `"Attr = expr"` lines sorted by name (condor_q -long). */
  toLong?(): string;
  /** Literal values as JSON, other expressions as `"/Expr(<text>)/"` (condor_q -json). */
  toJSON?(): Record<string, unknown>;
}

/** A number attribute, or undefined (numeric strings count; booleans do not). */
export function num(ad: OutputAd, name: string): number | undefined {
  const v = ad.lookupJS(name);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A string attribute, or undefined. Numbers are shown as text. */
export function str(ad: OutputAd, name: string): string | undefined {
  const v = ad.lookupJS(name);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A boolean attribute (HTCondor truth: true, or a non-zero number), or undefined. */
export function bool(ad: OutputAd, name: string): boolean | undefined {
  const v = ad.lookupJS(name);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return undefined;
}

export { sortKeys };

/** The JSON form of an ad: `toJSON()` when it has one, else nothing can be said. */
export function adToJSON(ad: OutputAd): Record<string, unknown> {
  if (typeof ad.toJSON !== 'function') {
    throw new TypeError('this ad has no toJSON(); pass a ClassAd');
  }
  return sortKeys(ad.toJSON()) as Record<string, unknown>;
}

/**
 * JSON output of ads. `-json` is an array exactly like condor_q/condor_status -json (attributes with HTCondor
 * names, keys sorted case-insensitively, nothing added), so tools written for HTCondor read it unchanged.
 * The schema tag (`dsched.job.v1`, `dsched.slot.v1`) goes into the `-jsonl` stream: every line is one ad with an
 * extra first key `"$schema"`. `$` cannot start a ClassAd attribute name, so the tag never collides with an
 * attribute. `schemaInArray` also adds it to each element of the array form, for callers that want it there.
 */
export function formatAdsJson(
  ads: readonly OutputAd[],
  opts: { schema?: string; schemaInArray?: boolean } = {},
): string {
  const list = ads.map((ad) => {
    const j = adToJSON(ad);
    return opts.schemaInArray && opts.schema ? { $schema: opts.schema, ...j } : j;
  });
  return JSON.stringify(list, null, 2) + '\n';
}

/** One ad per line, each `{"$schema": schema, ...attributes}`; empty string for no ads. */
export function formatAdsJsonl(ads: readonly OutputAd[], schema: string): string {
  return ads.map((ad) => JSON.stringify({ $schema: schema, ...adToJSON(ad) }) + '\n').join('');
}

/** condor_q -long: each ad's `Attr = expr` lines, a blank line between ads. */
export function formatAdsLong(ads: readonly OutputAd[]): string {
  return ads
    .map((ad) => {
      if (typeof ad.toLong !== 'function') throw new TypeError('this ad has no toLong(); pass a ClassAd');
      const t = ad.toLong();
      return t.endsWith('\n') ? t : t + '\n';
    })
    .join('\n');
}
