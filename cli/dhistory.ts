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
    .option('utc', { type: 'boolean', describe: 'times in UTC' })
    .option('af', {
      type: 'string',
      array: true,
      alias: 'autoformat',
      describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)',
    })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .example('dhistory', 'your finished jobs, newest first')
    .example('dhistory 12 -json', "cluster 12's ads as JSON")
    .example('dhistory -af ClusterId ProcId ExitCode', 'one line per job')
    .parse();
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const [{ parseSelection }, { isTable, listingViewOf, printJobPages, viewProjection, writeOut }] = await Promise.all([
    import('./shared/job-selection.js'),
    import('./shared/job-query.js'),
  ]);
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const view = listingViewOf(a);
    const table = isTable(view);
    const projection = viewProjection(view);
    // ids travel as a list (the schedd matches them by set), whatever their number
    const pages = schedd.queryPages({
      ids: sel.ids,
      owners: sel.owners,
      constraint: sel.constraint,
      projection,
      history: true,
      limit: (a.limit as number) ?? 0,
    });
    const rows = await printJobPages(pages, view);
    if (table)
      await writeOut(
        renderHistory(rows, { exitColumn: true, time: { utc: !!a.utc }, color: io().stdout.hasColors?.() ?? false }),
      );
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dhistory', main);
