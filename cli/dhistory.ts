#!/usr/bin/env node
// dhistory: completed and removed jobs, newest first (condor_history).
import { renderHistory } from './shared/output/jobs.js';
import { io } from './shared/io.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli, splitAfQualifiers } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli(
    'dhistory',
    splitAfQualifiers(argv),
    'usage: dhistory [cluster | cluster.proc | user]... [options]',
  )
    .option('constraint', {
      type: 'string',
      array: true,
      describe: 'only jobs for which this ClassAd expression is true',
    })
    .option('limit', { type: 'number', alias: 'match', describe: 'at most this many jobs' })
    .option('long', { type: 'boolean', alias: 'l', describe: 'every attribute of each job ad' })
    .option('json', { type: 'boolean', describe: 'job ads as a JSON array' })
    .option('jsonl', { type: 'boolean', describe: 'one JSON job ad per line' })
    .option('xml', { type: 'boolean', describe: "job ads in HTCondor's ClassAd XML" })
    .option('utc', { type: 'boolean', describe: 'times in UTC' })
    .option('af', {
      type: 'string',
      array: true,
      alias: 'autoformat',
      describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)',
    })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .option('attributes', {
      type: 'string',
      array: true,
      describe: 'with -long, -json, -jsonl or -xml: only these attributes (-attributes ExitCode,RemoteWallClockTime)',
    })
    .option('forwards', { type: 'boolean', describe: 'oldest first (with -limit N: the N oldest)' })
    .option('backwards', { type: 'boolean', describe: 'newest first (the default)' })
    .option('since', {
      type: 'string',
      describe:
        'stop at this job (cluster or cluster.proc) or at the first job, newest first, for which this expression is true; that job is not shown',
    })
    .option('completedsince', {
      type: 'string',
      describe: 'only jobs that completed at this time or later (epoch seconds or a date: 2026-12-06T10:00Z)',
    })
    .option('userlog', {
      type: 'string',
      describe: 'the finished jobs of this event log (log = in the submit file), not the schedd',
    })
    .option('file', {
      type: 'string',
      describe:
        'read job ads from this file (saved dhistory -long output, an HTCondor history file), with your own rights',
    })
    .conflicts('userlog', 'file')
    .conflicts('forwards', 'backwards')
    .example('dhistory', 'your finished jobs, newest first')
    .example('dhistory 12 -json', "cluster 12's ads as JSON")
    .example('dhistory -af ClusterId ProcId ExitCode', 'one line per job')
    .example('dhistory -since 120', 'the jobs that finished after job 120')
    .example('dhistory -completedsince 2026-12-06 -forwards', 'the jobs finished since that day, oldest first')
    .parse();
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const [
    { parseSelection },
    { isTable, listingViewOf, printJobPages, UnreadableAttrs, writeOut },
    scan,
    { historyPages },
  ] = await Promise.all([
    import('./shared/job-selection.js'),
    import('./shared/job-query.js'),
    import('./shared/job-scan.js'),
    import('./shared/history-options.js'),
  ]);
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  const session = openSession();
  try {
    // -xml prints whole ads, as -long does
    const view = { ...listingViewOf(a), long: !!a.long || !!a.xml };
    const table = isTable(view);
    const attributes = a.attributes ? scan.attributeList(a.attributes as string[]) : undefined;
    // ids travel as a list (the schedd matches them by set), whatever their number
    let pages = historyPages(() => session.schedd(), sel, scan.projectionWithAttributes(view, attributes), {
      since: a.since as string | undefined,
      completedSince: a.completedsince as string | undefined,
      forwards: !!a.forwards,
      limit: (a.limit as number) ?? 0,
      attributes: attributes && scan.wholeAds(view) ? attributes : undefined,
      userlog: a.userlog as string | undefined,
      file: a.file as string | undefined,
    });
    const unreadable = new UnreadableAttrs('dhistory');
    if (a.xml && !view.af && !view.format && !view.json && !view.jsonl) pages = scan.xmlPages(pages, unreadable);
    const rows = await printJobPages(pages, view, unreadable);
    if (table)
      await writeOut(
        renderHistory(rows, { exitColumn: true, time: { utc: !!a.utc }, color: io().stdout.hasColors?.() ?? false }),
      );
    unreadable.check();
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dhistory', main);
