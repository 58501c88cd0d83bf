// condor_q's less common tables: -dag (node jobs under their DAGMan job), -io (file transfer totals) and
// -goodput (how much of a job's time was useful, its CPU use and transfer rate). Pure, as jobs.ts: ads in,
// lines out.
import { JobStatus } from '../../../lib/job-status.js';
import { nowSeconds } from '../../../lib/time.js';
import { num, str, type OutputAd } from './ad.js';
import { renderTable, type Cell, type Column } from './columns.js';
import { formatDate, formatDuration } from './time.js';
import { jobId, runTimeSeconds, statusLetter, type JobViewOptions } from './jobs.js';

const byId = (a: OutputAd, b: OutputAd) =>
  (num(a, 'ClusterId') ?? 0) - (num(b, 'ClusterId') ?? 0) || (num(a, 'ProcId') ?? 0) - (num(b, 'ProcId') ?? 0);

/** An ad whose OWNER column shows its place in a DAG (`|-node`, indented per nesting level). */
class DagNodeAd implements OutputAd {
  constructor(
    private readonly ad: OutputAd,
    private readonly owner: string,
  ) {}
  lookupJS(name: string): unknown {
    return name.toLowerCase() === 'owner' ? this.owner : this.ad.lookupJS(name);
  }
}

/**
 * condor_q -dag: the jobs in id order, except that the jobs of a DAG (DAGManJobId) follow their DAGMan job,
 * their OWNER column showing ` |-NODE` (DAGNodeName), nested DAGs indented further. A node whose DAGMan job
 * is not among the ads is listed on its own, as any job.
 */
export function dagOrder(ads: readonly OutputAd[]): OutputAd[] {
  const clusters = new Set(ads.map((a) => num(a, 'ClusterId')));
  const children = new Map<number, OutputAd[]>();
  const top: OutputAd[] = [];
  for (const ad of ads) {
    const parent = num(ad, 'DAGManJobId');
    if (parent !== undefined && parent !== num(ad, 'ClusterId') && clusters.has(parent))
      children.set(parent, [...(children.get(parent) ?? []), ad]);
    else top.push(ad);
  }
  const out: OutputAd[] = [];
  const seen = new Set<number>();
  const walk = (ad: OutputAd, depth: number) => {
    out.push(
      depth === 0
        ? ad
        : new DagNodeAd(ad, `${'  '.repeat(depth - 1)} |-${str(ad, 'DAGNodeName') ?? str(ad, 'Owner') ?? ''}`),
    );
    const c = num(ad, 'ClusterId');
    // a cluster's nodes once, under its first proc (a DAGMan job is one proc); a loop of ids cannot recurse
    if (c === undefined || seen.has(c)) return;
    seen.add(c);
    for (const child of (children.get(c) ?? []).sort(byId)) walk(child, depth + 1);
  };
  for (const ad of top.sort(byId)) walk(ad, 0);
  return out;
}

/** Bytes as condor_q shows transfer sizes: `0.0 B`, `12.3 KB`, `4.5 MB`. */
function bytesText(n: number | undefined): string {
  if (n === undefined || n <= 0) return '0.0 B';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const ID_COL: Column = { header: 'ID' };
const OWNER_COL: Column = { header: 'OWNER', minWidth: 14 };

/**
 * condor_q -io: `ID OWNER RUNS ST INPUT OUTPUT RATE MISC` — how often each job started, the bytes sent to it
 * (BytesSent) and back from it (BytesRecvd) over its runs, their rate over its run time, and a transfer under
 * way (`in`, `out`).
 */
export function formatIoView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  const jobs = [...ads].sort(byId);
  const now = opts.now ?? nowSeconds();
  const columns: Column[] = [
    ID_COL,
    OWNER_COL,
    { header: 'RUNS', align: 'right' },
    { header: 'ST' },
    { header: 'INPUT', align: 'right' },
    { header: 'OUTPUT', align: 'right' },
    { header: 'RATE', align: 'right' },
    { header: 'MISC', flex: true },
  ];
  const rows: Cell[][] = jobs.map((ad) => {
    const input = num(ad, 'BytesSent') ?? 0;
    const output = num(ad, 'BytesRecvd') ?? 0;
    const time = runTimeSeconds(ad, now, true);
    const moving =
      ad.lookupJS('TransferringInput') === true
        ? 'in'
        : ad.lookupJS('TransferringOutput') === true || num(ad, 'JobStatus') === JobStatus.TransferringOutput
          ? 'out'
          : '';
    return [
      jobId(ad),
      str(ad, 'Owner') ?? '',
      String(num(ad, 'NumJobStarts') ?? 0),
      statusLetter(ad),
      bytesText(input),
      bytesText(output),
      time > 0 ? `${bytesText((input + output) / time)}/s` : '0.0 B/s',
      moving,
    ];
  });
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

/**
 * condor_q -goodput: `ID OWNER SUBMITTED RUN_TIME GOODPUT CPU_UTIL Mb/s`. GOODPUT is the share of the job's run
 * time that counted (CommittedTime, else a running job's current run, over all of it: runs that were evicted
 * and started again did not);
 * CPU_UTIL its CPU time (RemoteUserCpu + RemoteSysCpu) over that run time; Mb/s its transfers over it.
 * `[?????]` where the job has not run.
 */
export function formatGoodputView(ads: readonly OutputAd[], opts: JobViewOptions = {}): string[] {
  const jobs = [...ads].sort(byId);
  const now = opts.now ?? nowSeconds();
  const unknown = '[?????]';
  const columns: Column[] = [
    ID_COL,
    OWNER_COL,
    { header: 'SUBMITTED', align: 'right', minWidth: 11 },
    { header: 'RUN_TIME', align: 'right', minWidth: 12 },
    { header: 'GOODPUT', align: 'right' },
    { header: 'CPU_UTIL', align: 'right' },
    { header: 'Mb/s', align: 'right' },
  ];
  const rows: Cell[][] = jobs.map((ad) => {
    const total = runTimeSeconds(ad, now, true);
    // without CommittedTime: a running job's earlier runs were lost when it was evicted (no checkpoints), so
    // what counts is its current run; a job that is not running is taken at its word (all of it)
    const committed = num(ad, 'CommittedTime') ?? (total > 0 ? runTimeSeconds(ad, now, false) || total : 0);
    const cpu = (num(ad, 'RemoteUserCpu') ?? 0) + (num(ad, 'RemoteSysCpu') ?? 0);
    const bytes = (num(ad, 'BytesSent') ?? 0) + (num(ad, 'BytesRecvd') ?? 0);
    const pct = (x: number) => `${Math.min(100, x * 100).toFixed(1)}%`;
    return [
      jobId(ad),
      str(ad, 'Owner') ?? '',
      formatDate(num(ad, 'QDate'), opts.time),
      formatDuration(total),
      total > 0 ? pct(committed / total) : unknown,
      committed > 0 ? pct(cpu / committed) : unknown,
      committed > 0 ? ((bytes * 8) / 1e6 / committed).toFixed(2) : unknown,
    ];
  });
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}
