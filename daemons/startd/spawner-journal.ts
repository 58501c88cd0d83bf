// The spawner's exit journal: the spawner writes each job's end here (fsynced) the moment it reaps the job,
// before it tells the startd. A busy startd reads its spawner's pipe late (up to seconds under load); a
// startd or host killed meanwhile would otherwise lose an exit that happened, and the job would run again.
// The startd that reads the journal of a spawner that died (its own run, or the next one after a crash)
// reports those ends as exits; once the startd has journaled an end itself it tells the spawner, which
// marks the entry done.
//
// One file per spawner (named by the pid of its keeper, the process the startd starts), one JSON object a
// line: {pid, run, note, files?} when a job starts (its process writes it just before its exec), {stop: run} when
// the startd asks for it to stop, {run, note, files?, exitCode, signal?, stopped?, time} for an end (files: its
// stdout's and stderr's `dev:ino`, for the check of its output), {done: run} once the
// startd has it (or the job never ran), and {adopted: pid, exitCode, signal?, time} for each process the
// keeper reaped after the spawner died: a job that ended unreaped as its spawner was killed, one killed with
// its spawner (SIGKILL), or what a job left behind. An adopted process is the job whose start line names its
// pid (the latest, for a pid used again) and whose end the spawner had not journaled. Only the spawner, its
// jobs and then its keeper append to a file (spawner/spawner.c writes it; this module reads it); a line cut
// short by a crash is skipped when read. The spawner empties the file when nothing is owed and no job runs,
// and rewrites it with only the running jobs' starts and what is owed once it grows.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';

const SIGKILL = constants.signals.SIGKILL;

/** What the startd needs to report a job's end without remembering the job (it may be a later run of it). */
export interface ExitNote {
  /** the claiming schedd's address, the claim and the job */
  addr: string;
  claim: string;
  cluster: number;
  proc: number;
  /** the job ran on transferred files: its sandbox stays, and its output is served from it */
  transfer?: {
    sandbox: string;
    scheddHost?: string;
    owner?: { uid: number; gid: number; groups?: number[] };
    inputs: Array<[string, number]>;
    whenToTransferOutput?: string;
    transferOutput?: string;
  };
  /** its stdout and stderr where they are outside its sandbox (no file transfer: written in place) */
  output?: { sandbox: string; stdout?: string; stderr?: string };
}

export interface SpawnerExit {
  /** the startd's key for this run of a job (its sandbox's name: unique per startd process) */
  run: string;
  note: ExitNote;
  /** the `dev:ino` of the job's stdout and stderr as the spawner opened them (spawner-protocol.ts JobFiles) */
  files?: { stdout?: string; stderr?: string };
  exitCode: number;
  signal?: number;
  /** the startd had asked for the job to be signalled before it ended: its end may be an eviction */
  stopped?: boolean;
  /** its sandbox's file system was full when it ended (spawner-protocol.ts): a hold, not an exit */
  sandboxFull?: boolean;
  /** epoch seconds */
  time: number;
}

export const spawnerJournalFile = (dir: string, pid: number) => join(dir, `spawner-${pid}.exits`);

/** The spawner journals of processes other than `exceptPid` in `dir`, with the pid each was written by. */
export function spawnerJournals(dir: string, exceptPid?: number): Array<{ file: string; pid: number }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^spawner-(\d+)\.exits$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m && Number(m[1]) !== exceptPid)
    .map((m) => ({ file: join(dir, m[0]), pid: Number(m[1]) }));
}

/**
 * The ends a journal holds that the startd has not taken over (no `done` line). An adopted end by SIGKILL is
 * left out: that is how a job still running dies with its spawner (a job killed so by anyone else just then
 * runs again, as every job killed with its spawner does).
 */
export function readSpawnerJournal(file: string): SpawnerExit[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const live = new Map<string, SpawnerExit>();
  /** the jobs started and not ended, by run, and the run each pid was last started as */
  const running = new Map<string, { note: ExitNote; files?: SpawnerExit['files']; stopped?: boolean }>();
  const byPid = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: Partial<SpawnerExit> & { done?: unknown; stop?: unknown; pid?: unknown; adopted?: unknown };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      /* cut short by a crash: that end was never reported either, and its job was killed with the host */
      continue;
    }
    if (typeof r.done === 'string') {
      live.delete(r.done);
      running.delete(r.done);
    } else if (typeof r.stop === 'string') {
      const j = running.get(r.stop);
      if (j) j.stopped = true;
    } else if (typeof r.adopted === 'number') {
      const run = byPid.get(r.adopted);
      const j = run === undefined ? undefined : running.get(run);
      byPid.delete(r.adopted);
      if (!j || run === undefined || typeof r.exitCode !== 'number') continue;
      running.delete(run);
      if (r.signal === SIGKILL) continue;
      live.set(run, {
        run,
        note: j.note,
        ...(j.files ? { files: j.files } : {}),
        exitCode: r.exitCode,
        ...(typeof r.signal === 'number' ? { signal: r.signal } : {}),
        ...(j.stopped ? { stopped: true } : {}),
        time: typeof r.time === 'number' ? r.time : Math.floor(Date.now() / 1000),
      });
    } else if (typeof r.run === 'string' && r.note && typeof r.exitCode === 'number') {
      live.set(r.run, r as SpawnerExit);
      running.delete(r.run);
    } else if (typeof r.run === 'string' && r.note && typeof r.pid === 'number') {
      running.set(r.run, { note: r.note, ...(r.files ? { files: r.files } : {}) });
      byPid.set(r.pid, r.run);
    }
  }
  return [...live.values()];
}

export function removeSpawnerJournal(file: string): void {
  rmSync(file, { force: true });
}

/** Whether a process still runs (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
