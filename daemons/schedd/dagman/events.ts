// What the DAG manager and its host (the schedd) say to each other: the host interface, the events the engine
// records (its only durable state), and job outcomes. See README.md beside this file for the protocol.
import { constants } from 'node:os';
import type { DagNode } from '../../../grammar/dag/index.js';

/** DAGMan's DAG_Status values ($DAG_STATUS, the DAG job's DAG_Status attribute). */
export const DagStatus = {
  OK: 0,
  ERROR: 1,
  NODE_FAILED: 2,
  ABORTED: 3,
  REMOVED: 4,
  CYCLE: 5,
  HALTED: 6,
} as const;
export type DagStatusCode = (typeof DagStatus)[keyof typeof DagStatus];

/** DAGMan's $RETURN for a job whose submission failed, and for a node whose PRE script failed. */
export const RETURN_SUBMIT_FAILED = -1001;
export const RETURN_REMOVED_EXTERNALLY = -1002;
export const RETURN_PRE_FAILED = -1004;

/**
 * One fact the engine records, through `DagHost.record`, before acting on it. Replaying the events of a DAG
 * through `DagEngine.restore` rebuilds its exact state: nothing is inferred from the queue.
 * `at` is `DagHost.now()` (ms since the epoch); `retry` is the node's attempt (0 the first time).
 */
export type DagEvent =
  /** rescueFile: the rescue DAG the run started from (a resume must parse the DAG with the same one) */
  | { type: 'dag_started'; at: number; fingerprint: string; nodes: number; rescueFile?: string }
  | { type: 'pre_started'; at: number; node: string; retry: number }
  /** exitCode: the script's exit code, or minus the signal number that killed it */
  | { type: 'pre_finished'; at: number; node: string; retry: number; exitCode: number }
  /** about to call DagHost.submitNode (which must be idempotent per node and retry) */
  | { type: 'submitting'; at: number; node: string; retry: number; attempt: number }
  | { type: 'submitted'; at: number; node: string; retry: number; cluster: number; procs: number }
  /**
   * final: no more submit attempts (the node's job fails with $RETURN -1001); outage: the pool refused it for
   * its own reasons (disk full, queue unavailable), so the attempt is not spent
   */
  | {
      type: 'submit_failed';
      at: number;
      node: string;
      retry: number;
      attempt: number;
      error: string;
      final: boolean;
      outage?: boolean;
    }
  | {
      type: 'cluster_done';
      at: number;
      node: string;
      retry: number;
      cluster: number;
      succeeded: boolean;
      returnCode: number;
      lastProc: number;
    }
  | { type: 'post_started'; at: number; node: string; retry: number }
  | { type: 'post_finished'; at: number; node: string; retry: number; exitCode: number }
  /** the DAG job was removed (drm): node jobs are removed, the FINAL node runs, a rescue DAG is written */
  | { type: 'dag_removed'; at: number; reason: string }
  /** the outcome is decided and the rescue DAG (if any) is about to be written under this name */
  | { type: 'dag_finishing'; at: number; status: DagStatusCode; exitCode: number; rescueFile?: string }
  | { type: 'dag_finished'; at: number; status: DagStatusCode; exitCode: number; rescueFile?: string };

/** How a node job's cluster ended, as the host reports it to `DagEngine.onClusterDone`. */
export interface ClusterOutcome {
  /** true only when every proc of the cluster exited with code 0 */
  succeeded: boolean;
  /**
   * DAGMan's $RETURN: 0 on success, else the exit code of the first proc that failed; minus the signal number
   * for a proc killed by a signal; -1002 for a proc removed by someone else.
   */
  returnCode: number;
  /** the highest proc id of the cluster ($JOBID is cluster.lastProc); default procs - 1 */
  lastProc?: number;
}

export interface ProcResult {
  proc: number;
  exitCode?: number | null;
  /** signal number or name */
  signal?: number | string | null;
  /** removed by someone other than the DAG manager */
  removed?: boolean;
}

/** A ClusterOutcome from the results of its procs, in the order they ended. */
export function clusterOutcome(procs: readonly ProcResult[]): ClusterOutcome {
  let returnCode = 0;
  let lastProc = -1;
  for (const p of procs) {
    lastProc = Math.max(lastProc, p.proc);
    if (returnCode !== 0) continue;
    if (p.removed) returnCode = RETURN_REMOVED_EXTERNALLY;
    else if (p.signal !== undefined && p.signal !== null) returnCode = -signalNumber(p.signal);
    else if (p.exitCode !== 0) returnCode = p.exitCode ?? 1;
  }
  const out: ClusterOutcome = { succeeded: returnCode === 0, returnCode };
  if (lastProc >= 0) out.lastProc = lastProc;
  return out;
}

/** `SIGKILL` or 9 → 9 (unknown names → 1). */
export function signalNumber(signal: number | string): number {
  if (typeof signal === 'number') return signal;
  const n = (constants.signals as Record<string, number>)[signal.toUpperCase()];
  return n ?? 1;
}

export interface ScriptResult {
  /** null when a signal ended the script */
  exitCode: number | null;
  signal?: string;
  /** why the script could not be run at all ("/dir/pre.sh: No such file or directory"), for dagman.out */
  error?: string;
}

/** The macros a node's submit description is read with (maps onto the submit language's SubmitInput). */
export interface NodeSubmitVars {
  /**
   * Defined before the description is read: DAGMan's JOB, RETRY, FAILED_COUNT, DAG_STATUS, DAG_PARENT_NAMES,
   * and every VARS … PREPEND (the default). For SubmitInput.macros.
   */
  macros: Record<string, string>;
  /**
   * `name = value` lines read after the description: VARS … APPEND, VARS My.Attr (job ClassAd attributes),
   * `My.DAGNodeName`, `My.DAGParentNodeNames`, `My.DAG_Status` (FINAL) and `priority` when the node has one.
   * For SubmitInput.append. The host adds DAGManJobId.
   */
  append: string[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** File output (NODE_STATUS_FILE, JOBSTATE_LOG, DOT, rescue DAGs); the default writes with node:fs. */
export interface DagFileWriter {
  /** replace the file's content atomically (write a temporary file, then rename) */
  writeFile(path: string, text: string): void;
  appendFile(path: string, text: string): void;
  readFile(path: string): string | undefined;
}

/**
 * What the engine needs from the schedd. Every method may be called while earlier calls are still pending.
 * The engine never calls `record` for an action it has already taken: the event is recorded first.
 */
export interface DagHost {
  /**
   * Submit the node's job (for a SUBDAG node: the sub-DAG's own DAG job) from `node.dir`, with the node's submit
   * description (`node.submitDescription`, or the file `node.file`). Must be idempotent per (node.name, retry):
   * after a crash the engine calls it again for a submission whose result it never recorded, and the host must
   * then return the cluster it already made (it tags clusters with DAGNodeName and the retry) instead of
   * submitting again. Rejecting means the submission failed; a DschedError whose exitCode is 2 (bad input, e.g.
   * a syntax error in the submit file) is not retried.
   *
   * Job outcomes: call `DagEngine.onClusterDone` when a node cluster has left the queue (or when one of its procs
   * failed: the engine then removes the rest). An outcome may arrive before the engine has recorded the
   * submission (it is kept until then) and may arrive twice (the second is ignored). After a restore, report the
   * outcome of every cluster in `pendingClusters()` that ended while the engine was down, and of a cluster that
   * an idempotent submitNode returns if it has already ended.
   */
  submitNode(node: DagNode, vars: NodeSubmitVars, retry: number): Promise<{ cluster: number; procs: number }>;
  /** Remove the cluster's remaining jobs (idempotent; the engine does not wait for them to leave the queue). */
  removeCluster(cluster: number, reason: string): Promise<void>;
  /**
   * Run a PRE/POST/HOLD script on the submit side, in `cwd`; argv[0] is the command as written in the DAG. Stop it
   * when `signal` aborts (the DAG was aborted or removed). A rejection counts as exit code 127.
   */
  runScript(
    kind: 'PRE' | 'POST' | 'HOLD',
    node: DagNode,
    argv: string[],
    cwd: string,
    opts: { signal: AbortSignal },
  ): Promise<ScriptResult>;
  /** Persist the event durably (fsync) before returning; a throw stops the engine. */
  record(event: DagEvent): void;
  /** ms since the epoch */
  now(): number;
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** Timers for DEFER and submit back-off (default: setTimeout, unref'd). */
  setTimer?(delayMs: number, fn: () => void): { cancel(): void };
  /**
   * The cluster already submitted for (node, retry), if any, without submitting. Used only after a crash in a
   * DAG that was aborted or removed; without it the engine submits (idempotently) and removes.
   */
  findCluster?(node: DagNode, retry: number): Promise<number | undefined>;
  /** File output; default node:fs. */
  files?: DagFileWriter;
}
