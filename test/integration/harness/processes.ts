// The processes of a test pool as /proc shows them: a daemon's children (the startd's job spawner and its keeper) and
// the jobs they run, for tests that stop or kill one at a chosen point.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { TestPool } from './pool.js';

/** pid, state and parent of every process (from /proc). */
export function processes(): Array<{ pid: number; state: string; ppid: number; cmdline: string }> {
  const out: Array<{ pid: number; state: string; ppid: number; cmdline: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(e),
        state: state!,
        ppid: Number(ppid),
        cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8'),
      });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The keeper of the startd's job spawner: the startd's child, the spawner's parent (spawner/spawner.c). */
export function keeperOf(pool: TestPool): number {
  const startd = pool.daemonPid('startd');
  const k = processes().find((p) => p.ppid === startd && p.cmdline.includes('spawner'));
  if (!k) throw new Error('the startd has no job spawner');
  return k.pid;
}

/** The startd's job spawner (the parent of its jobs). */
export function spawnerOf(pool: TestPool): number {
  const keeper = keeperOf(pool);
  const s = processes().find((p) => p.ppid === keeper && p.cmdline.includes('spawner'));
  if (!s) throw new Error('the startd has no spawner');
  return s.pid;
}

/** Live processes (not zombies) whose command line holds the argument `mark` (a number no other process uses). */
export function withMark(mark: string): number[] {
  return processes()
    .filter((p) => !/^[ZX]/.test(p.state) && p.cmdline.split('\0').includes(mark))
    .map((p) => p.pid);
}

/** Whether process `pid` has an established TCP connection to `address` (host:port), from /proc: the event a
 *  test waits for, not a time. */
export function connectedTo(pid: number, address: string): boolean {
  const port = Number(address.split(':').pop());
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  // local, remote, state (01: established), …, inode; the process's own network namespace
  return ['tcp', 'tcp6'].some((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .some((f) => f.length >= 10 && parseInt(f[2]!.split(':')[1]!, 16) === port && f[3] === '01' && inodes.has(f[9]!)),
  );
}

/**
 * Whether a journal of the startd or its spawner (one JSON object a line: run/spawner-*.exits,
 * run/startd-exits.journal) has a line with `marker` for job `cluster`. Lines of earlier jobs may still be
 * there (a file is emptied only once nothing in it is owed): a line of another job says nothing of this one.
 */
export function journaled(file: string, cluster: number, marker: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((l) => l.includes(marker) && l.includes(`"cluster":${cluster},`));
}
