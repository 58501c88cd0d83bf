// The startd's record of its running jobs (`run/startd-jobs.json`): what a restarted startd kills, and
// whose sandboxes it removes, after a crash of this one. Written without fsync: the record only serves
// after a crash of the daemon, and a crash of the machine takes the jobs with it anyway.
//
// A busy startd changes it with every job start and end, so a change is appended as a line (a sandbox's
// entry, or `{"gone": sandbox}`) instead of the whole list being written to a new file and renamed over
// the old one: on ext4 such a rename waits until the new file's blocks are on disk, about a millisecond
// per job start and end. The file is written whole (new file, rename) the first time, after a failed
// write, and once the appended lines outnumber the entries by far.
import { appendFileSync, chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** An entry of the record: one job's sandbox and what the startd keeps of it. */
export interface JobRecordEntry {
  sandbox: string;
  [k: string]: unknown;
}

export class JobRecordFile {
  /** each sandbox's line as the file has it; undefined: the file must be written whole */
  private written: Map<string, string> | undefined;
  private appended = 0;

  constructor(
    readonly file: string,
    /** every entry there is now (for a write of the whole file) */
    private all: () => JobRecordEntry[],
  ) {}

  /** The entries recorded (by an earlier run too), in either form: a JSON array, or lines. */
  read(): JobRecordEntry[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const isEntry = (e: unknown): e is JobRecordEntry =>
      !!e && typeof e === 'object' && typeof (e as { sandbox?: unknown }).sandbox === 'string';
    if (text.trimStart().startsWith('[')) {
      try {
        const list = JSON.parse(text) as unknown;
        return Array.isArray(list) ? list.filter(isEntry) : [];
      } catch {
        return [];
      }
    }
    const live = new Map<string, JobRecordEntry>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as unknown;
        if (isEntry(e)) live.set(e.sandbox, e);
        else if (typeof (e as { gone?: unknown })?.gone === 'string') live.delete((e as { gone: string }).gone);
      } catch {
        /* a line cut short by a crash */
      }
    }
    return [...live.values()];
  }

  /**
   * Record the entries of the sandboxes in `changed` (undefined: gone), appended; without `changed`,
   * everything may have changed and the file is written whole. Throws what writing throws.
   */
  save(changed?: Map<string, JobRecordEntry | undefined>): void {
    const written = this.written;
    if (!changed || !written || this.appended > 4 * Math.max(64, written.size)) return this.writeWhole();
    const lines: string[] = [];
    const next = new Map<string, string | undefined>();
    for (const [sandbox, e] of changed) {
      const line = e && JSON.stringify(e);
      if (written.get(sandbox) === line) continue;
      next.set(sandbox, line);
      lines.push(line ?? JSON.stringify({ gone: sandbox }));
    }
    if (!lines.length) return;
    // a write that fails may leave part of a line: the next write starts the file afresh
    this.written = undefined;
    appendFileSync(this.file, lines.join('\n') + '\n', { mode: 0o600 });
    for (const [sandbox, line] of next)
      if (line === undefined) written.delete(sandbox);
      else written.set(sandbox, line);
    this.written = written;
    this.appended += lines.length;
  }

  private writeWhole(): void {
    this.written = undefined;
    const lines = new Map(this.all().map((e) => [e.sandbox, JSON.stringify(e)]));
    const tmp = `${this.file}.tmp`;
    // root's alone: each job's process tag is in it, and a process of another user carrying that tag would be
    // taken for one of the job's (its memory counted against the job's limit, its signals the job's)
    writeFileSync(tmp, [...lines.values()].map((l) => l + '\n').join(''), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.written = lines;
    this.appended = 0;
  }
}
