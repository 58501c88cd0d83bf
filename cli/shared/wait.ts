// Following jobs until they leave the queue (dwait, dsubmit-dag --wait): one status line on stderr when it is
// a terminal, the final ads from history, and an exit code that tells the truth about them.
import { clearLine, cursorTo } from 'node:readline';
import { ClassAd } from '../../grammar/classad/index.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { DschedError } from '../../lib/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WaitResult {
  ads: ClassAd[];
  /** 0 when every job completed with exit code 0 (a DAG: its own exit code) */
  exitCode: number;
}

function progressLine(ads: ClassAd[]): string {
  const dag = ads.find((a) => a.lookupJS('DAG_NodesTotal') !== undefined);
  if (dag) {
    const n = (k: string) => Number(dag.lookupJS(k) ?? 0);
    const total = n('DAG_NodesTotal');
    const done = n('DAG_NodesDone');
    const width = 30;
    const fill = total ? Math.round((done / total) * width) : 0;
    return `DAG ${dag.lookupJS('ClusterId')}: [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} done, ${n('DAG_NodesRunning')} running, ${n('DAG_NodesIdle')} idle, ${n('DAG_NodesFailed')} failed, ${n('DAG_NodesReady')} ready, ${n('DAG_NodesUnready')} waiting`;
  }
  const count = (s: number) => ads.filter((a) => a.lookupJS('JobStatus') === s).length;
  return `${ads.length} job(s) in the queue: ${count(1)} idle, ${count(2)} running, ${count(5)} held`;
}

export async function waitForJobs(
  schedd: ScheddClient,
  ids: Array<{ cluster: number; proc: number }>,
  opts: { timeoutSec?: number; progress?: boolean } = {},
): Promise<WaitResult> {
  const deadline = opts.timeoutSec ? Date.now() + opts.timeoutSec * 1000 : Infinity;
  const tty = opts.progress !== false && process.stderr.isTTY;
  let delay = 100;
  let unreachableSince = 0;
  // the ids travel as a list however many there are; while waiting only the counts by state come back
  // (the DAG progress line needs its DAG job's ad: asked for when the jobs are few)
  const few = ids.length <= 100;
  const projection = ['ClusterId', 'ProcId', 'JobStatus', 'JobUniverse', 'DAG_NodesTotal', 'DAG_NodesDone', 'DAG_NodesRunning', 'DAG_NodesIdle', 'DAG_NodesFailed', 'DAG_NodesReady', 'DAG_NodesUnready'];
  for (;;) {
    let left: number;
    let line = '';
    try {
      let counts: { total: number; idle: number; running: number; held: number } | undefined;
      const ads: ClassAd[] = [];
      for await (const page of schedd.queryPages({ ids, owners: [], constraint: '', projection, history: false, limit: 0, counts_only: !(tty && few) })) {
        for (const a of page.ads) ads.push(ClassAd.fromRecord(a.attrs));
        if (page.last && page.matched) counts = page.matched;
      }
      left = counts?.total ?? ads.length;
      if (tty) line = ads.length ? progressLine(ads) : `${left} job(s) in the queue: ${counts?.idle ?? 0} idle, ${counts?.running ?? 0} running, ${counts?.held ?? 0} held`;
      unreachableSince = 0;
    } catch (e) {
      // a schedd that is restarting (its master brings it back) is waited for, up to two minutes
      if ((e as DschedError).code !== 'SCHEDD_UNREACHABLE') throw e;
      unreachableSince ||= Date.now();
      if (Date.now() - unreachableSince > 120_000) throw e;
      await sleep(500);
      continue;
    }
    if (!left) break;
    if (tty) {
      cursorTo(process.stderr, 0);
      clearLine(process.stderr, 0);
      process.stderr.write(line);
    }
    if (Date.now() > deadline) {
      if (tty) process.stderr.write('\n');
      throw new DschedError('TIMEOUT', `${left} job(s) still in the queue after ${opts.timeoutSec} s`);
    }
    await sleep(delay);
    delay = Math.min(1000, delay * 1.5);
  }
  if (tty) process.stderr.write('\n');
  const histProjection = ['ClusterId', 'ProcId', 'JobStatus', 'JobUniverse', 'ExitCode', 'ExitBySignal', 'ExitSignal', 'RemoveReason', 'DAG_NodesDone', 'DAG_NodesTotal', 'DAG_NodesFailed', 'DAG_RescueFile', 'Out'];
  const hist: ClassAd[] = [];
  for await (const page of schedd.queryPages({ ids, owners: [], constraint: '', projection: histProjection, history: true, limit: 0 }))
    for (const a of page.ads) hist.push(ClassAd.fromRecord(a.attrs));
  if (!hist.length) throw new DschedError('JOB_NOT_FOUND', `no such job: ${ids.slice(0, 10).map((i) => (i.proc >= 0 ? `${i.cluster}.${i.proc}` : i.cluster)).join(', ')}${ids.length > 10 ? ', …' : ''}`);
  const dag = hist.find((a) => a.lookupJS('JobUniverse') === 7);
  let exitCode = 0;
  if (dag) exitCode = Number(dag.lookupJS('ExitCode') ?? 1);
  else if (hist.some((a) => a.lookupJS('JobStatus') !== 4 || a.lookupJS('ExitBySignal') === true || a.lookupJS('ExitCode') !== 0)) exitCode = 1;
  return { ads: hist, exitCode };
}

export function describeOutcome(res: WaitResult): string {
  const lines: string[] = [];
  for (const a of res.ads) {
    const id = `${a.lookupJS('ClusterId')}.${a.lookupJS('ProcId')}`;
    const st = a.lookupJS('JobStatus');
    if (a.lookupJS('JobUniverse') === 7) {
      const rescue = a.lookupJS('DAG_RescueFile');
      lines.push(`DAG ${id} ${st === 3 ? 'was removed' : Number(a.lookupJS('ExitCode')) === 0 ? 'succeeded' : 'failed'}: ${a.lookupJS('DAG_NodesDone')}/${a.lookupJS('DAG_NodesTotal')} nodes done, ${a.lookupJS('DAG_NodesFailed')} failed (exit code ${a.lookupJS('ExitCode')})${rescue ? `; rescue DAG ${rescue}` : ''}`);
      // the DAG's own log says which node failed and why
      const out = a.lookupJS('Out');
      if (Number(a.lookupJS('ExitCode')) !== 0 && typeof out === 'string' && out !== '/dev/null') lines.push(`  why: ${out}`);
    } else if (st === 3) lines.push(`job ${id} was removed: ${a.lookupJS('RemoveReason') ?? ''}`);
    else if (a.lookupJS('ExitBySignal') === true) lines.push(`job ${id} was killed by signal ${a.lookupJS('ExitSignal')}`);
    else lines.push(`job ${id} exited with code ${a.lookupJS('ExitCode')}`);
  }
  return lines.join('\n') + '\n';
}
