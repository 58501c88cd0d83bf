// The DAG manager: DAGMan's semantics as a state machine the schedd drives (see README.md beside this file).
//
// State changes only through `apply(event)`, a deterministic function of the DAG, the previous state and the
// event. Live, every change is first recorded (`DagHost.record`), then applied, then acted on; after a crash,
// `DagEngine.restore` applies the recorded events to a fresh engine and `start()` resumes what was in flight:
// a script that started but never reported is run again, a submission that was never confirmed is asked for
// again (the host's submitNode is idempotent per node and retry, so it returns the cluster it made), a cluster
// whose outcome is unknown is waited for (the host reports it, `pendingClusters()`). A node that finished never
// runs again and a node's job is never submitted twice for the same attempt.
import { createHash } from 'node:crypto';
import { DschedError, GrpcStatus } from '../../../lib/errors.js';
import type { Dag, DagNode, DagParseOptions, DagScript } from '../../../grammar/dag/index.js';
import { formatRescueDag, MAX_RESCUE_NUM, nextRescueDagName, parseDagFile } from '../../../grammar/dag/index.js';
import {
  DagStatus,
  RETURN_PRE_FAILED,
  RETURN_SUBMIT_FAILED,
  signalNumber,
  type ClusterOutcome,
  type DagEvent,
  type DagFileWriter,
  type DagHost,
  type DagStatusCode,
  type NodeSubmitVars,
  type ScriptResult,
} from './events.js';
import { narrate, summarize } from './narrate.js';
import { NodeQueue } from './node-queue.js';
import { DagOutputs, fsFileWriter } from './outputs.js';
import type { DagSummary, NodePhase, NodeView } from './views.js';

const PHASES: readonly NodePhase[] = [
  'waiting',
  'pre_ready',
  'pre',
  'job_ready',
  'submitting',
  'submitted',
  'post_ready',
  'post',
  'done',
  'failed',
  'futile',
];

export interface DagEngineOptions {
  /** -maxjobs: node clusters in the queue at once (0: no limit) */
  maxJobs?: number;
  /** -maxidle: idle procs of the DAG's jobs; no submission while there are this many (0: no limit) */
  maxIdle?: number;
  /** -maxpre: PRE scripts running at once (0: no limit) */
  maxPre?: number;
  /** -maxpost: POST scripts running at once (0: no limit) */
  maxPost?: number;
  /** run the POST script even when the PRE script failed (DAGMAN_ALWAYS_RUN_POST), with $RETURN -1004 */
  alwaysRunPost?: boolean;
  /** attempts to submit a node's job before it fails with $RETURN -1001 (DAGMAN_MAX_SUBMIT_ATTEMPTS, 6) */
  maxSubmitAttempts?: number;
  /** delay before the second submit attempt, doubling after each (default 1000 ms) */
  submitRetryDelayMs?: number;
  /** highest rescue DAG number (DAGMAN_MAX_RESCUE_NUM, 100) */
  maxRescue?: number;
  /** a node whose submission failed tries again before the other ready nodes of its priority (DAGMAN_RETRY_SUBMIT_FIRST, true), else after them */
  retrySubmitFirst?: boolean;
  /** a failed node with retries left starts again before the other ready nodes of its priority (DAGMAN_RETRY_NODE_FIRST, false), else after them */
  retryNodeFirst?: boolean;
  /** the DAG job's id (cluster.proc), for JOBSTATE_LOG */
  dagJobId?: string;
  /** restore even if the DAG no longer matches the one the events were recorded for */
  allowDagChange?: boolean;
}

export interface DagResult {
  status: DagStatusCode;
  /** the DAG job's exit code: 0 success, 1 failure, or an ABORT-DAG-ON RETURN value */
  exitCode: number;
  rescueFile?: string;
  summary: DagSummary;
}

const QUEUED_PRE = 1;
const QUEUED_JOB = 2;
const QUEUED_POST = 4;

/** Doublings of the wait after a refusal the node is not to blame for: at most 32 × the first wait (32 s). */
const OUTAGE_MAX_DELAY_STEPS = 5;

/**
 * A submission refused by the pool rather than for the node: the queue's disk is full or the queue is
 * unavailable. DAGMan spends its DAGMAN_MAX_SUBMIT_ATTEMPTS on submissions that fail; an outage that outlasts
 * them would fail nodes that did nothing wrong, so these wait for the pool instead.
 */
function isPoolOutage(err: unknown): boolean {
  return err instanceof DschedError && (err.code === 'DISK_FULL' || err.grpcStatus === GrpcStatus.UNAVAILABLE);
}

export class DagEngine {
  private readonly nodes: readonly DagNode[];
  private readonly n: number;
  private readonly finalIndex: number;
  private readonly opts: Required<Omit<DagEngineOptions, 'dagJobId' | 'allowDagChange'>> & DagEngineOptions;

  // per node
  private readonly phase: NodePhase[];
  private readonly waiting: Int32Array;
  private readonly retry: Int32Array;
  private readonly seq: Int32Array;
  private readonly preReturn: Int32Array;
  private readonly jobReturn: Int32Array;
  private readonly cluster: Float64Array;
  private readonly procs: Int32Array;
  private readonly idle: Int32Array;
  private readonly running: Int32Array;
  private readonly held: Int32Array;
  private readonly lastProc: Int32Array;
  private readonly deferUntil: Float64Array;
  private readonly submitAttempt: Int32Array;
  /** submissions in a row the pool refused for its own reasons (disk full, queue unavailable): spend no attempt */
  private readonly outageRefusals: Int32Array;
  private readonly returnCode: Int32Array;
  private readonly queued: Uint8Array;
  private readonly priority: Int32Array;
  /** among ready nodes of equal priority: 1 a retry that goes first, -1 one that goes last, 0 the DAG's order */
  private readonly queueOrder: Int8Array;
  private readonly detail = new Map<number, string>();
  /** live only: why the node's last script could not be run (for dagman.out) */
  private readonly scriptError = new Map<number, string>();

  // derived counters
  private readonly count: Record<NodePhase, number>;
  private jobsInQueue = 0;
  private idleProcs = 0;
  private readonly categoryCount = new Map<string, number>();
  private seqCounter = 0;
  private readonly clusterNode = new Map<number, number>();

  // queues
  private readonly preQ: NodeQueue;
  private readonly jobQ: NodeQueue;
  private readonly postQ: NodeQueue;
  /** ready nodes held back by their category's MAXJOBS, best first */
  private readonly parked = new Map<string, NodeQueue>();
  private deferred: number[] = [];

  // DAG-level state
  private started = false;
  private aborted?: { node: string; exitCode: number; returnValue?: number };
  private removed?: { reason: string };
  private finishing?: { at: number; status: DagStatusCode; exitCode: number; rescueFile?: string };
  private finished?: DagResult;

  // live only (never in events)
  private readonly scriptsInFlight = new Map<number, AbortController>();
  private readonly submitsInFlight = new Set<number>();
  private readonly removalRequested = new Set<number>();
  private readonly unclaimed = new Map<number, ClusterOutcome>();
  private pumpScheduled = false;
  private begun = false;
  private timer?: { at: number; handle: { cancel(): void } };
  private replaying = false;
  private dead = false;
  private fingerprintCache?: string;
  private readonly outputs: DagOutputs;
  private readonly files: DagFileWriter;
  private resolveResult!: (r: DagResult) => void;
  private rejectResult!: (e: unknown) => void;
  /** Settles when the DAG has finished (or the engine stopped because an event could not be recorded). */
  readonly result: Promise<DagResult>;

  constructor(
    readonly dag: Dag,
    private readonly host: DagHost,
    opts: DagEngineOptions = {},
  ) {
    if (dag.reject) {
      throw new DschedError(
        'USAGE',
        `the DAG has a REJECT statement at ${dag.reject.file}:${dag.reject.line} and must not run`,
      );
    }
    this.opts = {
      maxJobs: 0,
      maxIdle: 0,
      maxPre: 0,
      maxPost: 0,
      alwaysRunPost: false,
      maxSubmitAttempts: 6,
      submitRetryDelayMs: 1000,
      maxRescue: MAX_RESCUE_NUM,
      retrySubmitFirst: true,
      retryNodeFirst: false,
      // an option given as undefined is not given: its default stays
      ...(Object.fromEntries(Object.entries(opts).filter((e) => e[1] !== undefined)) as DagEngineOptions),
    };
    this.nodes = dag.nodes;
    const n = (this.n = dag.nodes.length);
    this.finalIndex = dag.final ? dag.final.index : -1;
    this.phase = new Array<NodePhase>(n).fill('waiting');
    this.waiting = new Int32Array(n);
    this.retry = new Int32Array(n);
    this.seq = new Int32Array(n);
    this.preReturn = new Int32Array(n).fill(-1);
    this.jobReturn = new Int32Array(n);
    this.cluster = new Float64Array(n).fill(-1);
    this.procs = new Int32Array(n);
    this.idle = new Int32Array(n);
    this.running = new Int32Array(n);
    this.held = new Int32Array(n);
    this.lastProc = new Int32Array(n).fill(-1);
    this.deferUntil = new Float64Array(n);
    this.submitAttempt = new Int32Array(n);
    this.outageRefusals = new Int32Array(n);
    this.returnCode = new Int32Array(n);
    this.queued = new Uint8Array(n);
    this.priority = new Int32Array(n);
    this.queueOrder = new Int8Array(n);
    this.count = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<NodePhase, number>;
    this.count.waiting = n;
    for (let i = 0; i < n; i++) this.priority[i] = dag.nodes[i]!.priority;
    this.preQ = new NodeQueue(this.priority, this.queueOrder);
    this.jobQ = new NodeQueue(this.priority, this.queueOrder);
    this.postQ = new NodeQueue(this.priority, this.queueOrder);
    this.files = host.files ?? fsFileWriter;
    this.outputs = new DagOutputs(dag, this, this.files, host, opts.dagJobId);
    this.result = new Promise<DagResult>((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    this.result.catch(() => undefined); // a host that never awaits must not crash the process
    this.init();
  }

  /** Rebuild the engine of a DAG from its recorded events (after a crash); then call `start()` to resume. */
  static restore(dag: Dag, events: readonly DagEvent[], host: DagHost, opts: DagEngineOptions = {}): DagEngine {
    const e = new DagEngine(dag, host, opts);
    e.replaying = true;
    for (const ev of events) {
      if (ev.type === 'dag_started' && ev.rescueFile !== dag.rescueFile && !opts.allowDagChange) {
        throw new DschedError(
          'JOB_STATE',
          `the DAG ${dag.file} was started from ${ev.rescueFile ?? 'no rescue DAG'} but is being resumed with ${dag.rescueFile ?? 'none'}`,
          { hint: 'parse it for a resume with loadDagForResume(file, events)' },
        );
      }
      if (ev.type === 'dag_started' && ev.fingerprint !== e.fingerprint() && !opts.allowDagChange) {
        throw new DschedError(
          'JOB_STATE',
          `the DAG ${dag.file} changed since it started (its nodes, edges or settings differ); it cannot be resumed`,
          { hint: 'submit it again: finished nodes are skipped through its rescue DAG' },
        );
      }
      e.apply(ev);
    }
    e.replaying = false;
    if (e.finished) e.resolveResult(e.finished);
    return e;
  }

  // ------------------------------------------------------------------------------------------- public API

  /** Begin (or, after restore, resume) running the DAG. */
  start(): void {
    if (this.dead || this.begun || this.finished) return;
    this.begun = true;
    try {
      if (!this.started) {
        const ev: Extract<DagEvent, { type: 'dag_started' }> = {
          type: 'dag_started',
          at: this.host.now(),
          fingerprint: this.fingerprint(),
          nodes: this.n,
        };
        if (this.dag.rescueFile) ev.rescueFile = this.dag.rescueFile;
        this.emit(ev);
        this.outputs.started(false);
      } else {
        this.outputs.started(true);
        this.resume();
      }
    } catch (e) {
      return this.fail(e);
    }
    this.schedule();
  }

  /** The host reports that a node job's cluster has left the queue (or that one of its procs failed). */
  onClusterDone(cluster: number, outcome: ClusterOutcome): void {
    if (this.dead || this.finished) return;
    const i = this.clusterNode.get(cluster);
    if (i === undefined) {
      // Perhaps a cluster whose submission the engine has not recorded yet (a fast job, or a submission
      // re-attached after a restore): keep the outcome until it is.
      if (this.unclaimed.size >= 10_000) this.unclaimed.delete(this.unclaimed.keys().next().value!);
      this.unclaimed.set(cluster, outcome);
      return;
    }
    const node = this.nodes[i]!;
    try {
      if (!outcome.succeeded && this.procs[i]! > 1 && !this.removalRequested.has(cluster)) {
        // A node's job fails as soon as one proc fails: DAGMan removes the rest of the cluster.
        this.requestRemoval(cluster, `DAG node ${node.name} failed (return value ${outcome.returnCode})`);
      }
      this.emit({
        type: 'cluster_done',
        at: this.host.now(),
        node: node.name,
        retry: this.retry[i]!,
        cluster,
        succeeded: outcome.succeeded,
        returnCode: outcome.succeeded ? 0 : outcome.returnCode,
        lastProc: outcome.lastProc ?? Math.max(0, this.procs[i]! - 1),
      });
    } catch (e) {
      return this.fail(e);
    }
    this.schedule();
  }

  /** The host reports how many procs of a node's cluster are idle, running and held (for -maxidle and dq). */
  onClusterProgress(cluster: number, procs: { idle: number; running: number; held: number }): void {
    const i = this.clusterNode.get(cluster);
    if (i === undefined || this.dead || this.phase[i] !== 'submitted') return;
    const wasRunning = this.running[i]!;
    const wasHeld = this.held[i]!;
    this.idleProcs += procs.idle - this.idle[i]!;
    this.idle[i] = procs.idle;
    this.running[i] = procs.running;
    this.held[i] = procs.held;
    if (wasRunning === 0 && procs.running > 0) this.outputs.jobstate(i, 'EXECUTE', `${cluster}.0`);
    if (wasHeld === 0 && procs.held > 0) {
      this.outputs.jobstate(i, 'JOB_HELD', `${cluster}.0`);
      this.runHoldScript(i);
    }
    this.outputs.changed();
    this.schedule();
  }

  /** The DAG job was removed: remove node jobs, stop scripts, run the FINAL node, write a rescue DAG. */
  remove(reason: string): void {
    if (this.dead || this.finished || this.finishing || this.removed) return;
    try {
      this.emit({ type: 'dag_removed', at: this.host.now(), reason });
    } catch (e) {
      return this.fail(e);
    }
    this.schedule();
  }

  /** Clusters the engine waits on: after a restore the host reports each one's outcome (from its history if gone). */
  pendingClusters(): Array<{ cluster: number; node: string; retry: number }> {
    const out: Array<{ cluster: number; node: string; retry: number }> = [];
    for (const [cluster, i] of this.clusterNode)
      out.push({ cluster, node: this.nodes[i]!.name, retry: this.retry[i]! });
    return out;
  }

  get isFinished(): boolean {
    return this.finished !== undefined;
  }

  summary(): DagSummary {
    const c = this.count;
    let idle = 0;
    let running = 0;
    let held = 0;
    for (const i of this.clusterNode.values()) {
      if (this.held[i]! > 0) held++;
      else if (this.running[i]! > 0) running++;
      else idle++;
    }
    idle += c.submitting;
    let state: DagSummary['state'] = 'running';
    if (this.finished) state = this.finished.exitCode === 0 ? 'succeeded' : 'failed';
    else if (this.removed) state = 'removing';
    else if (this.aborted) state = 'aborting';
    return {
      total: this.n,
      done: c.done,
      failed: c.failed,
      futile: c.futile,
      waiting: c.waiting,
      ready: c.pre_ready + c.job_ready + c.post_ready,
      pre: c.pre,
      post: c.post,
      idle,
      running,
      held,
      state,
    };
  }

  /** Every node's state, in DAG order (for `dq` and the node status file). */
  nodeViews(): NodeView[] {
    const out: NodeView[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.nodeView(i));
    return out;
  }

  nodeView(i: number): NodeView {
    const v: NodeView = { name: this.nodes[i]!.name, phase: this.phase[i]!, retry: this.retry[i]! };
    if (this.cluster[i]! >= 0) v.cluster = this.cluster[i]!;
    if (this.phase[i] === 'failed') v.returnCode = this.returnCode[i]!;
    const d = this.detail.get(i);
    if (d !== undefined) v.detail = d;
    return v;
  }

  /** Per-node numbers the output writers need. */
  procCounts(i: number): { procs: number; idle: number; running: number; held: number } {
    return { procs: this.procs[i]!, idle: this.idle[i]!, running: this.running[i]!, held: this.held[i]! };
  }

  /** The jobstate.log sequence number of the node's current attempt. */
  sequenceOf(i: number): number {
    return this.seq[i]!;
  }

  /** DAG_Status as it stands now ($DAG_STATUS for the FINAL node). */
  dagStatus(): DagStatusCode {
    if (this.finished) return this.finished.status;
    if (this.removed) return DagStatus.REMOVED;
    if (this.aborted) return this.aborted.returnValue === 0 ? DagStatus.OK : DagStatus.ABORTED;
    if (this.count.failed > 0) return DagStatus.NODE_FAILED;
    return DagStatus.OK;
  }

  /** A digest of what the events depend on: node names, kinds, edges, scripts, retries, throttles. */
  fingerprint(): string {
    if (this.fingerprintCache) return this.fingerprintCache;
    const h = createHash('sha256');
    for (const node of this.nodes) {
      h.update(
        `${node.name}\u0000${node.type}\u0000${node.noop ? 1 : 0}${node.done ? 1 : 0}\u0000${node.pre ? 1 : 0}${node.post ? 1 : 0}` +
          `\u0000${node.retries}\u0000${node.unlessExit ?? ''}\u0000${node.preSkip ?? ''}\u0000${node.abortDagOn?.value ?? ''}` +
          `\u0000${node.pre?.defer?.status ?? ''}\u0000${node.post?.defer?.status ?? ''}\u0000${node.parents.join(',')}\n`,
      );
    }
    this.fingerprintCache = h.digest('hex').slice(0, 32);
    return this.fingerprintCache;
  }

  /** Stop acting (pending callbacks are ignored). For tests that simulate a crash, and for shutdown. */
  dispose(): void {
    this.dead = true;
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.outputs.dispose();
  }

  // --------------------------------------------------------------------------------------------- reducer

  /** The initial state, from the DAG alone: premarked DONE nodes are done, nodes without parents may start. */
  private init(): void {
    const nodes = this.nodes;
    for (let i = 0; i < this.n; i++) this.waiting[i] = nodes[i]!.parents.length;
    for (let i = 0; i < this.n; i++) {
      if (nodes[i]!.done && i !== this.finalIndex) this.succeed(i);
    }
    for (let i = 0; i < this.n; i++) {
      if (i !== this.finalIndex && this.phase[i] === 'waiting' && this.waiting[i] === 0) this.startAttempt(i);
    }
  }

  private apply(ev: DagEvent): void {
    switch (ev.type) {
      case 'dag_started':
        this.started = true;
        return;
      case 'dag_removed':
        this.removed ??= { reason: ev.reason };
        return;
      case 'dag_finishing':
        this.finishing = { at: ev.at, status: ev.status, exitCode: ev.exitCode };
        if (ev.rescueFile !== undefined) this.finishing.rescueFile = ev.rescueFile;
        return;
      case 'dag_finished': {
        const r: DagResult = { status: ev.status, exitCode: ev.exitCode, summary: this.summary() };
        if (ev.rescueFile !== undefined) r.rescueFile = ev.rescueFile;
        this.finished = r;
        this.finished.summary = this.summary();
        return;
      }
    }
    const node = this.dag.byName.get(ev.node);
    if (!node) {
      this.host.log('warn', 'DAG event for an unknown node ignored', { event: ev.type, node: ev.node });
      return;
    }
    const i = node.index;
    // An event proves the FINAL node was started (its start records nothing by itself).
    if (i === this.finalIndex && this.phase[i] === 'waiting') this.startAttempt(i);
    if (ev.retry !== this.retry[i]) return; // from an earlier attempt
    const phase = this.phase[i];
    switch (ev.type) {
      case 'pre_started':
        if (phase !== 'pre_ready') return;
        this.deferUntil[i] = 0;
        this.assignSeq(i);
        this.setPhase(i, 'pre');
        return;
      case 'pre_finished': {
        if (phase !== 'pre') return;
        const code = ev.exitCode;
        const script = node.pre!;
        if (script.defer && code === script.defer.status && !this.stopping()) {
          this.setPhase(i, 'pre_ready');
          this.defer(i, ev.at + script.defer.time * 1000);
          return;
        }
        this.preReturn[i] = code;
        if (node.preSkip !== undefined && code === node.preSkip) {
          this.detail.set(i, `PRE script exited with ${code}: PRE_SKIP`);
          this.succeed(i);
          return;
        }
        if (code !== 0) {
          this.detail.set(i, `PRE script failed with ${code}`);
          if (this.checkAbort(i, code)) return;
          if (this.opts.alwaysRunPost && node.post) {
            this.jobReturn[i] = RETURN_PRE_FAILED;
            this.setPhase(i, 'post_ready');
            this.enqueue(i, QUEUED_POST);
            return;
          }
          this.failNode(i, code);
          return;
        }
        this.jobStage(i);
        return;
      }
      case 'submitting':
        if (phase !== 'job_ready') return;
        this.deferUntil[i] = 0;
        this.submitAttempt[i] = ev.attempt;
        this.queueOrder[i] = 0;
        this.assignSeq(i);
        this.setPhase(i, 'submitting');
        return;
      case 'submitted':
        if (phase !== 'submitting') return;
        this.cluster[i] = ev.cluster;
        this.procs[i] = ev.procs;
        this.outageRefusals[i] = 0;
        this.clusterNode.set(ev.cluster, i);
        this.setPhase(i, 'submitted', ev.procs);
        return;
      case 'submit_failed':
        if (phase !== 'submitting') return;
        this.detail.set(i, `submit failed: ${ev.error}`);
        if (ev.final) {
          this.setPhase(i, 'job_ready');
          this.jobFinished(i, false, RETURN_SUBMIT_FAILED);
        } else if (ev.outage) {
          // the attempt is given back; the wait still doubles, up to OUTAGE_MAX_DELAY_STEPS doublings
          this.submitAttempt[i] = ev.attempt - 1;
          const n = Math.min(this.outageRefusals[i]++, OUTAGE_MAX_DELAY_STEPS);
          this.setPhase(i, 'job_ready');
          this.defer(i, ev.at + this.opts.submitRetryDelayMs * 2 ** n);
        } else {
          this.setPhase(i, 'job_ready');
          this.queueOrder[i] = this.opts.retrySubmitFirst ? 1 : -1;
          this.defer(i, ev.at + this.opts.submitRetryDelayMs * 2 ** Math.max(0, ev.attempt - 1));
        }
        return;
      case 'cluster_done':
        if (phase !== 'submitted' || this.cluster[i] !== ev.cluster) return;
        this.clusterNode.delete(ev.cluster);
        this.lastProc[i] = ev.lastProc;
        if (!ev.succeeded) this.detail.set(i, `job failed with return value ${ev.returnCode}`);
        this.jobFinished(i, ev.succeeded, ev.returnCode);
        return;
      case 'post_started':
        if (phase !== 'post_ready') return;
        this.deferUntil[i] = 0;
        this.setPhase(i, 'post');
        return;
      case 'post_finished': {
        if (phase !== 'post') return;
        const code = ev.exitCode;
        const script = node.post!;
        if (script.defer && code === script.defer.status && !this.stopping()) {
          this.setPhase(i, 'post_ready');
          this.defer(i, ev.at + script.defer.time * 1000);
          return;
        }
        // With a POST script, its exit decides the node.
        if (code === 0) this.detail.delete(i);
        else this.detail.set(i, `POST script failed with ${code}`);
        if (this.checkAbort(i, code)) return;
        if (code === 0) this.succeed(i);
        else this.failNode(i, code);
        return;
      }
    }
  }

  /** Start an attempt at the node: PRE script, or straight to its job. */
  private startAttempt(i: number): void {
    const node = this.nodes[i]!;
    this.preReturn[i] = -1;
    this.jobReturn[i] = 0;
    this.cluster[i] = -1;
    this.procs[i] = 0;
    this.lastProc[i] = -1;
    this.submitAttempt[i] = 0;
    this.outageRefusals[i] = 0;
    this.seq[i] = 0;
    this.deferUntil[i] = 0;
    if (node.pre) {
      this.setPhase(i, 'pre_ready');
      this.enqueue(i, QUEUED_PRE);
    } else {
      this.jobStage(i);
    }
  }

  private jobStage(i: number): void {
    // A NOOP node's "job" succeeds at once (but not in a stopping DAG, where nothing new completes, except the FINAL node).
    if (this.nodes[i]!.noop && (i === this.finalIndex || !this.stopping())) {
      this.setPhase(i, 'job_ready');
      this.jobFinished(i, true, 0);
    } else {
      this.setPhase(i, 'job_ready');
      this.enqueue(i, QUEUED_JOB);
    }
  }

  /** The node's job is over (or there was none): POST script, or the job's result decides the node. */
  private jobFinished(i: number, succeeded: boolean, returnCode: number): void {
    const node = this.nodes[i]!;
    this.jobReturn[i] = succeeded ? 0 : returnCode;
    if (node.post) {
      this.setPhase(i, 'post_ready');
      this.enqueue(i, QUEUED_POST);
      return;
    }
    const rc = succeeded ? 0 : returnCode;
    if (this.checkAbort(i, rc)) return;
    if (succeeded) this.succeed(i);
    else this.failNode(i, rc);
  }

  /** ABORT-DAG-ON: the node's value matches; it overrides RETRY. */
  private checkAbort(i: number, value: number): boolean {
    const a = this.nodes[i]!.abortDagOn;
    if (!a || a.value !== value || i === this.finalIndex || this.aborted || this.removed) return false;
    this.aborted = { node: this.nodes[i]!.name, exitCode: value };
    if (a.returnValue !== undefined) this.aborted.returnValue = a.returnValue;
    this.detail.set(i, `ABORT-DAG-ON ${value}${a.returnValue !== undefined ? ` RETURN ${a.returnValue}` : ''}`);
    if (value === 0) this.succeed(i);
    else this.markFailed(i, value);
    return true;
  }

  private succeed(i: number): void {
    this.setPhase(i, 'done');
    const kids = this.nodes[i]!.children;
    for (let k = 0; k < kids.length; k++) {
      const c = kids[k]!;
      if (--this.waiting[c]! === 0 && this.phase[c] === 'waiting') this.startAttempt(c);
    }
  }

  /** A failed attempt: retry the whole node unless out of retries, UNLESS-EXIT matches, or the DAG is stopping. */
  private failNode(i: number, rc: number): void {
    const node = this.nodes[i]!;
    if (
      !this.stopping() &&
      i !== this.finalIndex &&
      this.retry[i]! < node.retries &&
      !(node.unlessExit !== undefined && rc === node.unlessExit)
    ) {
      this.retry[i]!++;
      this.queueOrder[i] = this.opts.retryNodeFirst ? 1 : -1;
      this.startAttempt(i);
      return;
    }
    this.markFailed(i, rc);
  }

  private markFailed(i: number, rc: number): void {
    this.returnCode[i] = rc;
    this.setPhase(i, 'failed');
    // Descendants never run; independent branches go on.
    const stack = [...this.nodes[i]!.children];
    while (stack.length) {
      const c = stack.pop()!;
      if (this.phase[c] !== 'waiting') continue;
      this.setPhase(c, 'futile');
      for (const g of this.nodes[c]!.children) stack.push(g);
    }
  }

  private assignSeq(i: number): void {
    if (this.seq[i] === 0) this.seq[i] = ++this.seqCounter;
  }

  /** Move a node to a phase, keeping the counters (scripts, clusters in the queue, categories, idle procs). */
  private setPhase(i: number, p: NodePhase, procs = 0): void {
    const old = this.phase[i]!;
    if (old === p) return;
    this.count[old]--;
    this.count[p]++;
    this.phase[i] = p;
    const wasQueued = old === 'submitting' || old === 'submitted';
    const isQueued = p === 'submitting' || p === 'submitted';
    if (wasQueued) {
      this.idleProcs -= this.idle[i]!;
      this.idle[i] = 0;
      this.running[i] = 0;
      this.held[i] = 0;
    }
    if (isQueued) {
      const idle = p === 'submitting' ? 1 : procs;
      this.idle[i] = idle;
      this.idleProcs += idle;
    }
    if (wasQueued !== isQueued && i !== this.finalIndex) {
      this.jobsInQueue += isQueued ? 1 : -1;
      const cat = this.nodes[i]!.category;
      if (cat !== undefined) {
        const c = (this.categoryCount.get(cat) ?? 0) + (isQueued ? 1 : -1);
        this.categoryCount.set(cat, c);
        if (!isQueued) this.unpark(cat);
      }
    }
  }

  private enqueue(i: number, which: number): void {
    if (i === this.finalIndex) return; // the FINAL node is driven directly, outside the throttles
    if (this.deferUntil[i]! > 0) return;
    if (this.queued[i]! & which) return;
    this.queued[i]! |= which;
    (which === QUEUED_PRE ? this.preQ : which === QUEUED_JOB ? this.jobQ : this.postQ).push(i);
  }

  private defer(i: number, until: number): void {
    this.deferUntil[i] = until;
    this.deferred.push(i);
  }

  /** A slot of the category freed: its best parked node goes back to the submit queue. */
  private unpark(cat: string): void {
    const p = this.parked.get(cat);
    if (!p) return;
    while (p.size > 0) {
      const i = p.pop()!;
      if (this.phase[i] !== 'job_ready') continue; // stale
      this.enqueue(i, QUEUED_JOB);
      return;
    }
  }

  private stopping(): boolean {
    return this.aborted !== undefined || this.removed !== undefined;
  }

  // -------------------------------------------------------------------------------------------- actions

  /** Record, then apply. Nothing acts on an event that is not recorded. */
  private emit(ev: DagEvent): void {
    this.host.record(ev);
    const node = 'node' in ev ? this.dag.byName.get(ev.node) : undefined;
    const before = node && !this.replaying ? this.nodeView(node.index) : undefined;
    this.apply(ev);
    if (this.replaying) return;
    this.outputs.event(ev);
    const change =
      node && before
        ? {
            before,
            after: this.nodeView(node.index),
            maxRetries: node.retries,
            scriptError: this.scriptError.get(node.index),
          }
        : undefined;
    for (const l of narrate(this.dag, ev, change)) this.host.log(l.level, l.msg);
  }

  private schedule(): void {
    if (this.pumpScheduled || this.dead) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      try {
        this.pump();
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /** Start whatever may start now, within the throttles, then see whether the DAG is over. */
  private pump(): void {
    if (this.dead || this.finished || !this.started) return;
    if (this.finishing) return;
    const now = this.host.now();
    this.releaseDeferred(now);
    if (this.stopping()) {
      this.stopWork();
    } else {
      const { maxPre, maxPost, maxJobs, maxIdle } = this.opts;
      while (this.preQ.size > 0 && (maxPre <= 0 || this.count.pre < maxPre)) {
        const i = this.preQ.pop()!;
        this.queued[i]! &= ~QUEUED_PRE;
        if (this.phase[i] !== 'pre_ready' || this.deferUntil[i]! > 0) continue;
        this.emit({ type: 'pre_started', at: now, node: this.nodes[i]!.name, retry: this.retry[i]! });
        this.launchScript(i, 'PRE');
      }
      while (
        this.jobQ.size > 0 &&
        (maxJobs <= 0 || this.jobsInQueue < maxJobs) &&
        (maxIdle <= 0 || this.idleProcs < maxIdle)
      ) {
        const i = this.jobQ.pop()!;
        this.queued[i]! &= ~QUEUED_JOB;
        if (this.phase[i] !== 'job_ready' || this.deferUntil[i]! > 0) continue;
        const cat = this.nodes[i]!.category;
        if (cat !== undefined) {
          const limit = this.dag.maxJobs.get(cat);
          if (limit && (this.categoryCount.get(cat) ?? 0) >= limit) {
            let p = this.parked.get(cat);
            if (!p) this.parked.set(cat, (p = new NodeQueue(this.priority, this.queueOrder)));
            p.push(i);
            continue;
          }
        }
        this.beginSubmit(i, now);
      }
      while (this.postQ.size > 0 && (maxPost <= 0 || this.count.post < maxPost)) {
        const i = this.postQ.pop()!;
        this.queued[i]! &= ~QUEUED_POST;
        if (this.phase[i] !== 'post_ready' || this.deferUntil[i]! > 0) continue;
        this.emit({ type: 'post_started', at: now, node: this.nodes[i]!.name, retry: this.retry[i]! });
        this.launchScript(i, 'POST');
      }
    }
    this.driveFinal(now);
    this.maybeFinish();
    if (!this.finishing) this.armTimer();
    this.outputs.changed();
  }

  private beginSubmit(i: number, now: number): void {
    this.emit({
      type: 'submitting',
      at: now,
      node: this.nodes[i]!.name,
      retry: this.retry[i]!,
      attempt: this.submitAttempt[i]! + 1,
    });
    this.launchSubmit(i);
  }

  /** The FINAL node runs last, always, outside the throttles. */
  private driveFinal(now: number): void {
    const f = this.finalIndex;
    if (f < 0 || this.phase[f] === 'waiting' || this.deferUntil[f]! > now) return;
    if (this.deferUntil[f]! > 0) this.deferUntil[f] = 0;
    const name = this.nodes[f]!.name;
    switch (this.phase[f]) {
      case 'pre_ready':
        this.emit({ type: 'pre_started', at: now, node: name, retry: 0 });
        this.launchScript(f, 'PRE');
        return;
      case 'job_ready':
        this.beginSubmit(f, now);
        return;
      case 'post_ready':
        this.emit({ type: 'post_started', at: now, node: name, retry: 0 });
        this.launchScript(f, 'POST');
        return;
    }
  }

  private maybeFinish(): void {
    if (this.finishing) return;
    const f = this.finalIndex;
    if (f >= 0 && this.phase[f] !== 'waiting') {
      const p = this.phase[f];
      if (p === 'done' || p === 'failed') this.finish();
      return;
    }
    const othersOver = this.stopping()
      ? this.scriptsInFlight.size === 0 && this.submitsInFlight.size === 0
      : this.count.done + this.count.failed + this.count.futile === this.n - (f >= 0 ? 1 : 0);
    if (!othersOver) return;
    if (f >= 0) {
      this.startAttempt(f);
      this.driveFinal(this.host.now());
      // a NOOP FINAL without scripts is already over
      const p = this.phase[f];
      if (p === 'done' || p === 'failed') this.finish();
      return;
    }
    this.finish();
  }

  /** The DAG's outcome, then the rescue DAG; recorded first so a crash in between writes the same file again. */
  private finish(): void {
    const { status, exitCode, rescue } = this.outcome();
    const ev: Extract<DagEvent, { type: 'dag_finishing' }> = {
      type: 'dag_finishing',
      at: this.host.now(),
      status,
      exitCode,
    };
    if (rescue) ev.rescueFile = nextRescueDagName(this.dag.file, this.opts.maxRescue);
    this.emit(ev);
    this.completeFinish();
  }

  private completeFinish(): void {
    const f = this.finishing!;
    if (f.rescueFile) {
      const text = formatRescueDag(
        this.dag,
        (node) => ({ done: this.phase[node.index] === 'done', failed: this.phase[node.index] === 'failed' }),
        new Date(f.at),
      );
      try {
        this.files.writeFile(f.rescueFile, text);
      } catch (e) {
        this.host.log('error', 'cannot write the rescue DAG', { file: f.rescueFile, err: String(e) });
      }
    }
    const done: Extract<DagEvent, { type: 'dag_finished' }> = {
      type: 'dag_finished',
      at: this.host.now(),
      status: f.status,
      exitCode: f.exitCode,
    };
    if (f.rescueFile) done.rescueFile = f.rescueFile;
    this.emit(done);
    this.outputs.finished(f.status, f.exitCode);
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.host.log('info', 'DAG finished', {
      dag: this.dag.file,
      status: f.status,
      exitCode: f.exitCode,
      rescueFile: f.rescueFile,
    });
    for (const l of summarize(this.dag, this.nodeViews(), this.summary(), f)) this.host.log(l.level, l.msg);
    this.resolveResult(this.finished!);
  }

  /**
   * The DAG's status and exit code, and whether to write a rescue DAG. As DAGMan: the FINAL node's result is the
   * DAG's whatever happened before it, but a rescue DAG is written when the rest of the DAG did not succeed even
   * if the FINAL node then did (DAGMan writes it before running the FINAL node), or when the FINAL node failed.
   */
  private outcome(): { status: DagStatusCode; exitCode: number; rescue: boolean } {
    const f = this.finalIndex;
    const core = this.coreOutcome();
    if (f < 0) return { ...core, rescue: core.exitCode !== 0 };
    if (this.phase[f] === 'done') return { status: DagStatus.OK, exitCode: 0, rescue: core.exitCode !== 0 };
    return { status: core.status === DagStatus.OK ? DagStatus.NODE_FAILED : core.status, exitCode: 1, rescue: true };
  }

  /** The outcome of every node but the FINAL one. */
  private coreOutcome(): { status: DagStatusCode; exitCode: number } {
    const f = this.finalIndex;
    if (this.removed) return { status: DagStatus.REMOVED, exitCode: 1 };
    if (this.aborted) {
      const v = this.aborted.returnValue ?? this.aborted.exitCode;
      const exitCode = v >= 0 && v <= 255 ? v : 1;
      return { status: exitCode === 0 ? DagStatus.OK : DagStatus.ABORTED, exitCode };
    }
    const finalDone = f >= 0 && this.phase[f] === 'done' ? 1 : 0;
    if (this.count.done - finalDone === this.n - (f >= 0 ? 1 : 0)) return { status: DagStatus.OK, exitCode: 0 };
    return { status: DagStatus.NODE_FAILED, exitCode: 1 };
  }

  /** After a restore: redo what was in flight when the previous engine stopped. */
  private resume(): void {
    if (this.finished) return;
    if (this.finishing) {
      this.completeFinish();
      return;
    }
    const now = this.host.now();
    for (let i = 0; i < this.n; i++) {
      switch (this.phase[i]) {
        case 'pre':
          this.launchScript(i, 'PRE');
          break;
        case 'post':
          this.launchScript(i, 'POST');
          break;
        case 'submitting':
          if (this.stopping() && i !== this.finalIndex && this.host.findCluster) this.findAndRemove(i);
          else this.launchSubmit(i);
          break;
      }
    }
    for (const i of this.deferred) if (this.deferUntil[i]! <= now) this.deferUntil[i] = 0;
  }

  private launchScript(i: number, kind: 'PRE' | 'POST'): void {
    const node = this.nodes[i]!;
    const script = (kind === 'PRE' ? node.pre : node.post)!;
    const argv = this.scriptArgv(i, script, kind);
    const ac = new AbortController();
    this.scriptsInFlight.set(i, ac);
    const attempt = this.retry[i]!;
    let p: Promise<ScriptResult>;
    try {
      p = this.host.runScript(kind, node, argv, node.dir, { signal: ac.signal });
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (r) => {
        if (r.error) this.scriptError.set(i, r.error);
        else this.scriptError.delete(i);
        return r.exitCode !== null && r.exitCode !== undefined ? r.exitCode : -signalNumber(r.signal ?? 'SIGKILL');
      },
      (e) => {
        this.scriptError.set(i, String(e));
        this.host.log('error', `cannot run the ${kind} script of DAG node ${node.name}`, {
          node: node.name,
          err: String(e),
        });
        return 127;
      },
    ).then((exitCode) => {
      if (this.dead) return;
      if (this.scriptsInFlight.get(i) === ac) this.scriptsInFlight.delete(i);
      if (this.finished || this.finishing) return;
      try {
        this.emit({
          type: kind === 'PRE' ? 'pre_finished' : 'post_finished',
          at: this.host.now(),
          node: node.name,
          retry: attempt,
          exitCode,
        });
      } catch (e) {
        return this.fail(e);
      }
      this.schedule();
    });
  }

  private launchSubmit(i: number): void {
    const node = this.nodes[i]!;
    const attempt = this.retry[i]!;
    this.submitsInFlight.add(i);
    let p: Promise<{ cluster: number; procs: number }>;
    try {
      p = this.host.submitNode(node, this.submitVars(i), attempt);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (r) => {
        if (this.dead) return;
        this.submitsInFlight.delete(i);
        try {
          this.emit({
            type: 'submitted',
            at: this.host.now(),
            node: node.name,
            retry: attempt,
            cluster: r.cluster,
            procs: r.procs,
          });
          // The DAG stopped while the submission was under way: the new cluster goes too.
          if (this.stopping() && i !== this.finalIndex) this.requestRemoval(r.cluster, this.stopReason());
        } catch (e) {
          return this.fail(e);
        }
        const early = this.unclaimed.get(r.cluster);
        if (early) {
          this.unclaimed.delete(r.cluster);
          this.onClusterDone(r.cluster, early);
        }
        this.schedule();
      },
      (err) => {
        if (this.dead) return;
        this.submitsInFlight.delete(i);
        const tries = this.submitAttempt[i]!;
        const badInput = err instanceof DschedError && err.exitCode === 2;
        const outage = !badInput && isPoolOutage(err);
        const final = badInput || this.stopping() || (!outage && tries >= this.opts.maxSubmitAttempts);
        this.host.log(final ? 'error' : 'warn', `submitting DAG node ${node.name} failed`, {
          node: node.name,
          attempt: tries,
          ...(outage ? { outage: true } : {}),
          err: String(err),
        });
        try {
          this.emit({
            type: 'submit_failed',
            at: this.host.now(),
            node: node.name,
            retry: attempt,
            attempt: tries,
            error: err instanceof Error ? err.message : String(err),
            final,
            ...(outage && !final ? { outage: true } : {}),
          });
        } catch (e) {
          return this.fail(e);
        }
        this.schedule();
      },
    );
  }

  /** After a restore in a stopping DAG: find the cluster a submission may have made, and remove it. */
  private findAndRemove(i: number): void {
    const node = this.nodes[i]!;
    const attempt = this.retry[i]!;
    this.submitsInFlight.add(i);
    this.host.findCluster!(node, attempt).then(
      (cluster) => {
        if (this.dead) return;
        this.submitsInFlight.delete(i);
        try {
          if (cluster === undefined) {
            this.emit({
              type: 'submit_failed',
              at: this.host.now(),
              node: node.name,
              retry: attempt,
              attempt: this.submitAttempt[i]!,
              error: 'DAG stopped',
              final: true,
            });
          } else {
            this.emit({ type: 'submitted', at: this.host.now(), node: node.name, retry: attempt, cluster, procs: 1 });
            this.requestRemoval(cluster, this.stopReason());
          }
        } catch (e) {
          return this.fail(e);
        }
        this.schedule();
      },
      (err) => {
        this.submitsInFlight.delete(i);
        this.host.log('error', 'findCluster failed', { node: node.name, err: String(err) });
        this.schedule();
      },
    );
  }

  /** Aborted or removed: remove node jobs and stop scripts (not the FINAL node's). */
  private stopWork(): void {
    const reason = this.stopReason();
    for (const [cluster, i] of this.clusterNode) {
      if (i !== this.finalIndex && !this.removalRequested.has(cluster)) this.requestRemoval(cluster, reason);
    }
    for (const [i, ac] of this.scriptsInFlight)
      if (i !== this.finalIndex && !ac.signal.aborted) ac.abort(new Error(reason));
  }

  private stopReason(): string {
    if (this.removed) return `DAG removed: ${this.removed.reason}`;
    if (this.aborted) return `DAG aborted by ABORT-DAG-ON: node ${this.aborted.node} returned ${this.aborted.exitCode}`;
    return 'DAG stopped';
  }

  private requestRemoval(cluster: number, reason: string): void {
    this.removalRequested.add(cluster);
    let p: Promise<void>;
    try {
      p = this.host.removeCluster(cluster, reason);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.catch((err) => this.host.log('warn', 'removing a DAG node cluster failed', { cluster, err: String(err) }));
  }

  private runHoldScript(i: number): void {
    const node = this.nodes[i]!;
    if (!node.hold) return;
    const argv = this.scriptArgv(i, node.hold, 'HOLD');
    // Best effort, as DAGMan: not part of the node's outcome, not recorded.
    let p: Promise<ScriptResult>;
    try {
      p = this.host.runScript('HOLD', node, argv, node.dir, { signal: new AbortController().signal });
    } catch (e) {
      p = Promise.reject(e);
    }
    p.catch((err) => this.host.log('warn', `HOLD script of DAG node ${node.name} failed`, { err: String(err) }));
  }

  private releaseDeferred(now: number): void {
    if (this.deferred.length === 0) return;
    const keep: number[] = [];
    for (const i of this.deferred) {
      const until = this.deferUntil[i]!;
      if (until === 0 || until <= now) {
        this.deferUntil[i] = 0;
        const p = this.phase[i];
        if (p === 'pre_ready') this.enqueue(i, QUEUED_PRE);
        else if (p === 'job_ready') this.enqueue(i, QUEUED_JOB);
        else if (p === 'post_ready') this.enqueue(i, QUEUED_POST);
      } else {
        keep.push(i);
      }
    }
    this.deferred = keep;
  }

  private armTimer(): void {
    let next = Infinity;
    for (const i of this.deferred)
      if (this.deferUntil[i]! > 0 && this.deferUntil[i]! < next) next = this.deferUntil[i]!;
    const f = this.finalIndex;
    if (f >= 0 && this.deferUntil[f]! > 0 && this.deferUntil[f]! < next) next = this.deferUntil[f]!;
    if (next === Infinity) return;
    if (this.timer && this.timer.at <= next) return;
    this.timer?.handle.cancel();
    const delay = Math.max(0, next - this.host.now());
    const fire = (): void => {
      this.timer = undefined;
      this.schedule();
    };
    const handle = this.host.setTimer ? this.host.setTimer(delay, fire) : defaultTimer(delay, fire);
    this.timer = { at: next, handle };
  }

  // --------------------------------------------------------------------------------------------- macros

  private scriptArgv(i: number, script: DagScript, kind: 'PRE' | 'POST' | 'HOLD'): string[] {
    const node = this.nodes[i]!;
    const argv = [script.command];
    for (const a of script.args) {
      let v: string | undefined;
      switch (a) {
        case '$JOB':
          v = node.name;
          break;
        case '$RETRY':
          v = String(this.retry[i]);
          break;
        case '$MAX_RETRIES':
          v = String(node.retries);
          break;
        case '$DAG_STATUS':
          v = String(this.dagStatus());
          break;
        case '$FAILED_COUNT':
          v = String(this.count.failed);
          break;
        case '$JOBID':
          if (kind === 'POST') v = `${this.cluster[i]}.${this.lastProc[i]! >= 0 ? this.lastProc[i] : 0}`;
          break;
        case '$RETURN':
          if (kind === 'POST') v = String(this.jobReturn[i]);
          break;
        case '$PRE_SCRIPT_RETURN':
          if (kind === 'POST') v = String(this.preReturn[i]);
          break;
      }
      argv.push(v ?? a);
    }
    return argv;
  }

  private submitVars(i: number): NodeSubmitVars {
    const node = this.nodes[i]!;
    let parents = node.parents.map((p) => this.nodes[p]!.name).join(',');
    if (parents.length > 1024) parents = ''; // as DAGMan, which leaves a long list out
    const macros: Record<string, string> = {
      JOB: node.name,
      RETRY: String(this.retry[i]),
      FAILED_COUNT: String(this.count.failed),
      DAG_STATUS: String(this.dagStatus()),
      DAG_PARENT_NAMES: parents,
    };
    const append: string[] = [];
    for (const v of node.vars) {
      if (v.name.startsWith('My.') || !v.prepend) append.push(`${v.name} = ${v.value}`);
      else macros[v.name] = v.value;
    }
    append.push(`My.DAGNodeName = ${classAdString(node.name)}`);
    append.push(`My.DAGParentNodeNames = ${classAdString(parents)}`);
    if (i === this.finalIndex) append.push(`My.DAG_Status = ${this.dagStatus()}`);
    if (node.priority !== 0) append.push(`priority = ${node.priority}`);
    return { macros, append };
  }

  // ------------------------------------------------------------------------------------------- failures

  /**
   * An event could not be recorded (or a bug threw): stop here rather than act on unrecorded state; the host
   * restores from what was recorded.
   */
  private fail(e: unknown): void {
    if (this.dead) return;
    this.host.log('error', 'DAG manager stopped', { dag: this.dag.file, err: String(e), stack: (e as Error)?.stack });
    this.dispose();
    this.rejectResult(e);
  }
}

/**
 * The DAG a recorded run started with, for `DagEngine.restore`: the file parsed again with the rescue DAG that
 * run used (not the newest one, which the run itself may have written just before a crash).
 */
export function loadDagForResume(path: string, events: readonly DagEvent[], opts: DagParseOptions = {}): Dag {
  return parseDagFile(path, dagOptionsForResume(events, opts));
}

/** What loadDagForResume parses the DAG with: for a caller that parses it itself (in slices). */
export function dagOptionsForResume(events: readonly DagEvent[], opts: DagParseOptions = {}): DagParseOptions {
  const started = events.find((e): e is Extract<DagEvent, { type: 'dag_started' }> => e.type === 'dag_started');
  const { rescueFile: _ignored, ...rest } = opts;
  return started?.rescueFile ? { ...rest, rescueFile: started.rescueFile } : rest;
}

function classAdString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function defaultTimer(delayMs: number, fn: () => void): { cancel(): void } {
  const t = setTimeout(fn, delayMs);
  t.unref?.();
  return { cancel: () => clearTimeout(t) };
}

export type { DagEvent, DagHost, ClusterOutcome, NodeSubmitVars, ScriptResult } from './events.js';
export { DagStatus, clusterOutcome } from './events.js';
