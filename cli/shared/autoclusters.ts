// dq -autocluster (condor_q -autocluster): the schedd's autoclusters of the selected idle jobs, one line each:
// its id, how many of those jobs it holds and the values of its significant attributes (the attributes that
// decide where its jobs can run). -long, -json, -jsonl, -xml, -af and -format print the autocluster ads.
import { nowSeconds } from '../../lib/time.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobQuery } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import { io } from './io.js';
import { isTable, printJobPages, UnreadableAttrs, viewProjection, writeOut, type ListingView } from './job-query.js';
import { xmlPages } from './job-scan.js';
import { renderTable, type Column } from './output/columns.js';
import { formatScheddBanner } from './output/jobs.js';
import type { TimeOptions } from './output/time.js';

/** The columns every autocluster line starts with (the rest are its significant attributes). */
const FIXED = ['AutoClusterId', 'JobCount'];

/** A cell's text: a string's value without its quotes, any other value as the schedd holds it. */
function cellText(text: string | undefined): string {
  if (text === undefined) return '';
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(text);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : text;
}

/** ID COUNT and each significant attribute any of the autoclusters has: Owner first, then by name. */
export function formatAutoclusters(ads: ReadonlyArray<Record<string, string>>, width?: number): string {
  const names = new Set<string>();
  for (const ad of ads) for (const n of Object.keys(ad)) if (!FIXED.includes(n)) names.add(n);
  const attrs = [...names].sort((a, b) => (a === 'Owner' ? -1 : b === 'Owner' ? 1 : a.localeCompare(b)));
  const columns: Column[] = [
    { header: ' ID', align: 'right' },
    { header: 'COUNT', align: 'right' },
    ...attrs.map((n, i): Column => ({ header: n, flex: i === attrs.length - 1 })),
  ];
  const rows = ads.map((ad) => [ad.AutoClusterId ?? '', ad.JobCount ?? '', ...attrs.map((n) => cellText(ad[n]))]);
  return renderTable(columns, rows, { width }).join('\n') + '\n';
}

export interface AutoclusterOptions {
  listing: ListingView;
  xml: boolean;
  banner?: { name: string; address: string };
  width?: number;
  time: TimeOptions;
}

/** Print the autoclusters of the jobs `query` selects, in the form the options ask for. */
export async function showAutoclusters(schedd: ScheddClient, query: JobQuery, o: AutoclusterOptions): Promise<void> {
  const table = isTable(o.listing) && !o.xml;
  // -af and -format ask for the attributes they print; every other form shows them all
  const projection = o.listing.af || o.listing.format ? viewProjection(o.listing) : [];
  let pages = schedd.autoclusterPages({ ...query, projection });
  const unreadable = new UnreadableAttrs(io().command ?? 'dq');
  if (table) {
    const ads: Array<Record<string, string>> = [];
    for await (const page of pages) for (const ad of page.ads) ads.push(ad.attrs);
    const banner = o.banner ? `\n${formatScheddBanner(o.banner.name, o.banner.address, nowSeconds(), o.time)}\n` : '';
    await writeOut(banner + (ads.length ? formatAutoclusters(ads, o.width) : ''));
    return;
  }
  if (o.xml && !o.listing.af && !o.listing.format && !o.listing.json && !o.listing.jsonl)
    pages = xmlPages(pages, unreadable);
  await printJobPages(pages, { ...o.listing, long: o.listing.long || o.xml }, unreadable);
  unreadable.check();
}
