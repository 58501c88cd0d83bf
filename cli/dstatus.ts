#!/usr/bin/env node
// dstatus: the pool's slots (condor_status).
import { formatSlotsJson, formatSlotsLong, renderSlots } from './shared/output/slots.js';
import { io } from './shared/io.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli, splitAfQualifiers } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dstatus', splitAfQualifiers(argv), 'usage: dstatus [options] [NAME...]')
    .option('constraint', { type: 'string', describe: 'only slots for which this ClassAd expression is true' })
    .option('long', { type: 'boolean', alias: 'l', describe: 'every attribute of each slot ad' })
    .option('json', { type: 'boolean', describe: 'slot ads as a JSON array' })
    .option('total', { type: 'boolean', describe: 'only the summary' })
    .option('compact', { type: 'boolean', describe: 'one line per machine' })
    .option('schedd', { type: 'boolean', describe: 'schedd ads instead of slots' })
    .option('submitters', { type: 'boolean', describe: 'submitter ads instead of slots' })
    .option('avail', { type: 'boolean', describe: 'only slots that are unclaimed and idle' })
    .option('claimed', { type: 'boolean', describe: 'only claimed slots' })
    .option('af', {
      type: 'string',
      array: true,
      alias: 'autoformat',
      describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)',
    })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .example('dstatus', 'the slots of every machine')
    .example('dstatus -avail', 'slots that would take a job now')
    .example('dstatus -af Name Cpus Memory', 'one line per slot')
    .parse();
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const [{ ClassAd, parseExpr }, { autoformat, formatPairs: pairs, formatPrintf, parseAfQualifiers }, { lit }] =
    await Promise.all([
      import('../grammar/classad/index.js'),
      import('./shared/output/autoformat.js'),
      import('./shared/classad-literal.js'),
    ]);
  const given = (a.constraint as string | undefined) ?? '';
  if (given) parseExpr(given, { file: '<-constraint>', line: 1, column: 1 });
  // as condor_status: names on the command line select the ads of those slots or machines
  const names = a._.map(String);
  const constraint = [
    given,
    names.length ? names.map((n) => `Name == ${lit(n)} || Machine == ${lit(n)}`).join(' || ') : '',
    a.avail ? 'State == "Unclaimed" && Activity == "Idle"' : '',
    a.claimed ? 'State == "Claimed"' : '',
  ]
    .filter(Boolean)
    .map((c) => `(${c})`)
    .join(' && ');
  const session = openSession();
  try {
    const collector = await session.collector();
    const type = a.schedd ? 'Scheduler' : a.submitters ? 'Submitter' : 'Machine';
    const recs = await collector.query(type, constraint);
    const ads = recs
      .map((r) => ClassAd.fromRecord(r))
      .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
    if (a.af) io().stdout.write(autoformat(ads, a.af as string[], parseAfQualifiers((a['af-opts'] as string) ?? '')));
    else if (a.format) io().stdout.write(formatPrintf(ads, pairs(a.format as string[])));
    else if (a.json) io().stdout.write(formatSlotsJson(ads));
    else if (a.long || type !== 'Machine') io().stdout.write(formatSlotsLong(ads));
    else
      io().stdout.write(
        renderSlots(ads, {
          view: a.total ? 'total' : a.compact ? 'compact' : 'default',
          color: io().stdout.hasColors?.() ?? false,
        }),
      );
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dstatus', main);
