// drm, dhold and drelease: select jobs, ask the schedd to act, report per job; exit 1 if any job was not acted on.
import { DschedError } from '../../lib/errors.js';
import { parseSelection } from './job-selection.js';
import { EXIT } from './run-cli.js';
import { openSession } from './session.js';
import { cli } from './yargs.js';

const PAST = { remove: 'marked for removal', hold: 'held', release: 'released' } as const;

export async function actCommand(cmd: string, action: 'remove' | 'hold' | 'release', argv: string[]): Promise<number> {
  const a = await cli(cmd, argv, `usage: ${cmd} [cluster | cluster.proc | user]... [-constraint EXPR] [-all] [-reason TEXT]`)
    .option('constraint', { type: 'string', array: true, describe: 'ClassAd expression selecting jobs' })
    .option('all', { type: 'boolean', describe: 'all jobs (yours, or everyone\'s for an admin)' })
    .option('reason', { type: 'string', describe: 'reason recorded with the action' })
    .option('forcex', { type: 'boolean', hidden: true })
    .example(`${cmd} 12`, `every job of cluster 12`)
    .example(`${cmd} 12.3 alice`, `job 12.3 and all of alice's jobs`)
    .example(`${cmd} -constraint 'JobStatus == 1'${action === 'hold' ? ' -reason "input not ready"' : ''}`, 'the jobs that match')
    .parse();
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  if (!sel.ids.length && !sel.owners.length && !sel.constraint && !a.all)
    throw new DschedError('USAGE', `say which jobs: ${cmd} CLUSTER[.PROC] | USER | -constraint EXPR | -all`);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const owners = a.all && !sel.owners.length && !sel.ids.length && !sel.constraint ? [] : sel.owners;
    const r = await schedd.act({ action, ids: sel.ids, owners, constraint: sel.constraint, all: !!a.all, reason: (a.reason as string) ?? '' });
    let failed = 0;
    let ok = 0;
    for (const res of r.results) {
      if (res.ok) ok++;
      else {
        failed++;
        process.stderr.write(`${cmd}: ${res.error}\n`);
      }
    }
    if (ok) process.stdout.write(`${ok} job(s) ${PAST[action]}.\n`);
    if (!r.results.length) {
      process.stderr.write(`${cmd}: no jobs matched\n`);
      return EXIT.failed;
    }
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}
