// Runs jobs as real processes: each in its own process group (so removal kills the whole tree), with its
// stdin/stdout/stderr files, environment, working directory and a fresh scratch sandbox; reports exit code
// or signal. The fork itself happens in the spawner process (spawner/spawner.c).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { constants } from 'node:os';
import { basename, dirname, join, relative, resolve as resolve_ } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HoldCode, OutOfResourcesSubCode } from '../../lib/job-status.js';
import { removeTree } from '../../lib/remove-tree.js';
import type { ClassAd } from '../../grammar/classad/index.js';
import { isRefusal, launchSpec, type LaunchContext, type LaunchRefusal, type LaunchSpec } from './launch-spec.js';
import type { ProcFamily, ProcTracker } from './proc-family.js';
import {
  encodeRequest,
  MAX_REQUEST_BYTES,
  MAX_REQUEST_FIELDS,
  SPAWNER_PATH,
  type JobFiles,
  type SpawnerReply,
  type SpawnerRequest,
  type StartRequest,
} from './spawner-protocol.js';
import { readSpawnerJournal, removeSpawnerJournal, spawnerJournalFile, type ExitNote } from './spawner-journal.js';

/** The package's libexec/ (dchirp for jobs): two levels up from the sources (daemons/startd), three from the bundle (dist/daemons/startd). */
const JOB_BIN = ((here) =>
  existsSync(join(here, '..', '..', 'libexec', 'dchirp'))
    ? resolve_(here, '..', '..', 'libexec')
    : resolve_(here, '..', '..', '..', 'libexec'))(dirname(fileURLToPath(import.meta.url)));

export interface JobOutcome {
  /** lost: the spawner died under the job (it is treated as evicted, never as an exit) */
  kind: 'exited' | 'failed' | 'lost';
  exitCode: number;
  signal?: number;
  /** whether a stop the startd asked for reached the job before it ended (known when stops go through the spawner) */
  stopped?: boolean;
  /** for failed: the HTCondor hold reason code, and the message */
  holdCode?: number;
  holdSubCode?: number;
  message?: string;
}

export type { RunAs } from './launch-spec.js';

/** The process launcher's handle on a job (launcher.ts): nothing outside it reads the pid. */
export interface StartedJob {
  id: string;
  /** true once the process exists */
  running?: boolean;
  /** 0 until the process exists */
  pid: number;
  /** the spawner that forked it (the startd's child is the spawner's keeper) */
  parent?: number;
  sandbox: string;
  /** Resolves once the process ended (or could not start). */
  done: Promise<JobOutcome>;
  /** stopped before the process was started (while its input was still arriving) */
  cancelled?: boolean;
  /** handed to the spawner */
  sent?: boolean;
  /** all the job's processes (proc-family.ts), once it is handed to the spawner */
  family?: ProcFamily;
  /** the paths the job's stdout and stderr were opened at, and (once it runs) those files' `dev:ino` (dtail) */
  stdout?: string;
  stderr?: string;
  files?: JobFiles;
  /** the key its end is journaled under by the spawner (spawner-journal.ts) */
  run?: string;
  /** signalled by the startd itself, not through the spawner (which then cannot tell whether a stop reached it) */
  signalledHere?: boolean;
}

const SIGNALS = constants.signals as Record<string, number>;
export function signalByName(s: unknown, dflt: NodeJS.Signals): NodeJS.Signals {
  if (typeof s === 'number') {
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === s);
    return (name as NodeJS.Signals) ?? dflt;
  }
  if (typeof s === 'string' && s) {
    const up = s.toUpperCase();
    const name = up.startsWith('SIG') ? up : `SIG${up}`;
    if (name in SIGNALS) return name as NodeJS.Signals;
  }
  return dflt;
}

/** The job and what the startd adds to it (launch-spec.ts), and how the start goes. */
export interface StartOptions extends Omit<LaunchContext, 'jobBin'> {
  ad: ClassAd;
  /** Work before the process starts (fetching input files); a rejection fails the start with its message. */
  prepare?: () => Promise<void>;
  /** The process exists (its pid is in the StartedJob). */
  onRunning?: () => void;
  /** Have the spawner journal the job's end under this key, with what a restarted startd reports it with. */
  journal?: { run: string; note: () => ExitNote };
  /** Run something else for this job (another launcher's tool, container-launcher.ts), or refuse it. */
  rewrite?: (spec: LaunchSpec) => LaunchSpec | LaunchRefusal;
}

interface Pending {
  job: StartedJob;
  resolve: (o: JobOutcome) => void;
  onRunning?: () => void;
}

/**
 * Settle a run's end. One that ended of itself (`byItself`: the startd had not asked for it to stop) with its
 * output written outside the sandbox is held if that output is not whole (outputFileHold), whether the
 * spawner reported the end or journaled it just before it died.
 */
function resolveEnd(p: Pending, outcome: JobOutcome, byItself: boolean): void {
  if (byItself && outcome.kind === 'exited' && !p.job.signalledHere && p.job.files)
    void outputFileHold(p.job, outcome).then((held) => p.resolve(held ?? outcome));
  else p.resolve(outcome);
}

/**
 * Starts jobs through the spawner process (spawner/spawner.c, a small native program) and follows them.
 * The startd keeps a large heap; the spawner does not, which makes every fork cheap, and it reaps each job
 * the moment it ends.
 */
export class Starter {
  private child: ChildProcess | undefined;
  private pending = new Map<string, Pending>();
  private seq = 0;
  private stopping = false;
  /** Whether the spawner runs: without it no job can start (the startd's health says so). */
  spawnerUp = false;
  onSpawnerState: (up: boolean) => void = () => {};
  /** Ends a spawner journaled that the startd has not journaled yet: run → the spawner's pid. */
  private unjournaled = new Map<string, number>();
  /** The journals of spawners that died, with the runs in them still owed (removed once none is). */
  private deadJournals = new Map<number, Set<string>>();
  private journaledRuns: string[] = [];

  constructor(
    private onError: (msg: string) => void,
    /** how a job's processes are tracked; without one, by its process group alone */
    private tracker?: ProcTracker,
    /** where the spawner journals the ends of jobs (the startd's run directory); none: no journal */
    private journalDir?: string,
  ) {
    this.launch();
  }

  /** The pid of the spawner running now (whose journal is not to be read). */
  get spawnerPid(): number | undefined {
    return this.child?.pid;
  }

  /** Requests made while the spawner is down (killed, not yet started again): sent once it is back. */
  private waiting: Array<{ id: string; line: Buffer }> = [];

  private launch() {
    const child = spawn(SPAWNER_PATH, this.journalDir ? [this.journalDir] : [], { stdio: ['pipe', 'pipe', 'inherit'] });
    // a spawner that cannot start (not built) is restarted like one that died; the error says why
    child.on('error', (e) => this.onError(`cannot start the job spawner ${SPAWNER_PATH}: ${e.message}`));
    child.stdin!.on('error', () => {}); // a dead spawner: its 'close' handles the jobs
    this.child = child;
    child.once('spawn', () => {
      this.spawnerUp = true;
      this.onSpawnerState(true);
    });
    for (const w of this.waiting.splice(0)) child.stdin!.write(w.line);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.trim()) return;
      const r = JSON.parse(line) as SpawnerReply;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.event === 'started') {
        p.job.pid = r.pid;
        p.job.parent = r.parent;
        p.job.running = true;
        p.job.files = r.files;
        if (p.job.family) p.job.family.pid = r.pid;
        p.onRunning?.();
      } else {
        this.pending.delete(r.id);
        if (r.event === 'exited' && p.job.run && child.pid) this.unjournaled.set(p.job.run, child.pid);
        const outcome: JobOutcome =
          r.event === 'failed'
            ? {
                kind: 'failed',
                exitCode: r.holdCode,
                holdCode: r.holdCode,
                holdSubCode: r.holdSubCode,
                message: r.message,
              }
            : r.sandboxFull
              ? sandboxFullHold(p.job.sandbox, r)
              : {
                  kind: 'exited',
                  exitCode: r.exitCode,
                  signal: r.signal,
                  stopped: p.job.signalledHere || !p.job.run ? undefined : r.stopped,
                };
        resolveEnd(p, outcome, r.event === 'exited' && !r.stopped);
      }
    });
    // 'close', not 'exit': the ends the spawner reported just before it died are read first (a busy startd
    // reads them late; taken for lost, those jobs ran again). The child is the spawner's keeper, which exits
    // after its spawner, once it has journaled the ends of the jobs the spawner died before reaping.
    child.on('close', (code, sig) => {
      // a write to a dead spawner would be lost: a job claimed meanwhile would never start nor end
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.onError(`the job spawner exited (${sig ?? code}); restarting it`);
      this.spawnerUp = false;
      this.onSpawnerState(false);
      // ends it (or its keeper) journaled but did not report (killed in between) are exits; the jobs still running cannot
      // be followed any more: kill what is left and report them lost
      const ended = new Map(
        child.pid && this.journalDir
          ? readSpawnerJournal(spawnerJournalFile(this.journalDir, child.pid)).map((e) => [e.run, e])
          : [],
      );
      for (const [id, p] of this.pending) {
        const e = p.job.run ? ended.get(p.job.run) : undefined;
        if (e && child.pid) {
          this.pending.delete(id);
          this.unjournaled.set(e.run, child.pid);
          const outcome: JobOutcome = {
            kind: 'exited',
            exitCode: e.exitCode,
            signal: e.signal,
            stopped: p.job.signalledHere ? undefined : !!e.stopped,
          };
          resolveEnd(p, outcome, !e.stopped);
          continue;
        }
        if (p.job.pid) signalGroup(p.job.pid, 'SIGKILL');
        const family = p.job.family;
        if (family) void family.kill().then(() => family.remove());
        removeSandbox(p.job.sandbox);
        this.pending.delete(id);
        p.resolve({ kind: 'lost', exitCode: 0, message: 'the job spawner died' });
      }
      if (child.pid && this.journalDir) {
        // its journal goes once the startd has journaled every end in it it had not yet
        const owed = new Set([...ended.keys()].filter((run) => this.unjournaled.get(run) === child.pid));
        this.deadJournals.set(child.pid, owed);
        this.dropDeadJournal(child.pid);
      }
      setTimeout(() => this.launch(), 200).unref();
    });
  }

  /**
   * The startd has journaled (or reported, for an end that is not journaled) the end of this job: the
   * spawner's entry is done. Marks go out once per event-loop turn.
   */
  journaled(job: StartedJob): void {
    const run = job.run;
    const pid = run ? this.unjournaled.get(run) : undefined;
    if (!run || pid === undefined) return;
    this.unjournaled.delete(run);
    const dead = this.deadJournals.get(pid);
    if (dead) {
      dead.delete(run);
      this.dropDeadJournal(pid);
      return;
    }
    if (pid !== this.child?.pid) return;
    if (!this.journaledRuns.length)
      setImmediate(() => this.send({ op: 'journaled', runs: this.journaledRuns.splice(0) }));
    this.journaledRuns.push(run);
  }

  private dropDeadJournal(pid: number) {
    if (this.deadJournals.get(pid)?.size || !this.journalDir) return;
    this.deadJournals.delete(pid);
    removeSpawnerJournal(spawnerJournalFile(this.journalDir, pid));
  }

  private send(msg: SpawnerRequest, line = encodeRequest(msg)) {
    if (this.child?.stdin?.writable) this.child.stdin.write(line);
    else if (msg.op === 'start' && !this.stopping) this.waiting.push({ id: msg.id, line });
  }

  /** Start the job described by `ad`. Never throws: a job that cannot start resolves `done` as failed. */
  start(opts: StartOptions): StartedJob {
    const { ad, sandbox } = opts;
    const id = String(++this.seq);
    let resolve!: (o: JobOutcome) => void;
    const job: StartedJob = { id, pid: 0, sandbox, done: new Promise<JobOutcome>((r) => (resolve = r)) };
    const fail = (holdCode: number, message: string) => {
      resolve({ kind: 'failed', exitCode: holdCode, holdCode, message });
      return job;
    };
    const transfer = opts.transfer === true;
    const base = launchSpec(ad, { ...opts, jobBin: JOB_BIN });
    const spec = opts.rewrite && !isRefusal(base) ? opts.rewrite(base) : base;
    if (isRefusal(spec)) return fail(spec.holdCode, spec.message);
    job.stdout = spec.stdout;
    job.stderr = spec.stderr;
    const { executable, owner, limits: _limits, sandboxKind: _kind, image: _image, ...jobProcess } = spec;
    const request: StartRequest = { op: 'start', id, exe: executable, ...jobProcess, sandbox, ...(owner ?? {}) };
    const go = () => {
      if (job.cancelled) return resolve({ kind: 'exited', exitCode: 0, signal: SIGNALS.SIGKILL });
      if (opts.journal && this.journalDir) {
        // the note is taken now: with file transfer, it names the inputs that have just arrived
        job.run = opts.journal.run;
        request.journal = { run: opts.journal.run, note: { ...opts.journal.note(), ...outputNote(job) } };
      }
      if (this.tracker) {
        try {
          // the job runs as its owner when the startd is root (the spawner sets it), else as the startd's user
          job.family = this.tracker.create(basename(sandbox), owner?.uid ?? process.getuid!());
        } catch (e) {
          removeSandbox(sandbox);
          return fail(
            6,
            `Failed to create the job's process tracking ${this.tracker.method} cgroup: ${(e as Error).message}`,
          );
        }
        request.family = job.family.ref;
        request.env = { ...request.env, ...job.family.env() };
      }
      // the spawner bounds what it reads: a job too large for it is held here rather than break the pipe
      const line = encodeRequest(request);
      if (line.length > MAX_REQUEST_BYTES || (line.fields ?? 0) > MAX_REQUEST_FIELDS) {
        removeSandbox(sandbox);
        void job.family?.remove();
        return fail(
          6,
          line.length > MAX_REQUEST_BYTES
            ? `The job's ClassAd and sandbox files exceed the ${MAX_REQUEST_BYTES >> 20} MiB a job may be started with`
            : 'The job has too many arguments or environment variables',
        );
      }
      job.sent = true;
      this.pending.set(id, { job, resolve, onRunning: opts.onRunning });
      this.send(request, line);
    };
    if (opts.prepare) opts.prepare().then(go, (e: Error) => fail(transfer ? 13 : 6, e.message));
    else go();
    return job;
  }

  /** Signal all the job's processes (its family; without one, its process group). */
  signal(job: StartedJob, sig: NodeJS.Signals): void {
    const w = this.waiting.findIndex((x) => x.id === job.id);
    if (w >= 0) {
      // never handed to a spawner: it ends here, unstarted
      this.waiting.splice(w, 1);
      const p = this.pending.get(job.id);
      this.pending.delete(job.id);
      p?.resolve({ kind: 'exited', exitCode: 0, signal: SIGNALS.SIGKILL });
      return;
    }
    if (!job.sent) job.cancelled = true;
    // a stop goes through the spawner, which notes it in its journal should the job end of it: a restarted
    // startd must not take an eviction for a completion
    else if (this.journalDir && job.run && this.child && sig !== 'SIGSTOP' && sig !== 'SIGCONT')
      this.send({ op: 'signal', id: job.id, signal: sig });
    else if (job.pid) {
      job.signalledHere = true;
      if (job.family) job.family.signal(sig);
      else signalGroup(job.pid, sig);
    } else this.send({ op: 'signal', id: job.id, signal: sig });
  }

  /**
   * Whether the job's main process has already ended (a zombie, or gone), though the spawner may not have
   * reported its exit yet: a process that is no longer the spawner's child has been reaped.
   */
  hasEnded(job: StartedJob): boolean {
    if (!job.pid) return false;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${job.pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' || state === 'X' || Number(ppid) !== job.parent;
  }

  /**
   * End the spawner (the end of its input: it kills what still runs); resolves once its keeper has exited too,
   * having journaled what it reaped: until then they hold files in the pool's run directory, and a pool that
   * `dsched stop` says is stopped has no process left.
   */
  stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return Promise.resolve();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin?.end();
    return closed;
  }
}

/** Signal a job's whole process group. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * A job that ended with its sandbox's file system full is held, whatever its exit code: its output or
 * temporary files may be cut short (a shell that ignores a failed write exits 0), and another host may run it.
 */
export function sandboxFullHold(sandbox: string, r: { exitCode: number; signal?: number }): JobOutcome {
  return diskFullHold(`The execute folder's file system (${dirname(sandbox)})`, r);
}

/** Held 34/28 (out of resources: disk), whatever the exit: `where` filled up, so the job's writes may have failed. */
function diskFullHold(where: string, r: { exitCode: number; signal?: number }): JobOutcome {
  return {
    kind: 'failed',
    exitCode: HoldCode.JobOutOfResources,
    holdCode: HoldCode.JobOutOfResources,
    holdSubCode: OutOfResourcesSubCode.Disk,
    signal: r.signal,
    message: `${where} was full when the job ended (${endedWith(r)}): its output may be incomplete`,
  };
}

const endedWith = (r: { exitCode: number; signal?: number }) =>
  r.signal !== undefined ? `signal ${r.signal}` : `exit code ${r.exitCode}`;

/** Under this much room left for users, a file system counts as full (the spawner's SANDBOX_FULL_BYTES). */
const FULL_BYTES = 1024 * 1024;

/**
 * A job whose stdout or stderr file is outside its sandbox (no file transfer: written in place) is held when
 * it ends if that file is no longer at its path (it, or its folder, was removed or replaced while the job ran:
 * what the job wrote went to a file no one can open) or if that file's file system is full (the job's writes
 * may have failed, a shell ignoring them exits 0: the output may be cut short), as a job whose sandbox filled
 * is (sandboxFullHold). Without either, it completes. Undefined if nothing is wrong.
 */
export async function outputFileHold(
  job: Pick<StartedJob, 'sandbox' | 'stdout' | 'stderr' | 'files'>,
  r: { exitCode: number; signal?: number },
): Promise<JobOutcome | undefined> {
  for (const which of ['stdout', 'stderr'] as const) {
    const path = job[which];
    const id = job.files?.[which];
    if (!path || !id || !relative(job.sandbox, path).startsWith('..')) continue;
    let now: string;
    try {
      const st = await stat(path, { bigint: true });
      now = `${st.dev}:${st.ino}`;
    } catch (e) {
      // only a path that names nothing any more: an unreadable folder (root squashed on NFS) proves no loss
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') continue;
      now = '';
    }
    if (now !== id)
      return {
        kind: 'failed',
        exitCode: HoldCode.UnableToOpenOutput,
        holdCode: HoldCode.UnableToOpenOutput,
        holdSubCode: now ? 0 : 2,
        signal: r.signal,
        message: `The job's ${which} file ${path} was ${now ? 'replaced' : 'removed (or its folder was)'} while the job ran: what it wrote there is lost (the job ended with ${endedWith(r)})`,
      };
    const fs = await statfs(path).catch(() => undefined);
    if (fs && (fs.bavail * fs.bsize < FULL_BYTES || (fs.files > 0 && fs.ffree === 0)))
      return diskFullHold(`The file system of the job's ${which} file ${path}`, r);
  }
  return undefined;
}

/**
 * The job's stdout and stderr that outputFileHold checks (those outside its sandbox), for its journal note: a
 * startd that replays the end from the journal checks them as the live end would have, record or not.
 */
export function outputNote(job: Pick<StartedJob, 'sandbox' | 'stdout' | 'stderr'>): Pick<ExitNote, 'output'> {
  const outside = (path?: string) => (path && relative(job.sandbox, path).startsWith('..') ? path : undefined);
  const stdout = outside(job.stdout);
  const stderr = outside(job.stderr);
  return stdout || stderr ? { output: { sandbox: job.sandbox, stdout, stderr } } : {};
}

/** Remove a job's sandbox; its owner may be changing it meanwhile, so no link in it is followed (lib/remove-tree.ts). */
export function removeSandbox(dir: string): void {
  removeTree(dir);
}
