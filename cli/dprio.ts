#!/usr/bin/env node
// dprio: change the priority of your jobs among your own jobs (condor_prio). Higher runs first.
import { DschedError } from '../lib/errors.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { reportActFailures } from './shared/act.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  // condor_prio also takes the value as a bare +N / -N before the job ids
  const value = argv.find((a) => /^[+-]\d+$/.test(a));
  const rest = argv.filter((a) => a !== value);
  const a = await cli('dprio', rest, 'usage: dprio (-p N | +N | -N) CLUSTER[.PROC] | USER ... [-constraint EXPR]')
    .option('p', { type: 'string', describe: 'the new priority (an integer; +N / -N change it)' })
    .option('constraint', { type: 'string', array: true })
    .option('all', { type: 'boolean' })
    .example('dprio -p 5 12', 'cluster 12 gets priority 5 (higher runs first among your jobs)')
    .example('dprio +1 12.3', 'raise one job by 1')
    .parse();
  const prio = (a.p as string | undefined) ?? value;
  if (prio === undefined) throw new DschedError('USAGE', 'say the priority: dprio -p N (or +N / -N) JOB...');
  const { parseSelection } = await import('./shared/job-selection.js');
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  if (!sel.ids.length && !sel.owners.length && !sel.constraint && !a.all)
    throw new DschedError('USAGE', 'say which jobs: dprio -p N CLUSTER[.PROC] | USER | -constraint EXPR | -all');
  const session = openSession();
  try {
    const r = await (
      await session.schedd()
    ).act({
      action: 'prio',
      ids: sel.ids,
      owners: sel.owners,
      constraint: sel.constraint,
      all: !!a.all,
      reason: '',
      value: String(prio),
    });
    const failed = reportActFailures('dprio', r.results);
    const ok = r.results.length - failed;
    if (ok) process.stdout.write(`${ok} job(s) now have priority ${prio}.\n`);
    return failed || !r.results.length ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dprio', main);
