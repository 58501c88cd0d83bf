// What dq and dhistory share for the schedd's paged job query: the attributes a view needs (so the schedd
// sends only those), output written a page at a time (a 200,000-job answer is never one string), and the
// JSON array written as its pages come.
import { parseExpr, referencedAttrs } from '../../grammar/classad/index.js';
import { adOfRecord, jsonElements, type OnUnreadable } from '../../grammar/classad/json-text.js';
import { RecordAd } from '../../grammar/classad/record-ad.js';
import type { JobQueryPage__Output } from '../../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import { io } from './io.js';
import { UnreadableAttrs } from './unreadable-attrs.js';
import type { OutputAd } from './output/ad.js';
import {
  autoformat,
  formatPairs,
  formatPrintf,
  parseAfQualifiers,
  type AutoformatOptions,
  type FormatItem,
} from './output/autoformat.js';
import { formatJobsJsonl, formatJobsLong } from './output/jobs.js';

export { adOfRecord, jsonElements, UnreadableAttrs };

/** Attributes the queue and history tables read (the schedd adds those their expressions refer to). */
export const VIEW_ATTRS = [
  'ClusterId',
  'ProcId',
  'Owner',
  'JobStatus',
  'QDate',
  'Cmd',
  'Args',
  'Arguments',
  'JobBatchName',
  'JobDescription',
  'DAGManJobId',
  'DAG_NodesDone',
  'DAG_NodesTotal',
  'EnteredCurrentStatus',
  'ExitBySignal',
  'ExitCode',
  'ExitSignal',
  'HoldReason',
  'HoldReasonCode',
  'HoldReasonSubCode',
  'ImageSize',
  'JobCurrentStartDate',
  'JobPrio',
  'JobStartDate',
  'LastRemoteHost',
  'MemoryUsage',
  'RemoteHost',
  'RemoteHosts',
  'RemoteWallClockTime',
  'TotalSubmitProcs',
  'TransferringInput',
  'TransferringOutput',
  'CompletionDate',
  'JobUniverse',
  // dq -dag, -io, -goodput
  'DAGNodeName',
  'NumJobStarts',
  'BytesSent',
  'BytesRecvd',
  'RemoteUserCpu',
  'RemoteSysCpu',
  'CommittedTime',
];

/**
 * The attributes expressions (-af, -format) refer to, plus the job id; [] (every attribute) when one of them
 * names attributes only at run time (eval, unparse, unresolved).
 */
export function projectionFor(exprs: readonly string[]): string[] {
  const names = new Set(['ClusterId', 'ProcId']);
  for (const text of exprs) {
    if (/\b(eval|unparse|unresolved)\s*\(/i.test(text)) return [];
    let r;
    try {
      r = referencedAttrs(parseExpr(text));
    } catch {
      return []; // the formatter reports the syntax error with its caret
    }
    for (const n of [...r.my, ...r.unscoped]) names.add(n);
  }
  return [...names];
}

/** Write to stdout, waiting while the pipe is full (a slow reader must not make dq buffer everything). */
export function writeOut(text: string | Uint8Array): Promise<void> | void {
  const out = io().stdout;
  if (!text.length || out.write(text)) return;
  return new Promise((resolve) => out.once('drain', resolve));
}

/** A JSON array written a page at a time, byte for byte what JSON.stringify(all, null, 2) gives. */
export class JsonArrayWriter {
  private first = true;
  /** Elements as JSON.stringify(items, null, 2) writes them, without "[\n" and "\n]" (see jsonElements). */
  async text(body: string): Promise<void> {
    if (!body) return;
    await writeOut((this.first ? '[\n' : ',\n') + body);
    this.first = false;
  }
  async end(): Promise<void> {
    await writeOut(this.first ? '[]\n' : '\n]\n');
  }
}

/**
 * A row of a table: the view's attributes evaluated once and kept as plain values. A table needs every row
 * before it lays out its columns; rows this small (not whole ClassAds) keep a 200,000-job dq within reason.
 */
export class ViewRow implements OutputAd {
  private constructor(private readonly values: Record<string, unknown>) {}
  static of(
    attrs: Record<string, string>,
    names: readonly string[] = VIEW_ATTRS,
    onUnreadable?: OnUnreadable,
  ): ViewRow {
    const ad = new RecordAd(attrs, onUnreadable);
    const values: Record<string, unknown> = Object.create(null);
    for (const n of names) {
      const v = ad.lookupJS(n);
      if (v !== undefined) values[n.toLowerCase()] = v;
    }
    return new ViewRow(values);
  }
  lookupJS(name: string): unknown {
    return this.values[name.toLowerCase()];
  }
}

/** How a job listing is printed (-af, -format, -json, -jsonl, -long, else a table). */
export interface ListingView {
  af?: string[];
  afOpts: AutoformatOptions;
  format?: FormatItem[];
  json: boolean;
  jsonl: boolean;
  long: boolean;
  utc: boolean;
}

/** The listing options of dq and dhistory, as yargs parsed them. */
export function listingViewOf(a: Record<string, unknown>): ListingView {
  return {
    af: a.af as string[] | undefined,
    afOpts: { ...parseAfQualifiers((a['af-opts'] as string) ?? ''), time: { utc: !!a.utc } },
    format: a.format ? formatPairs(a.format as string[]) : undefined,
    json: !!a.json,
    jsonl: !!a.jsonl,
    long: !!a.long,
    utc: !!a.utc,
  };
}

/** A table is laid out once every row is in; every other view is printed as its pages come. */
export const isTable = (v: ListingView) => !v.af && !v.format && !v.json && !v.jsonl && !v.long;

/** What the schedd sends for a view: -af/-format's attributes, a table's columns; -long and JSON want all. */
export function viewProjection(v: ListingView): string[] {
  return v.af
    ? projectionFor(v.af)
    : v.format
      ? projectionFor(v.format.map((f) => f.expr))
      : isTable(v)
        ? VIEW_ATTRS
        : [];
}

/** The listing the schedd renders itself for a view, so the CLI only copies it out ("" = ads); compressed. */
export function viewFormat(v: ListingView): { format: string; gzip?: boolean } {
  // the same precedence as printJobPages: -json before -af, -format and -jsonl, those before -long
  if (v.json) return { format: 'json', gzip: true };
  if (v.long && !v.af && !v.format && !v.jsonl) return { format: 'long', gzip: true };
  // -af of attribute names, no qualifier but j: the schedd prints the jobs whose attributes are plain literals
  const names = v.af && afAttributeNames(v);
  if (names) return { format: `${v.afOpts.jobId ? 'af:j' : 'af'} ${names.join(' ')}` };
  return { format: '' };
}

/** The attributes -af names when each argument is a bare attribute name and no qualifier but j is given, else undefined. */
function afAttributeNames(v: ListingView): string[] | undefined {
  const { time: _time, jobId: _jobId, ...qualifiers } = v.afOpts;
  if (Object.values(qualifiers).some(Boolean)) return undefined;
  const names: string[] = [];
  for (const text of v.af!) {
    let e;
    try {
      e = parseExpr(text);
    } catch {
      return undefined; // the formatter reports the syntax error with its caret
    }
    if (e.kind !== 'attr' || e.scope || e.absolute || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name)) return undefined;
    names.push(e.name);
  }
  return names.length ? names : undefined;
}

/** A gzip member (JobQuery.gzip) by its magic bytes: no rendered listing starts with them. */
const isGzip = (b: Uint8Array) => b[0] === 0x1f && b[1] === 0x8b;

/**
 * Print a paged job query as it comes: -af, -format, -json, -jsonl and -long a page at a time; a table's rows
 * (and -af with headings, whose column widths need every row) are gathered and the table's rows returned for
 * the caller to lay out. `onPage` sees every page (dq reads the schedd's counts from the last one).
 */
export async function printJobPages(
  pages: AsyncIterable<JobQueryPage__Output>,
  v: ListingView,
  unreadable: UnreadableAttrs,
  onPage?: (page: JobQueryPage__Output) => void,
): Promise<ViewRow[]> {
  const table = isTable(v);
  const rows: ViewRow[] = [];
  const afRows: RecordAd[] = [];
  const json = v.json ? new JsonArrayWriter() : undefined;
  let printed = 0;
  let rendered = false;
  for await (const page of pages) {
    onPage?.(page);
    unreadable.fromPage(page);
    // the listing as the schedd rendered it (viewFormat): copied out as it comes, nothing parsed
    if (page.text?.length) {
      rendered = true;
      // node:zlib is loaded only for a compressed listing (dq -json), not at every command's start
      await writeOut(isGzip(page.text) ? (await import('node:zlib')).gunzipSync(page.text) : page.text);
      continue;
    }
    if (!page.ads.length) continue;
    if (table) {
      for (const r of page.ads) rows.push(ViewRow.of(r.attrs, VIEW_ATTRS, unreadable.of(r.attrs)));
      continue;
    }
    if (json) {
      await json.text(
        jsonElements(
          page.ads.map((r) => r.attrs),
          (rec, name, err) => unreadable.of(rec)(name, err),
        ),
      );
      printed += page.ads.length;
      continue;
    }
    if (v.af || v.format) {
      // -af and -format read a few attributes: from the texts, without a ClassAd per job (RecordAd)
      const ads = page.ads.map((r) => new RecordAd(r.attrs, unreadable.of(r.attrs)));
      if (v.af && v.afOpts.headings) {
        for (const ad of ads) afRows.push(ad);
        continue;
      }
      if (v.af) await writeOut((v.afOpts.group && printed ? '\n' : '') + autoformat(ads, v.af, v.afOpts));
      else await writeOut(formatPrintf(ads, v.format!, { utc: v.utc }));
      printed += ads.length;
      continue;
    }
    const ads = page.ads.map((r) => adOfRecord(r.attrs, unreadable.of(r.attrs)));
    if (v.jsonl) await writeOut(formatJobsJsonl(ads));
    else if (v.long) await writeOut((printed ? '\n' : '') + formatJobsLong(ads));
    printed += ads.length;
  }
  if (v.af && (v.afOpts.headings || !printed)) await writeOut(autoformat(afRows, v.af, v.afOpts));
  if (json && !rendered) await json.end();
  return rows;
}
