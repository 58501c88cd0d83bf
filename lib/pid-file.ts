// Pid files that name one process exactly: its pid and its start time (field 22 of /proc/PID/stat, in clock
// ticks since boot). A pid the kernel has since handed to another process has another start time, so a
// stale file is never taken for a live daemon and its pid never signalled.
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from './rpc/address-file.js';

export interface PidRecord {
  pid: number;
  /** start time of the process; '' where /proc cannot tell it */
  start: string;
}

/** The start time of a process, or undefined when it has exited (or /proc is not there). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // a zombie (exited, not yet reaped by its parent or init) runs no more
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** The parent of a process (undefined when it has exited or /proc is not there). */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function writePidFile(path: string, pid: number = process.pid): void {
  writeFileAtomic(path, `${pid} ${processStartTime(pid) ?? ''}\n`);
}

export function readPidFile(path: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [p, start] = text.trim().split(/\s+/);
  const pid = Number(p);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return { pid, start: start ?? '' };
}

/** Whether the process a record names still runs: same pid and same start time. */
export function isRunning(rec: PidRecord | undefined): rec is PidRecord {
  if (!rec) return false;
  const start = processStartTime(rec.pid);
  if (start !== undefined) return rec.start !== '' && start === rec.start;
  if (rec.start !== '') return false; // recorded with /proc, now gone from it: exited
  try {
    process.kill(rec.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove a pid file, but only if it still names this record (a newer process may have replaced it). */
export function removePidFile(path: string, rec: PidRecord): void {
  const now = readPidFile(path);
  if (now && now.pid === rec.pid && now.start === rec.start) rmSync(path, { force: true });
}
