// A job's processes: measured from /proc (a job in a cgroup: its members' entries only; otherwise its process
// group and the members of its family that left it, one pass over /proc for every job), and a cgroup's
// members (the process launcher's usage, suspension and memory cgroup, launcher.ts).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: the unit of the CPU times in /proc/<pid>/stat, fixed at 100 in Linux's user-space ABI. */
const CLK_TCK = 100;

export interface GroupUsage {
  /** Resident set size of all the processes, KB. */
  rssKb: number;
  /** Virtual size of all the processes, KB. */
  vsizeKb: number;
  /** CPU seconds, including children the processes waited for. */
  userCpu: number;
  sysCpu: number;
  pids: number[];
}

interface ProcStat {
  pid: number;
  pgrp: number;
  user: number;
  sys: number;
}

/** /proc/<pid>/stat: the command name may hold spaces and parentheses, so fields count from the last ')'. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15, cutime 16, cstime 17
  const n = (i: number) => Number(f[i - 3]) || 0;
  return { pid, pgrp: n(5), user: (n(14) + n(16)) / CLK_TCK, sys: (n(15) + n(17)) / CLK_TCK };
}

const VM_RSS = /^VmRSS:\s*(\d+)/m;
const VM_SIZE = /^VmSize:\s*(\d+)/m;

/** VmRSS and VmSize (KB) from /proc/<pid>/status; a zombie has neither. */
function readMemory(pid: number): { rssKb: number; vsizeKb: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssKb: 0, vsizeKb: 0 };
  }
  return { rssKb: Number(VM_RSS.exec(text)?.[1] ?? 0), vsizeKb: Number(VM_SIZE.exec(text)?.[1] ?? 0) };
}

/** Add one process to a job's usage. */
function add(u: GroupUsage, st: ProcStat): void {
  const m = readMemory(st.pid);
  u.rssKb += m.rssKb;
  u.vsizeKb += m.vsizeKb;
  u.userCpu += st.user;
  u.sysCpu += st.sys;
  u.pids.push(st.pid);
}

/**
 * Measure jobs: each is its process group (`pgid`) plus any pids named in `also` (a cgroup's members that
 * left the group), or exactly the processes in `only` (a job's cgroup members: none of its processes is
 * elsewhere). One pass over /proc serves every job without `only`; the others cost their own entries only,
 * not every process of the host every few seconds.
 */
export function measureJobs(jobs: Array<{ pgid: number; also?: number[]; only?: number[] }>): GroupUsage[] {
  const byGroup = new Map<number, number>();
  const byPid = new Map<number, number>();
  const out: GroupUsage[] = jobs.map(() => ({ rssKb: 0, vsizeKb: 0, userCpu: 0, sysCpu: 0, pids: [] }));
  jobs.forEach((j, i) => {
    if (j.only) {
      for (const p of j.only) {
        const st = readStat(p);
        if (st) add(out[i]!, st);
      }
      return;
    }
    byGroup.set(j.pgid, i);
    for (const p of j.also ?? []) byPid.set(p, i);
  });
  if (!byGroup.size) return out;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readStat(pid);
    if (!st) continue;
    const i = byGroup.get(st.pgrp) ?? byPid.get(pid);
    if (i !== undefined) add(out[i]!, st);
  }
  return out;
}

/** The processes in a cgroup (its `cgroup.procs`). */
export function cgroupProcs(p: string): number[] {
  try {
    return readFileSync(join(p, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Move a process into a cgroup. */
export function moveInto(p: string, pid: number): boolean {
  try {
    writeFileSync(join(p, 'cgroup.procs'), String(pid));
    return true;
  } catch {
    return false; // it exited meanwhile
  }
}
