// Pid files that name one process exactly: its pid and its start time (field 22 of /proc/PID/stat, in clock
// ticks since boot), then the host it runs on (host name, machine id, boot id). A pid the kernel has since
// handed to another process has another start time, so a stale file is never taken for a live daemon and
// its pid never signalled; and a DSCHED_HOME shared between hosts (NFS) holds files of processes of another
// host, whose pids mean nothing here (nor does a lock the kernel of this host keeps).
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { DschedError } from './errors.js';
import { writeFileAtomic } from './rpc/address-file.js';

/** The host a pid file's process runs on. */
export interface HostIdentity {
  host: string;
  /** /etc/machine-id ('-' where there is none): host names repeat, machine ids do not */
  machine: string;
  /** the kernel's boot id: a file of an earlier boot of this host names no live process */
  boot: string;
}

export interface PidRecord {
  pid: number;
  /** start time of the process; '' where /proc cannot tell it */
  start: string;
  /** where the process runs; undefined in a file of an older dsched (taken as this host) */
  host?: HostIdentity;
}

/**
 * A master rewrites the time of its run/master.pid this often, so a master of another host sharing the home
 * can tell a live pool from one whose host died; past MASTER_HEARTBEAT_STALE_MS without it the file is stale.
 * daemons/master/native-master.c keeps the same two figures.
 */
export const MASTER_HEARTBEAT_MS = 10_000;
export const MASTER_HEARTBEAT_STALE_MS = 60_000;

/** One word of a pid file: no blanks, no control characters. */
const word = (s: string | undefined) => (s ?? '').trim().replace(/[^\w.:-]/g, '') || '-';

function firstLine(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
}

let thisHostIdentity: HostIdentity | undefined;
/** This host, as its pid files name it. */
export function thisHost(): HostIdentity {
  return (thisHostIdentity ??= {
    host: word(hostname()),
    machine: word(firstLine('/etc/machine-id') ?? firstLine('/var/lib/dbus/machine-id')),
    boot: word(firstLine('/proc/sys/kernel/random/boot_id')),
  });
}

/** Whose process a record names: this host's, an earlier boot's of this host (gone), or another host's. */
export function recordHost(rec: PidRecord): 'this' | 'earlier-boot' | 'other' {
  const me = thisHost();
  if (!rec.host) return 'this';
  if (rec.host.host !== me.host || rec.host.machine !== me.machine) return 'other';
  return rec.host.boot === me.boot ? 'this' : 'earlier-boot';
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
  const { host, machine, boot } = thisHost();
  writeFileAtomic(path, `${pid} ${processStartTime(pid) || '-'} ${host} ${machine} ${boot}\n`);
}

export function readPidFile(path: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [p, start, host, machine, boot] = text.trim().split(/\s+/);
  const pid = Number(p);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return {
    pid,
    start: start === '-' ? '' : (start ?? ''),
    ...(host && machine && boot ? { host: { host, machine, boot } } : {}),
  };
}

const sameRecord = (a: PidRecord, b: PidRecord) =>
  a.pid === b.pid && a.start === b.start && a.host?.host === b.host?.host && a.host?.boot === b.host?.boot;

/**
 * The master of another host that holds this home, read from its run/master.pid: `live` while its
 * heartbeat (the file's time) is recent. Undefined when the file names a process of this host, or none.
 */
export function otherHostMaster(
  path: string,
): { rec: PidRecord; host: string; ageMs: number; live: boolean } | undefined {
  const rec = readPidFile(path);
  if (!rec || recordHost(rec) !== 'other') return undefined;
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  // the two hosts' clocks may differ: a time ahead of ours is a recent one
  return { rec, host: rec.host!.host, ageMs: Math.max(0, ageMs), live: ageMs < MASTER_HEARTBEAT_STALE_MS };
}

/** The refusal to start or act on a home whose pool another host runs. */
export function poolOnOtherHost(home: string, other: { rec: PidRecord; host: string; ageMs: number }): DschedError {
  return new DschedError(
    'POOL_ON_OTHER_HOST',
    `the pool of ${home} runs on host ${other.host} (master pid ${other.rec.pid}, heard from ${Math.round(other.ageMs / 1000)} s ago): its home is shared with this host, and one home has one pool`,
  );
}

/**
 * A master's heartbeat: its pid file's time set to now, or the file written again if someone removed it.
 * Returns the record that has replaced it when another master (another host's) has taken the home over.
 */
export function renewPidFile(path: string, rec: PidRecord): PidRecord | undefined {
  const now = readPidFile(path);
  if (!now) writePidFile(path, rec.pid);
  else if (sameRecord(now, rec)) {
    const t = new Date();
    utimesSync(path, t, t);
  } else return now;
  return undefined;
}

/** Whether the process a record names still runs: same pid and same start time. */
export function isRunning(rec: PidRecord | undefined): rec is PidRecord {
  if (!rec || recordHost(rec) !== 'this') return false;
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
  if (now && sameRecord(now, rec)) rmSync(path, { force: true });
}
