// Following jobs until they leave the queue (dwait, dsubmit-dag --wait): one status line on stderr when it is
// a terminal, the final ads from history, and an exit code that tells the truth about them.
import { clearLine, cursorTo } from 'node:readline';
import { ClassAd } from '../../grammar/classad/index.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { DschedError } from '../../lib/errors.js';
import { Universe } from '../../lib/job-status.js';
import { io } from './io.js';
import { followJobs, type JobState } from './watch.js';

export interface WaitResult {
  /** the jobs' ads from history (none when the caller took their outcome as it came: `out`) */
  ads: ClassAd[];
  /** 0 when every job completed with exit code 0 (a DAG: its own exit code) */
  exitCode: number;
}

function progressLine(jobs: Iterable<JobState>): string {
  const n = { all: 0, idle: 0, running: 0, held: 0 };
  let dag: ClassAd | undefined;
  for (const j of jobs) {
    if (j.attrs.DAG_NodesTotal !== undefined) dag = ClassAd.fromRecord(j.attrs);
    n.all++;
    if (j.status === 1) n.idle++;
    else if (j.status === 2) n.running++;
    else if (j.status === 5) n.held++;
  }
  if (dag) {
    const v = (k: string) => Number(dag!.lookupJS(k) ?? 0);
    const total = v('DAG_NodesTotal');
    const done = v('DAG_NodesDone');
    const width = 30;
    const fill = total ? Math.round((done / total) * width) : 0;
    return `DAG ${dag.lookupJS('ClusterId')}: [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} done, ${v('DAG_NodesRunning')} running, ${v('DAG_NodesIdle')} idle, ${v('DAG_NodesFailed')} failed, ${v('DAG_NodesReady')} ready, ${v('DAG_NodesUnready')} waiting`;
  }
  return `${n.all} job(s) in the queue: ${n.idle} idle, ${n.running} running, ${n.held} held`;
}

/**
 * Wait until the jobs left the queue (or, with `enough`, enough of them) and read how each ended from history. `out`: each page of outcome lines
 * (describeOutcome's) is handed to it as it arrives (the next page waits for the promise it returns) and no ad
 * is kept, so a million jobs cost a page of memory.
 */
export async function waitForJobs(
  schedd: ScheddClient,
  ids: Array<{ cluster: number; proc: number }>,
  opts: {
    timeoutSec?: number;
    progress?: boolean;
    out?: (text: string) => void | Promise<void>;
    /** given how many of the jobs are still in the queue, whether enough have left it (dwait -num) */
    enough?: (left: number) => boolean;
  } = {},
): Promise<WaitResult> {
  const stderr = io().stderr;
  const tty = opts.progress !== false && !!stderr.isTTY;
  // The schedd's job-change stream tells of every change as it is committed: the jobs are read once, then
  // each change arrives by itself (a restarted schedd is waited for and the queue read again). The status
  // line is redrawn at most every 200 ms, however many jobs change.
  let timer: NodeJS.Timeout | undefined;
  let latest: ReadonlyMap<string, JobState> = new Map();
  let drawn = false;
  const draw = () => {
    timer = undefined;
    drawn = true;
    cursorTo(stderr, 0);
    clearLine(stderr, 0);
    stderr.write(progressLine(latest.values()));
  };
  const projection = [
    'JobUniverse',
    'DAG_NodesTotal',
    'DAG_NodesDone',
    'DAG_NodesRunning',
    'DAG_NodesIdle',
    'DAG_NodesFailed',
    'DAG_NodesReady',
    'DAG_NodesUnready',
  ];
  const outcome = await followJobs(schedd, {
    ids,
    projection,
    deadline: opts.timeoutSec ? Date.now() + opts.timeoutSec * 1000 : undefined,
    update(jobs) {
      latest = jobs;
      if (!jobs.size || opts.enough?.(jobs.size)) return true;
      if (tty) timer ??= setTimeout(draw, 200);
      return false;
    },
  });
  clearTimeout(timer);
  if (outcome === 'timeout') {
    if (drawn) stderr.write('\n');
    throw new DschedError('TIMEOUT', `${latest.size} job(s) still in the queue after ${opts.timeoutSec} s`);
  }
  if (drawn) stderr.write('\n');
  const histProjection = [
    'ClusterId',
    'ProcId',
    'JobStatus',
    'JobUniverse',
    'ExitCode',
    'ExitBySignal',
    'ExitSignal',
    'RemoveReason',
    'DAG_NodesDone',
    'DAG_NodesTotal',
    'DAG_NodesFailed',
    'DAG_RescueFile',
    'Out',
  ];
  const hist: ClassAd[] = [];
  let seen = 0;
  let dagExit: number | undefined;
  let failed = false;
  for await (const page of schedd.queryPages({
    ids,
    owners: [],
    constraint: '',
    projection: histProjection,
    history: true,
    limit: 0,
  })) {
    const lines: string[] = [];
    for (const a of page.ads) {
      const ad = ClassAd.fromRecord(a.attrs);
      seen++;
      if (ad.lookupJS('JobUniverse') === Universe.Scheduler) dagExit ??= Number(ad.lookupJS('ExitCode') ?? 1);
      else if (ad.lookupJS('JobStatus') !== 4 || ad.lookupJS('ExitBySignal') === true || ad.lookupJS('ExitCode') !== 0)
        failed = true;
      if (opts.out) lines.push(outcomeLine(ad));
      else hist.push(ad);
    }
    if (opts.out && lines.length) await opts.out(lines.join('\n') + '\n');
  }
  if (!seen)
    throw new DschedError(
      'JOB_NOT_FOUND',
      `no such job: ${ids
        .slice(0, 10)
        .map((i) => (i.proc >= 0 ? `${i.cluster}.${i.proc}` : i.cluster))
        .join(', ')}${ids.length > 10 ? ', …' : ''}`,
    );
  return { ads: hist, exitCode: dagExit ?? (failed ? 1 : 0) };
}

export function describeOutcome(res: WaitResult): string {
  return res.ads.map(outcomeLine).join('\n') + '\n';
}

/** How one job ended, in a line (a failed DAG: and a second line saying where to read why). */
function outcomeLine(a: ClassAd): string {
  const id = `${a.lookupJS('ClusterId')}.${a.lookupJS('ProcId')}`;
  const st = a.lookupJS('JobStatus');
  if (a.lookupJS('JobUniverse') === Universe.Scheduler) {
    const rescue = a.lookupJS('DAG_RescueFile');
    const line = `DAG ${id} ${st === 3 ? 'was removed' : Number(a.lookupJS('ExitCode')) === 0 ? 'succeeded' : 'failed'}: ${a.lookupJS('DAG_NodesDone')}/${a.lookupJS('DAG_NodesTotal')} nodes done, ${a.lookupJS('DAG_NodesFailed')} failed (exit code ${a.lookupJS('ExitCode')})${rescue ? `; rescue DAG ${rescue}` : ''}`;
    // the DAG's own log says which node failed and why
    const out = a.lookupJS('Out');
    return Number(a.lookupJS('ExitCode')) !== 0 && typeof out === 'string' && out !== '/dev/null'
      ? `${line}\n  why: ${out}`
      : line;
  }
  if (st === 3) return `job ${id} was removed: ${a.lookupJS('RemoveReason') ?? ''}`;
  if (a.lookupJS('ExitBySignal') === true) return `job ${id} was killed by signal ${a.lookupJS('ExitSignal')}`;
  return `job ${id} exited with code ${a.lookupJS('ExitCode')}`;
}
