// The DAG's own output files, in DAGMan's formats: JOBSTATE_LOG (an appended, machine-readable history),
// NODE_STATUS_FILE (a snapshot in ClassAd form, rewritten at most every N seconds) and DOT (a graphviz picture).
import { randomBytes } from 'node:crypto';
import { closeSync, renameSync, rmSync, writeSync } from 'node:fs';
import { asUser, openFileAs, type Owner } from '../../../lib/as-user.js';
import { readDagFile, type Dag } from '../../../grammar/dag/index.js';
import type { DagEvent, DagFileWriter, DagHost, DagStatusCode } from './events.js';
import type { DagSummary, NodePhase, NodeView } from './views.js';

/** What the writers read from the engine. */
export interface DagStateView {
  summary(): DagSummary;
  nodeView(i: number): NodeView;
  procCounts(i: number): { procs: number; idle: number; running: number; held: number };
  sequenceOf(i: number): number;
  dagStatus(): DagStatusCode;
}

/**
 * The DAG's files (rescue DAG, node status file, jobstate log, dot file) read and written with `owner`'s rights
 * (as-user.ts): the kernel decides what the DAG's owner may touch, and new files belong to the owner. Without
 * an owner (the schedd is not root, or the DAG is root's) as the schedd itself.
 */
export function ownerFileWriter(owner: Owner | undefined): DagFileWriter {
  return {
    writeFile(path, text) {
      // written beside the file and renamed over it, so a reader never sees half a file; the temporary name is
      // not one another user could place a file or link under beforehand, in a folder others may write
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const fd = openFileAs(owner, tmp, 'write');
      try {
        try {
          writeSync(fd, text);
        } finally {
          closeSync(fd);
        }
        asUser(owner, () => renameSync(tmp, path));
      } catch (e) {
        // a name of its own each time: one left behind would stay
        asUser(owner, () => rmSync(tmp, { force: true }));
        throw e;
      }
    },
    appendFile(path, text) {
      const fd = openFileAs(owner, path, 'append');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
    },
    readFile(path) {
      try {
        // bounded, and refused if not a regular file: a DOT INCLUDE of /dev/zero must not hang the schedd
        return asUser(owner, () => readDagFile(path));
      } catch {
        return undefined;
      }
    },
  };
}

export const fsFileWriter: DagFileWriter = ownerFileWriter(undefined);

/** DAGMan's node status numbers (node status file, DagStatus there). */
export const NodeStatusCode: Record<NodePhase, number> = {
  waiting: 0,
  pre_ready: 1,
  job_ready: 1,
  pre: 2,
  submitting: 3,
  submitted: 3,
  post_ready: 4,
  post: 4,
  done: 5,
  failed: 6,
  futile: 7,
};

const DOT_MIN_INTERVAL_MS = 1000;

export class DagOutputs {
  private statusLast = 0;
  private statusDirty = true;
  private statusTimer?: { cancel(): void };
  private dotLast = 0;
  private dotTimer?: { cancel(): void };
  private dotSerial = 0;
  private disposed = false;
  private finishedAt?: number;

  constructor(
    private readonly dag: Dag,
    private readonly state: DagStateView,
    private readonly files: DagFileWriter,
    private readonly host: DagHost,
    private readonly dagJobId = '0.0',
  ) {}

  started(recovery: boolean): void {
    const t = this.secs();
    if (recovery) {
      this.append(`${t} INTERNAL *** RECOVERY_STARTED ***\n${t} INTERNAL *** RECOVERY_FINISHED ***\n`);
    } else {
      this.append(`${t} INTERNAL *** DAGMAN_STARTED ${this.dagJobId} ***\n`);
    }
    this.writeDot(true);
    this.writeStatus();
  }

  /** One recorded event → jobstate.log lines. */
  event(ev: DagEvent): void {
    if (!this.dag.jobstateLog || !('node' in ev)) return;
    const node = this.dag.byName.get(ev.node);
    if (!node) return;
    const i = node.index;
    switch (ev.type) {
      case 'pre_started':
        return this.jobstate(i, 'PRE_SCRIPT_STARTED', '-');
      case 'pre_finished':
        this.jobstate(i, 'PRE_SCRIPT_TERMINATED', String(ev.exitCode));
        return this.jobstate(i, ev.exitCode === 0 ? 'PRE_SCRIPT_SUCCESS' : 'PRE_SCRIPT_FAILURE', '-');
      case 'submitted':
        return this.jobstate(i, 'SUBMIT', `${ev.cluster}.0`);
      case 'submit_failed':
        return this.jobstate(i, 'SUBMIT_FAILURE', '-');
      case 'cluster_done':
        this.jobstate(i, 'JOB_TERMINATED', `${ev.cluster}.${ev.lastProc}`);
        return this.jobstate(i, ev.succeeded ? 'JOB_SUCCESS' : 'JOB_FAILURE', String(ev.returnCode));
      case 'post_started':
        return this.jobstate(i, 'POST_SCRIPT_STARTED', '-');
      case 'post_finished':
        this.jobstate(i, 'POST_SCRIPT_TERMINATED', String(ev.exitCode));
        return this.jobstate(i, ev.exitCode === 0 ? 'POST_SCRIPT_SUCCESS' : 'POST_SCRIPT_FAILURE', '-');
      default:
        return;
    }
  }

  /** `timestamp NodeName EVENT condorID jobTag - sequenceNumber` */
  jobstate(i: number, event: string, condorId: string): void {
    if (!this.dag.jobstateLog) return;
    const name = this.dag.nodes[i]!.name;
    this.append(`${this.secs()} ${name} ${event} ${condorId} - - ${this.state.sequenceOf(i)}\n`);
  }

  /** Something changed: rewrite the status file (no more often than it asks) and an UPDATE dot file. */
  changed(): void {
    if (this.disposed) return;
    this.statusDirty = true;
    const ns = this.dag.nodeStatusFile;
    if (ns) {
      const now = this.host.now();
      const due = this.statusLast + ns.minUpdateSeconds * 1000;
      if (now >= due) this.writeStatus();
      else
        this.statusTimer ??= this.timer(due - now, () => {
          this.statusTimer = undefined;
          if (this.statusDirty || ns.alwaysUpdate) this.writeStatus();
        });
    }
    const dot = this.dag.dot;
    if (dot?.update) {
      const now = this.host.now();
      const due = this.dotLast + DOT_MIN_INTERVAL_MS;
      if (now >= due) this.writeDot(false);
      else
        this.dotTimer ??= this.timer(due - now, () => {
          this.dotTimer = undefined;
          this.writeDot(false);
        });
    }
  }

  finished(status: DagStatusCode, exitCode: number): void {
    this.finishedAt = this.host.now();
    this.append(`${this.secs()} INTERNAL *** DAGMAN_FINISHED ${exitCode} ***\n`);
    this.writeStatus(status);
    if (this.dag.dot?.update) this.writeDot(false);
    this.dispose();
  }

  dispose(): void {
    this.disposed = true;
    this.statusTimer?.cancel();
    this.dotTimer?.cancel();
    this.statusTimer = this.dotTimer = undefined;
  }

  // --------------------------------------------------------------------------------------------- writers

  private writeStatus(finalStatus?: DagStatusCode): void {
    const ns = this.dag.nodeStatusFile;
    if (!ns) return;
    this.statusLast = this.host.now();
    this.statusDirty = false;
    try {
      this.files.writeFile(
        ns.file,
        nodeStatusText(this.dag, this.state, this.statusLast, ns.minUpdateSeconds, finalStatus),
      );
    } catch (e) {
      this.host.log('warn', 'cannot write the node status file', { file: ns.file, err: String(e) });
    }
  }

  private writeDot(first: boolean): void {
    const dot = this.dag.dot;
    if (!dot || (!first && !dot.update)) return;
    this.dotLast = this.host.now();
    const header = dot.include ? this.files.readFile(dot.include) : undefined;
    const file = dot.overwrite ? dot.file : `${dot.file}.${this.dotSerial++}`;
    try {
      this.files.writeFile(file, dotText(this.dag, this.state, new Date(this.dotLast), header, dot.include));
    } catch (e) {
      this.host.log('warn', 'cannot write the DOT file', { file, err: String(e) });
    }
  }

  private append(text: string): void {
    const f = this.dag.jobstateLog;
    if (!f) return;
    try {
      this.files.appendFile(f, text);
    } catch (e) {
      this.host.log('warn', 'cannot append to the JOBSTATE_LOG', { file: f, err: String(e) });
    }
  }

  private secs(): number {
    return Math.floor((this.finishedAt ?? this.host.now()) / 1000);
  }

  private timer(delay: number, fn: () => void): { cancel(): void } {
    if (this.host.setTimer) return this.host.setTimer(delay, fn);
    const t = setTimeout(fn, delay);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  }
}

/** The node status file: one ClassAd for the DAG, one per node, one closing ad (DAGMan 8.1.6 and later). */
export function nodeStatusText(
  dag: Dag,
  state: DagStateView,
  nowMs: number,
  minUpdateSeconds: number,
  finalStatus?: DagStatusCode,
): string {
  const s = state.summary();
  const t = Math.floor(nowMs / 1000);
  let procsIdle = 0;
  let procsHeld = 0;
  const out: string[] = [];
  for (let i = 0; i < dag.nodes.length; i++) {
    const v = state.nodeView(i);
    const p = state.procCounts(i);
    procsIdle += p.idle;
    procsHeld += p.held;
    let details = '';
    if (v.phase === 'submitted' || v.phase === 'submitting') details = p.running > 0 ? 'not_idle' : 'idle';
    else if (v.phase === 'failed' || v.phase === 'futile') details = v.detail ?? '';
    out.push(
      '[',
      '  Type = "NodeStatus";',
      `  Node = ${quote(v.name)};`,
      `  NodeStatus = ${NodeStatusCode[v.phase]};`,
      `  StatusDetails = ${quote(details)};`,
      `  RetryCount = ${v.retry};`,
      `  JobProcsQueued = ${v.phase === 'submitted' ? p.idle + p.running + p.held : 0};`,
      `  JobProcsHeld = ${p.held};`,
      ']',
    );
  }
  const over = finalStatus !== undefined;
  const dagNodeStatus = !over ? 3 : finalStatus === 0 ? 5 : 6;
  const head = [
    '[',
    '  Type = "DagStatus";',
    '  DagFiles = {',
    `    ${quote(dag.file)}`,
    '  };',
    `  Timestamp = ${t};`,
    `  DagStatus = ${dagNodeStatus};`,
    `  DAG_Status = ${finalStatus ?? state.dagStatus()};`,
    `  NodesTotal = ${s.total};`,
    `  NodesDone = ${s.done};`,
    `  NodesPre = ${s.pre};`,
    `  NodesQueued = ${s.idle + s.running + s.held};`,
    `  NodesPost = ${s.post};`,
    `  NodesReady = ${s.ready};`,
    `  NodesUnready = ${s.waiting};`,
    `  NodesFutile = ${s.futile};`,
    `  NodesFailed = ${s.failed};`,
    `  JobProcsHeld = ${procsHeld};`,
    `  JobProcsIdle = ${procsIdle};`,
    ']',
  ];
  const end = [
    '[',
    '  Type = "StatusEnd";',
    `  EndTime = ${t};`,
    `  NextUpdate = ${over ? 0 : t + minUpdateSeconds};`,
    ']',
  ];
  return `${[...head, ...out, ...end].join('\n')}\n`;
}

const DOT_LOOK: Record<NodePhase, { label: string; style?: string }> = {
  waiting: { label: 'I' },
  pre_ready: { label: 'I' },
  job_ready: { label: 'I' },
  pre: { label: 'Pre', style: 'dotted' },
  submitting: { label: 'R', style: 'bold' },
  submitted: { label: 'R', style: 'bold' },
  post_ready: { label: 'Post', style: 'dotted' },
  post: { label: 'Post', style: 'dotted' },
  done: { label: 'Done', style: 'bold' },
  failed: { label: 'E', style: 'filled' },
  futile: { label: 'Futile', style: 'dashed' },
};

/** A graphviz digraph of the DAG with each node's state, as DAGMan's DOT command writes it. */
export function dotText(dag: Dag, state: DagStateView, now: Date, header?: string, headerFile?: string): string {
  const lines = ['digraph DAG {', `    label="DAGMan Job status at ${now.toUTCString()}";`, ''];
  if (header !== undefined) {
    lines.push(
      `// Beginning of commands included from ${headerFile}.`,
      header.replace(/\n$/, ''),
      `// End of commands included from ${headerFile}.`,
      '',
    );
  }
  lines.push('    // Nodes');
  for (let i = 0; i < dag.nodes.length; i++) {
    const v = state.nodeView(i);
    const look = DOT_LOOK[v.phase];
    const style = look.style ? ` style=${look.style}` : '';
    lines.push(`    ${quote(v.name)} [shape=ellipse label=${quote(`${v.name} (${look.label})`)}${style}];`);
  }
  lines.push('', '    // Edges');
  for (const node of dag.nodes) {
    for (const c of node.children) lines.push(`    ${quote(node.name)} -> ${quote(dag.nodes[c]!.name)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
