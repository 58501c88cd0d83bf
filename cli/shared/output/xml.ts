// Job ads as condor_q -xml and condor_history -xml write them: HTCondor's ClassAd XML (a <c> element per ad,
// an <a n="Name"> per attribute holding <i> integer, <r> real, <s> string, <b v="t|f"/>, <un/> undefined,
// <er/> error, or <e> the expression's text), attributes sorted by name as -long sorts them. Also condor_q
// -long:new's form, an ad a line: `[ Args = "x"; ClusterId = 12; … ]`.
import { parsedText, type OnUnreadable } from '../../../grammar/classad/json-text.js';
import { formatReal, unparse } from '../../../grammar/classad/index.js';
import { UNDEFINED, ERROR } from '../../../grammar/classad/value.js';

export const XML_HEAD = '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n';
export const XML_TAIL = '</classads>\n';

/** Text safe inside an XML element or attribute value (and no control characters XML 1.0 forbids). */
const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\uFFFD');

function valueXml(name: string, text: string, onUnreadable?: OnUnreadable): string {
  let e;
  try {
    e = parsedText(name, text);
  } catch (err) {
    // its stored text, as condor_q -xml shows an attribute it cannot parse; and said
    onUnreadable?.(name, err);
    return `<e>${esc(text)}</e>`;
  }
  if (e.kind !== 'literal') return `<e>${esc(unparse(e))}</e>`;
  const v = e.value;
  if (typeof v === 'bigint') return `<i>${v}</i>`;
  if (typeof v === 'number') return `<r>${formatReal(v)}</r>`;
  if (typeof v === 'string') return `<s>${esc(v)}</s>`;
  if (typeof v === 'boolean') return `<b v="${v ? 't' : 'f'}"/>`;
  if (v === UNDEFINED) return '<un/>';
  if (v === ERROR) return '<er/>';
  return `<e>${esc(unparse(e))}</e>`;
}

/** Names in -long's order: without regard to case. */
const byName = (a: string, b: string) => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The <c> elements of these ads (records of attribute texts). */
export function xmlAds(
  records: ReadonlyArray<Record<string, string>>,
  onUnreadable?: (rec: Record<string, string>) => OnUnreadable,
): string {
  let out = '';
  for (const rec of records) {
    out += '<c>\n';
    const bad = onUnreadable?.(rec);
    for (const n of Object.keys(rec).sort(byName)) out += `    <a n="${esc(n)}">${valueXml(n, rec[n]!, bad)}</a>\n`;
    out += '</c>\n';
  }
  return out;
}

/** -long:new: each ad as a new-style ClassAd on one line, attributes in -long's order. */
export function newFormAds(records: ReadonlyArray<Record<string, string>>): string {
  let out = '';
  for (const rec of records) {
    const attrs = Object.keys(rec)
      .sort(byName)
      .map((n) => `${n} = ${rec[n]!.replace(/[\r\n]+/g, ' ')}`);
    out += `[ ${attrs.join('; ')} ]\n`;
  }
  return out;
}
