#!/usr/bin/env node
// dq: the job queue (condor_q). Default: your jobs in batches; -nobatch one line per job.
// The ClassAd library and the query helpers are imported once the arguments are parsed: --help and usage
// errors load only yargs.
import type { ClassAd } from '../grammar/classad/index.js';
import { DschedError } from '../lib/errors.js';
import { readAddressFile } from '../lib/rpc/address-file.js';
import { addressFile } from '../lib/config/paths.js';
import { renderQueue, type QueueView } from './shared/output/jobs.js';
import type { Selection } from './shared/job-selection.js';
import { qualifiedName } from '../lib/rpc/authz.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { io } from './shared/io.js';
import { openSession, type Session } from './shared/session.js';
import { cli, splitAfQualifiers } from './shared/yargs.js';
import type { JobQueryPage__Output } from '../lib/rpc/generated/dsched/v1/JobQueryPage.js';

/**
 * -analyze / -better-analyze: why each selected job is idle (or held). Job ids select those jobs whatever their
 * state; otherwise the selection (yours by default, -allusers, users, -constraint) is narrowed to idle jobs.
 */
async function analyze(
  session: Session,
  sel: Selection,
  opts: { allusers: boolean; reverse: boolean; limit: number },
): Promise<number> {
  const [{ ClassAd }, { idText }, { analyzeJobs }, { fetchPoolForAnalysis }] = await Promise.all([
    import('../grammar/classad/index.js'),
    import('./shared/job-selection.js'),
    import('./shared/analyze.js'),
    import('./shared/analyze-pool.js'),
  ]);
  const schedd = await session.schedd();
  const mine = !opts.allusers && !sel.ids.length && !sel.owners.length;
  let constraint = sel.constraint;
  if (!sel.ids.length) constraint = constraint ? `(${constraint}) && JobStatus == 1` : 'JobStatus == 1';
  const recs = await schedd.query({
    ids: sel.ids,
    owners: mine ? [session.user] : sel.owners,
    constraint,
    projection: [],
    history: false,
    limit: opts.limit,
  });
  const jobs = recs.map((r) => ClassAd.fromRecord(r));
  let failed = false;
  for (const id of sel.ids) {
    const found = jobs.some(
      (j) => j.lookupJS('ClusterId') === id.cluster && (id.proc < 0 || j.lookupJS('ProcId') === id.proc),
    );
    if (!found) {
      io().stderr.write(`dq: job ${idText(id)} is not in the queue (finished jobs are in dhistory)\n`);
      failed = true;
    }
  }
  if (!jobs.length) {
    if (!sel.ids.length) io().stdout.write(`No idle jobs${mine ? ` of ${session.user}` : ''} to analyze.\n`);
    return failed ? EXIT.failed : EXIT.ok;
  }
  const pool = await fetchPoolForAnalysis(session);
  const name = qualifiedName(
    session.config.str('SCHEDD_NAME'),
    session.config.str('HOSTNAME') || (await import('node:os')).hostname(),
  );
  const byOwner = new Map<string, ClassAd[]>();
  for (const j of jobs) {
    const owner = String(j.lookupJS('Owner') ?? '');
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), j]);
  }
  const texts = [...byOwner].map(([owner, ads]) =>
    analyzeJobs(ads, pool.slots, {
      submitter: `${owner}@${name}`,
      priorities: pool.priorities,
      prioritiesError: pool.prioritiesError,
      reverse: opts.reverse,
      width: io().stdout.isTTY ? Math.max(60, io().stdout.columns ?? 100) : 100,
    }),
  );
  io().stdout.write(texts.join('\n'));
  return failed ? EXIT.failed : EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  const a = await cli('dq', splitAfQualifiers(argv), 'usage: dq [cluster | cluster.proc | user]... [options]')
    .option('nobatch', { type: 'boolean', describe: 'one line per job' })
    .option('batch', { type: 'boolean', describe: 'jobs grouped in batches (the default)' })
    .option('allusers', { type: 'boolean', describe: "every user's jobs, not only yours" })
    .option('submitter', {
      type: 'string',
      array: true,
      describe: "this user's jobs (condor_q -submitter NAME; NAME@domain is the user NAME)",
    })
    .option('constraint', {
      type: 'string',
      array: true,
      describe: 'only jobs for which this ClassAd expression is true',
    })
    .option('long', { type: 'boolean', alias: 'l', describe: 'every attribute of each job ad' })
    .option('json', { type: 'boolean', describe: 'job ads as a JSON array (HTCondor attribute names)' })
    .option('jsonl', { type: 'boolean', describe: 'one JSON job ad per line' })
    .option('hold', { type: 'boolean', describe: 'held jobs and why' })
    .option('run', { type: 'boolean', describe: 'running jobs and where' })
    .option('totals', { type: 'boolean', describe: 'only the totals' })
    .option('wide', { type: 'boolean', describe: 'do not cut long lines' })
    .option('utc', { type: 'boolean', describe: 'times in UTC' })
    .option('limit', { type: 'number', describe: 'at most this many jobs' })
    .option('af', {
      type: 'string',
      array: true,
      alias: 'autoformat',
      describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)',
    })
    .option('af-opts', { type: 'string', hidden: true })
    .option('format', { type: 'string', array: true, describe: '-format FMT EXPR (printf-like), repeatable' })
    .option('analyze', {
      type: 'boolean',
      alias: 'better-analyze',
      describe:
        'why the jobs are idle: Requirements clause by clause against the pool, START, resources, fair share (no id: your idle jobs)',
    })
    .option('reverse', {
      type: 'boolean',
      describe: "with -analyze: also each slot's START against the job, clause by clause",
    })
    .option('queue', { type: 'string', describe: 'only jobs of this batch queue (PBS queue, Slurm partition)' })
    .option('pbs', {
      type: 'boolean',
      describe: "qstat's table (Job id, Name, User, Time Use, S, Queue), every user's jobs",
    })
    .option('f', { type: 'boolean', describe: "with -pbs: qstat -f's long form, attribute = value with PBS's names" })
    .option('x', { type: 'boolean', describe: 'with -pbs: finished jobs too, all in job id order (qstat -x)' })
    .option('watch', {
      type: 'boolean',
      describe:
        'follow the jobs live, a progress bar per batch (cluster or DAG), until they are done (condor_watch_q); exit 1 if any was held, removed or failed',
    })
    .option('exit', {
      type: 'string',
      array: true,
      describe:
        'with -watch: GROUPER,JOB_STATUS[,EXIT_CODE] (all|any|none, active|done|idle|held): exit when it holds, e.g. -exit all,done,0 -exit any,held,1',
    })
    .example('dq -watch', 'your jobs, live, until all are done')
    .example(
      'dq -watch 12 -exit any,held,3',
      'cluster 12 until it is done, or exit 3 as soon as one of its jobs is held',
    )
    .example('dq', 'your jobs, in batches')
    .example('dq -nobatch -allusers', "everyone's jobs, one line each")
    .example('dq -af:j Owner JobStatus', 'job id and attributes, one line per job')
    .example("dq -constraint 'RequestMemory > 1024'", 'only jobs that match')
    .example('dq -analyze 12.0', 'why job 12.0 does not start')
    .parse();
  const [{ parseSelection }, { isTable, listingViewOf, printJobPages, viewFormat, viewProjection, writeOut }] =
    await Promise.all([import('./shared/job-selection.js'), import('./shared/job-query.js')]);
  // PBS's views and queue filter only when asked for
  const pbsView = a.pbs || a.queue !== undefined ? await import('./shared/pbs-view.js') : undefined;
  const sel = parseSelection(a._, [
    ...((a.constraint as string[] | undefined) ?? []),
    ...(pbsView?.queueConstraint(a.queue as string | undefined) ?? []),
  ]);
  // condor_q -submitter names a submitter, user@uid-domain: its jobs are the user's
  for (const name of (a.submitter as string[] | undefined) ?? []) {
    const user = name.replace(/@.*$/, '');
    if (!/^[A-Za-z_][\w.-]*$/.test(user)) throw new DschedError('USAGE', `-submitter: '${name}' is not a user name`);
    sel.owners.push(user);
  }
  if (a.reverse && !a.analyze) throw new DschedError('USAGE', '-reverse goes with -analyze');
  if (a.f && !a.pbs) throw new DschedError('USAGE', '-f goes with -pbs (dq -pbs -f JOB)');
  if (a.x && !a.pbs) throw new DschedError('USAGE', '-x goes with -pbs (dq -pbs -x; dhistory lists finished jobs)');
  if (a.exit && !a.watch) throw new DschedError('USAGE', '-exit goes with -watch');
  const session = openSession();
  try {
    if (a.watch)
      return await (
        await import('./shared/watch.js')
      ).watchCommand(session, sel, { allusers: !!a.allusers, exit: (a.exit as string[] | undefined) ?? [] });
    if (pbsView && a.pbs)
      return await pbsView.showPbsQueue(session, sel, {
        full: !!a.f,
        finished: !!a.x,
        limit: (a.limit as number) ?? 0,
        server: session.config.str('HOSTNAME') || (await import('node:os')).hostname(),
      });
    if (a.analyze)
      return await analyze(session, sel, {
        allusers: !!a.allusers,
        reverse: !!a.reverse,
        limit: (a.limit as number) ?? 0,
      });
    const schedd = await session.schedd();
    const mine = !a.allusers && !sel.ids.length && !sel.owners.length;
    let constraint = sel.constraint;
    if (a.hold) constraint = constraint ? `(${constraint}) && JobStatus == 5` : 'JobStatus == 5';
    if (a.run) constraint = constraint ? `(${constraint}) && JobStatus == 2` : 'JobStatus == 2';
    const listing = listingViewOf(a);
    const table = isTable(listing);
    const pages = schedd.queryPages({
      ids: sel.ids,
      owners: mine ? [session.user] : sel.owners,
      constraint,
      projection: viewProjection(listing),
      history: false,
      limit: (a.limit as number) ?? 0,
      counts_only: table && !!a.totals,
      ...viewFormat(listing),
    });
    // the schedd's counts come with the last page
    let last: JobQueryPage__Output | undefined;
    const rows = await printJobPages(pages, listing, (page) => {
      if (page.last) last = page;
    });
    if (table) {
      const view: QueueView = a.hold ? 'hold' : a.run ? 'run' : a.nobatch ? 'nobatch' : 'batch';
      const name = qualifiedName(
        session.config.str('SCHEDD_NAME'),
        session.config.str('HOSTNAME') || (await import('node:os')).hostname(),
      );
      const addr = readAddressFile(addressFile(session.config.paths, 'schedd'))?.address ?? '';
      const counts = (c: JobQueryPage__Output['matched'] | undefined) => (c ? { ...c } : undefined);
      await writeOut(
        renderQueue(rows, {
          view,
          banner: { name, address: addr },
          totalsOnly: !!a.totals,
          // the counts the schedd keeps: a summary costs nothing whatever the queue's size
          queryCounts: counts(last?.matched),
          totals:
            last?.mine && last.all
              ? { user: { name: session.user, counts: counts(last.mine)! }, all: counts(last.all) }
              : undefined,
          color: io().stdout.hasColors?.() ?? false,
          width: a.wide || !io().stdout.isTTY ? undefined : io().stdout.columns,
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
