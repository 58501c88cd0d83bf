#!/usr/bin/env node
// dprio: change the priority of your jobs among your own jobs (condor_prio). Higher runs first.
import { DschedError } from '../lib/errors.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { typedName } from './shared/renamed.js';
import { reportActFailures } from './shared/act.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';
import { io } from './shared/io.js';

async function main(argv: string[]): Promise<number> {
  // condor_prio also takes the value as a bare +N / -N before the job ids; after -p, -N is -p's own value
  const at = argv.findIndex((a, i) => /^[+-]\d+$/.test(a) && !/^--?p$/.test(argv[i - 1] ?? ''));
  const value = at < 0 ? undefined : argv[at];
  const rest = argv.filter((_, i) => i !== at);
  const a = await cli('dprio', rest, 'usage: dprio (-p N | +N | -N) CLUSTER[.PROC] | USER ... [-constraint EXPR]')
    .option('p', { type: 'string', describe: 'the new priority (an integer; +N / -N change it)' })
    .option('constraint', { type: 'string', array: true })
    .option('all', { type: 'boolean' })
    .example('dprio -p 5 12', 'cluster 12 gets priority 5 (higher runs first among your jobs)')
    .example('dprio +1 12.3', 'raise one job by 1')
    .parse();
  const prio = (a.p as string | undefined) ?? value;
  if (prio === undefined) throw new DschedError('USAGE', 'say the priority: dprio -p N (or +N / -N) JOB...');
  if (!/^[+-]?\d+$/.test(prio)) throw new DschedError('USAGE', `-p ${prio}: the priority is a whole number`);
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
      // -p sets the priority even when it is negative; a bare +N / -N changes it
      value: a.p === undefined ? prio : `=${prio.replace(/^\+/, '')}`,
    });
    const failed = reportActFailures(typedName('dprio'), r.results);
    const ok = r.results.length - failed;
    // a bare +N / -N changed each job's own priority by N: no one priority to name
    const said =
      a.p !== undefined
        ? `now have priority ${Number(prio)}`
        : `had their priority ${prio.startsWith('+') ? 'raised' : 'lowered'} by ${prio.slice(1)}`;
    if (ok) io().stdout.write(`${ok} job(s) ${said}.\n`);
    return failed || !r.results.length ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dprio', main);
