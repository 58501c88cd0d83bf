// The launcher seam: how the startd starts, signals, suspends, resumes, measures and cleans up a job, and
// finds the jobs a previous run left. The startd, its claims and its policy hold only opaque handles; what
// a job is (a process tree here; a container or a pod in another launcher) stays inside its launcher.
import { readFileSync } from 'node:fs';
import type { ClassAd } from '../../grammar/classad/index.js';
import { HoldCode } from '../../lib/job-status.js';
import { sandboxKindOf, type LaunchSpec } from './launch-spec.js';
import { Cgroups, removeCgroup, type JobMemory } from './memory-cgroup.js';
import { cgroupProcs, measureJobs, moveInto, type GroupUsage } from './proc-usage.js';
import type { JobFiles } from './spawner-protocol.js';
import {
  processAlive,
  readSpawnerJournal,
  removeSpawnerJournal,
  spawnerJournals,
  type SpawnerExit,
} from './spawner-journal.js';
import {
  outputFileHold,
  outputNote,
  signalGroup,
  type JobOutcome,
  type StartedJob,
  type StartOptions,
  type Starter,
} from './starter.js';

/** A launched job as the startd sees it: no pid, no process group. */
export interface LaunchHandle {
  readonly sandbox: string;
  /** Resolves once the job ended (or could not start). */
  readonly done: Promise<JobOutcome>;
  /** true once the job runs (and after it ended) */
  readonly running?: boolean;
  /** the paths of the job's stdout and stderr, and (once it runs) those files' `dev:ino` (dtail) */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly files?: JobFiles;
  /** the key its end is journaled under (StartOptions.journal), once that journal is kept */
  readonly run?: string;
}

/** A job's resource use, summed over all its processes. */
export interface JobUsage {
  /** KB */
  rssKb: number;
  vsizeKb: number;
  /** CPU seconds, including children the job waited for */
  userCpu: number;
  sysCpu: number;
  /** how many processes were measured (0: not running, or gone) */
  processes: number;
}

/** A measurement of a job's processes as a launcher reports it (none: not running, or gone). */
export function jobUsage(u: GroupUsage | undefined): JobUsage {
  return u
    ? { rssKb: u.rssKb, vsizeKb: u.vsizeKb, userCpu: u.userCpu, sysCpu: u.sysCpu, processes: u.pids.length }
    : { rssKb: 0, vsizeKb: 0, userCpu: 0, sysCpu: 0, processes: 0 };
}

/** A job recorded as running, as a restarted startd finds it (`list()`, `run/startd-jobs.json`). */
export interface LaunchRecord {
  /** which launcher started it */
  launcher: string;
  sandbox: string;
  /** the launcher's own reference (for the process launcher: the process group and the tracking tag) */
  ref: Record<string, unknown>;
}

/** The ends a previous run's launcher recorded (its spawner's journal), which that startd may never have heard. */
export interface PreviousEnds {
  ends: SpawnerExit[];
  /** The startd has its own record of what it needed: the launcher's goes. */
  drop(): void;
}

export interface Launcher {
  /** the `sandboxKind` it runs (launch-spec.ts) */
  readonly kind: LaunchSpec['sandboxKind'];
  /** Start a job. Never throws: a job that cannot start resolves `done` as failed. */
  start(opts: StartOptions): LaunchHandle;
  signal(h: LaunchHandle, sig: NodeJS.Signals): void;
  /** Stop every process of the job; returns how many were stopped. */
  suspend(h: LaunchHandle): number;
  resume(h: LaunchHandle): void;
  usage(hs: readonly LaunchHandle[]): JobUsage[];
  /** SIGKILL to every process of the job at once, not a stop (the kernel's OOM killer already acted). */
  kill(h: LaunchHandle): void;
  /**
   * Have the kernel hold the job to `memoryMb` from now on (STARTER_MEMORY_ENFORCEMENT = cgroup), by this
   * launcher's means: for processes a memory cgroup made (and removed) here, named after `name`.
   */
  limitMemory(h: LaunchHandle, memoryMb: number, name: string): void;
  /** Whether the kernel's OOM killer acted on the job: its peak memory use then, KB (else undefined). */
  memoryKilled(h: LaunchHandle): number | undefined;
  /** Whether the job's main part has already ended, though its end may not be reported yet. */
  hasEnded(h: LaunchHandle): boolean;
  /** The running jobs, for the record a restarted startd recovers from. */
  list(hs: readonly LaunchHandle[]): LaunchRecord[];
  /** The ends a previous run recorded (call once, before any job starts). */
  previousEnds(): Promise<PreviousEnds>;
  /** Kill what a previous startd left running (from `list()`'s records); returns how many it killed. */
  recover(records: readonly LaunchRecord[]): number;
  /** Free what the job held once it has ended (its tracking cgroup). */
  cleanUp(h: LaunchHandle): Promise<void>;
  /** The startd has journaled the job's end itself: the launcher's own record of it is done. */
  journaled?(h: LaunchHandle): void;
}

/** Jobs as process trees, through the spawner (starter.ts) and process tracking (proc-family.ts). */
export class ProcessLauncher implements Launcher {
  readonly kind = 'process' as const;
  constructor(
    readonly starter: Starter,
    /** where the spawners journal the ends of jobs (the startd's run directory); none: no journal */
    private runDir?: string,
    /** the jobs' memory cgroups (memory-cgroup.ts), when the kernel enforces memory limits */
    private memory?: JobMemory,
  ) {}

  private job(h: LaunchHandle): StartedJob {
    return h as StartedJob;
  }

  start(opts: StartOptions): LaunchHandle {
    return this.starter.start(opts);
  }

  signal(h: LaunchHandle, sig: NodeJS.Signals): void {
    this.starter.signal(this.job(h), sig);
  }

  /** Each job's memory cgroup (`limitMemory`): its tracking cgroup, or one of its own it is moved into. */
  private memoryCgroup = new WeakMap<StartedJob, { path: string; own: boolean }>();

  /** Beside its process group: the members of its family and of its own memory cgroup that left the group. */
  private also(j: StartedJob): number[] {
    const list = j.family?.pids() ?? [];
    const m = this.memoryCgroup.get(j);
    return m?.own ? [...new Set([...list, ...cgroupProcs(m.path)])] : list;
  }

  /** The job's processes: its group, and the members of its family or memory cgroup that left it. */
  private pids(j: StartedJob): number[] {
    return j.pid ? measureJobs([{ pgid: j.pid, also: this.also(j) }])[0]!.pids : [];
  }

  suspend(h: LaunchHandle): number {
    const j = this.job(h);
    if (!j.pid) return 0;
    const pids = this.pids(j);
    signalGroup(j.pid, 'SIGSTOP');
    for (const p of pids) signalPid(p, 'SIGSTOP');
    return pids.length;
  }

  resume(h: LaunchHandle): void {
    const j = this.job(h);
    for (const p of this.pids(j)) signalPid(p, 'SIGCONT');
    signalGroup(j.pid, 'SIGCONT');
  }

  usage(hs: readonly LaunchHandle[]): JobUsage[] {
    const jobs = hs.map((h) => this.job(h));
    const live = jobs.filter((j) => j.pid);
    // a job in a cgroup is its cgroups' members: born there, none of its processes can leave
    const measured = measureJobs(
      live.map((j) =>
        j.family?.ref.cgroup ? { pgid: j.pid, only: this.also(j) } : { pgid: j.pid, also: this.also(j) },
      ),
    );
    const by = new Map(live.map((j, i) => [j, measured[i]!]));
    // processes a job made since it was last measured join its own memory cgroup
    for (const [j, u] of by) {
      const m = this.memoryCgroup.get(j);
      if (m?.own) moveAllInto(m.path, u.pids);
    }
    return jobs.map((j) => jobUsage(by.get(j)));
  }

  hasEnded(h: LaunchHandle): boolean {
    return this.starter.hasEnded(this.job(h));
  }

  kill(h: LaunchHandle): void {
    signalGroup(this.job(h).pid, 'SIGKILL');
  }

  limitMemory(h: LaunchHandle, memoryMb: number, name: string): void {
    const mem = this.memory;
    const j = this.job(h);
    if (!mem) return;
    let own: string | undefined;
    if (!mem.sharesTracker)
      try {
        own = mem.create(name, memoryMb);
      } catch (e) {
        mem.log.warn({ err: (e as Error).message }, 'cannot make the job a cgroup; watching its RSS instead');
        return;
      }
    let ended = false;
    void j.done.then(() => (ended = true));
    // the job's process may not exist yet (its input files may be arriving)
    const place = () => {
      if (ended) return;
      if (!j.running) return void setTimeout(place, 5);
      if (own) {
        this.memoryCgroup.set(j, { path: own, own: true });
        return moveAllInto(own, measureJobs([{ pgid: j.pid }])[0]!.pids);
      }
      // born in its tracking cgroup: nothing to move; the limit applies from now on
      const tracking = j.family?.ref.cgroup;
      if (!tracking) return;
      try {
        Cgroups.limit(tracking, memoryMb);
        this.memoryCgroup.set(j, { path: tracking, own: false });
      } catch (e) {
        mem.log.warn({ err: (e as Error).message }, "cannot limit the job's cgroup; watching its RSS instead");
      }
    };
    place();
  }

  memoryKilled(h: LaunchHandle): number | undefined {
    const m = this.memoryCgroup.get(this.job(h));
    return m && this.memory ? this.memory.oomPeakKb(m.path) : undefined;
  }

  list(hs: readonly LaunchHandle[]): LaunchRecord[] {
    return hs.map((h) => {
      const j = this.job(h);
      const f = j.family?.ref;
      return {
        launcher: this.kind,
        sandbox: j.sandbox,
        ref: { pid: j.pid, tag: f?.tag, uid: f?.uid, output: outputRecord(j) },
      };
    });
  }

  /**
   * The hold for an end a previous run's spawner journaled, as the live end would have had it: output written
   * outside the sandbox whose file was removed or replaced meanwhile, or whose file system is full. The
   * journal names the files (the note their paths, the spawner their `dev:ino`), so a job killed with its
   * startd before the startd recorded it is checked too; a journal of an earlier spawner without them falls
   * back on the startd's record. An end after a stop is not looked at.
   */
  async replayedEndHold(r: LaunchRecord | undefined, e: SpawnerExit): Promise<JobOutcome | undefined> {
    if (e.stopped || e.sandboxFull) return undefined;
    if (e.note.output && e.files) return outputFileHold({ ...e.note.output, files: e.files }, e);
    const o = r?.launcher === this.kind ? (r.ref.output as ReturnType<typeof outputRecord>) : undefined;
    if (!o || typeof o !== 'object') return undefined;
    return outputFileHold({ sandbox: r!.sandbox, stdout: o.stdout, stderr: o.stderr, files: o.files }, e);
  }

  async previousEnds(): Promise<PreviousEnds> {
    const files = this.runDir ? spawnerJournals(this.runDir, this.starter.spawnerPid) : [];
    // the previous spawner stops when it sees its startd gone, and journals what it reaps until then
    const until = performance.now() + 10_000;
    for (const f of files)
      while (isSpawner(f.pid) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    return {
      ends: files.flatMap((f) => readSpawnerJournal(f.file)),
      drop: () => files.forEach((f) => removeSpawnerJournal(f.file)),
    };
  }

  recover(records: readonly LaunchRecord[]): number {
    let killed = 0;
    for (const r of records) {
      if (r.launcher !== this.kind) continue;
      const pid = Number(r.ref.pid);
      // a tracked job was reaped by its cgroup or tag (proc-family.ts); its pid may name another process by now
      if (!r.ref.tag && Number.isInteger(pid) && pid > 1 && signalGroup(pid, 'SIGKILL')) killed++;
    }
    return killed;
  }

  cleanUp(h: LaunchHandle): Promise<void> {
    const j = this.job(h);
    const m = this.memoryCgroup.get(j);
    if (m?.own) void removeCgroup(m.path);
    return j.family?.remove() ?? Promise.resolve();
  }

  /** The process tracking tags in a previous run's records, with the uid each job ran as (proc-family.ts
   *  reaps the processes of that uid that carry them; a record of an earlier version names no uid). */
  tags(records: readonly LaunchRecord[]): Array<{ tag: string; uid?: number }> {
    return records
      .filter((r) => r.launcher === this.kind && typeof r.ref.tag === 'string')
      .map((r) => ({ tag: r.ref.tag as string, uid: Number.isInteger(r.ref.uid) ? (r.ref.uid as number) : undefined }));
  }

  /** The spawner has journaled this end and the startd has too (spawner-journal.ts). */
  journaled(h: LaunchHandle): void {
    this.starter.journaled(this.job(h));
  }
}

/** A job that asks for a sandbox this execute host has no launcher for: held, with the reason. */
class MissingLauncher implements Launcher {
  constructor(readonly kind: LaunchSpec['sandboxKind']) {}
  start(opts: StartOptions): LaunchHandle {
    const message = `The job asks for a ${this.kind} (universe = ${this.kind}), and this execute host has no ${this.kind} launcher`;
    const code = HoldCode.FailedToCreateProcess;
    return {
      sandbox: opts.sandbox,
      done: Promise.resolve({ kind: 'failed', exitCode: code, holdCode: code, message }),
    };
  }
  signal(): void {}
  suspend(): number {
    return 0;
  }
  resume(): void {}
  usage(hs: readonly LaunchHandle[]): JobUsage[] {
    return hs.map(() => jobUsage(undefined));
  }
  hasEnded(): boolean {
    return true;
  }
  list(): LaunchRecord[] {
    return [];
  }
  recover(): number {
    return 0;
  }
  previousEnds(): Promise<PreviousEnds> {
    return Promise.resolve({ ends: [], drop: () => {} });
  }
  kill(): void {}
  limitMemory(): void {}
  memoryKilled(): undefined {
    return undefined;
  }
  cleanUp(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The launchers of this execute host, picked per job by what it asks to run in (launch-spec.ts): the process
 * launcher always, the container launcher (container-launcher.ts) where STARTD_LAUNCHERS asks for it and
 * podman runs containers; a job asking for a launcher this host has not is held.
 */
export class Launchers {
  private byKind = new Map<LaunchSpec['sandboxKind'], Launcher>();
  /** which launcher started each handle */
  private owner = new WeakMap<LaunchHandle, Launcher>();

  constructor(readonly process: ProcessLauncher) {
    this.register(process);
  }

  register(l: Launcher): void {
    this.byKind.set(l.kind, l);
  }

  /** The launcher for a job ad. */
  pick(ad: ClassAd): Launcher {
    const kind = sandboxKindOf(ad);
    return this.byKind.get(kind) ?? new MissingLauncher(kind);
  }

  start(opts: StartOptions): LaunchHandle {
    const l = this.pick(opts.ad);
    const h = l.start(opts);
    this.owner.set(h, l);
    return h;
  }

  /** The launcher that started a handle. */
  of(h: LaunchHandle): Launcher {
    return this.owner.get(h) ?? this.process;
  }

  signal(h: LaunchHandle, sig: NodeJS.Signals): void {
    this.of(h).signal(h, sig);
  }

  /** Each job's usage, measured by its own launcher (one pass per launcher). */
  usage(hs: readonly LaunchHandle[]): JobUsage[] {
    const out: JobUsage[] = new Array<JobUsage>(hs.length);
    for (const l of new Set(hs.map((h) => this.of(h)))) {
      const mine = hs.flatMap((h, i) => (this.of(h) === l ? [i] : []));
      l.usage(mine.map((i) => hs[i]!)).forEach((u, k) => (out[mine[k]!] = u));
    }
    return out;
  }

  /** Every launcher's records of the running jobs. */
  list(hs: readonly LaunchHandle[]): LaunchRecord[] {
    return [...this.byKind.values()].flatMap((l) => l.list(hs.filter((h) => this.of(h) === l)));
  }

  recover(records: readonly LaunchRecord[]): number {
    return [...this.byKind.values()].reduce((n, l) => n + l.recover(records), 0);
  }

  journaled(h: LaunchHandle): void {
    this.of(h).journaled?.(h);
  }

  /** The launchers registered, by the `sandboxKind` each runs. */
  kinds(): Array<LaunchSpec['sandboxKind']> {
    return [...this.byKind.keys()];
  }

  /** The ends the process launcher's previous run recorded (the only launcher that keeps a journal today). */
  previousEnds(): Promise<PreviousEnds> {
    return this.process.previousEnds();
  }

  stop(): Promise<void> {
    return this.process.starter.stop();
  }
}

/** What of a job's output files its record keeps: those outside its sandbox, once the job runs. */
function outputRecord(j: StartedJob): { stdout?: string; stderr?: string; files: JobFiles } | undefined {
  const o = outputNote(j).output;
  return j.files && o ? { stdout: o.stdout, stderr: o.stderr, files: j.files } : undefined;
}

function signalPid(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Whether a previous run's spawner still runs (its pid not yet taken by another program). */
function isSpawner(pid: number): boolean {
  try {
    return processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawner');
  } catch {
    return false;
  }
}

/** Move into a cgroup those of `pids` not in it yet. */
function moveAllInto(cgroup: string, pids: number[]) {
  const inside = new Set(cgroupProcs(cgroup));
  for (const p of pids) if (!inside.has(p)) moveInto(cgroup, p);
}
