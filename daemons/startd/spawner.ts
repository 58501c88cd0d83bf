// The startd's spawner: a small process (no gRPC, no ClassAds, a tiny heap) that creates sandboxes, opens
// the job's files and forks the jobs. Forking from the startd itself costs milliseconds per job because the
// kernel copies the page tables of a large heap; from here it is cheap, and it runs on the other core.
//
// Protocol, one JSON object per line. In (stdin): {op:'start', id, exe, argv, cwd, env, stdin, stdout,
// stderr, sandbox, adText, uid?, gid?, family?, journal?}, {op:'signal', id, signal} and {op:'journaled', runs}.
// Out (stdout): {id, event:'started', pid, files}, {id, event:'failed', holdCode, holdSubCode, message},
// {id, event:'exited', exitCode, signal?}. Started with the startd's run directory as its argument, it
// journals each end of a job that has a `journal` note there (spawner-journal.ts) before it reports it.
import { spawn } from 'node:child_process';
import { chownSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { ProcFamily, type FamilyRef } from './proc-family.js';
import { asUser, type Owner } from '../../lib/as-user.js';
import { spawnerJournalFile, SpawnerJournalWriter, type ExitNote } from './spawner-journal.js';

export interface StartRequest {
  op: 'start';
  id: string;
  exe: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  stdout: string;
  stderr: string;
  sandbox: string;
  adText: string;
  /** more files for the sandbox (name → content), written 0600 for the job's owner */
  files?: Record<string, string>;
  /** the same, written 0700 (a PBS job's copy of its script) */
  execFiles?: Record<string, string>;
  /** leave the sandbox when the job exits: its output is fetched from there (file transfer) */
  keepSandbox?: boolean;
  uid?: number;
  gid?: number;
  /** the job's process family (proc-family.ts): the job is born in it, and all of it goes when the job ends */
  family?: FamilyRef;
  /** the owner's supplementary groups: the job's files are opened with all of the owner's rights */
  groups?: number[];
  /** journal the job's end before reporting it: the run's key and what the startd reports it with */
  journal?: { run: string; note: ExitNote };
}
export interface SignalRequest {
  op: 'signal';
  id: string;
  signal: NodeJS.Signals;
}
/** The startd has journaled these runs' ends itself: the spawner's entries are done. */
export interface JournaledRequest {
  op: 'journaled';
  runs: string[];
}
/** A file by device and inode (`dev:ino`): what dtail checks the file it reads against. */
export interface JobFiles {
  stdout?: string;
  stderr?: string;
}
export type SpawnerReply =
  | { id: string; event: 'started'; pid: number; files?: JobFiles }
  | { id: string; event: 'failed'; holdCode: number; holdSubCode: number; message: string }
  | { id: string; event: 'exited'; exitCode: number; signal?: number; stopped?: boolean };

const SIGNALS = constants.signals as Record<string, number>;
const pids = new Map<string, number>();
/** Signals for jobs still being started (the startd stopping a job it has just asked for): sent once the process exists. */
const early = new Map<string, NodeJS.Signals>();
const starting = new Set<string>();
const families = new Map<string, ProcFamily>();
/** Jobs the startd signalled to stop them (not SIGSTOP/SIGCONT): an end after that may be an eviction. */
const stopped = new Set<string>();
const PAUSE = new Set(['SIGSTOP', 'SIGCONT', 'SIGTSTP']);
let journal: SpawnerJournalWriter | undefined;
/** The journal notes of the jobs running, by id. */
const notes = new Map<string, { run: string; note: ExitNote }>();
const send = (r: SpawnerReply) => process.stdout.write(JSON.stringify(r) + '\n');
const ERRNOS = constants.errno as Record<string, number>;
/** The errno of a failed system call (0 when it is not one): HTCondor's HoldReasonSubCode for codes 6, 7, 8, 14. */
const errnoOf = (e: unknown) => ERRNOS[(e as NodeJS.ErrnoException).code ?? ''] ?? 0;
const why = (e: unknown) => {
  const c = (e as NodeJS.ErrnoException).code;
  const text = c === 'ENOENT' ? 'No such file or directory' : c === 'EACCES' ? 'Permission denied' : c === 'ENOTDIR' ? 'Not a directory' : (e as Error).message;
  return errnoOf(e) && text !== (e as Error).message ? `${text} (errno ${errnoOf(e)})` : text;
};

function start(r: StartRequest): void {
  starting.add(r.id);
  const family = r.family ? new ProcFamily(r.family) : undefined;
  const fail = (holdCode: number, message: string, e?: unknown) => {
    starting.delete(r.id);
    early.delete(r.id);
    rmSync(r.sandbox, { recursive: true, force: true });
    void family?.remove();
    send({ id: r.id, event: 'failed', holdCode, holdSubCode: e === undefined ? 0 : errnoOf(e), message });
  };
  const owner = r.uid !== undefined ? { uid: r.uid, gid: r.gid ?? r.uid } : undefined;
  // The job's files are opened, and its initial directory entered, as its owner: the kernel decides what
  // the owner may open (links included) and new files belong to the owner. Root never touches them: not even
  // in the sandbox, which is the owner's (input files may be in it already) and could hold a link by now.
  const as: Owner | undefined = owner ? { ...owner, groups: r.groups } : undefined;
  try {
    mkdirSync(r.sandbox, { recursive: true, mode: 0o700 });
    if (owner) chownSync(r.sandbox, owner.uid, owner.gid);
  } catch (e) {
    return fail(6, `Failed to create the job sandbox ${r.sandbox}: ${why(e)}`, e);
  }
  // One switch to the owner for all of the job's file work: glibc changes the ids of every thread of this
  // process, one signal per thread and per call, which cost more than the fork itself when taken per file.
  const fds: number[] = [];
  let stdio: number[] = [];
  let files: JobFiles = {};
  const closeAll = () => {
    fds.forEach((fd) => closeSync(fd));
    process.chdir('/');
  };
  const refused = asUser(as, (): { code: number; message: string; e: unknown } | undefined => {
    try {
      writeFileSync(`${r.sandbox}/.job.ad`, r.adText);
      for (const [list, mode] of [[r.files, 0o600], [r.execFiles, 0o700]] as const)
        for (const [name, text] of Object.entries(list ?? {})) writeFileSync(`${r.sandbox}/${name}`, text, { mode });
    } catch (e) {
      return { code: 6, message: `Failed to create the job sandbox ${r.sandbox}: ${why(e)}`, e };
    }
    // The child inherits this process's working directory, entered as the owner: the spawn's own chdir
    // would run as root (before it drops privileges), and a path checked first could be swapped before use.
    try {
      process.chdir(r.cwd);
    } catch (e) {
      return { code: 14, message: `Failed to change to initial directory ${r.cwd}: ${why(e)}`, e };
    }
    const open = (path: string, write: boolean): number => {
      const fd = openSync(path, write ? 'w' : 'r', 0o644);
      fds.push(fd);
      return fd;
    };
    let opening = { path: r.stdin, as: 'standard input', code: 8 };
    try {
      const inFd = open(r.stdin, false);
      opening = { path: r.stdout, as: 'standard output', code: 7 };
      const outFd = open(r.stdout, true);
      opening = { path: r.stderr, as: 'standard error', code: 7 };
      const errFd = r.stderr === r.stdout && r.stdout !== '/dev/null' ? outFd : open(r.stderr, true);
      stdio = [inFd, outFd, errFd];
      // which files the job writes to, by device and inode: dtail reads these and nothing put in their place
      files = { stdout: fileId(outFd), stderr: fileId(errFd) };
    } catch (e) {
      closeAll();
      return { code: opening.code, message: `Failed to open '${opening.path}' as ${opening.as}: ${why(e)}`, e };
    }
    return undefined;
  });
  if (refused) return fail(refused.code, refused.message, refused.e);
  let child;
  try {
    // born inside its cgroup: it cannot fork or setsid before it is tracked; it inherits the initial
    // directory this process entered as the owner (no cwd here: libuv would chdir as root, by path)
    let forked = false;
    const fork = () => ((forked = true), spawn(r.exe, r.argv, { env: r.env, stdio, detached: true, argv0: r.exe, ...(owner ?? {}) }));
    try {
      child = family ? family.spawnInside(fork) : fork();
    } catch (e) {
      if (forked || !family) throw e;
      closeAll();
      return fail(6, `Failed to place the job in its process tracking cgroup ${r.family?.cgroup}: ${why(e)}`, e);
    }
  } catch (e) {
    closeAll();
    return fail(6, `Failed to execute '${r.exe}': ${why(e)}`, e);
  }
  closeAll();
  let settled = false;
  child.once('error', (e) => {
    if (settled) return;
    settled = true;
    pids.delete(r.id);
    fail(6, `Failed to execute '${r.exe}': ${why(e)}`, e);
  });
  child.once('spawn', () => {
    pids.set(r.id, child.pid!);
    if (r.journal) notes.set(r.id, r.journal);
    if (family) {
      family.pid = child.pid!;
      families.set(r.id, family);
    }
    send({ id: r.id, event: 'started', pid: child.pid!, files });
    starting.delete(r.id);
    const sig = early.get(r.id);
    early.delete(r.id);
    if (sig) signal({ op: 'signal', id: r.id, signal: sig });
  });
  child.once('exit', async (code, signal) => {
    if (settled) return;
    settled = true;
    // journaled the moment it is reaped, reported once that is on disk: a startd (or host) that dies
    // before reading the report finds the end here when it starts again
    // whether a stop the startd asked for reached the job before it ended (else it ended by itself)
    const wasStopped = stopped.has(r.id);
    const written = journalEnd(r.id, r.journal, code ?? 0, signal ? (SIGNALS[signal] ?? 0) : undefined);
    notes.delete(r.id);
    // whatever the job left behind goes with it (HTCondor: the job ends when its main process does); the
    // exit is reported once none of its processes remains
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is already gone */
    }
    if (family) {
      const left = await family.kill();
      if (left.length) process.stderr.write(`spawner: job ${r.id}: processes ${left.join(' ')} survived SIGKILL\n`);
      // the startd removes the cgroup once it has read it (memory.events)
    }
    pids.delete(r.id);
    families.delete(r.id);
    if (!r.keepSandbox) rmSync(r.sandbox, { recursive: true, force: true });
    await written;
    send(signal ? { id: r.id, event: 'exited', exitCode: 0, signal: SIGNALS[signal] ?? 0, stopped: wasStopped } : { id: r.id, event: 'exited', exitCode: code ?? 0, stopped: wasStopped });
  });
}

function journalEnd(id: string, j: { run: string; note: ExitNote } | undefined, exitCode: number, signal: number | undefined): Promise<void> | undefined {
  const stop = stopped.delete(id);
  if (!j || !journal) return undefined;
  return journal.record({ run: j.run, note: j.note, exitCode, signal, stopped: stop || undefined, time: Math.floor(Date.now() / 1000) });
}

/**
 * The jobs that have exited and are not reaped yet (zombies): this process may learn that its startd died
 * before it hears of those exits. Their status is in /proc/<pid>/stat (field 52, as waitpid gives it).
 */
function journalZombies(): void {
  for (const [id, pid] of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = Number(f[49]);
      if (f[0] !== 'Z' || !Number.isFinite(status)) continue;
      void journalEnd(id, notes.get(id), (status >> 8) & 0xff, status & 0x7f ? status & 0x7f : undefined);
    } catch {
      /* reaped meanwhile: its exit handler journals it */
    }
  }
}

/** `dev:ino` of a regular file open on `fd`; undefined for anything else (/dev/null, a pipe). */
function fileId(fd: number): string | undefined {
  const st = fstatSync(fd, { bigint: true });
  return st.isFile() ? `${st.dev}:${st.ino}` : undefined;
}

function signal(r: SignalRequest): void {
  if (!PAUSE.has(r.signal) && (pids.has(r.id) || starting.has(r.id))) stopped.add(r.id);
  const pid = pids.get(r.id);
  if (!pid) {
    if (starting.has(r.id)) early.set(r.id, r.signal);
    return;
  }
  const family = families.get(r.id);
  if (family) {
    family.signal(r.signal);
    return;
  }
  try {
    process.kill(-pid, r.signal);
  } catch {
    /* already gone */
  }
}

// Run as the spawner process (not when imported for its types).
if (process.argv[1] && /spawner\.(js|ts)$/.test(process.argv[1])) {
  if (process.argv[2]) journal = new SpawnerJournalWriter(spawnerJournalFile(process.argv[2], process.pid));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const r = JSON.parse(line) as StartRequest | SignalRequest | JournaledRequest;
    if (r.op === 'start') start(r);
    else if (r.op === 'signal') signal(r);
    else if (r.op === 'journaled') journal?.done(r.runs);
  });
  // the startd is gone: nobody can report on the jobs, so they go too (the ends reaped so far stay journaled)
  const orphaned = () => {
    journalZombies();
    journal?.flush();
    for (const f of families.values()) f.killNow();
    for (const pid of pids.values()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    process.exit(0);
  };
  rl.on('close', orphaned);
  // a reply written after the startd died (EPIPE) says the same, sometimes before stdin does
  process.stdout.on('error', orphaned);
}
