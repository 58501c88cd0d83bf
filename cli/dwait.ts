#!/usr/bin/env node
// dwait: wait until jobs (or a DAG) leave the queue; exit 0 only if every one succeeded (condor_wait).
import { parseSelection } from './shared/job-selection.js';
import { DschedError } from '../lib/errors.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { describeOutcome, waitForJobs } from './shared/wait.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dwait', argv, 'usage: dwait CLUSTER[.PROC]... [-wait SECONDS] [-quiet]')
    .option('wait', { type: 'number', describe: 'give up after this many seconds (exit 1)' })
    .option('quiet', { type: 'boolean', describe: 'print nothing, only the exit code' })
    .parse();
  const sel = parseSelection(a._);
  if (!sel.ids.length || sel.owners.length) throw new DschedError('USAGE', 'usage: dwait CLUSTER[.PROC]...');
  const session = openSession();
  try {
    const res = await waitForJobs(await session.schedd(), sel.ids, { timeoutSec: a.wait as number | undefined, progress: !a.quiet });
    if (!a.quiet) process.stdout.write(describeOutcome(res));
    return res.exitCode === 0 ? EXIT.ok : res.exitCode > 0 && res.exitCode < 256 ? res.exitCode : EXIT.failed;
  } finally {
    session.close();
  }
}

runCli('dwait', main);
