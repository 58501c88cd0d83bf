// What the DAG engine shows of a running DAG: where each node is, and the node counts. The engine computes
// them; the outputs (node status file, DOT file) and the narration only read them.

/**
 * Where a node is. `waiting`: a parent has not finished; `pre_ready`/`job_ready`/`post_ready`: its next step may
 * start (when the throttles allow, and after any DEFER delay); `pre`/`post`: a script runs; `submitting`: the
 * host is submitting its job; `submitted`: its cluster is in the queue; `futile`: it can never run because an
 * ancestor failed.
 */
export type NodePhase =
  | 'waiting'
  | 'pre_ready'
  | 'pre'
  | 'job_ready'
  | 'submitting'
  | 'submitted'
  | 'post_ready'
  | 'post'
  | 'done'
  | 'failed'
  | 'futile';

/** Node counts for `dq` and the node status file. `idle`/`running`/`held`: nodes whose job is in the queue. */
export interface DagSummary {
  total: number;
  done: number;
  failed: number;
  /** will never run: an ancestor failed */
  futile: number;
  /** a parent has not finished */
  waiting: number;
  /** may start as soon as the throttles allow */
  ready: number;
  pre: number;
  post: number;
  idle: number;
  running: number;
  held: number;
  state: 'running' | 'aborting' | 'removing' | 'succeeded' | 'failed';
}

export interface NodeView {
  name: string;
  phase: NodePhase;
  retry: number;
  cluster?: number;
  /** the last failure's return value */
  returnCode?: number;
  detail?: string;
}
