// The processes of a test pool as /proc shows them: a daemon's children (the startd's job spawner and its keeper) and
// the jobs they run, for tests that stop or kill one at a chosen point.
import { readdirSync, readFileSync } from 'node:fs';
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
