#!/usr/bin/env node
// dhistory: completed and removed jobs, newest first (condor_history).
import { ClassAd } from '../grammar/classad/index.js';
import { formatJobsJsonl, formatJobsLong, renderHistory } from './shared/output/jobs.js';
import { autoformat, formatPairs as pairs, formatPrintf, parseAfQualifiers, splitAfQualifiers } from './shared/output/autoformat.js';
import { parseSelection } from './shared/job-selection.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';
import { JsonArrayWriter, projectionFor, VIEW_ATTRS, ViewRow, writeOut } from './shared/job-query.js';
import { adToJSON } from './shared/output/ad.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dhistory', splitAfQualifiers(argv), 'usage: dhistory [cluster | cluster.proc | user]... [options]')
    .option('constraint', { type: 'string', array: true, describe: 'only jobs for which this ClassAd expression is true' })
    .option('limit', { type: 'number', alias: 'match', describe: 'at most this many jobs' })
    .option('long', { type: 'boolean', alias: 'l', describe: 'every attribute of each job ad' })
    .option('json', { type: 'boolean', describe: 'job ads as a JSON array' })
    .option('jsonl', { type: 'boolean', describe: 'one JSON job ad per line' })
    .option('utc', { type: 'boolean', describe: 'times in UTC' })
    .option('af', { type: 'string', array: true, alias: 'autoformat', describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)' })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .parse();
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const af = a.af as string[] | undefined;
    const format = a.format ? pairs(a.format as string[]) : undefined;
    const afOpts = { ...parseAfQualifiers((a['af-opts'] as string) ?? ''), time: { utc: !!a.utc } };
    const table = !af && !format && !a.json && !a.jsonl && !a.long;
    const projection = af ? projectionFor(af) : format ? projectionFor(format.map((f) => f.expr)) : table ? VIEW_ATTRS : [];
    // ids travel as a list (the schedd matches them by set), whatever their number
    const pages = schedd.queryPages({ ids: sel.ids, owners: sel.owners, constraint: sel.constraint, projection, history: true, limit: (a.limit as number) ?? 0 });
    const rows: ViewRow[] = [];
    const afRows: ClassAd[] = []; // -af with headings: widths need every row
    const json = a.json ? new JsonArrayWriter() : undefined;
    let printed = 0;
    for await (const page of pages) {
      if (!page.ads.length) continue;
      if (table) {
        for (const r of page.ads) rows.push(ViewRow.of(r.attrs));
        continue;
      }
      const ads = page.ads.map((r) => ClassAd.fromRecord(r.attrs));
      if (af && afOpts.headings) {
        for (const ad of ads) afRows.push(ad);
        continue;
      }
      if (af) await writeOut((afOpts.group && printed ? '\n' : '') + autoformat(ads, af, afOpts));
      else if (format) await writeOut(formatPrintf(ads, format, { utc: !!a.utc }));
      else if (json) await json.page(ads.map(adToJSON));
      else if (a.jsonl) await writeOut(formatJobsJsonl(ads));
      else if (a.long) await writeOut((printed ? '\n' : '') + formatJobsLong(ads));
      printed += ads.length;
    }
    if (af && (afOpts.headings || !printed)) await writeOut(autoformat(afRows, af, afOpts));
    if (json) await json.end();
    if (table) await writeOut(renderHistory(rows, { exitColumn: true, time: { utc: !!a.utc }, color: process.stdout.hasColors?.() ?? false }));
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dhistory', main);
