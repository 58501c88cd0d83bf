// The spawner's exit journal: the spawner writes each job's end here (fsynced) the moment it reaps the job,
// before it tells the startd. A busy startd reads its spawner's pipe late (up to seconds under load); a
// startd or host killed meanwhile would otherwise lose an exit that happened, and the job would run again.
// The startd that reads the journal of a spawner that died (its own run, or the next one after a crash)
// reports those ends as exits; once the startd has journaled an end itself it tells the spawner, which
// marks the entry done.
//
// One file per spawner process (`spawner-<pid>.exits` in the startd's run directory), one JSON object a
// line: {run, note, exitCode, signal?, stopped?, time} for an end, {done: run} once the startd has it. Only
// its spawner appends to a file; a line cut short by a crash is skipped when read.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What the startd needs to report a job's end without remembering the job (it may be a later run of it). */
export interface ExitNote {
  /** the claiming schedd's address, the claim and the job */
  addr: string;
  claim: string;
  cluster: number;
  proc: number;
  /** the job ran on transferred files: its sandbox stays, and its output is served from it */
  transfer?: { sandbox: string; scheddHost?: string; owner?: { uid: number; gid: number; groups?: number[] }; inputs: Array<[string, number]>; whenToTransferOutput?: string; transferOutput?: string };
}

export interface SpawnerExit {
  /** the startd's key for this run of a job (its sandbox's name: unique per startd process) */
  run: string;
  note: ExitNote;
  exitCode: number;
  signal?: number;
  /** the startd had asked for the job to be signalled before it ended: its end may be an eviction */
  stopped?: boolean;
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

/** The ends a journal holds that the startd has not taken over (no `done` line). */
export function readSpawnerJournal(file: string): SpawnerExit[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const live = new Map<string, SpawnerExit>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Partial<SpawnerExit> & { done?: string };
      if (typeof r.done === 'string') live.delete(r.done);
      else if (typeof r.run === 'string' && r.note && typeof r.exitCode === 'number') live.set(r.run, r as SpawnerExit);
    } catch {
      /* cut short by a crash: that end was never reported either, and its job was killed with the host */
    }
  }
  return [...live.values()];
}

export function removeSpawnerJournal(file: string): void {
  rmSync(file, { force: true });
}

/** The spawner's side: appends ends (fsynced, in batches) and `done` marks; starts afresh when nothing is owed. */
export class SpawnerJournalWriter {
  private fd: number;
  private live = new Map<string, string>(); // run → its line
  private queued: Array<{ line: string; written: () => void }> = [];
  private scheduled = false;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Journal an end; resolves once it is on disk. */
  record(e: SpawnerExit): Promise<void> {
    const line = JSON.stringify(e) + '\n';
    this.live.set(e.run, line);
    return new Promise((written) => {
      this.queued.push({ line, written });
      if (!this.scheduled) {
        this.scheduled = true;
        // the ends reaped in one turn of the event loop share one fsync
        setImmediate(() => this.flush());
      }
    });
  }

  /** Write and fsync what is queued (also called before the spawner exits). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queued.splice(0);
    if (!batch.length) return;
    try {
      writeSync(this.fd, batch.map((b) => b.line).join(''));
      fsyncSync(this.fd);
    } catch (e) {
      // reported all the same: the startd journals it too once it reads it
      process.stderr.write(`spawner: cannot journal job exits in ${this.file}: ${(e as Error).message}\n`);
    }
    for (const b of batch) b.written();
  }

  /** The startd has journaled these ends itself. No fsync: a lost mark only means an end the startd skips as known. */
  done(runs: string[]): void {
    for (const r of runs) this.live.delete(r);
    try {
      if (!this.live.size && !this.queued.length) {
        ftruncateSync(this.fd, 0);
        return;
      }
      writeSync(this.fd, runs.map((r) => JSON.stringify({ done: r }) + '\n').join(''));
      // keep the file small under a steady stream of ends (the owed set is rarely empty then)
      if (statSync(this.file).size > 1 << 20 && !this.queued.length) this.compact();
    } catch (e) {
      process.stderr.write(`spawner: cannot update ${this.file}: ${(e as Error).message}\n`);
    }
  }

  /** Rewrite the file with only what is owed, atomically (a crash leaves the old file or the new one). */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, [...this.live.values()].join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a', 0o600);
  }
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
