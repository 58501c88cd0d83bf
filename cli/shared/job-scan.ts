// What dq and dhistory do to a job listing between the schedd (or a file) and the printer, for HTCondor's
// options that the schedd's query does not express: -attributes (only those, exactly), dhistory's -since,
// -completedsince and -forwards, and a selection applied to ads read from a file (-userlog, -file). Each is a
// transformation of the stream of pages, so printJobPages prints the result as it prints the schedd's.
import { isTrue, parseExpr, quoteString, referencedAttrs, type Expr } from '../../grammar/classad/index.js';
import { RecordAd } from '../../grammar/classad/record-ad.js';
import { DschedError } from '../../lib/errors.js';
import type { JobQueryPage__Output } from '../../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import { parseJobId } from './job-id.js';
import { viewProjection, type ListingView } from './job-query.js';
import type { UnreadableAttrs } from './unreadable-attrs.js';
import { XML_HEAD, XML_TAIL, newFormAds, xmlAds } from './output/xml.js';
import type { Selection } from './job-selection.js';

type Page = JobQueryPage__Output;
type Attrs = Record<string, string>;

const ATTR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `-attributes A,B -attributes C` (commas or blanks between names) as a list of attribute names. */
export function attributeList(values: readonly string[]): string[] {
  const names = values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  for (const n of names)
    if (!ATTR_NAME.test(n)) throw new DschedError('USAGE', `-attributes: '${n}' is not an attribute name`);
  if (!names.length) throw new DschedError('USAGE', '-attributes needs attribute names (-attributes Owner,JobStatus)');
  return names;
}

/** A page a stream of pages ends with, carrying `ads`. */
const pageOf = (ads: Attrs[], last = true): Page => ({ ads: ads.map((attrs) => ({ attrs })), last }) as unknown as Page;

/** Ads read from a file, as the one page a schedd would send them in. */
export async function* adPages(ads: Attrs[]): AsyncGenerator<Page> {
  yield pageOf(ads);
}

/**
 * Only the named attributes of each ad (names as the user spelled them are matched without regard to case,
 * as ClassAd names are), the rest of every page as it came. The schedd's projection also sends what those
 * attributes refer to; -attributes means exactly these.
 */
export async function* onlyAttributes(pages: AsyncIterable<Page>, names: readonly string[]): AsyncGenerator<Page> {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  for await (const page of pages) {
    if (!page.ads.length) {
      yield page;
      continue;
    }
    const ads = page.ads.map((r) => {
      const out: Attrs = {};
      for (const k in r.attrs) if (wanted.has(k.toLowerCase())) out[k] = r.attrs[k]!;
      return { attrs: out };
    });
    yield { ...page, ads } as Page;
  }
}

/** A ClassAd expression, checked here so that a syntax error is reported with its caret. */
function checkedExpr(text: string, what: string): Expr {
  return parseExpr(text, { file: `<${what}>`, line: 1, column: 1 });
}

/**
 * condor_history -since: a job id (`12`, `12.3`: stop at that job) or an expression (stop at the first job,
 * newest first, for which it is true). The job where the scan stops is not shown.
 */
export function sinceExpr(text: string): string {
  const id = parseJobId(text.trim());
  if (id && id.index === undefined)
    return id.proc < 0 ? `ClusterId == ${id.cluster}` : `ClusterId == ${id.cluster} && ProcId == ${id.proc}`;
  checkedExpr(text, '-since');
  return text;
}

/**
 * condor_history -completedsince TIME: the jobs that completed at TIME or later; the scan stops at the first
 * older one. TIME is epoch seconds or a date (2026-12-06, 2026-12-06T10:00Z).
 */
export function completedSinceExpr(text: string): string {
  const t = /^\d{1,12}$/.test(text.trim()) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(t))
    throw new DschedError(
      'USAGE',
      `-completedsince: '${text}' is neither epoch seconds nor a date (2026-12-06T10:00Z)`,
    );
  return `CompletionDate =!= undefined && CompletionDate != 0 && CompletionDate < ${Math.floor(t)}`;
}

/** The selection (job ids, owners, constraint) as one ClassAd expression; "" selects every job. */
export function selectionExpr(sel: Selection): string {
  const parts: string[] = [];
  if (sel.ids.length)
    parts.push(
      sel.ids
        .map((id) =>
          id.proc < 0 ? `ClusterId == ${id.cluster}` : `(ClusterId == ${id.cluster} && ProcId == ${id.proc})`,
        )
        .join(' || '),
    );
  if (sel.owners.length)
    parts.push(sel.owners.map((o) => `Owner == ${quoteString(o.replace(/@.*$/, ''))}`).join(' || '));
  if (sel.constraint) parts.push(sel.constraint);
  return parts.map((p) => `(${p})`).join(' && ');
}

/** The attributes an expression refers to (for a projection that must carry them). */
export function attrsOf(text: string): string[] {
  if (!text) return [];
  const r = referencedAttrs(parseExpr(text));
  return [...r.my, ...r.unscoped];
}

/** A compiled test of a job's attributes; always true for "". */
export function predicate(text: string): (attrs: Attrs) => boolean {
  if (!text) return () => true;
  const e = parseExpr(text);
  return (attrs) => isTrue(new RecordAd(attrs).evalExpr(e));
}

export interface ScanOptions {
  /** Jobs to show; the others are passed over. */
  keep?: (attrs: Attrs) => boolean;
  /** The scan ends before the first job for which this holds (-since, -completedsince). */
  stop?: (attrs: Attrs) => boolean;
  /** Oldest first (-forwards): every page is read, then the jobs are given in the other order. */
  reverse?: boolean;
  /** At most this many jobs (0: all); with `reverse`, the first of the reversed order. */
  limit?: number;
}

/**
 * A listing's pages filtered as ScanOptions says. Leaving the loop ends the schedd's stream: a scan that stops
 * early does not read the rest of the history.
 */
export async function* scanPages(pages: AsyncIterable<Page>, o: ScanOptions): AsyncGenerator<Page> {
  const limit = o.limit && o.limit > 0 ? o.limit : Infinity;
  let held: Attrs[] = [];
  let shown = 0;
  let done = false;
  for await (const page of pages) {
    const ads: Attrs[] = [];
    for (const r of page.ads) {
      if (o.stop?.(r.attrs)) {
        done = true;
        break;
      }
      if (o.keep && !o.keep(r.attrs)) continue;
      if (o.reverse) {
        held.push(r.attrs);
        // the oldest `limit` come last: only those need be kept
        if (held.length >= 2 * limit) held = held.slice(held.length - limit);
      } else if (shown < limit) {
        ads.push(r.attrs);
        shown++;
      }
      if (!o.reverse && shown >= limit) {
        done = true;
        break;
      }
    }
    if (ads.length) yield pageOf(ads, false);
    if (done) break;
  }
  if (o.reverse) {
    held.reverse();
    yield pageOf(held.length > limit ? held.slice(0, limit) : held);
  } else yield pageOf([]);
}

/**
 * What the schedd sends for a listing: with -attributes and a view that prints whole ads (-long, -json,
 * -jsonl), only those attributes; otherwise what the view reads (-attributes does not change a table or -af).
 */
export function projectionWithAttributes(v: ListingView, attributes: string[] | undefined): string[] {
  return attributes && wholeAds(v) ? attributes : viewProjection(v);
}

/** The views that print every attribute of an ad, which -attributes narrows. */
export const wholeAds = (v: ListingView) => !v.af && !v.format && (v.json || v.jsonl || v.long);

/** -xml: the ads of the pages as HTCondor's ClassAd XML, written as each page comes (a text page each). */
export function xmlPages(pages: AsyncIterable<Page>, unreadable: UnreadableAttrs): AsyncGenerator<Page> {
  return textPages(pages, (ads) => xmlAds(ads, (rec) => unreadable.of(rec)), XML_HEAD, XML_TAIL);
}

/** -long:new: the ads of the pages a line each, as each page comes. */
export function newFormPages(pages: AsyncIterable<Page>): AsyncGenerator<Page> {
  return textPages(pages, newFormAds, '', '');
}

async function* textPages(
  pages: AsyncIterable<Page>,
  render: (ads: Attrs[]) => string,
  head: string,
  tail: string,
): AsyncGenerator<Page> {
  const text = (t: string) => ({ ads: [], text: Buffer.from(t) }) as unknown as Page;
  if (head) yield text(head);
  for await (const page of pages)
    yield { ...page, ads: [], text: Buffer.from(render(page.ads.map((r) => r.attrs))) } as Page;
  if (tail) yield text(tail);
}
