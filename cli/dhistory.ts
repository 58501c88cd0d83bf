#!/usr/bin/env node
// dhistory: completed and removed jobs, newest first (condor_history).
import { renderHistory } from './shared/output/jobs.js';
import { io } from './shared/io.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { listingOptions, REFUSED_PRINT_FORMAT } from './shared/listing-options.js';
import { parseCli, longForm, splitQualifiers, wideWidth, type RefusedOptions } from './shared/yargs.js';

/** condor_history options that have no meaning in dsched, and why. */
const REFUSED: RefusedOptions = {
  startd: { why: "the startds keep no history of jobs; dhistory reads the schedd's" },
  epochs: { why: 'dsched keeps one history ad per job, not one per run' },
  search: { arg: true, why: 'dhistory reads the schedd, or one file with -file FILE' },
  scanlimit: { arg: true, why: 'the schedd answers from its index, not by scanning; -limit N bounds the answer' },
  ...REFUSED_PRINT_FORMAT,
};

const L = listingOptions('job', 'ExitCode,RemoteWallClockTime');

async function main(argv: string[]): Promise<number> {
  const a = await parseCli(
    'dhistory',
    splitQualifiers(argv, ['af', 'long', 'wide']),
    'usage: dhistory [cluster | cluster.proc | user]... [options]',
    REFUSED,
    (y) =>
      y
        .options(L.constraint(true))
        .options(L.limit('at most this many jobs', 'match'))
        .options(L.long())
        .options(L.wide('accepted: dhistory cuts no lines (-wide:N: cut them at N columns)'))
        .option('local', { type: 'boolean', describe: "this host's schedd (the default)" })
        .option('name', { type: 'string', describe: "this schedd's history (its Name, or its host)" })
        .options(L.forms())
        .options(L.utc())
        .options(L.autoformat())
        .options(L.attributes())
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
        .conflicts('userlog', ['file', 'name'])
        .conflicts('file', 'name')
        .conflicts('forwards', 'backwards')
        .example('dhistory', 'your finished jobs, newest first')
        .example('dhistory 12 -json', "cluster 12's ads as JSON")
        .example('dhistory -af ClusterId ProcId ExitCode', 'one line per job')
        .example('dhistory -since 120', 'the jobs that finished after job 120')
        .example('dhistory -completedsince 2026-12-06 -forwards', 'the jobs finished since that day, oldest first'),
  );
  longForm(a);
  const width = wideWidth(a);
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
    const schedd = a.name
      ? async () =>
          (await (await import('./shared/queue-options.js')).scheddTargets(session, { name: a.name as string }))[0]!
            .client
      : () => session.schedd();
    let pages = historyPages(schedd, sel, scan.projectionWithAttributes(view, attributes), {
      since: a.since as string | undefined,
      completedSince: a.completedsince as string | undefined,
      forwards: !!a.forwards,
      limit: (a.limit as number) ?? 0,
      attributes: attributes && scan.wholeAds(view) ? attributes : undefined,
      userlog: a.userlog as string | undefined,
      file: a.file as string | undefined,
    });
    const unreadable = new UnreadableAttrs(io().command ?? 'dhistory');
    if (a.xml && !view.af && !view.format && !view.json && !view.jsonl) pages = scan.xmlPages(pages, unreadable);
    const rows = await printJobPages(pages, view, unreadable);
    if (table)
      await writeOut(
        renderHistory(rows, {
          exitColumn: true,
          time: { utc: !!a.utc },
          color: io().stdout.hasColors?.() ?? false,
          width,
        }),
      );
    unreadable.check();
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dhistory', main);
