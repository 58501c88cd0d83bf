// What the DAG manager tells the user in FILE.dag.dagman.out, as DAGMan's own log does: each node's submission
// (with its cluster), each PRE/POST script run and its exit status, each retry, why each node failed, and at
// the end a summary naming the failed nodes. Lines are written live only (never while replaying after a
// restart), one per recorded event, from the event and the node's state right after it was applied.
import type { Dag } from '../../../grammar/dag/index.js';
import type { NodeView, DagSummary } from './views.js';
import type { DagEvent, LogLevel } from './events.js';

export interface NarrationLine {
  level: LogLevel;
  msg: string;
}

/** The node's state before and after an event, as the engine saw it. */
export interface NodeChange {
  before: NodeView;
  after: NodeView;
  maxRetries: number;
  /** why a script could not be run at all (its file missing, not executable), from the host */
  scriptError?: string;
}

/** `x.dag.rescue003` → 3 (DAGMan numbers its rescue DAGs from 1). */
export function rescueNumber(file: string): number | undefined {
  const m = /\.rescue(\d+)$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** The lines one event adds to dagman.out. */
export function narrate(dag: Dag, ev: DagEvent, change: NodeChange | undefined): NarrationLine[] {
  const out: NarrationLine[] = [];
  const info = (msg: string) => out.push({ level: 'info', msg });
  const error = (msg: string) => out.push({ level: 'error', msg });
  if (ev.type === 'dag_started') {
    if (dag.rescueFile) {
      const n = rescueNumber(dag.rescueFile);
      info(
        `Running rescue DAG${n === undefined ? '' : ` ${n}`} (${dag.rescueFile}): nodes it marks DONE are not run again`,
      );
    }
    info(`DAG ${dag.file}: ${ev.nodes} nodes`);
    return out;
  }
  if (!('node' in ev) || !change) return out;
  const name = ev.node;
  const node = dag.byName.get(name);
  switch (ev.type) {
    case 'pre_started':
    case 'post_started': {
      const kind = ev.type === 'pre_started' ? 'PRE' : 'POST';
      info(`Running ${kind} script of node ${name}: ${(kind === 'PRE' ? node?.pre : node?.post)?.command ?? ''}`);
      break;
    }
    case 'pre_finished':
    case 'post_finished':
      out.push(scriptFinished(ev.type === 'pre_finished' ? 'PRE' : 'POST', name, ev.exitCode, change.scriptError));
      break;
    case 'submitting':
      info(`Submitting node ${name} job(s)${ev.retry ? ` (retry ${ev.retry})` : ''}`);
      break;
    case 'submitted':
      info(`Submitted node ${name}: cluster ${ev.cluster} (${ev.procs} proc${ev.procs === 1 ? '' : 's'})`);
      break;
    case 'cluster_done':
      if (ev.succeeded) info(`Node ${name} job (cluster ${ev.cluster}) completed successfully`);
      else error(`Node ${name} job (cluster ${ev.cluster}) failed with return value ${ev.returnCode}`);
      break;
  }
  const { before, after } = change;
  if (after.retry > before.retry)
    info(`Retrying node ${name} (retry ${after.retry} of ${change.maxRetries}) after: ${before.detail ?? 'a failure'}`);
  else if (after.phase === 'failed' && before.phase !== 'failed') {
    const tries = after.retry + 1;
    error(
      `Node ${name} failed${tries > 1 ? ` after ${tries} attempts` : ''}: ${after.detail ?? `return value ${after.returnCode}`}`,
    );
  } else if (after.phase === 'done' && before.phase !== 'done') info(`Node ${name} succeeded`);
  return out;
}

/** The end of dagman.out: counts, the failed nodes and why, the rescue DAG and the exit status. */
export function summarize(
  dag: Dag,
  views: NodeView[],
  summary: DagSummary,
  end: { exitCode: number; rescueFile?: string },
): NarrationLine[] {
  const out: NarrationLine[] = [];
  out.push({
    level: 'info',
    msg: `Of ${summary.total} nodes total: ${summary.done} done, ${summary.failed} failed, ${summary.futile} not run (an ancestor failed), ${summary.waiting + summary.ready} not started`,
  });
  const failed = views.filter((v) => v.phase === 'failed');
  if (failed.length) {
    const lines = failed.map(
      (v) =>
        `  ${v.name}${v.cluster !== undefined ? ` (cluster ${v.cluster})` : ''}: ${v.detail ?? `return value ${v.returnCode}`}`,
    );
    out.push({ level: 'error', msg: `the following node(s) failed:\n${lines.join('\n')}` });
  } else if (end.exitCode === 0) out.push({ level: 'info', msg: 'All nodes completed successfully' });
  if (end.rescueFile)
    out.push({
      level: 'info',
      msg: `Rescue DAG written to ${end.rescueFile}; submit ${dag.file} again to run what is left`,
    });
  out.push({ level: 'info', msg: `DAG manager exiting with status ${end.exitCode}` });
  return out;
}

function scriptFinished(
  kind: 'PRE' | 'POST',
  node: string,
  code: number,
  cannotRun: string | undefined,
): NarrationLine {
  if (code === 0) return { level: 'info', msg: `${kind} script of node ${node} completed successfully` };
  if (cannotRun)
    return { level: 'error', msg: `${kind} script of node ${node} failed: ${cannotRun} (exit status ${code})` };
  return {
    level: 'error',
    msg: `${kind} script of node ${node} failed with status ${code < 0 ? `${code} (killed by signal ${-code})` : code}`,
  };
}
