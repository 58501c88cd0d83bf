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
import { parseJobId } from './shared/job-id.js';
import { openSession, type Session } from './shared/session.js';
import { listingOptions, REFUSED_PRINT_FORMAT } from './shared/listing-options.js';
import { parseCli, longForm, splitQualifiers, wideWidth, type RefusedOptions } from './shared/yargs.js';
import type { JobQueryPage__Output } from '../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import type { ScheddTarget } from './shared/queue-options.js';
import type { PoolChoice } from './shared/analyze-pool.js';

/** This host's schedd's name, as its ads give it (the banner's). */
async function localName(session: Session): Promise<string> {
  return qualifiedName(
    session.config.str('SCHEDD_NAME'),
    session.config.str('HOSTNAME') || (await import('node:os')).hostname(),
  );
}

/** This host's schedd's address, from its address file ('' when it has none). */
const localAddress = (session: Session) => readAddressFile(addressFile(session.config.paths, 'schedd'))?.address ?? '';

/** How -analyze and -unmatchable look at the jobs (condor_q's analyze options). */
interface AnalyzeOptions extends PoolChoice {
  allusers: boolean;
  reverse: boolean;
  limit: number;
  /** -analyze:summary: one line per job. */
  summary: boolean;
  /** -unmatchable: the -nobatch table of the jobs no slot would ever run, instead of an analysis. */
  unmatchable: boolean;
}

/**
 * -analyze / -better-analyze: why each selected job is idle (or held). Job ids select those jobs whatever their
 * state; otherwise the selection (yours by default, -allusers, users, -constraint) is narrowed to idle jobs.
 * -unmatchable lists those of them that no slot would ever run.
 */
async function analyze(session: Session, sel: Selection, opts: AnalyzeOptions): Promise<number> {
  const [{ ClassAd, parseExpr }, { idText }, analysis, { fetchPoolForAnalysis }, { writeOut }] = await Promise.all([
    import('../grammar/classad/index.js'),
    import('./shared/job-selection.js'),
    import('./shared/analyze.js'),
    import('./shared/analyze-pool.js'),
    import('./shared/job-query.js'),
  ]);
  // a malformed -mconstraint is an error even when no job is left to analyze with it
  if (opts.mconstraint !== undefined) parseExpr(opts.mconstraint, { file: '<-mconstraint>', line: 1, column: 1 });
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
      io().stderr.write(
        `${io().command ?? 'dq'}: job ${idText(id)} is not in the queue (finished jobs are in ${io().command === 'condor_q' ? 'condor_history' : 'dhistory'})\n`,
      );
      failed = true;
    }
  }
  const name = await localName(session);
  if (!jobs.length && !opts.unmatchable) {
    if (!sel.ids.length) io().stdout.write(`No idle jobs${mine ? ` of ${session.user}` : ''} to analyze.\n`);
    return failed ? EXIT.failed : EXIT.ok;
  }
  const pool = await fetchPoolForAnalysis(session, opts);
  if (opts.unmatchable) {
    const addr = localAddress(session);
    await writeOut(
      renderQueue(
        jobs.filter((j) => analysis.isUnmatchable(j, pool.slots)),
        {
          view: 'nobatch',
          banner: { name, address: addr },
          color: io().stdout.hasColors?.() ?? false,
          width: io().stdout.isTTY ? io().stdout.columns : undefined,
        },
      ),
    );
    return failed ? EXIT.failed : EXIT.ok;
  }
  if (opts.summary) {
    io().stdout.write(analysis.summarizeJobs(jobs, pool.slots));
    return failed ? EXIT.failed : EXIT.ok;
  }
  const byOwner = new Map<string, ClassAd[]>();
  for (const j of jobs) {
    const owner = String(j.lookupJS('Owner') ?? '');
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), j]);
  }
  const texts = [...byOwner].map(([owner, ads]) =>
    analysis.analyzeJobs(ads, pool.slots, {
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

/** condor_q options that have no meaning in dsched, and why. */
const REFUSED: RefusedOptions = {
  grid: { why: 'dsched runs no grid universe jobs (GridResource): there are no grid jobs to list' },
  factory: { why: 'dsched has no late materialization: every proc of a cluster is in the queue from its submission' },
  jobset: { why: 'dsched has no job sets; a JobBatchName groups jobs, as the default batch view shows' },
  ...REFUSED_PRINT_FORMAT,
  jobads: { arg: true, why: 'dq reads no file of job ads; -userlog FILE rebuilds the queue from an event log' },
  slotads: { arg: true, why: 'dq -analyze reads the slots from the collector; -machine and -mconstraint choose them' },
  userprios: { arg: true, why: 'dq -analyze asks the negotiator for the priorities; -nouserprios leaves them out' },
  'dry-run': { why: 'it is a test of condor_q itself; dq has no dry run' },
};

const L = listingOptions('job', 'Owner,JobStatus');

/**
 * condor_q's qualified options, read into the plain ones: `-long:json` is -json, `-long:xml` -xml, `-long:new`
 * one ad a line; `-wide:N` cuts lines at N columns; `-analyze:summary,reverse,priority`;
 * `-reverse-analyze` is -analyze -reverse. Sets the plain options in `a`.
 */
function qualifiers(a: Record<string, unknown>): { newForm: boolean; width?: number; summary: boolean } {
  const newForm = longForm(a, ['new']) === 'new';
  const width = wideWidth(a);
  let summary = false;
  for (const q of ((a['analyze-opts'] as string | undefined) ?? '').split(',').filter(Boolean)) {
    if (q === 'summary') summary = true;
    else if (q === 'reverse') a.reverse = true;
    // the analysis always weighs fair share when the negotiator answers
    else if (q !== 'priority')
      throw new DschedError('USAGE', `-analyze:${q}: the qualifiers are summary, reverse and priority`);
  }
  if (a['reverse-analyze']) a.analyze = a.reverse = true;
  return { newForm, width, summary };
}

/** `target`: the schedd of -name, or one of -global's (main runs once for each); else this host's. */
async function main(argv: string[], target?: ScheddTarget): Promise<number> {
  const a = await parseCli(
    'dq',
    splitQualifiers(argv, ['af', 'long', 'wide', 'analyze']),
    'usage: dq [cluster | cluster.proc | user]... [options]',
    REFUSED,
    (y) =>
      y
        .option('nobatch', { type: 'boolean', describe: 'one line per job' })
        .option('batch', { type: 'boolean', describe: 'jobs grouped in batches (the default)' })
        .option('allusers', { type: 'boolean', describe: "every user's jobs, not only yours" })
        .option('submitter', {
          type: 'string',
          array: true,
          describe: "this user's jobs (condor_q -submitter NAME; NAME@domain is the user NAME)",
        })
        .options(L.constraint(true))
        .options(L.long(['new']))
        .options(L.forms(' (HTCondor attribute names)'))
        .option('hold', { type: 'boolean', alias: 'held', describe: 'held jobs and why' })
        .option('idle', { type: 'boolean', describe: 'idle jobs: ID OWNER SUBMITTED RUN_TIME PRI SIZE CMD' })
        .option('cputime', {
          type: 'boolean',
          describe: 'with -nobatch or -idle: CPU_TIME (RemoteUserCpu) in place of RUN_TIME',
        })
        .option('run', { type: 'boolean', describe: 'running jobs and where' })
        .option('totals', { type: 'boolean', describe: 'only the totals' })
        .options(L.wide())
        .option('stream-results', {
          type: 'boolean',
          describe: 'accepted: dq writes the jobs as the schedd sends them',
        })
        .option('expert', { type: 'boolean', describe: "accepted: dq's error messages are short already" })
        .options(L.utc())
        .options(L.limit())
        .options(L.attributes())
        .option('currentrun', { type: 'boolean', describe: "RUN_TIME: a running job's current run only (the default)" })
        .option('cumulative-time', { type: 'boolean', describe: "RUN_TIME: a running job's earlier runs too" })
        .option('dag', {
          type: 'boolean',
          describe: "one line per job, a DAG's node jobs under its DAGMan job (|-NODE)",
        })
        .option('io', {
          type: 'boolean',
          describe: 'starts, bytes sent to and from each job, their rate, transfers under way',
        })
        .option('goodput', {
          type: 'boolean',
          describe: "the share of each job's run time that counted, its CPU use and its transfers' Mb/s",
        })
        .option('name', {
          type: 'string',
          describe: "this schedd's queue (its Name, or its host, as dstatus -schedd lists them)",
        })
        .option('global', {
          type: 'boolean',
          describe: 'the queue of every schedd the collector knows, one after another',
        })
        .option('userlog', {
          type: 'string',
          describe: 'the jobs of this event log (log = in the submit file) still queued, as it tells; no schedd asked',
        })
        .conflicts('userlog', ['name', 'global', 'watch', 'analyze', 'unmatchable', 'pbs', 'autocluster'])
        .conflicts('currentrun', 'cumulative-time')
        .conflicts('global', ['name', 'watch', 'analyze', 'unmatchable', 'pbs'])
        .conflicts('name', ['watch', 'analyze', 'unmatchable', 'pbs'])
        .conflicts('autocluster', ['watch', 'analyze', 'unmatchable', 'pbs', 'dag', 'totals'])
        .options(L.autoformat())
        .option('analyze', {
          type: 'boolean',
          alias: 'better-analyze',
          describe:
            'why the jobs are idle: Requirements clause by clause against the pool, START, resources, fair share (no id: your idle jobs)',
        })
        .option('analyze-opts', { type: 'string', hidden: true })
        .option('reverse', {
          type: 'boolean',
          describe: "with -analyze: also each slot's START against the job, clause by clause",
        })
        // condor_q's other analyze options
        .options({
          'reverse-analyze': { type: 'boolean', describe: '-analyze -reverse' },
          machine: { type: 'string', describe: 'with -analyze: only this slot (its Name) or machine' },
          mconstraint: {
            type: 'string',
            describe: 'with -analyze: only the slots for which this ClassAd expression is true',
          },
          nouserprios: { type: 'boolean', describe: 'with -analyze: leave fair share out' },
          verbose: { type: 'boolean', describe: 'with -analyze: accepted (the analysis names the machines)' },
        })
        .option('autocluster', {
          type: 'boolean',
          describe:
            "the schedd's autoclusters of the idle jobs: each one's id, its number of jobs and its significant attributes",
        })
        .option('unmatchable', {
          type: 'boolean',
          describe: 'idle jobs that no slot of the pool would ever run (their Requirements, its START, their size)',
        })
        .option('queue', { type: 'string', describe: 'only jobs of this batch queue (PBS queue, Slurm partition)' })
        .option('pbs', {
          type: 'boolean',
          describe: "qstat's table (Job id, Name, User, Time Use, S, Queue), every user's jobs",
        })
        .option('f', {
          type: 'boolean',
          describe: "with -pbs: qstat -f's long form, attribute = value with PBS's names",
        })
        .option('x', { type: 'boolean', describe: 'with -pbs: finished jobs too, all in job id order (qstat -x)' })
        .option('pbs-alt', {
          type: 'string',
          describe:
            "with -pbs: qstat -a's layout; 'n' adds each job's hosts under it (qstat -n), 's' its comment (qstat -s), 'w' widens its columns (qstat -w)",
        })
        .option('pbs-ids', { type: 'boolean', describe: 'with -pbs: the job ids only, one a line (qselect)' })
        .option('pbs-subjobs', {
          type: 'boolean',
          describe: "with -pbs: an array job's subjobs after its one line C[] (qstat -t)",
        })
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
        .example('dq -autocluster -allusers', 'the idle jobs in groups that match alike, with their numbers')
        .example('dq -json -attributes ClusterId,JobStatus', 'two attributes of each job, as JSON')
        .example('dq -global -allusers', 'every job of every schedd in the pool'),
  );
  const [
    { parseSelection },
    { isTable, listingViewOf, printJobPages, UnreadableAttrs, viewFormat, viewProjection, writeOut },
  ] = await Promise.all([import('./shared/job-selection.js'), import('./shared/job-query.js')]);
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
  const q = qualifiers(a);
  if (a.reverse && !a.analyze) throw new DschedError('USAGE', '-reverse goes with -analyze');
  for (const n of ['machine', 'mconstraint', 'nouserprios', 'verbose'])
    if (a[n] !== undefined && !a.analyze && !a.unmatchable)
      throw new DschedError('USAGE', `-${n} goes with -analyze (or -unmatchable)`);
  if (a.cputime && !a.nobatch && !a.idle) throw new DschedError('USAGE', '-cputime goes with -nobatch or -idle');
  if (q.summary && a.reverse) throw new DschedError('USAGE', '-analyze:summary shows jobs: it goes without reverse');
  if (a.f && !a.pbs) throw new DschedError('USAGE', '-f goes with -pbs (dq -pbs -f JOB)');
  if (a.x && !a.pbs) throw new DschedError('USAGE', '-x goes with -pbs (dq -pbs -x; dhistory lists finished jobs)');
  if ((a['pbs-alt'] !== undefined || a['pbs-ids'] || a['pbs-subjobs']) && !a.pbs)
    throw new DschedError('USAGE', '-pbs-alt, -pbs-ids and -pbs-subjobs go with -pbs');
  if (a.exit && !a.watch) throw new DschedError('USAGE', '-exit goes with -watch');
  const session = openSession();
  try {
    if (!target && (a.global || a.name)) {
      const targets = await (
        await import('./shared/queue-options.js')
      ).scheddTargets(session, { name: a.name as string | undefined, global: !!a.global });
      let code: number = EXIT.ok;
      for (const t of targets) code = Math.max(code, await main(argv, t));
      return code;
    }
    if (a.watch)
      return await (
        await import('./shared/watch.js')
      ).watchCommand(session, sel, { allusers: !!a.allusers, exit: (a.exit as string[] | undefined) ?? [] });
    if (pbsView && a.pbs)
      return await pbsView.showPbsQueue(session, sel, {
        full: !!a.f,
        finished: !!a.x,
        alt:
          a['pbs-alt'] === undefined
            ? undefined
            : {
                nodes: String(a['pbs-alt']).includes('n'),
                comments: String(a['pbs-alt']).includes('s'),
                wide: String(a['pbs-alt']).includes('w'),
              },
        idsOnly: !!a['pbs-ids'],
        // a subjob named (C[I]) is shown as itself, as qstat shows it
        subjobs: !!a['pbs-subjobs'] || a._.some((w) => /\[\d+\]/.test(String(w))),
        onlySubjobsOf: clustersNamedBySubjobsOnly(a._.map(String)),
        limit: (a.limit as number) ?? 0,
        server: session.config.str('HOSTNAME') || (await import('node:os')).hostname(),
      });
    if (a.analyze || a.unmatchable)
      return await analyze(session, sel, {
        allusers: !!a.allusers,
        reverse: !!a.reverse,
        limit: (a.limit as number) ?? 0,
        summary: q.summary,
        unmatchable: !!a.unmatchable,
        machine: a.machine as string | undefined,
        mconstraint: a.mconstraint as string | undefined,
        priorities: !a.nouserprios,
      });
    const mine = !a.allusers && !sel.ids.length && !sel.owners.length && !a.userlog;
    if (a.autocluster) {
      const listing = listingViewOf(a);
      await (
        await import('./shared/autoclusters.js')
      ).showAutoclusters(
        target?.client ?? (await session.schedd()),
        {
          ids: sel.ids,
          owners: mine ? [session.user] : sel.owners,
          constraint: sel.constraint,
          limit: (a.limit as number) ?? 0,
        },
        {
          listing,
          xml: !!a.xml,
          banner: {
            name: target?.name ?? (await localName(session)),
            address: target?.address ?? localAddress(session),
          },
          width: q.width ?? (a.wide || !io().stdout.isTTY ? undefined : io().stdout.columns),
          time: { utc: !!a.utc },
        },
      );
      return EXIT.ok;
    }
    let constraint = sel.constraint;
    if (a.hold) constraint = constraint ? `(${constraint}) && JobStatus == 5` : 'JobStatus == 5';
    if (a.run) constraint = constraint ? `(${constraint}) && JobStatus == 2` : 'JobStatus == 2';
    if (a.idle) constraint = constraint ? `(${constraint}) && JobStatus == 1` : 'JobStatus == 1';
    // -xml prints whole ads, as -long does
    const listing = { ...listingViewOf(a), long: !!a.long || !!a.xml };
    const table = isTable(listing);
    const [scan, queueOptions] = await Promise.all([
      import('./shared/job-scan.js'),
      import('./shared/queue-options.js'),
    ]);
    // -attributes: exactly those, from ads (the schedd's rendered listings carry whole ads)
    const narrow = a.attributes && scan.wholeAds(listing) ? scan.attributeList(a.attributes as string[]) : undefined;
    const xml = !!a.xml && !listing.af && !listing.format && !listing.json && !listing.jsonl;
    const newForm = q.newForm && !listing.af && !listing.format && !listing.json && !listing.jsonl;
    const query = {
      ids: sel.ids,
      owners: mine ? [session.user] : sel.owners,
      constraint,
      projection: narrow ?? viewProjection(listing),
      history: false,
      limit: (a.limit as number) ?? 0,
      counts_only: table && !!a.totals,
      ...(narrow || xml || newForm ? { format: '' } : viewFormat(listing)),
    };
    let pages = a.userlog
      ? queueOptions.userlogPages(a.userlog as string, { ...sel, constraint })
      : (target?.client ?? (await session.schedd())).queryPages(query);
    if (narrow) pages = scan.onlyAttributes(pages, narrow);
    const unreadable = new UnreadableAttrs(io().command ?? 'dq');
    if (xml) pages = scan.xmlPages(pages, unreadable);
    if (newForm) pages = scan.newFormPages(pages);
    // the schedd's counts come with the last page
    let last: JobQueryPage__Output | undefined;
    const rows = await printJobPages(pages, listing, unreadable, (page) => {
      if (page.last) last = page;
    });
    if (table) {
      const view: QueueView = a.hold
        ? 'hold'
        : a.run
          ? 'run'
          : a.idle
            ? 'idle'
            : a.nobatch || a.dag
              ? 'nobatch'
              : 'batch';
      const views = await import('./shared/output/queue-views.js');
      const name = await localName(session);
      const addr = target?.address ?? localAddress(session);
      const counts = (c: JobQueryPage__Output['matched'] | undefined) => (c ? { ...c } : undefined);
      await writeOut(
        renderQueue(a.dag ? views.dagOrder(rows) : rows, {
          view,
          ordered: !!a.dag,
          table: a.io ? views.formatIoView : a.goodput ? views.formatGoodputView : undefined,
          cumulativeTime: !!a['cumulative-time'],
          cpuTime: !!a.cputime,
          banner: a.userlog ? undefined : { name: target?.name ?? name, address: addr },
          totalsOnly: !!a.totals,
          // the counts the schedd keeps: a summary costs nothing whatever the queue's size
          queryCounts: counts(last?.matched),
          totals:
            last?.mine && last.all
              ? { user: { name: session.user, counts: counts(last.mine)! }, all: counts(last.all) }
              : undefined,
          color: io().stdout.hasColors?.() ?? false,
          width: q.width ?? (a.wide || !io().stdout.isTTY ? undefined : io().stdout.columns),
          time: { utc: !!a.utc },
        }),
      );
    }
    unreadable.check();
    return EXIT.ok;
  } finally {
    session.close();
  }
}

/** The clusters the words name only through subjobs (`C[I]`, not `C`, `C[]` or `C.P`). */
function clustersNamedBySubjobsOnly(words: string[]): Set<number> {
  const ids = words.map(parseJobId);
  const whole = new Set(ids.filter((id) => id && id.index === undefined).map((id) => id!.cluster));
  return new Set(ids.filter((id) => id?.index !== undefined && !whole.has(id.cluster)).map((id) => id!.cluster));
}

runCli('dq', main);
