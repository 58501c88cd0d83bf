// An in-memory DagHost for the engine tests: a queue of clusters whose jobs end as a test decides, scripts whose
// exit codes a test decides, a durable event log, a clock and timers the test drives, and a way to "crash"
// (the engine stops at a chosen record, exactly as if the process had been killed there).
import type { Dag, DagNode } from '../../../grammar/dag/index.js';
import { DagEngine, type DagEngineOptions } from '../../../daemons/schedd/dagman/engine.js';
import type {
  ClusterOutcome,
  DagEvent,
  DagFileWriter,
  DagHost,
  LogLevel,
  NodeSubmitVars,
  ScriptResult,
} from '../../../daemons/schedd/dagman/events.js';

export interface FakeCluster {
  cluster: number;
  node: string;
  retry: number;
  procs: number;
  category?: string;
  vars: NodeSubmitVars;
  state: 'queued' | 'done' | 'removed';
  outcome?: ClusterOutcome;
}

export type JobBehavior = (
  node: DagNode,
  retry: number,
  vars: NodeSubmitVars,
) => ClusterOutcome | number | 'hold' | 'never';
export type ScriptBehavior = (kind: 'PRE' | 'POST' | 'HOLD', node: DagNode, argv: string[]) => number;

export class FakeHost implements DagHost {
  readonly events: DagEvent[] = [];
  readonly clusters = new Map<number, FakeCluster>();
  private readonly byKey = new Map<string, number>();
  readonly scriptRuns: Array<{ kind: string; node: string; argv: string[]; cwd: string }> = [];
  readonly removals: Array<{ cluster: number; reason: string }> = [];
  readonly logs: Array<{ level: LogLevel; msg: string; fields?: Record<string, unknown> }> = [];
  /** files the engine writes (rescue DAGs, status, jobstate, dot), in memory unless a test sets real ones */
  readonly mem = new MemFiles();
  files: DagFileWriter = this.mem;
  /** broken promises: the engine asked for something it must never ask for */
  readonly violations: string[] = [];
  /** calls to submitNode per node#retry */
  readonly submitCalls = new Map<string, number>();
  /** how many times the host actually submitted (created a cluster) per node */
  readonly submitCount = new Map<string, number>();
  /** category → most clusters of it in the queue at once */
  readonly maxInQueue = new Map<string, number>();
  private readonly inQueue = new Map<string, number>();
  maxQueued = 0;
  private queuedNow = 0;
  private nextCluster = 100;
  private clock = 1_700_000_000_000;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  /** the engine that receives job outcomes */
  engine?: DagEngine;
  /** make `record` throw (a crash) when the log reaches this length; `persist` says whether that event is kept */
  crashAt?: { count: number; persist: boolean };
  crashed = false;
  /** complete jobs by themselves (after a macrotask) */
  autoComplete = true;
  /** scripts answer after a macrotask (true) or a microtask */
  slowScripts = false;
  failSubmit?: (node: DagNode, retry: number) => Error | undefined;
  /** procs per cluster (queue N) */
  procsOf: (node: DagNode) => number = () => 1;

  constructor(
    public job: JobBehavior = () => 0,
    public script: ScriptBehavior = () => 0,
  ) {}

  // ------------------------------------------------------------------------------------------------ host

  submitNode(node: DagNode, vars: NodeSubmitVars, retry: number): Promise<{ cluster: number; procs: number }> {
    const key = `${node.name}#${retry}`;
    // The engine may ask again only for a submission it never recorded as made.
    if (this.events.some((e) => e.type === 'submitted' && e.node === node.name && e.retry === retry)) {
      this.violations.push(`${key} submitted again after its submission was recorded`);
    }
    this.submitCalls.set(key, (this.submitCalls.get(key) ?? 0) + 1);
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      const c = this.clusters.get(existing)!;
      // as a real schedd would: a cluster that already ended is reported (again) to whoever runs the DAG now
      if (c.state !== 'queued') setImmediate(() => this.engine?.onClusterDone(existing, c.outcome!));
      return Promise.resolve({ cluster: existing, procs: c.procs });
    }
    const err = this.failSubmit?.(node, retry);
    if (err) return Promise.reject(err);
    const cluster = this.nextCluster++;
    const procs = this.procsOf(node);
    const c: FakeCluster = { cluster, node: node.name, retry, procs, vars, state: 'queued' };
    if (node.category) c.category = node.category;
    this.clusters.set(cluster, c);
    this.byKey.set(key, cluster);
    this.submitCount.set(node.name, (this.submitCount.get(node.name) ?? 0) + 1);
    this.enterQueue(c);
    const behavior = this.job(node, retry, vars);
    if (this.autoComplete && behavior !== 'never' && behavior !== 'hold') {
      setImmediate(() => this.complete(cluster, behavior));
    }
    if (behavior === 'hold')
      setImmediate(() => this.engine?.onClusterProgress(cluster, { idle: 0, running: 0, held: 1 }));
    return Promise.resolve({ cluster, procs });
  }

  removeCluster(cluster: number, reason: string): Promise<void> {
    this.removals.push({ cluster, reason });
    const c = this.clusters.get(cluster);
    if (c && c.state === 'queued') {
      c.state = 'removed';
      c.outcome = { succeeded: false, returnCode: -1002 };
      this.leaveQueue(c);
      setImmediate(() => this.engine?.onClusterDone(cluster, c.outcome!));
    }
    return Promise.resolve();
  }

  runScript(
    kind: 'PRE' | 'POST' | 'HOLD',
    node: DagNode,
    argv: string[],
    cwd: string,
    opts: { signal: AbortSignal },
  ): Promise<ScriptResult> {
    this.scriptRuns.push({ kind, node: node.name, argv, cwd });
    const code = this.script(kind, node, argv);
    return new Promise((resolve) => {
      const done = (): void =>
        resolve(opts.signal.aborted ? { exitCode: null, signal: 'SIGTERM' } : { exitCode: code });
      if (this.slowScripts) setImmediate(done);
      else queueMicrotask(done);
    });
  }

  record(event: DagEvent): void {
    if (this.crashed) throw new Error('crashed');
    if (this.crashAt && this.events.length + 1 >= this.crashAt.count) {
      if (this.crashAt.persist) this.events.push(structuredClone(event));
      this.crashed = true;
      throw new Error('crash (simulated)');
    }
    this.events.push(structuredClone(event));
  }

  now(): number {
    return this.clock;
  }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.logs.push(fields ? { level, msg, fields } : { level, msg });
  }

  setTimer(delayMs: number, fn: () => void): { cancel(): void } {
    const t = { at: this.clock + delayMs, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }

  // ------------------------------------------------------------------------------------------- controls

  /** End a queued cluster the way `behavior` says, and tell the engine. */
  complete(cluster: number, behavior: ClusterOutcome | number): void {
    const c = this.clusters.get(cluster);
    if (!c || c.state !== 'queued') return;
    c.state = 'done';
    c.outcome = typeof behavior === 'number' ? { succeeded: behavior === 0, returnCode: behavior } : behavior;
    this.leaveQueue(c);
    this.engine?.onClusterDone(cluster, c.outcome);
  }

  /** After a restore: tell the engine the outcome of clusters that ended while it was down. */
  reportPending(engine: DagEngine): void {
    for (const p of engine.pendingClusters()) {
      const c = this.clusters.get(p.cluster);
      if (c && c.state !== 'queued') engine.onClusterDone(p.cluster, c.outcome!);
    }
  }

  /** Move the clock on, firing due timers. */
  advance(ms: number): void {
    this.clock += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.clock);
    this.timers = this.timers.filter((t) => !t.cancelled && t.at > this.clock);
    for (const t of due) t.fn();
  }

  /** The clusters in the queue now. */
  queued(): FakeCluster[] {
    return [...this.clusters.values()].filter((c) => c.state === 'queued');
  }

  private enterQueue(c: FakeCluster): void {
    this.queuedNow++;
    this.maxQueued = Math.max(this.maxQueued, this.queuedNow);
    if (c.category) {
      const n = (this.inQueue.get(c.category) ?? 0) + 1;
      this.inQueue.set(c.category, n);
      this.maxInQueue.set(c.category, Math.max(this.maxInQueue.get(c.category) ?? 0, n));
    }
  }

  private leaveQueue(c: FakeCluster): void {
    this.queuedNow--;
    if (c.category) this.inQueue.set(c.category, (this.inQueue.get(c.category) ?? 1) - 1);
  }
}

export class MemFiles implements DagFileWriter {
  readonly data = new Map<string, string>();
  writeFile(path: string, text: string): void {
    this.data.set(path, text);
  }
  appendFile(path: string, text: string): void {
    this.data.set(path, (this.data.get(path) ?? '') + text);
  }
  readFile(path: string): string | undefined {
    return this.data.get(path);
  }
}

/** Let every pending microtask and macrotask run until the engine finishes (or `maxTurns` passes). */
export async function settle(engine: DagEngine, host?: FakeHost, maxTurns = 10_000): Promise<void> {
  for (let k = 0; k < maxTurns && !engine.isFinished; k++) {
    await new Promise((r) => setImmediate(r));
    if (host?.crashed) return;
  }
}

/** Run a DAG to the end with a fake host; returns the engine (finished) and the host. */
export async function runDag(
  dag: Dag,
  host: FakeHost = new FakeHost(),
  opts: DagEngineOptions = {},
): Promise<{ engine: DagEngine; host: FakeHost }> {
  const engine = new DagEngine(dag, host, opts);
  host.engine = engine;
  engine.start();
  await settle(engine, host);
  return { engine, host };
}

/** Order in which nodes' jobs were submitted. */
export function submitOrder(host: FakeHost): string[] {
  return host.events.filter((e) => e.type === 'submitted').map((e) => (e as { node: string }).node);
}
