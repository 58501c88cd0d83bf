// DAGs run inside the schedd, not in the user's terminal: a DAG is a job in the queue (JobUniverse 7 with
// DAGManDagFile), and this runner is its DAGMan. Every engine event is stored in SQLite before the engine acts
// on it, so after a restart (even kill -9) the DAG resumes without re-running a finished node or running
// one twice (node submissions are tagged DAGManJobId/DAGNodeName/DAGNodeRetry and found again).
import { spawn } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  dagOptionsForRun,
  isDirectoryPath,
  parseDagFileAsync,
  readDagFile,
  readRescueDagFile,
  readDagmanConfigFile,
  readNodeSubmitFile,
  type Dag,
  type DagNode,
} from '../../grammar/dag/index.js';
import { expandSubmit, loadSubmit, parseEnv, singleCluster } from '../../grammar/submit/index.js';
import { DschedError } from '../../lib/errors.js';
import { errnoText } from '../../lib/transfer.js';
import type { Logger } from '../../lib/log.js';
import { jobUmask } from '../../lib/umask.js';
import { runAsOwner } from '../../lib/users.js';
import { asUser, openAs, openFileAs } from '../../lib/as-user.js';
import type { Identity } from '../../lib/rpc/auth.js';
import {
  clusterOutcome,
  DagEngine,
  dagOptionsForResume,
  type DagEngineOptions,
  type DagEvent,
  type DagHost,
  type DagResult,
  type NodeSubmitVars,
  type ScriptResult,
} from './dagman/engine.js';
import { mergeDagmanOptions } from './dagman/config.js';
import { ownerFileWriter } from './dagman/outputs.js';
import { lit, litValue, type Job, type JobQueue } from './queue.js';
import { HoldCode, JobStatus, Universe } from '../../lib/job-status.js';
import { nowSeconds as now } from '../../lib/time.js';
import { storeError, type DB } from './store/db.js';
import { CLEAN_EXEC_PATH, cleanExecArgs } from './clean-exec.js';

/**
 * What the DAG runner needs of the schedd, which hands itself in as this: the runner submits and removes node
 * jobs as the DAG's owner, holds or finishes the DAG job, and opens files as the job's owner. It imports
 * nothing of the schedd, so the two do not depend on each other.
 */
export interface DagScheddPort {
  submit(
    identity: Identity,
    clusterId: number,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>>,
  ): Job[];
  act(identity: Identity, action: 'remove', jobs: Job[], reason: string): Promise<unknown>;
  holdJob(job: Job, reason: string, code: number): void;
  finishLocalJob(job: Job, status: number, changes: Record<string, string | null>, exitCode: number): void;
  fileOwner(job: Job): ReturnType<typeof runAsOwner>;
}

interface Running {
  job: Job;
  engine: DagEngine;
  dag: Dag;
  delivered: Set<number>;
  summaryTimer?: NodeJS.Timeout;
  lastSummary: string;
}

export class DagRunner {
  private running = new Map<number, Running>();
  private st;
  private pendingEvents: Array<{ dag: number; event: DagEvent }> = [];
  private seqs = new Map<number, number>();
  /** The DAGs being read, and the end of the last read asked for. */
  private reading = new Set<number>();
  private reads: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private schedd: DagScheddPort,
    private queue: JobQueue,
    private db: DB,
    private log: Logger,
    /** DAGMAN_MAX_NODES_PER_OWNER */
    private maxNodesPerOwner: () => number = () => Infinity,
  ) {
    this.st = {
      insert: db.prepare('INSERT INTO dag_events (dag_cluster, seq, event) VALUES (?, ?, ?)'),
      load: db.prepare('SELECT event FROM dag_events WHERE dag_cluster = ? ORDER BY seq'),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM dag_events WHERE dag_cluster = ?'),
      drop: db.prepare('DELETE FROM dag_events WHERE dag_cluster = ?'),
    };
  }

  static isDag(queue: JobQueue, job: Job): boolean {
    return (
      queue.value(job, 'JobUniverse') === Universe.Scheduler && typeof queue.value(job, 'DAGManDagFile') === 'string'
    );
  }

  /** Start (or resume after a restart) every DAG job in the queue. */
  resumeAll(): void {
    for (const job of this.queue.jobs.values())
      if (DagRunner.isDag(this.queue, job) && job.status !== JobStatus.Held) this.start(job);
  }

  /**
   * Durably write the recorded events (before anything irreversible, and at the end of each turn). When
   * they cannot be written (disk full) they stay, in order, and are tried again every second; the caller
   * gets the typed error and does not take its irreversible step.
   */
  flushEvents(): void {
    if (!this.pendingEvents.length) return;
    const batch = this.pendingEvents;
    const seqs = new Map<number, number>();
    try {
      this.db.transaction(() => {
        for (const { dag, event } of batch) {
          const seq = (seqs.get(dag) ?? this.seqs.get(dag) ?? 0) + 1;
          seqs.set(dag, seq);
          this.st.insert.run(dag, seq, JSON.stringify(event));
        }
      })();
    } catch (e) {
      const err = storeError(e, 'cannot record the progress of a DAG');
      if (!this.failing)
        this.log.warn(
          { err: (err as Error).message },
          'cannot record the progress of the DAGs; trying again every second',
        );
      this.failing = true;
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flushLater();
        }, 1000);
      }
      throw err;
    }
    this.pendingEvents = [];
    for (const [dag, seq] of seqs) this.seqs.set(dag, seq);
    if (this.failing) this.log.info({}, 'the progress of the DAGs is recorded again');
    this.failing = false;
  }

  private retryTimer: NodeJS.Timeout | undefined;
  private failing = false;

  /** Write the events where nobody waits on them (a timer): a failure leaves them for the retry. */
  private flushLater(): void {
    try {
      this.flushEvents();
    } catch {
      /* kept, and tried again (flushEvents) */
    }
  }

  /**
   * Start (or resume) a DAG job. Its DAG is read in slices (a few seconds at 200,000 nodes) while the schedd
   * serves others, one DAG at a time, so that each is read against its owner's share with the DAGs read
   * before it counted; nothing of it runs until it is read whole, and a job removed (gone from the queue) or
   * held meanwhile is not started.
   */
  start(job: Job): void {
    const cluster = job.cluster;
    if (this.running.has(cluster) || this.reading.has(cluster)) return;
    this.reading.add(cluster);
    this.reads = this.reads
      .then(() => this.read(job))
      .catch((e: unknown) => this.log.error({ cluster, err: (e as Error).message }, 'cannot run the DAG'))
      .finally(() => this.reading.delete(cluster));
  }

  private async read(job: Job): Promise<void> {
    const cluster = job.cluster;
    if (this.closed || !this.startable(job)) return;
    const file = String(this.queue.value(job, 'DAGManDagFile'));
    const events = (this.st.load.all(cluster) as Array<{ event: string }>).map((r) => JSON.parse(r.event) as DagEvent);
    this.seqs.set(cluster, (this.st.maxSeq.get(cluster) as { seq: number }).seq);
    let dag: Dag;
    let engine: DagEngine;
    let configWarnings: string[];
    const foreignRescues: string[] = [];
    // dsubmit-dag options were given only when the ad has them: they win over the CONFIG file
    const given = (attr: string) => {
      const v = this.queue.value(job, attr);
      return v === undefined || v === null ? undefined : Number(v) || 0;
    };
    const fromCommandLine: DagEngineOptions = {
      maxJobs: given('DAGManMaxJobs'),
      maxIdle: given('DAGManMaxIdle'),
      maxPre: given('DAGManMaxPre'),
      maxPost: given('DAGManMaxPost'),
    };
    try {
      const owner = runAsOwner(job.owner);
      // the CONFIG file is read as the owner each time the DAG starts or resumes (after kill -9 too), as DAGMan
      // reads it at each start; a file that became unreadable or invalid holds the DAG with the reason
      const configFile = this.queue.value(job, 'DAGManConfigFile');
      const config =
        typeof configFile === 'string' && configFile !== ''
          ? asUser(owner, () => readDagmanConfigFile(configFile))
          : undefined;
      configWarnings = (config?.ignored ?? []).map((i) => `${String(configFile)}:${i.line}: ${i.why}`);
      const opts = { ...mergeDagmanOptions(config?.engine ?? {}, fromCommandLine), dagJobId: `${cluster}.${job.proc}` };
      // a fresh start honours -force and picks up the newest rescue DAG; a resume reads the same DAG again
      const iwd = this.queue.value(job, 'Iwd');
      const where = {
        cwd: typeof iwd === 'string' ? iwd : undefined,
        useDagDir: this.queue.value(job, 'DAGManUseDagDir') === true,
        appendVarsByDefault: config?.appendVarsByDefault,
        maxNodes: this.nodesLeft(job.owner),
      };
      // a resume reads the DAG with the rescue file the run started from (not one this run may have written);
      // the DAG, its includes and rescue files are read (and -force renames them) with the owner's rights, only
      // ever within one slice of the read
      const parseOpts = asUser(owner, () =>
        events.length
          ? dagOptionsForResume(events, where)
          : dagOptionsForRun(file, {
              ...where,
              force: this.queue.value(job, 'DAGManForce') === true,
              onForeignRescue: (f, why) => foreignRescues.push(`the rescue DAG ${f} is not applied: ${why}`),
            }),
      );
      this.log.info({ cluster, dag: file }, 'reading the DAG');
      dag = await parseDagFileAsync(file, {
        ...parseOpts,
        readFile: (path) => asUser(owner, () => readDagFile(path)),
        readRescueFile: (path) => asUser(owner, () => readRescueDagFile(path)),
        isDirectory: (path) => asUser(owner, () => isDirectoryPath(path)),
      });
      // removed, held or the schedd stopping meanwhile: not started
      if (this.closed || !this.startable(job)) return;
      const host = this.host(job);
      engine = events.length ? DagEngine.restore(dag, events, host, opts) : new DagEngine(dag, host, opts);
    } catch (e) {
      this.log.error({ cluster, err: (e as Error).message }, 'cannot run the DAG');
      if (!this.closed && this.startable(job))
        this.schedd.holdJob(job, `cannot run the DAG ${file}: ${(e as Error).message}`, HoldCode.IwdError);
      return;
    }
    const r: Running = { job, engine, dag, delivered: new Set(), lastSummary: '' };
    this.running.set(cluster, r);
    if (job.status === JobStatus.Idle) {
      const t = String(now());
      this.queue.update(
        job,
        { JobStartDate: t, JobCurrentStartDate: t, NumJobStarts: '1', RemoteHost: lit(`dagman@${hostname()}`) },
        JobStatus.Running,
      );
    }
    void engine.result.then(
      (res) => this.finished(r, res),
      (e) => {
        this.log.error({ cluster, err: (e as Error).message }, 'the DAG manager failed');
        this.running.delete(cluster);
        this.schedd.holdJob(job, `the DAG manager failed: ${(e as Error).message}`, HoldCode.JobPolicy);
      },
    );
    engine.start();
    // clusters that finished while the schedd was down
    for (const p of engine.pendingClusters()) this.checkCluster(r, p.cluster);
    this.publish(r, true);
    this.log.info({ cluster, dag: file, nodes: dag.nodes.length, resumed: events.length > 0 }, 'DAG started');
    this.dagmanOut(job, 'info', events.length ? 'DAG resumed' : 'DAG started', { dag: file, nodes: dag.nodes.length });
    // the CONFIG file's lines that change nothing, where the user reads what the DAG did
    for (const w of [...configWarnings, ...foreignRescues]) this.dagmanOut(job, 'warn', w);
  }

  /** The DAG job is still in the queue (as the same job) and not held. */
  private startable(job: Job): boolean {
    return this.queue.jobs.get(`${job.cluster}.${job.proc}`) === job && job.status !== JobStatus.Held;
  }

  /**
   * What is left of `owner`'s DAGMAN_MAX_NODES_PER_OWNER beside their running DAGs: every running DAG lives in
   * the schedd's memory (a million nodes took 800 MB and 22 s of its time to read), and a user may run many.
   */
  private nodesLeft(owner: string): { count: number; why: string } {
    const limit = this.maxNodesPerOwner();
    let taken = 0;
    for (const r of this.running.values()) if (r.job.owner === owner) taken += r.dag.nodes.length;
    return {
      count: limit - taken,
      why: `${owner}'s running DAGs may have at most ${limit} nodes in all (DAGMAN_MAX_NODES_PER_OWNER); ${taken} are taken`,
    };
  }

  private host(job: Job): DagHost {
    const dagCluster = job.cluster;
    const owner = job.owner;
    const identity: Identity = { kind: 'user', name: owner, admin: false };
    const envText = this.queue.value(job, 'Environment');
    const env = typeof envText === 'string' ? parseEnv(undefined, envText) : {};
    const umask = jobUmask(this.queue.value(job, 'Umask'));
    const known = runAsOwner(owner);
    const runAs = known && { ...known, umask };
    return {
      submitNode: async (node: DagNode, vars: NodeSubmitVars, retry: number) => {
        this.flushEvents();
        const found = this.findNodeCluster(dagCluster, node.name, retry);
        if (found) return found;
        const file = node.file ? resolve(node.dir, node.file) : `${node.name}.sub`;
        // the node's submit file (and what it reads) as the owner; the queue itself as the schedd
        const plan = asUser(runAs, () =>
          loadSubmit({
            file,
            text: node.submitDescription ?? readNodeSubmitFile(file),
            cwd: node.dir,
            env,
            owner,
            umask,
            hostname: hostname(),
            macros: vars.macros,
            append: [
              ...vars.append,
              `+DAGManJobId = ${dagCluster}`,
              `+DAGNodeName = ${lit(node.name)}`,
              `+DAGNodeRetry = ${retry}`,
            ],
          }),
        );
        singleCluster(plan, 'a DAG node');
        const cluster = this.queue.reserveCluster(owner);
        const { jobs } = asUser(runAs, () => expandSubmit(plan, cluster));
        const queued = this.schedd.submit(identity, cluster, jobs.cluster, jobs.procs);
        return { cluster, procs: queued.length };
      },
      removeCluster: async (cluster: number, reason: string) => {
        this.flushEvents();
        const jobs = [...this.queue.byCluster(cluster)];
        if (jobs.length) await this.schedd.act(identity, 'remove', jobs, reason); // the DAG's owner removes its own node jobs
      },
      runScript: (kind, node, argv, cwd, opts) => {
        this.flushEvents();
        return new Promise<ScriptResult>((resolveScript) => {
          // a script named without a path is looked for in the node's directory first, as DAGMan does
          const cmd =
            !argv[0]!.includes('/') && asUser(runAs, () => existsSync(resolve(cwd, argv[0]!)))
              ? resolve(cwd, argv[0]!)
              : argv[0]!;
          // The script's directory is opened as the owner and entered through that descriptor: the spawn's own
          // chdir runs as root before it drops privileges, and a path checked first could be swapped meanwhile.
          let dirFd: number;
          try {
            dirFd = openAs(runAs, resolve(cwd, '.') + '/.', fsc.O_RDONLY | fsc.O_DIRECTORY);
          } catch (e) {
            this.dagmanOut(
              job,
              'error',
              `cannot enter the ${kind} script's directory ${cwd}: ${(e as Error).message}`,
              { node: node.name },
            );
            return resolveScript({ exitCode: 127 });
          }
          // Node's spawn sets no umask: a shell sets the DAG's (lib/umask.ts) and execs the script, so a missing
          // script (looked for as the owner, where the shell would) is told here rather than by the shell
          const missing = asUser(runAs, () => {
            const paths = cmd.includes('/')
              ? [resolve(cwd, cmd)]
              : (env.PATH ?? '').split(':').map((dir) => resolve(cwd, dir, cmd));
            let first: Error | undefined;
            for (const path of paths)
              try {
                statSync(path);
                return undefined;
              } catch (e) {
                first ??= e as Error;
              }
            return first ?? Object.assign(new Error('No such file or directory'), { code: 'ENOENT' });
          });
          if (missing) {
            closeSync(dirFd);
            return resolveScript({
              exitCode: 127,
              error: `${resolve(cwd, cmd)}: ${errnoText(missing).replace(/^\(errno \d+\) /, '')}`,
            });
          }
          // through the clean exec helper, which becomes the owner and joins a session keyring of the owner's
          // own: the schedd's is every script's (each user's keys there read by the others), and the schedd's
          // descriptors without close-on-exec stay behind
          const shell = ['/bin/sh', '-c', `umask ${umask.toString(8)} && exec "$0" "$@"`, cmd, ...argv.slice(1)];
          let child;
          try {
            child = spawn(CLEAN_EXEC_PATH, cleanExecArgs(shell, runAs), {
              cwd: `/proc/self/fd/${dirFd}`,
              env: { ...env, _DAG_NODE: node.name, _DAG_SCRIPT: kind },
              stdio: 'ignore',
            });
          } finally {
            closeSync(dirFd);
          }
          const abort = () => child.kill('SIGTERM');
          opts.signal.addEventListener('abort', abort, { once: true });
          // a script that cannot be run exits 127 as a shell's would; dagman.out says why
          child.once('error', (e) =>
            resolveScript({
              exitCode: 127,
              // the helper itself missing (dsched not built whole) is told as such, not as the script
              error: `${(e as NodeJS.ErrnoException).path === CLEAN_EXEC_PATH ? CLEAN_EXEC_PATH : resolve(cwd, cmd)}: ${errnoText(e).replace(/^\(errno \d+\) /, '')}`,
            }),
          );
          child.once('exit', (code, signal) => {
            opts.signal.removeEventListener('abort', abort);
            resolveScript(signal ? { exitCode: null, signal } : { exitCode: code ?? 0 });
          });
        });
      },
      record: (event: DagEvent) => {
        this.pendingEvents.push({ dag: dagCluster, event });
        if (this.pendingEvents.length === 1) setImmediate(() => this.flushLater());
      },
      now: () => Date.now(),
      log: (level, msg, fields) => {
        this.log[level]({ cluster: dagCluster, ...fields }, msg);
        this.dagmanOut(job, level, msg, fields);
      },
      findCluster: async (node: DagNode, retry: number) => this.findNodeCluster(dagCluster, node.name, retry)?.cluster,
      files: ownerFileWriter(runAs),
    };
  }

  /**
   * What the DAG's manager reports also goes to the DAG job's output file (FILE.dag.dagman.out, its Out), one
   * line each with DAGMan's time stamp, so that the user can follow the DAG and see why a node failed.
   */
  private dagmanOut(job: Job, level: string, msg: string, fields: Record<string, unknown> = {}): void {
    const out = this.queue.value(job, 'Out');
    const iwd = this.queue.value(job, 'Iwd');
    if (typeof out !== 'string' || out === '' || out === '/dev/null') return;
    const d = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${p(d.getMonth() + 1)}/${p(d.getDate())}/${p(d.getFullYear() % 100)} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    const extra = Object.entries(fields)
      .filter(([k, v]) => k !== 'stack' && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const text = `${stamp} ${level === 'info' ? '' : `${level.toUpperCase()}: `}${msg}${extra.length ? ` (${extra.join(', ')})` : ''}`;
    try {
      // as the DAG's owner, as every file the DAG writes
      const fd = openFileAs(this.schedd.fileOwner(job), resolve(typeof iwd === 'string' ? iwd : '/', out), 'append');
      try {
        writeSync(fd, text.replace(/\n/g, '\n    ') + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      this.log.warn({ cluster: job.cluster, path: out, err: (e as Error).message }, 'cannot write the DAG output file');
    }
  }

  /** The cluster a node attempt already has (queue or history): submissions are idempotent across crashes. */
  private findNodeCluster(dag: number, node: string, retry: number): { cluster: number; procs: number } | undefined {
    const name = lit(node);
    for (const c of this.queue.clusters.values()) {
      if (c.attrs.DAGManJobId === String(dag) && c.attrs.DAGNodeName === name && c.attrs.DAGNodeRetry === String(retry))
        return { cluster: c.id, procs: Math.max(1, c.procs) };
    }
    const row = this.db
      .prepare(
        "SELECT cluster_id, COUNT(*) AS n FROM history_ads WHERE json_extract(ad, '$.DAGManJobId') = ? AND json_extract(ad, '$.DAGNodeName') = ? AND json_extract(ad, '$.DAGNodeRetry') = ? GROUP BY cluster_id",
      )
      .get(String(dag), name, String(retry)) as { cluster_id: number; n: number } | undefined;
    return row ? { cluster: row.cluster_id, procs: row.n } : undefined;
  }

  /** Tell the engine about a node cluster that has left the queue, once. */
  private checkCluster(r: Running, cluster: number): void {
    if (r.delivered.has(cluster)) return;
    const queued = [...this.queue.byCluster(cluster)];
    if (queued.length) {
      let idle = 0;
      let running = 0;
      let held = 0;
      for (const j of queued) {
        if (j.status === JobStatus.Idle) idle++;
        else if (j.status === JobStatus.Running) running++;
        else if (j.status === JobStatus.Held) held++;
      }
      r.engine.onClusterProgress(cluster, { idle, running, held });
      return;
    }
    const hist = this.queue.historyOfCluster(cluster);
    if (!hist.length) return;
    r.delivered.add(cluster);
    const byDag = (h: { ad: Record<string, string> }) => String(h.ad.RemoveReason ?? '').includes('DAG');
    r.engine.onClusterDone(
      cluster,
      clusterOutcome(
        hist
          .sort((a, b) => a.proc - b.proc)
          .map((h) => ({
            proc: h.proc,
            removed: h.status === JobStatus.Removed && !byDag(h),
            exitCode: h.ad.ExitCode !== undefined ? Number(h.ad.ExitCode) : h.status === JobStatus.Removed ? 1 : null,
            signal: h.ad.ExitBySignal === 'true' ? Number(h.ad.ExitSignal) : null,
          })),
      ),
    );
  }

  /** After a flush: node jobs that changed tell their DAG. */
  onJobsChanged(changed: Job[]): void {
    if (!this.running.size) return;
    const seen = new Set<number>();
    for (const j of changed) {
      if (seen.has(j.cluster)) continue;
      seen.add(j.cluster);
      const dag = Number(j.attrs.DAGManJobId ?? this.queue.clusters.get(j.cluster)?.attrs.DAGManJobId);
      const r = this.running.get(dag);
      if (r) {
        this.checkCluster(r, j.cluster);
        this.publish(r);
      }
    }
  }

  /** drm of the DAG job: node jobs are removed, the FINAL node runs, a rescue DAG is written. */
  remove(job: Job, reason: string): boolean {
    const r = this.running.get(job.cluster);
    if (!r) return false;
    r.engine.remove(reason);
    return true;
  }

  /** Node counts on the DAG job's ad, as DAGMan publishes them (DAG_Nodes*), for dq. */
  private publish(r: Running, force = false): void {
    if (r.summaryTimer && !force) return;
    const write = () => {
      r.summaryTimer = undefined;
      if (!this.queue.jobs.has(`${r.job.cluster}.${r.job.proc}`)) return;
      const s = r.engine.summary();
      const attrs: Record<string, string> = {
        DAG_NodesTotal: String(s.total),
        DAG_NodesDone: String(s.done),
        DAG_NodesFailed: String(s.failed),
        DAG_NodesFutile: String(s.futile),
        DAG_NodesQueued: String(s.idle + s.running + s.held),
        DAG_NodesRunning: String(s.running),
        DAG_NodesIdle: String(s.idle),
        DAG_NodesReady: String(s.ready),
        DAG_NodesUnready: String(s.waiting),
        DAG_NodesPre: String(s.pre),
        DAG_NodesPost: String(s.post),
        DAG_State: lit(s.state),
      };
      const key = JSON.stringify(attrs);
      if (key === r.lastSummary) return;
      r.lastSummary = key;
      this.queue.update(r.job, attrs);
    };
    if (force) write();
    else r.summaryTimer = setTimeout(write, 250);
  }

  private finished(r: Running, res: DagResult): void {
    const { job } = r;
    // events that cannot be written now are moot once the DAG's end is recorded with its job (below)
    this.flushLater();
    if (r.summaryTimer) clearTimeout(r.summaryTimer);
    r.summaryTimer = undefined;
    r.lastSummary = '';
    this.publish(r, true);
    this.running.delete(job.cluster);
    this.log.info(
      { cluster: job.cluster, status: res.status, exitCode: res.exitCode, rescue: res.rescueFile },
      'DAG finished',
    );
    const changes: Record<string, string | null> = {
      DAG_Status: String(res.status),
      ExitCode: String(res.exitCode),
      ExitBySignal: 'false',
      RemoteHost: null,
      LastRemoteHost: lit(`dagman@${hostname()}`),
    };
    if (res.rescueFile) changes.DAG_RescueFile = lit(basename(res.rescueFile));
    if (this.queue.jobs.has(`${job.cluster}.${job.proc}`))
      this.schedd.finishLocalJob(
        job,
        job.status === JobStatus.Removed ? JobStatus.Removed : JobStatus.Completed,
        changes,
        res.exitCode,
      );
    this.pendingEvents = this.pendingEvents.filter((p) => p.dag !== job.cluster);
    try {
      this.st.drop.run(job.cluster);
    } catch (e) {
      // rows of a finished DAG are never read again (its cluster id is not reused)
      this.log.warn(
        { cluster: job.cluster, err: (e as Error).message },
        'cannot drop the finished DAG’s recorded events',
      );
    }
    this.seqs.delete(job.cluster);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.flushLater();
    for (const r of this.running.values()) r.engine.dispose();
  }
}

/**
 * Refuse a scheduler-universe job that names no DAG file: the schedd runs no other kind, so it would stay idle
 * for ever. dsubmit refuses such a submit file first, at its line; this guards the schedd from other clients.
 */
export function checkDagJob(cluster: Record<string, string>, procs: ReadonlyArray<Record<string, string>>): void {
  // attribute names are case-insensitive in a ClassAd, so a client may spell them any way
  const text = (attrs: Record<string, string>, name: string) =>
    Object.entries(attrs).find(([k]) => k.toLowerCase() === name)?.[1];
  const universe = text(cluster, 'jobuniverse');
  const dagFile = text(cluster, 'dagmandagfile');
  for (const p of procs) {
    if (litValue(text(p, 'jobuniverse') ?? universe) !== Universe.Scheduler) continue;
    if (typeof litValue(text(p, 'dagmandagfile') ?? dagFile) !== 'string')
      throw new DschedError(
        'SUBMIT_INVALID',
        'a scheduler-universe job must be a DAG, and this one names no DAG file (DAGManDagFile): submit DAGs with dsubmit-dag',
      );
  }
}
