// dhistory's HTCondor options beyond the schedd's own query: -since, -completedsince, -forwards, -attributes,
// -userlog and -file, as the pages dhistory prints. The schedd sends the history newest first and enforces who
// may see what; what is done here only narrows or reorders what it sent (or reads a file with the user's rights).
import type { JobQueryPage__Output } from '../../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { jobsOfAdFile, jobsOfUserLog, leftQueue } from './job-files.js';
import type { Selection } from './job-selection.js';
import {
  adPages,
  attrsOf,
  completedSinceExpr,
  onlyAttributes,
  predicate,
  scanPages,
  selectionExpr,
  sinceExpr,
} from './job-scan.js';

type Page = JobQueryPage__Output;

export interface HistoryOptions {
  since?: string;
  completedSince?: string;
  forwards: boolean;
  limit: number;
  /** -attributes: only these, exactly */
  attributes?: string[];
  userlog?: string;
  file?: string;
}

/** The attributes `projection` needs plus those of `exprs` (a projection of [] is every attribute already). */
function widened(projection: string[], exprs: string[]): string[] {
  if (!projection.length) return projection;
  return [...new Set([...projection, 'ClusterId', 'ProcId', 'Owner', ...exprs.flatMap(attrsOf)])];
}

/** The finished jobs dhistory lists, as pages, newest first unless -forwards. */
export function historyPages(
  schedd: () => Promise<ScheddClient>,
  sel: Selection,
  projection: string[],
  o: HistoryOptions,
): AsyncIterable<Page> {
  const stopText = [o.since ? sinceExpr(o.since) : '', o.completedSince ? completedSinceExpr(o.completedSince) : '']
    .filter(Boolean)
    .map((t) => `(${t})`)
    .join(' || ');
  const selText = selectionExpr(sel);
  let pages: AsyncIterable<Page>;
  let keep: ((a: Record<string, string>) => boolean) | undefined;
  if (o.userlog || o.file) {
    // a file holds its jobs oldest first; dhistory lists newest first
    const ads = o.userlog ? jobsOfUserLog(o.userlog).filter(leftQueue) : jobsOfAdFile(o.file!);
    pages = adPages(ads.reverse());
    keep = predicate(selText);
  } else if (stopText) {
    // the job the scan stops at need not be one of those selected: the schedd sends both, and the selection is
    // applied here (the schedd still decides what the caller may see)
    keep = predicate(selText);
    pages = (async function* () {
      yield* (await schedd()).queryPages({
        ids: [],
        owners: [],
        constraint: selText ? `(${selText}) || ${stopText}` : '',
        projection: widened(projection, [selText, stopText]),
        history: true,
        limit: 0,
      });
    })();
  } else {
    pages = (async function* () {
      yield* (await schedd()).queryPages({
        ids: sel.ids,
        owners: sel.owners,
        constraint: sel.constraint,
        projection,
        history: true,
        // -forwards shows the oldest: every page is read
        limit: o.forwards ? 0 : o.limit,
      });
    })();
  }
  if (keep || stopText || o.forwards)
    pages = scanPages(pages, {
      keep,
      stop: stopText ? predicate(stopText) : undefined,
      reverse: o.forwards,
      limit: o.limit,
    });
  return o.attributes ? onlyAttributes(pages, o.attributes) : pages;
}
