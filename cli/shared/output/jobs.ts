// Job views as condor_q and condor_history print them: the default batch view, -nobatch, -hold, -run, the
// history table, the totals lines, -long and JSON. Every function is pure: ads in, text out; `now` and the
// time zone come in through the options so tests can pin them.
import { HoldCode, JobStatus } from '../../../lib/job-status.js';
import type { JobCounts__Output } from '../../../lib/rpc/generated/dsched/v1/JobCounts.js';
import { formatAdsJson, formatAdsJsonl, formatAdsLong, num, str, bool, type OutputAd } from './ad.js';
import { renderTable, type Cell, type Column, type Style } from './columns.js';
import { formatBannerTime, formatDate, formatDuration, type TimeOptions } from './time.js';
import { nowSeconds } from '../../../lib/time.js';

export const JOB_SCHEMA = 'dsched.job.v1';

export interface JobViewOptions {
  /** Epoch seconds used for running jobs' RUN_TIME (default: the clock). */
  now?: number;
  /** Dates in UTC and/or ISO 8601 instead of local `11/23 14:05`. */
  time?: TimeOptions;
  /** Colour status letters and held counts (decide with `stream.hasColors()`). */
  color?: boolean;
  /** Terminal width: CMD / HOLD_REASON are cut so lines fit (condor_q without -wide). Unset: never cut. */
  width?: number;
  /** RUN_TIME of a running job includes earlier runs (condor_q -cumulative-time). */
  cumulativeTime?: boolean;
  /** -nobatch: the ads in the order given (condor_q -dag's tree order), not sorted by id. */
  ordered?: boolean;
  /** -nobatch, -idle: CPU_TIME (RemoteUserCpu) in place of RUN_TIME (condor_q -cputime). */
  cpuTime?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Attributes as the columns show them

/** `cluster.proc`. */
export function jobId(ad: OutputAd): string {
  return `${num(ad, 'ClusterId') ?? '?'}.${num(ad, 'ProcId') ?? '?'}`;
}

/** The ST column: I R X C H > S, `<`/`>` while a running job transfers its sandbox. */
export function statusLetter(ad: OutputAd): string {
  const s = num(ad, 'JobStatus');
  switch (s) {
    case JobStatus.Idle:
      return 'I';
    case JobStatus.Running:
      if (bool(ad, 'TransferringInput')) return '<';
      if (bool(ad, 'TransferringOutput')) return '>';
      return 'R';
    case JobStatus.Removed:
      return 'X';
    case JobStatus.Completed:
      return 'C';
    case JobStatus.Held:
      return 'H';
    case JobStatus.TransferringOutput:
      return '>';
    case JobStatus.Suspended:
      return 'S';
    default:
      return '?';
  }
}

const STATUS_STYLE: Record<string, Style | undefined> = {
  R: 'green',
  H: 'red',
  X: 'magenta',
  C: 'dim',
  S: 'yellow',
  '<': 'cyan',
  '>': 'cyan',
};

/** The status name HTCondor uses (`Idle`, `Running`, …). */
export function statusName(status: number | undefined): string {
  switch (status) {
    case 1:
      return 'Idle';
    case 2:
      return 'Running';
    case 3:
      return 'Removed';
    case 4:
      return 'Completed';
    case 5:
      return 'Held';
    case 6:
      return 'Transferring Output';
    case 7:
      return 'Suspended';
    default:
      return 'Unknown';
  }
}

/**
 * RUN_TIME in seconds. A running job shows its current run (now − JobCurrentStartDate, falling back to
 * JobStartDate), plus earlier runs with `cumulative`; any other job shows RemoteWallClockTime, the time committed
 * by its finished runs (for a completed job without it: CompletionDate − start).
 */
export function runTimeSeconds(ad: OutputAd, now: number, cumulative = false): number {
  const status = num(ad, 'JobStatus');
  const wall = num(ad, 'RemoteWallClockTime');
  const running =
    status === JobStatus.Running || status === JobStatus.TransferringOutput || status === JobStatus.Suspended;
  const start = num(ad, 'JobCurrentStartDate') ?? num(ad, 'JobStartDate');
  if (running && start !== undefined && start > 0) {
    const current = Math.max(0, now - start);
    return cumulative ? current + (wall ?? 0) : current;
  }
  if (wall !== undefined) return wall;
  const done = num(ad, 'CompletionDate');
  if (done !== undefined && done > 0 && start !== undefined && start > 0) return Math.max(0, done - start);
  return 0;
}

/** SIZE: MemoryUsage in MB, else ImageSize (KB) in MB, with one decimal. */
export function sizeMb(ad: OutputAd): string {
  const mem = num(ad, 'MemoryUsage');
  if (mem !== undefined) return mem.toFixed(1);
  const image = num(ad, 'ImageSize');
  if (image !== undefined) return (image / 1024).toFixed(1);
  return '0.0';
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** The job's arguments as one string (Args, the old syntax, or Arguments, the new one). */
export function jobArgs(ad: OutputAd): string {
  return str(ad, 'Args') || str(ad, 'Arguments') || '';
}

/**
 * CMD as condor_q prints it: JobDescription when set, else the executable's base name and its arguments.
 * `fullPath` keeps the executable's path (condor_history).
 */
export function jobDescription(ad: OutputAd, fullPath = false): string {
  const desc = str(ad, 'JobDescription');
  if (desc) return desc;
  const cmd = str(ad, 'Cmd') ?? '';
  const args = jobArgs(ad);
  const exe = fullPath ? cmd : basename(cmd);
  return args ? `${exe} ${args}` : exe;
}

/** The exit of a finished job for humans: `0`, `2` (non-zero), `SIG9`; empty for jobs without one. */
export function exitText(ad: OutputAd): string {
  if (bool(ad, 'ExitBySignal')) {
    const sig = num(ad, 'ExitSignal');
    return sig === undefined ? 'SIG?' : `SIG${sig}`;
  }
  const code = num(ad, 'ExitCode');
  return code === undefined ? '' : String(code);
}

/** Whether a finished job succeeded: completed, not by a signal, exit code 0. Everything else is not a success. */
export function jobSucceeded(ad: OutputAd): boolean {
  return num(ad, 'JobStatus') === JobStatus.Completed && bool(ad, 'ExitBySignal') !== true && num(ad, 'ExitCode') === 0;
}

/** Sort key: cluster then proc. */
function byId(a: OutputAd, b: OutputAd): number {
  return (num(a, 'ClusterId') ?? 0) - (num(b, 'ClusterId') ?? 0) || (num(a, 'ProcId') ?? 0) - (num(b, 'ProcId') ?? 0);
}

/** The ID column: clusters right-aligned so the dots line up, procs left-aligned (`  12.0  `, `1234.17 `). */
function idCells(ads: readonly OutputAd[]): string[] {
  const clusters = ads.map((a) => String(num(a, 'ClusterId') ?? '?'));
  const w = Math.max(0, ...clusters.map((c) => c.length));
  return ads.map((a, i) => `${clusters[i]!.padStart(w)}.${String(num(a, 'ProcId') ?? '?').padEnd(3)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Totals

/** Jobs by status (the schedd's counts arrive in the same shape: the proto's JobCounts). */
export type JobCounts = JobCounts__Output;

/** Counts by state as condor_q's totals line does (transferring output counts as running). */
export function countJobs(ads: readonly OutputAd[]): JobCounts {
  const c: JobCounts = { total: 0, completed: 0, removed: 0, idle: 0, running: 0, held: 0, suspended: 0 };
  for (const ad of ads) {
    c.total++;
    switch (num(ad, 'JobStatus')) {
      case JobStatus.Idle:
        c.idle++;
        break;
      case JobStatus.Running:
      case JobStatus.TransferringOutput:
        c.running++;
        break;
      case JobStatus.Removed:
        c.removed++;
        break;
      case JobStatus.Completed:
        c.completed++;
        break;
      case JobStatus.Held:
        c.held++;
        break;
      case JobStatus.Suspended:
        c.suspended++;
        break;
    }
  }
  return c;
}

/** `Total for <label>: N jobs; a completed, b removed, c idle, d running, e held, f suspended`. */
export function formatTotals(label: string, c: JobCounts): string {
  return (
    `Total for ${label}: ${c.total} jobs; ${c.completed} completed, ${c.removed} removed, ` +
    `${c.idle} idle, ${c.running} running, ${c.held} held, ${c.suspended} suspended`
  );
}

export interface TotalsInput {
  /** The jobs the query matched. */
  query: JobCounts;
  /** condor_q's second line: the current user's jobs in the whole queue. */
  user?: { name: string; counts: JobCounts };
  /** condor_q's third line: every job in the queue (the schedd knows it; the CLI asks for it). */
  all?: JobCounts;
}

/**
 * The totals block, as current condor_q prints it: `Total for query`, then `Total for <user>` and
 * `Total for all users` when the caller has those counts.
 */
export function formatTotalsBlock(t: TotalsInput): string[] {
  const lines = [formatTotals('query', t.query)];
  if (t.user) lines.push(formatTotals(t.user.name, t.user.counts));
  if (t.all) lines.push(formatTotals('all users', t.all));
  return lines;
}

/** `-- Schedd: <name> : <address> @ 11/23/25 14:05:00`. */
export function formatScheddBanner(name: string, address: string, now: number, time: TimeOptions = {}): string {
  const addr = address.startsWith('<') ? address : `<${address}>`;
  return `-- Schedd: ${name} : ${addr} @ ${formatBannerTime(now, time)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Batch view (condor_q default)

export interface Batch {
  owner: string;
  /** BATCH_NAME: JobBatchName, `DAG: <id>` for a DAG without one, `ID: <cluster>` otherwise. */
  name: string;
  /** Earliest QDate of the batch. */
  submitted: number | undefined;
  done: number;
  run: number;
  idle: number;
  hold: number;
  total: number;
  /** Job ids of the batch (for a DAG: its node jobs, not the DAGMan jobs), ordered by cluster and proc. */
  ids: string[];
  /** The batch is a DAG workflow. */
  dag: boolean;
  /** The ads of the batch, ordered by id. */
  jobs: OutputAd[];
}

/** A DAGMan job: other jobs name it as their DAGManJobId, or it carries DAG node totals, or its Cmd is a dagman. */
function isDagman(ad: OutputAd, referenced: ReadonlySet<number>): boolean {
  const c = num(ad, 'ClusterId');
  if (c !== undefined && referenced.has(c)) return true;
  if (num(ad, 'DAG_NodesTotal') !== undefined) return true;
  return /dagman/i.test(basename(str(ad, 'Cmd') ?? ''));
}

/**
 * Groups jobs into batches as condor_q does: a whole DAG workflow (nested DAGs included, found by following
 * DAGManJobId) is one batch; otherwise jobs of one owner with the same JobBatchName; otherwise one cluster.
 * Batches are ordered by their first cluster.
 */
export function groupBatches(ads: readonly OutputAd[]): Batch[] {
  const byCluster = new Map<number, OutputAd>();
  const referenced = new Set<number>();
  for (const ad of ads) {
    const c = num(ad, 'ClusterId');
    if (c !== undefined && !byCluster.has(c)) byCluster.set(c, ad);
    const parent = num(ad, 'DAGManJobId');
    if (parent !== undefined) referenced.add(parent);
  }

  const dagRoot = (ad: OutputAd): number | undefined => {
    let cur = ad;
    let root: number | undefined = isDagman(cur, referenced) ? num(cur, 'ClusterId') : undefined;
    for (let hops = 0; hops < 64; hops++) {
      const parent = num(cur, 'DAGManJobId');
      if (parent === undefined) break;
      root = parent;
      const next = byCluster.get(parent);
      if (!next || next === cur) break;
      cur = next;
    }
    return root;
  };

  interface Acc {
    key: string;
    order: number;
    dagRoot?: number;
    jobs: OutputAd[];
  }
  const groups = new Map<string, Acc>();
  for (const ad of ads) {
    const cluster = num(ad, 'ClusterId') ?? 0;
    const root = dagRoot(ad);
    let key: string;
    if (root !== undefined) key = `dag:${root}`;
    else if (str(ad, 'JobBatchName')) key = `name:${str(ad, 'Owner') ?? ''}\u0000${str(ad, 'JobBatchName')}`;
    else key = `cluster:${cluster}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, order: cluster, jobs: [] };
      if (root !== undefined) g.dagRoot = root;
      groups.set(key, g);
    }
    g.order = Math.min(g.order, cluster);
    g.jobs.push(ad);
  }

  const batches: Batch[] = [];
  for (const g of [...groups.values()].sort((a, b) => a.order - b.order)) {
    const jobs = [...g.jobs].sort(byId);
    const first = jobs[0]!;
    const dag = g.dagRoot !== undefined;
    const rootAd = dag ? byCluster.get(g.dagRoot!) : undefined;
    const members = dag ? jobs.filter((j) => !isDagman(j, referenced)) : jobs;
    let done = 0;
    let run = 0;
    let idle = 0;
    let hold = 0;
    for (const j of members) {
      switch (num(j, 'JobStatus')) {
        case JobStatus.Completed:
          done++;
          break;
        case JobStatus.Running:
        case JobStatus.TransferringOutput:
        case JobStatus.Suspended:
          run++;
          break;
        case JobStatus.Idle:
          idle++;
          break;
        case JobStatus.Held:
          hold++;
          break;
      }
    }
    let total: number;
    if (dag) {
      // A DAG's TOTAL counts node clusters (a sub-DAG counts once), or DAGMan's own node totals when known.
      const nodeClusters = new Set(
        jobs.filter((j) => num(j, 'ClusterId') !== g.dagRoot).map((j) => num(j, 'ClusterId')),
      );
      total = (rootAd && num(rootAd, 'DAG_NodesTotal')) ?? nodeClusters.size;
      const nodesDone = rootAd ? num(rootAd, 'DAG_NodesDone') : undefined;
      if (nodesDone !== undefined) done = nodesDone;
    } else {
      // Procs that already left the queue (TotalSubmitProcs > procs present) count as done.
      const perCluster = new Map<number, { present: number; submitted: number }>();
      for (const j of members) {
        const c = num(j, 'ClusterId') ?? 0;
        const e = perCluster.get(c) ?? { present: 0, submitted: 0 };
        e.present++;
        e.submitted = Math.max(e.submitted, num(j, 'TotalSubmitProcs') ?? 0);
        perCluster.set(c, e);
      }
      total = 0;
      for (const e of perCluster.values()) {
        total += Math.max(e.present, e.submitted);
        done += Math.max(0, e.submitted - e.present);
      }
    }
    const qdates = jobs.map((j) => num(j, 'QDate')).filter((q): q is number => q !== undefined && q > 0);
    const name = dag
      ? ((rootAd && str(rootAd, 'JobBatchName')) ??
        members.map((m) => str(m, 'JobBatchName')).find(Boolean) ??
        `DAG: ${g.dagRoot}`)
      : (str(first, 'JobBatchName') ?? `ID: ${num(first, 'ClusterId') ?? '?'}`);
    batches.push({
      owner: str(rootAd ?? first, 'Owner') ?? '',
      name,
      submitted: qdates.length ? Math.min(...qdates) : undefined,
      done,
      run,
      idle,
      hold,
      total,
      ids: members.map(jobId),
      dag,
      jobs,
    });
  }
  return batches;
}

/** JOB_IDS: `12.0`, or `12.0 ... 12.9`. */
function idRange(ids: readonly string[]): string {
  if (ids.length === 0) return '';
  if (ids.length === 1) return ids[0]!;
  return `${ids[0]} ... ${ids[ids.length - 1]}`;
}

const countCell = (n: number): string => (n === 0 ? '_' : String(n));

/**
 * condor_q's default view: `OWNER BATCH_NAME SUBMITTED DONE RUN IDLE [HOLD] TOTAL JOB_IDS`, zeros as `_`. The HOLD
 * column appears only when some batch has held jobs, or when there are no jobs at all (as condor_q).
 */
export function formatBatchView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  const batches = groupBatches(ads);
  const showHold = batches.length === 0 || batches.some((b) => b.hold > 0);
  const n = (h: string): Column => ({ header: h, align: 'right', minWidth: 6 });
  const columns: Column[] = [
    { header: 'OWNER' },
    { header: 'BATCH_NAME', minWidth: 10 },
    { header: 'SUBMITTED', align: 'right', minWidth: 12 },
    n('DONE'),
    // condor_q's RUN heading sits one cell left of its numbers.
    { header: '  RUN ', align: 'right', minWidth: 6 },
    n('IDLE'),
    ...(showHold ? [n('HOLD')] : []),
    n('TOTAL'),
    { header: 'JOB_IDS', flex: true },
  ];
  const rows: Cell[][] = batches.map((b) => [
    b.owner,
    b.name,
    formatDate(b.submitted, opts.time),
    countCell(b.done),
    countCell(b.run),
    countCell(b.idle),
    ...(showHold ? [b.hold > 0 ? { text: countCell(b.hold), style: 'red' as const } : countCell(b.hold)] : []),
    countCell(b.total),
    idRange(b.ids),
  ]);
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

// ---------------------------------------------------------------------------------------------------------------
// Per-job views

const OWNER_COL: Column = { header: 'OWNER', minWidth: 14 };
const SUBMITTED_COL: Column = { header: 'SUBMITTED', align: 'right', minWidth: 11 };
const RUN_TIME_COL: Column = { header: 'RUN_TIME', align: 'right', minWidth: 12 };

function statusCell(ad: OutputAd): Cell {
  const l = statusLetter(ad);
  const style = STATUS_STYLE[l];
  return style ? { text: l, style } : l;
}

/** condor_q -nobatch: `ID OWNER SUBMITTED RUN_TIME ST PRI SIZE CMD`, one line per job, ordered by id. */
export function formatNobatchView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  return perJobTable(opts.ordered ? ads : [...ads].sort(byId), opts, true);
}

/** condor_q -idle: `ID OWNER SUBMITTED RUN_TIME PRI SIZE CMD` for idle jobs (other jobs are skipped). */
export function formatIdleView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  return perJobTable(ads.filter((a) => num(a, 'JobStatus') === JobStatus.Idle).sort(byId), opts, false);
}

/** The -nobatch table, with or without its ST column; -cputime puts CPU_TIME where RUN_TIME was. */
function perJobTable(jobs: readonly OutputAd[], opts: JobViewOptions, status: boolean): string[] {
  const now = opts.now ?? nowSeconds();
  const ids = idCells(jobs);
  const columns: Column[] = [
    { header: 'ID' },
    OWNER_COL,
    SUBMITTED_COL,
    opts.cpuTime ? { ...RUN_TIME_COL, header: 'CPU_TIME' } : RUN_TIME_COL,
    ...(status ? [{ header: 'ST' } satisfies Column] : []),
    { header: 'PRI' },
    { header: 'SIZE', align: 'right' },
    { header: 'CMD', flex: true },
  ];
  const rows: Cell[][] = jobs.map((ad, i) => [
    ids[i]!,
    str(ad, 'Owner') ?? '',
    formatDate(num(ad, 'QDate'), opts.time),
    formatDuration(
      opts.cpuTime ? Math.floor(num(ad, 'RemoteUserCpu') ?? 0) : runTimeSeconds(ad, now, opts.cumulativeTime),
    ),
    ...(status ? [statusCell(ad)] : []),
    String(num(ad, 'JobPrio') ?? 0),
    sizeMb(ad),
    jobDescription(ad),
  ]);
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

/**
 * condor_q -hold: `ID OWNER HELD_SINCE CODE/SUB HOLD_REASON` for held jobs (other jobs are skipped). Current
 * HTCondor shows the CODE/SUB column; `codes: false` gives the older `ID OWNER HELD_SINCE HOLD_REASON`.
 */
export function formatHoldView(ads: readonly OutputAd[], opts: JobViewOptions & { codes?: boolean } = {}): string[] {
  const jobs = ads.filter((a) => num(a, 'JobStatus') === JobStatus.Held).sort(byId);
  const ids = idCells(jobs);
  const codes = opts.codes ?? true;
  const columns: Column[] = [
    { header: 'ID' },
    OWNER_COL,
    { header: 'HELD_SINCE', align: 'right', minWidth: 11 },
    ...(codes ? [{ header: 'CODE/SUB' } satisfies Column] : []),
    { header: 'HOLD_REASON', flex: true },
  ];
  const rows: Cell[][] = jobs.map((ad, i) => [
    ids[i]!,
    str(ad, 'Owner') ?? '',
    formatDate(num(ad, 'EnteredCurrentStatus'), opts.time),
    ...(codes ? [`${num(ad, 'HoldReasonCode') ?? 0}/${num(ad, 'HoldReasonSubCode') ?? 0}`] : []),
    (str(ad, 'HoldReason') ?? '').replace(/[\r\n]+/g, ' ') + killedBy(ad),
  ]);
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

/** ` (killed by signal 9)` for a job the startd killed over its resources (its run's end is that kill), else ''. */
function killedBy(ad: OutputAd): string {
  if (num(ad, 'HoldReasonCode') !== HoldCode.JobOutOfResources || !bool(ad, 'ExitBySignal')) return '';
  return ` (killed by signal ${num(ad, 'ExitSignal') ?? '?'})`;
}

/** condor_q -run: `ID OWNER SUBMITTED RUN_TIME HOST(S)` for running jobs (other jobs are skipped). */
export function formatRunView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  const jobs = ads
    .filter((a) => {
      const s = num(a, 'JobStatus');
      return s === JobStatus.Running || s === JobStatus.TransferringOutput || s === JobStatus.Suspended;
    })
    .sort(byId);
  const now = opts.now ?? nowSeconds();
  const ids = idCells(jobs);
  const columns: Column[] = [
    { header: 'ID' },
    OWNER_COL,
    SUBMITTED_COL,
    RUN_TIME_COL,
    { header: 'HOST(S)', flex: true },
  ];
  const rows: Cell[][] = jobs.map((ad, i) => [
    ids[i]!,
    str(ad, 'Owner') ?? '',
    formatDate(num(ad, 'QDate'), opts.time),
    formatDuration(runTimeSeconds(ad, now, opts.cumulativeTime)),
    // a parallel job's every slot (RemoteHost names only its first)
    str(ad, 'RemoteHosts') ?? str(ad, 'RemoteHost') ?? str(ad, 'LastRemoteHost') ?? '',
  ]);
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

/**
 * condor_history: `ID OWNER SUBMITTED RUN_TIME ST COMPLETED CMD`, in the order given (dhistory passes newest
 * first). COMPLETED is CompletionDate (EnteredCurrentStatus for a removed job that never completed), `???` when
 * unknown; CMD keeps the executable's path. `exitColumn` adds EXIT after ST (`0`, `2`, `SIG9`) so a failure
 * can be seen at a glance; C only means the job left the queue by completing, not that it succeeded.
 */
export function formatHistoryView(
  ads: readonly OutputAd[],
  opts: JobViewOptions & { exitColumn?: boolean } = {},
): string[] {
  const ids = idCells(ads);
  const columns: Column[] = [
    { header: 'ID' },
    OWNER_COL,
    SUBMITTED_COL,
    RUN_TIME_COL,
    { header: 'ST' },
    ...(opts.exitColumn ? [{ header: 'EXIT', align: 'right' } satisfies Column] : []),
    { header: 'COMPLETED', minWidth: 11 },
    { header: 'CMD', flex: true },
  ];
  const now = opts.now ?? nowSeconds();
  const rows: Cell[][] = ads.map((ad, i) => {
    const status = num(ad, 'JobStatus');
    const completion = num(ad, 'CompletionDate');
    const when =
      completion !== undefined && completion > 0
        ? completion
        : status === JobStatus.Removed
          ? num(ad, 'EnteredCurrentStatus')
          : undefined;
    const exit = exitText(ad);
    const failed = exit !== '' && exit !== '0';
    return [
      ids[i]!,
      str(ad, 'Owner') ?? '',
      formatDate(num(ad, 'QDate'), opts.time),
      formatDuration(runTimeSeconds(ad, now)),
      statusCell(ad),
      ...(opts.exitColumn ? [failed ? { text: exit, style: 'red' as const } : exit] : []),
      formatDate(when, opts.time, '???'),
      jobDescription(ad, true),
    ];
  });
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

// ---------------------------------------------------------------------------------------------------------------
// Whole outputs

export type QueueView = 'batch' | 'nobatch' | 'idle' | 'hold' | 'run';

export interface QueueOutputOptions extends JobViewOptions {
  view?: QueueView;
  /** `-- Schedd: …` first line (condor_q prints it after a blank line). */
  banner?: { name: string; address: string };
  /** Counts for the extra totals lines; the query line is always computed from the ads. */
  totals?: Omit<TotalsInput, 'query'>;
  /** Print the totals (default true; condor_q -run prints none). */
  showTotals?: boolean;
  /** Only the totals (condor_q -totals). */
  totalsOnly?: boolean;
  /** The query's counts when the schedd sent them (else they are counted from the ads). */
  queryCounts?: JobCounts;
  /** For `hold`: show CODE/SUB (default true). */
  codes?: boolean;
  /** A table of its own instead of the view's (condor_q -io, -goodput: output/queue-views.ts). */
  table?: (ads: readonly OutputAd[], opts: JobViewOptions) => string[];
}

/** A whole condor_q screen: banner, table, a blank line, the totals. Ends with a newline. */
export function renderQueue(ads: readonly OutputAd[], opts: QueueOutputOptions = {}): string {
  const view = opts.view ?? 'batch';
  const out: string[] = [];
  if (opts.banner)
    out.push('', formatScheddBanner(opts.banner.name, opts.banner.address, opts.now ?? nowSeconds(), opts.time));
  const totals = formatTotalsBlock({ query: opts.queryCounts ?? countJobs(ads), ...opts.totals });
  if (opts.totalsOnly) return [...out, ...totals].join('\n') + '\n';
  if (opts.table) for (const l of opts.table(ads, opts)) out.push(l);
  else
    switch (view) {
      case 'batch':
        for (const l of formatBatchView(ads, opts)) out.push(l); // not push(...): 200,000 lines overflow the stack
        break;
      case 'nobatch':
        for (const l of formatNobatchView(ads, opts)) out.push(l);
        break;
      case 'idle':
        for (const l of formatIdleView(ads, opts)) out.push(l);
        break;
      case 'hold':
        for (const l of formatHoldView(ads, opts)) out.push(l);
        break;
      case 'run':
        for (const l of formatRunView(ads, opts)) out.push(l);
        break;
    }
  if (opts.showTotals ?? view !== 'run') out.push('', ...totals);
  return out.join('\n') + '\n';
}

/** dhistory's table. Ends with a newline. */
export function renderHistory(ads: readonly OutputAd[], opts: JobViewOptions & { exitColumn?: boolean } = {}): string {
  return formatHistoryView(ads, opts).join('\n') + '\n';
}

/** -long: every ad in full, a blank line between ads. */
export function formatJobsLong(ads: readonly OutputAd[]): string {
  return formatAdsLong(ads);
}

/** -json: an array of job ads exactly like condor_q -json (see `formatAdsJson` for where the schema tag goes). */
export function formatJobsJson(ads: readonly OutputAd[], opts: { schemaInArray?: boolean } = {}): string {
  return formatAdsJson(ads, { schema: JOB_SCHEMA, ...opts });
}

/** -jsonl: one job ad per line, each with `"$schema": "dsched.job.v1"` first. */
export function formatJobsJsonl(ads: readonly OutputAd[]): string {
  return formatAdsJsonl(ads, JOB_SCHEMA);
}
