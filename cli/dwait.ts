#!/usr/bin/env node
// dwait: wait until jobs (or a DAG) leave the queue; exit 0 only if every one succeeded (condor_wait).
// As condor_wait, it also takes a job event log (`log = …`): the jobs it records, or those of them named.
import { statSync } from 'node:fs';
import { DschedError } from '../lib/errors.js';
import { readUserLogSync } from '../lib/user-log/index.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dwait', argv, 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...] [-wait SECONDS] [-quiet]')
    .option('wait', { type: 'number', describe: 'give up after this many seconds (exit 1)' })
    .option('quiet', { type: 'boolean', describe: 'print nothing, only the exit code' })
    .example('dwait 12', 'wait for cluster 12; exit 0 when every job succeeded')
    .example('dwait job.log -wait 600', 'wait for the jobs of a log file, at most 10 minutes')
    .parse();
  const words = a._.map(String);
  const logs = words.filter((w) => !/^\d+(\.\d+)?$/.test(w));
  if (logs.length > 1)
    throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]: one log file at most');
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const [{ parseSelection }, { describeOutcome, waitForJobs }] = await Promise.all([
    import('./shared/job-selection.js'),
    import('./shared/wait.js'),
  ]);
  const sel = parseSelection(words.filter((w) => !logs.includes(w)));
  if (logs.length) sel.ids = jobsInLog(logs[0]!, sel.ids);
  else if (!sel.ids.length) throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]');
  const session = openSession();
  try {
    const res = await waitForJobs(await session.schedd(), sel.ids, {
      timeoutSec: a.wait as number | undefined,
      progress: !a.quiet,
    });
    if (!a.quiet) process.stdout.write(describeOutcome(res));
    return res.exitCode === 0 ? EXIT.ok : res.exitCode > 0 && res.exitCode < 256 ? res.exitCode : EXIT.failed;
  } finally {
    session.close();
  }
}

/** The jobs a user log records (their submit events), or those of them that `only` names. */
function jobsInLog(
  path: string,
  only: Array<{ cluster: number; proc: number }>,
): Array<{ cluster: number; proc: number }> {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    /* reported below */
  }
  if (!isFile)
    throw new DschedError('USAGE', `'${path}' is neither a job id (cluster or cluster.proc) nor a job event log file`);
  const seen = new Map<string, { cluster: number; proc: number }>();
  for (const e of readUserLogSync(path).events)
    seen.set(`${e.cluster}.${e.proc}`, { cluster: e.cluster, proc: e.proc });
  const ids = [...seen.values()].filter(
    (j) => !only.length || only.some((o) => o.cluster === j.cluster && (o.proc < 0 || o.proc === j.proc)),
  );
  if (!ids.length)
    throw new DschedError(
      'JOB_NOT_FOUND',
      only.length ? `${path} records none of the jobs named` : `${path} records no jobs`,
    );
  return ids;
}

runCli('dwait', main);
