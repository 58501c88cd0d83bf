// Memory cgroups of the process launcher (launcher.ts): a job's memory limit in the kernel (cgroup v2
// memory.max, no swap, the OOM killer takes the whole job), and how the startd learns that the kernel
// killed it for its memory. STARTER_MEMORY_ENFORCEMENT picks cgroup (where this host can), rss (the job
// monitor kills a job whose measured RSS is over, policy.ts) or none.
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { CGROUP2_SUPER_MAGIC, type ProcTracker } from './proc-family.js';
import { cgroupProcs } from './proc-usage.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

// ---- cgroup v2 ----

/** Names one startd's cgroups and job tags: its name and its execute directory (several may share a host). */
export function startdInstance(name: string, execute: string): string {
  return `startd_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}_${createHash('sha1').update(execute).digest('hex').slice(0, 8)}`;
}

/** Per-job cgroups under BASE_CGROUP/<startd instance>, with the memory controller. */
export class Cgroups {
  private constructor(readonly dir: string) {}

  /**
   * Set up the startd's cgroup directory, or say why it cannot be used: /sys/fs/cgroup must be cgroup v2
   * with the memory controller, and writable (the startd runs as root with cgroups delegated to it).
   */
  static setup(base: string, instance: string): Cgroups | string {
    try {
      if (statfsSync(CGROUP_ROOT).type !== CGROUP2_SUPER_MAGIC)
        return `${CGROUP_ROOT} is not a cgroup v2 (unified) hierarchy`;
      if (!readFileSync(join(CGROUP_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory'))
        return `the cgroup v2 memory controller is not available in ${CGROUP_ROOT}`;
      accessSync(CGROUP_ROOT, fsConstants.W_OK);
      let parent = CGROUP_ROOT;
      for (const part of [...base.split('/').filter(Boolean), instance]) {
        enableMemory(parent);
        parent = join(parent, part);
        mkdirSync(parent, { recursive: true });
      }
      enableMemory(parent);
      return new Cgroups(parent);
    } catch (e) {
      return `cannot set up cgroups in ${CGROUP_ROOT}: ${(e as Error).message}`;
    }
  }

  /** Remove job cgroups a previous startd left (their processes are killed first). */
  cleanLeftovers(): void {
    for (const name of readdirSync(this.dir)) {
      const p = join(this.dir, name);
      if (!name.startsWith('job_')) continue;
      killAll(p);
      void removeCgroup(p);
    }
  }

  /** A new cgroup for one job, limited to `memoryMb` (0: no limit) with no swap; OOM kills the whole job. */
  create(name: string, memoryMb: number): string {
    const p = join(this.dir, `job_${name}`);
    mkdirSync(p, { recursive: true });
    Cgroups.limit(p, memoryMb);
    return p;
  }

  /** Limit a job's cgroup to `memoryMb` (0: no limit) with no swap; OOM kills the whole job. */
  static limit(p: string, memoryMb: number): void {
    if (memoryMb > 0) writeFileSync(join(p, 'memory.max'), String(memoryMb * 1024 * 1024));
    if (existsSync(join(p, 'memory.swap.max'))) writeFileSync(join(p, 'memory.swap.max'), '0');
    if (existsSync(join(p, 'memory.oom.group'))) writeFileSync(join(p, 'memory.oom.group'), '1');
  }
}

function enableMemory(dir: string) {
  const f = join(dir, 'cgroup.subtree_control');
  if (!readFileSync(f, 'utf8').split(/\s+/).includes('memory')) writeFileSync(f, '+memory');
}

/** How many times the kernel's OOM killer acted in the cgroup (memory.events). */
export function oomKills(p: string): number {
  try {
    return Number(/^oom_kill (\d+)/m.exec(readFileSync(join(p, 'memory.events'), 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** memory.peak (kernel 5.19+) or memory.current, in KB. */
export function cgroupMemoryKb(p: string, file: 'memory.peak' | 'memory.current'): number | undefined {
  try {
    return Math.ceil(Number(readFileSync(join(p, file), 'utf8').trim()) / 1024);
  } catch {
    return undefined;
  }
}

function killAll(p: string) {
  if (existsSync(join(p, 'cgroup.kill'))) {
    try {
      writeFileSync(join(p, 'cgroup.kill'), '1');
      return;
    } catch {
      /* fall back to signals */
    }
  }
  for (const pid of cgroupProcs(p)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** rmdir a cgroup once its last process is gone (a killed process takes a moment to leave): bounded. */
export async function removeCgroup(p: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(p);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (i === 20) killAll(p);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export type MemoryEnforcement = 'cgroup' | 'rss' | 'none';

/** The memory cgroups of jobs: where they are made, and whether the tracking cgroups are those. */
export class JobMemory {
  private seq = 0;
  constructor(
    readonly cgroups: Cgroups,
    /** the jobs' process tracking cgroups are cgroup v2 ones in this directory: they are the memory cgroups */
    readonly sharesTracker: boolean,
    readonly log: Logger,
  ) {}

  /** A new cgroup for one job, limited to `memoryMb` (0: none). */
  create(name: string, memoryMb: number): string {
    return this.cgroups.create(`${name}_${process.pid}_${++this.seq}`, memoryMb);
  }

  /** The cgroup's peak use in KB when the kernel's OOM killer acted in it (else undefined). */
  oomPeakKb(cgroup: string): number | undefined {
    return oomKills(cgroup) > 0 ? (cgroupMemoryKb(cgroup, 'memory.peak') ?? 0) : undefined;
  }
}

/**
 * Pick the memory enforcement STARTER_MEMORY_ENFORCEMENT asks for and this host allows, and set up the
 * startd's memory cgroups for it (removing those a previous run left, unless they are the tracking ones).
 */
export function setupMemoryEnforcement(
  wantedText: string,
  base: string,
  instance: string,
  tracker: ProcTracker | undefined,
  log: Logger,
): { mode: MemoryEnforcement; memory?: JobMemory } {
  const wanted = wantedText.toLowerCase() || 'auto';
  if (!['auto', 'cgroup', 'rss', 'none'].includes(wanted)) {
    const err = new DschedError(
      'CONFIG_INVALID',
      `STARTER_MEMORY_ENFORCEMENT = ${wanted}: expected auto, cgroup, rss or none; using auto`,
    );
    log.error({ code: err.code, err: err.message }, 'bad memory enforcement setting');
  }
  if (wanted === 'none' || wanted === 'rss') return { mode: wanted };
  const cg = Cgroups.setup(base, instance);
  if (typeof cg === 'string') {
    if (wanted === 'cgroup') {
      const err = new DschedError(
        'CONFIG_INVALID',
        `STARTER_MEMORY_ENFORCEMENT = cgroup, but ${cg}; memory limits are enforced by watching RSS instead`,
      );
      log.error({ code: err.code, err: err.message }, 'cgroups unavailable');
    } else log.info({ why: cg }, 'memory limits are enforced by watching RSS (no cgroup v2)');
    return { mode: 'rss' };
  }
  // a job's tracking cgroup in the same directory is its memory cgroup too (a process is in one v2 cgroup)
  const shares = tracker?.method === 'cgroup-v2' && tracker.dir === cg.dir;
  if (shares) log.info({ cgroup: cg.dir }, 'memory limits are set on the process tracking cgroups');
  else cg.cleanLeftovers();
  return { mode: 'cgroup', memory: new JobMemory(cg, shares, log) };
}
