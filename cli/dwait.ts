#!/usr/bin/env node
// dwait: wait until jobs (or a DAG) leave the queue; exit 0 only if every one succeeded (condor_wait).
// As condor_wait, it also takes a job event log (`log = …`): the jobs it records, or those of them named.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DschedError } from '../lib/errors.js';
import type { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { UserLogFollower } from '../lib/user-log/index.js';
import { io } from './shared/io.js';
import { notAJobId, parseJobId, resolveSubjobs } from './shared/job-id.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli, type RefusedOptions } from './shared/yargs.js';

/** condor_wait options dwait does not take, and why. */
const REFUSED: RefusedOptions = {
  echo: { why: "dwait prints each job's outcome as it ends, not the log's events" },
  status: { why: "dwait prints each job's outcome as it ends; dq -watch shows the jobs' states as they change" },
};

async function main(argv: string[]): Promise<number> {
  const a = await cli(
    'dwait',
    argv,
    'usage: dwait [LOGFILE] [CLUSTER[.PROC]...] [-wait SECONDS] [-num N] [-quiet]',
    REFUSED,
  )
    .option('wait', { type: 'number', describe: 'give up after this many seconds (exit 1)' })
    .option('num', {
      type: 'number',
      describe: 'return once N of the jobs have ended (those of a log file, or the CLUSTER.PROC named)',
    })
    .option('quiet', { type: 'boolean', describe: 'print nothing, only the exit code' })
    // condor_wait's exit status (the shim passes it): 0 once every job has completed or been removed,
    // however it ended; 1 only when the wait gave up (or the log or a job is not there)
    .option('any-end', { type: 'boolean', hidden: true })
    .example('dwait 12', 'wait for cluster 12; exit 0 when every job succeeded')
    .example('dwait job.log -wait 600', 'wait for the jobs of a log file, at most 10 minutes')
    .parse();
  const words = a._.map(String);
  const specs = words.map(parseJobId);
  const logs = words.filter((_, i) => !specs[i]);
  if (logs.length > 1)
    throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]: one log file at most');
  if (!words.length) throw new DschedError('USAGE', 'usage: dwait [LOGFILE] [CLUSTER[.PROC]...]');
  // a path the user typed is relative to the folder the command was started in
  const log = logs.length ? resolve(io().cwd, logs[0]!) : undefined;
  if (log && !isFile(log)) {
    // say why it is no log file: most often the path is wrong (a submit file's log is relative to its initialdir)
    const e = notAJobId(logs[0]!, 'a job event log file');
    const why = existsSync(log) ? `${log} is not a regular file` : `${log} does not exist`;
    throw new DschedError(e.code, `${e.message}: ${why}`);
  }
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const { waitForJobs } = await import('./shared/wait.js');
  const session = openSession();
  try {
    const schedd = await session.schedd();
    let ids = await resolveSubjobs(
      schedd,
      specs.filter((s) => s !== undefined),
    );
    // -num N: enough once N of the jobs have ended, those that had before dwait started included, as
    // condor_wait counts the log's jobs; so the jobs must be counted: a log's, or procs named one by one
    const num = a.num as number | undefined;
    let total = ids.length;
    if (log) {
      const procs = jobsInLog(log, logs[0]!, ids);
      total = [...procs.values()].reduce((n, p) => n + p.size, 0);
      ids = await wholeClusters(schedd, procs);
    } else if (num !== undefined && ids.some((i) => i.proc < 0))
      throw new DschedError('USAGE', '-num counts the jobs of a log file, or the CLUSTER.PROC ids named one by one');
    if (num !== undefined && !(Number.isInteger(num) && num >= 1 && num <= total))
      throw new DschedError('USAGE', `-num ${String(num)}: a whole number from 1 to the ${total} job(s) waited for`);
    // each job's outcome is printed as history returns it, none kept: a million of them cost a page; as
    // condor_wait, only HTCondor's one line once all have ended (scripts and their tests expect that output)
    const out = io().stdout;
    const condorWait = !!a['any-end'];
    const res = await waitForJobs(schedd, ids, {
      timeoutSec: a.wait as number | undefined,
      enough: num === undefined ? undefined : (left) => total - left >= num,
      progress: !a.quiet,
      // a slow reader of the output holds the next page back, not the CLI's memory
      out:
        a.quiet || condorWait
          ? () => {}
          : (text) => (out.write(text) ? undefined : new Promise<void>((r) => out.once('drain', () => r()))),
    });
    if (condorWait) {
      if (!a.quiet)
        out.write(num !== undefined && num < total ? `Specified number of jobs (${num}) done.\n` : 'All jobs done.\n');
      return EXIT.ok;
    }
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

/** Bytes of a log parsed at a time: the log of a million-job cluster (its submit and abort events, hundreds of MB) is never held whole. */
const LOG_PIECE = 4 << 20;

/** Procs of one cluster from which a log that records all of them from 0 is waited on as the whole cluster. */
const WHOLE_CLUSTER = 10_000;

/**
 * The jobs of a log as ids, a cluster whose every proc from 0 the log records (as `queue N` with one log does)
 * as the whole cluster when the schedd knows no later proc of it, queued or in history: the same jobs, and a
 * request of a few ids instead of a million (each request holding every id in memory, twice).
 */
async function wholeClusters(
  schedd: Pick<ScheddClient, 'query'>,
  procs: Map<number, Set<number>>,
): Promise<Array<{ cluster: number; proc: number }>> {
  const ids: Array<{ cluster: number; proc: number }> = [];
  for (const [cluster, seen] of procs) {
    const n = seen.size;
    // n distinct procs, none negative nor past n - 1: every one of 0 .. n - 1
    let max = -1;
    let min = 0;
    for (const p of seen) {
      max = Math.max(max, p);
      min = Math.min(min, p);
    }
    if (n >= WHOLE_CLUSTER && min >= 0 && max === n - 1) {
      const later = { ids: [{ cluster, proc: -1 }], constraint: `ProcId >= ${n}`, projection: ['ProcId'], limit: 1 };
      if (!(await schedd.query(later)).length && !(await schedd.query({ ...later, history: true })).length) {
        ids.push({ cluster, proc: -1 });
        continue;
      }
    }
    for (const proc of seen) ids.push({ cluster, proc });
  }
  return ids;
}

/** The jobs a user log records (their submit events), or those of them that `only` names; `shown` is the path as typed. */
function jobsInLog(
  path: string,
  shown: string,
  only: Array<{ cluster: number; proc: number }>,
): Map<number, Set<number>> {
  const procs = new Map<number, Set<number>>();
  const log = new UserLogFollower(path);
  for (let before = -1; log.bytesRead !== before;) {
    before = log.bytesRead;
    for (const e of log.read(LOG_PIECE)) {
      if (only.length && !only.some((o) => o.cluster === e.cluster && (o.proc < 0 || o.proc === e.proc))) continue;
      let seen = procs.get(e.cluster);
      if (!seen) procs.set(e.cluster, (seen = new Set()));
      seen.add(e.proc);
    }
  }
  if (!procs.size)
    throw new DschedError(
      'JOB_NOT_FOUND',
      only.length ? `${shown} records none of the jobs named` : `${shown} records no jobs`,
    );
  return procs;
}

runCli('dwait', main);
