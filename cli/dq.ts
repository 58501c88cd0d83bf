#!/usr/bin/env node
// dq: the job queue (condor_q). Default: your jobs in batches; -nobatch one line per job.
import { ClassAd } from '../grammar/classad/index.js';
import { DschedError } from '../lib/errors.js';
import { readAddressFile } from '../lib/rpc/address-file.js';
import { addressFile } from '../lib/config/paths.js';
import { formatJobsJson, formatJobsJsonl, formatJobsLong, renderQueue, type QueueView } from './shared/output/jobs.js';
import { parseSelection } from './shared/job-selection.js';
import { autoformat, formatPrintf, parseAfQualifiers, splitAfQualifiers } from './shared/output/autoformat.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';

/** -format takes its arguments in pairs: FMT EXPR. */
function pairs(list: string[]): Array<{ format: string; expr: string }> {
  if (list.length % 2) throw new DschedError('USAGE', '-format needs two arguments: a format and an expression');
  const out = [];
  for (let i = 0; i < list.length; i += 2) out.push({ format: list[i]!, expr: list[i + 1]! });
  return out;
}

async function main(argv: string[]): Promise<number> {
  const a = await cli('dq', splitAfQualifiers(argv), 'usage: dq [cluster | cluster.proc | user]... [options]')
    .option('nobatch', { type: 'boolean', describe: 'one line per job' })
    .option('batch', { type: 'boolean', describe: 'jobs grouped in batches (the default)' })
    .option('allusers', { type: 'boolean', describe: 'every user\'s jobs, not only yours' })
    .option('constraint', { type: 'string', array: true, describe: 'only jobs for which this ClassAd expression is true' })
    .option('long', { type: 'boolean', alias: 'l', describe: 'every attribute of each job ad' })
    .option('json', { type: 'boolean', describe: 'job ads as a JSON array (HTCondor attribute names)' })
    .option('jsonl', { type: 'boolean', describe: 'one JSON job ad per line' })
    .option('hold', { type: 'boolean', describe: 'held jobs and why' })
    .option('run', { type: 'boolean', describe: 'running jobs and where' })
    .option('totals', { type: 'boolean', describe: 'only the totals' })
    .option('wide', { type: 'boolean', describe: 'do not cut long lines' })
    .option('utc', { type: 'boolean', describe: 'times in UTC' })
    .option('limit', { type: 'number', describe: 'at most this many jobs' })
    .option('af', { type: 'string', array: true, alias: 'autoformat', describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)' })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .parse();
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const mine = !a.allusers && !sel.ids.length && !sel.owners.length;
    let constraint = sel.constraint;
    if (a.hold) constraint = constraint ? `(${constraint}) && JobStatus == 5` : 'JobStatus == 5';
    if (a.run) constraint = constraint ? `(${constraint}) && JobStatus == 2` : 'JobStatus == 2';
    const recs = await schedd.query({ ids: sel.ids, owners: mine ? [session.user] : sel.owners, constraint, projection: [], history: false, limit: (a.limit as number) ?? 0 });
    const ads = recs.map((r) => ClassAd.fromRecord(r));
    if (a.af) process.stdout.write(autoformat(ads, a.af as string[], { ...parseAfQualifiers((a['af-opts'] as string) ?? ''), time: { utc: !!a.utc } }));
    else if (a.format) process.stdout.write(formatPrintf(ads, pairs(a.format as string[]), { utc: !!a.utc }));
    else if (a.json) process.stdout.write(formatJobsJson(ads));
    else if (a.jsonl) process.stdout.write(formatJobsJsonl(ads));
    else if (a.long) process.stdout.write(formatJobsLong(ads));
    else {
      const view: QueueView = a.hold ? 'hold' : a.run ? 'run' : a.nobatch ? 'nobatch' : 'batch';
      const name = session.config.str('SCHEDD_NAME') || session.config.str('HOSTNAME') || (await import('node:os')).hostname();
      const addr = readAddressFile(addressFile(session.config.paths, 'schedd'))?.address ?? '';
      process.stdout.write(
        renderQueue(ads, {
          view,
          banner: { name, address: addr },
          totalsOnly: !!a.totals,
          color: process.stdout.hasColors?.() ?? false,
          width: a.wide || !process.stdout.isTTY ? undefined : process.stdout.columns,
          time: { utc: !!a.utc },
        }),
      );
    }
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dq', main);
