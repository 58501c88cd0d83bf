#!/usr/bin/env node
// dwait: wait until jobs (or a DAG) leave the queue; exit 0 only if every one succeeded (condor_wait).
// As condor_wait, it also takes a job event log (`log = …`): the jobs it records, or those of them named.
import { statSync } from 'node:fs';
import { DschedError } from '../lib/errors.js';
import { readUserLogSync } from '../lib/user-log/index.js';
import { notAJobId, parseJobId, resolveSubjobs } from './shared/job-id.js';
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
  const specs = words.map(parseJobId);
  const logs = words.filter((_, i) => !specs[i]);
  if (logs.length > 1)
    throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]: one log file at most');
  if (!words.length) throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]');
  if (logs.length && !isFile(logs[0]!)) throw notAJobId(logs[0]!, 'a job event log file');
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const { describeOutcome, waitForJobs } = await import('./shared/wait.js');
  const session = openSession();
  try {
    const schedd = await session.schedd();
    let ids = await resolveSubjobs(
      schedd,
      specs.filter((s) => s !== undefined),
    );
    if (logs.length) ids = jobsInLog(logs[0]!, ids);
    const res = await waitForJobs(schedd, ids, {
      timeoutSec: a.wait as number | undefined,
      progress: !a.quiet,
    });
    if (!a.quiet) process.stdout.write(describeOutcome(res));
    return res.exitCode === 0 ? EXIT.ok : res.exitCode > 0 && res.exitCode < 256 ? res.exitCode : EXIT.failed;
  } finally {
    session.close();
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The jobs a user log records (their submit events), or those of them that `only` names. */
function jobsInLog(
  path: string,
  only: Array<{ cluster: number; proc: number }>,
): Array<{ cluster: number; proc: number }> {
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
