// The processes of a job (HTCondor's ProcFamily): every process a job starts, also those that left its
// process group with setsid or were double-forked and re-parented to init, so that none outlives the job.
//
// One method is picked when the startd starts (STARTD_PROCESS_TRACKING, `auto` by default):
// - cgroup-v2: a cgroup per job in the unified hierarchy, wherever it is mounted (/sys/fs/cgroup, or
//   /sys/fs/cgroup/unified on a hybrid host). Kill with cgroup.kill (Linux 5.14+), else freeze, kill, thaw.
// - cgroup-v1: a cgroup per job in the v1 `freezer` hierarchy (frozen, killed, thawed: nothing can fork
//   meanwhile), or in the `pids` hierarchy (pids.max = 0 stops forks, then kill until it is empty).
// - environ: the job's environment carries a tag variable with a secret per job (HTCondor's environment
//   tracking); its processes are those with the tag in /proc/<pid>/environ whose real uid is the job's, its
//   process group, and their descendants by parent pid. A process that clears its environment and leaves
//   both escapes: the limit of this method. The uid is checked because anyone can put the tag in their own
//   environment: another user who learned (or guessed) a job's tag had their process counted against that
//   job's memory, signalled with it, and waited for before the job could end.
//
// The job's first process is born in its cgroup: the spawner (spawner/spawner.c) moves itself into the job's
// cgroup, forks, and moves back, all in one step, so there is no moment at which the job runs outside.
// Both the startd (signals: removal, suspension) and its spawner (the kill when the job's main process ends)
// use a family through its FamilyRef, which is plain data.
import { randomBytes } from 'node:crypto';
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
import { dirname, join } from 'node:path';

export type TrackingMethod = 'cgroup-v2' | 'cgroup-v1' | 'environ';
export const TRACKING_METHODS: readonly TrackingMethod[] = ['cgroup-v2', 'cgroup-v1', 'environ'];

/** The variable that tags a job's processes (every method sets it; the environ method relies on it). */
export const FAMILY_VAR = '_DSCHED_FAMILY';

/** A job's process family as plain data (it goes to the spawner in the start request). */
export interface FamilyRef {
  method: TrackingMethod;
  /** the job's cgroup directory (the cgroup methods) */
  cgroup?: string;
  /** which v1 hierarchy the cgroup is in */
  v1?: 'freezer' | 'pids';
  /** the value of FAMILY_VAR: `<startd instance>.<secret>` */
  tag: string;
  /** the real uid the job runs as (its owner's in a root pool, the pool owner's in a personal one): only a
   *  process of this uid is the job's by its tag; undefined (a record of an earlier version), none is */
  uid?: number;
}

/** statfs's f_type of a cgroup v2 (unified) hierarchy */
export const CGROUP2_SUPER_MAGIC = 0x63677270;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Mount {
  type: string;
  dir: string;
  options: string[];
}

function mounts(): Mount[] {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length >= 4)
      .map((f) => ({ dir: f[1]!.replace(/\\040/g, ' '), type: f[2]!, options: f[3]!.split(',') }));
  } catch {
    return [];
  }
}

/** Where the hierarchy is mounted: the v2 one, or the v1 one with `controller`. */
function mountOf(kind: 'v2' | 'freezer' | 'pids'): string | undefined {
  const all = mounts();
  const m =
    kind === 'v2'
      ? all.find((x) => x.type === 'cgroup2')
      : all.find((x) => x.type === 'cgroup' && x.options.includes(kind));
  if (!m) return undefined;
  if (kind === 'v2') {
    try {
      if (statfsSync(m.dir).type !== CGROUP2_SUPER_MAGIC) return undefined;
    } catch {
      return undefined;
    }
  }
  return m.dir;
}

/** This process's own cgroup in a hierarchy, from /proc/self/cgroup. */
function ownCgroup(mount: string, kind: 'v2' | 'freezer' | 'pids'): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const m = /^(\d+):([^:]*):(.*)$/.exec(line);
      if (!m) continue;
      const hit = kind === 'v2' ? m[1] === '0' && m[2] === '' : m[2]!.split(',').includes(kind);
      if (hit) return join(mount, m[3]!);
    }
  } catch {
    /* no /proc */
  }
  return undefined;
}

function readList(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function write(file: string, text: string): boolean {
  try {
    writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
}

/** A process's real uid, from /proc/<pid>/status (undefined when it is gone). */
function realUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every live (not zombie) process: pid, parent and process group from /proc/<pid>/stat. */
function processTable(): ProcEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcEntry[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // the command name may hold spaces and parentheses: fields count from the last ')'
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (f[0] === 'Z' || f[0] === 'X') continue; // dead, waiting to be reaped
    out.push({ pid: Number(name), ppid: Number(f[1]), pgrp: Number(f[2]) });
  }
  return out;
}

/** The FAMILY_VAR value in a process's environment (as it was at exec; readable by root or the owner). */
function tagOf(pid: number): string | undefined {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const key = Buffer.from(`${FAMILY_VAR}=`);
  let at = 0;
  while (at < env.length) {
    let end = env.indexOf(0, at);
    if (end < 0) end = env.length;
    if (env.subarray(at, at + key.length).equals(key)) return env.subarray(at + key.length, end).toString();
    at = end + 1;
  }
  return undefined;
}

/**
 * The processes of environ-tracked families in one pass over /proc: those carrying the tag whose real uid is
 * the family's, those in the main process's group, and every descendant of either by parent pid.
 */
export function scanTagged(families: Array<{ tag: string; uid?: number; pid?: number }>): number[][] {
  const out = families.map(() => new Set<number>());
  if (!families.length) return [];
  const byTag = new Map(families.map((f, i) => [f.tag, i]));
  const byGroup = new Map(families.filter((f) => f.pid).map((f) => [f.pid!, families.indexOf(f)]));
  const table = processTable();
  const self = process.pid;
  for (const p of table) {
    if (p.pid === self) continue;
    let i = byGroup.get(p.pgrp);
    if (i === undefined) {
      const t = byTag.get(tagOf(p.pid) ?? '');
      if (t !== undefined && families[t]!.uid !== undefined && realUid(p.pid) === families[t]!.uid) i = t;
    }
    if (i !== undefined) out[i]!.add(p.pid);
  }
  // descendants by parent pid, until nothing new is found
  const children = new Map<number, number[]>();
  for (const p of table) (children.get(p.ppid) ?? children.set(p.ppid, []).get(p.ppid)!).push(p.pid);
  for (const set of out) {
    const todo = [...set];
    while (todo.length) {
      for (const c of children.get(todo.pop()!) ?? []) {
        if (set.has(c) || c === self) continue;
        set.add(c);
        todo.push(c);
      }
    }
  }
  return out.map((s) => [...s]);
}

/** One job's processes. */
export class ProcFamily {
  /** the job's main process (its process group leader): 0 until it exists */
  pid = 0;

  constructor(readonly ref: FamilyRef) {}

  /** The variables that tag the job's environment. */
  env(): Record<string, string> {
    return { [FAMILY_VAR]: this.ref.tag };
  }

  /** The live processes of the job now. */
  pids(): number[] {
    const { cgroup } = this.ref;
    if (cgroup) return readList(join(cgroup, 'cgroup.procs')).filter((p) => p !== process.pid);
    return scanTagged([{ tag: this.ref.tag, uid: this.ref.uid, pid: this.pid }])[0]!;
  }

  /** Send `sig` to every process of the job (once each: its process group is part of it); returns how many got it. */
  signal(sig: NodeJS.Signals): number {
    let n = 0;
    for (const p of this.pids()) if (signalPid(p, sig)) n++;
    return n;
  }

  private killRound(): void {
    const { cgroup } = this.ref;
    if (this.pid) signalGroupOf(this.pid, 'SIGKILL');
    if (cgroup && this.ref.method === 'cgroup-v2' && write(join(cgroup, 'cgroup.kill'), '1')) return;
    if (cgroup && this.ref.v1 === 'pids') write(join(cgroup, 'pids.max'), '0'); // no more forks
    for (const p of this.pids()) signalPid(p, 'SIGKILL');
  }

  /**
   * Kill every process of the job and wait until none remains (bounded by `timeoutMs`). A frozen cgroup
   * cannot fork while its processes are killed; elsewhere the rounds repeat until a scan finds nothing.
   * Returns the pids still there at the deadline (processes stuck in the kernel).
   */
  async kill(timeoutMs = 10_000): Promise<number[]> {
    const deadline = performance.now() + timeoutMs;
    if (this.pid) signalGroupOf(this.pid, 'SIGKILL');
    let left = this.pids();
    if (!left.length) return left; // the usual case: the job left nothing
    const freeze = this.freezeFile();
    if (freeze) {
      write(freeze.file, freeze.on);
      // freezing takes a moment (FREEZING): wait, bounded (a task stuck in the kernel never freezes)
      const until = Math.min(deadline, performance.now() + 1000);
      for (let wait = 1; performance.now() < until && freeze.frozen && !freeze.frozen(); wait = Math.min(wait * 2, 50))
        await sleep(wait);
      left = this.pids();
    }
    for (let wait = 2; left.length && performance.now() < deadline; wait = Math.min(wait * 2, 100)) {
      this.killRound();
      if (freeze) write(freeze.file, freeze.off); // killed processes die once they run again
      await sleep(wait);
      left = this.pids();
    }
    if (freeze) write(freeze.file, freeze.off);
    return left;
  }

  /** The freezer, when the cgroup has one and the kernel cannot kill a cgroup at once. */
  private freezeFile(): { file: string; on: string; off: string; frozen?: () => boolean } | undefined {
    const { cgroup } = this.ref;
    if (!cgroup) return undefined;
    if (this.ref.method === 'cgroup-v2') {
      if (existsSync(join(cgroup, 'cgroup.kill')) || !existsSync(join(cgroup, 'cgroup.freeze'))) return undefined;
      return {
        file: join(cgroup, 'cgroup.freeze'),
        on: '1',
        off: '0',
        frozen: () => /^frozen 1$/m.test(readText(join(cgroup, 'cgroup.events'))),
      };
    }
    if (this.ref.v1 !== 'freezer') return undefined;
    return {
      file: join(cgroup, 'freezer.state'),
      on: 'FROZEN',
      off: 'THAWED',
      frozen: () => readText(join(cgroup, 'freezer.state')).trim() === 'FROZEN',
    };
  }

  /** Remove the job's cgroup once its last process is gone (bounded); nothing to do for environ. */
  async remove(timeoutMs = 5_000): Promise<void> {
    const { cgroup } = this.ref;
    if (!cgroup) return;
    const deadline = performance.now() + timeoutMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        rmdirSync(cgroup);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || performance.now() > deadline) return;
      }
      await sleep(wait);
    }
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function signalGroupOf(pgid: number, sig: NodeJS.Signals) {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* the group is gone */
  }
}

/** The startd's choice of method, and the directory of its jobs' cgroups. */
export class ProcTracker {
  private seq = 0;

  private constructor(
    readonly method: TrackingMethod,
    /** this startd's cgroup directory (the cgroup methods) */
    readonly dir: string | undefined,
    readonly v1: 'freezer' | 'pids' | undefined,
    /** names this startd (the prefix of its tags) */
    readonly instance: string,
    /** why this method (the ones that could not be used, and why) */
    readonly why: string[],
  ) {}

  /**
   * Pick the method: `want` is auto or one of TRACKING_METHODS. A forced method that cannot work here is an
   * error (the startd must not run jobs it cannot track as configured).
   */
  static setup(want: string, base: string, instance: string): ProcTracker {
    const why: string[] = [];
    const order: TrackingMethod[] =
      want === 'auto'
        ? [...TRACKING_METHODS]
        : TRACKING_METHODS.includes(want as TrackingMethod)
          ? [want as TrackingMethod]
          : [];
    if (!order.length)
      throw new Error(`STARTD_PROCESS_TRACKING = ${want}: expected auto, ${TRACKING_METHODS.join(', ')}`);
    for (const m of order) {
      if (m === 'environ') return new ProcTracker('environ', undefined, undefined, instance, why);
      const kinds = m === 'cgroup-v2' ? (['v2'] as const) : (['freezer', 'pids'] as const);
      for (const kind of kinds) {
        const r = setupCgroupDir(kind, base, instance);
        if (typeof r === 'string') why.push(`${m}${kind === 'v2' ? '' : ` (${kind})`}: ${r}`);
        else return new ProcTracker(m, r.dir, kind === 'v2' ? undefined : kind, instance, why);
      }
    }
    throw new Error(`STARTD_PROCESS_TRACKING = ${want}, which this host cannot do: ${why.join('; ')}`);
  }

  /** A new family for one job that runs as `uid` (its cgroup is made now, before the job starts). */
  create(name: string, uid: number): ProcFamily {
    const tag = `${this.instance}.${randomBytes(18).toString('base64url')}`;
    if (!this.dir) return new ProcFamily({ method: this.method, tag, uid });
    const cgroup = join(this.dir, `job_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}_${++this.seq}`);
    mkdirSync(cgroup);
    return new ProcFamily({ method: this.method, cgroup, v1: this.v1, tag, uid });
  }

  /**
   * Kill what jobs of an earlier run of this startd left (by their cgroup, or by their tag) and remove their
   * cgroups. Returns how many processes were killed. Call before any job of this run starts. Only the tags
   * the earlier run recorded count (`known`), each for processes of the uid its job ran as: anyone can put
   * a variable in their environment, and the startd must not kill a process for that alone.
   */
  async reapOrphans(known: Iterable<{ tag: string; uid?: number }>): Promise<number> {
    let killed = 0;
    const families: ProcFamily[] = [];
    if (this.dir) {
      for (const name of readdirSync(this.dir)) {
        if (name.startsWith('job_'))
          families.push(new ProcFamily({ method: this.method, cgroup: join(this.dir, name), v1: this.v1, tag: '' }));
      }
    }
    // the tags of the earlier run's jobs: families tracked by their environment (or by a cgroup of a
    // method since changed)
    const prefix = `${this.instance}.`;
    const seen = new Set<string>();
    for (const { tag, uid } of known)
      if (tag.startsWith(prefix) && !seen.has(`${tag} ${uid}`)) {
        seen.add(`${tag} ${uid}`);
        families.push(new ProcFamily({ method: 'environ', tag, uid }));
      }
    for (const f of families) {
      killed += f.pids().length;
      await f.kill();
      await f.remove();
    }
    return killed;
  }

  /** Remove this startd's cgroup directory (at shutdown, once its jobs are gone). */
  close(): void {
    if (!this.dir) return;
    try {
      rmdirSync(this.dir);
      rmdirSync(dirname(this.dir)); // BASE_CGROUP too, unless another startd uses it
    } catch {
      /* a job cgroup is still there (the next start reaps it), or another startd's */
    }
  }
}

/** Make BASE/<instance> in a hierarchy, or say why it cannot be used. */
function setupCgroupDir(kind: 'v2' | 'freezer' | 'pids', base: string, instance: string): { dir: string } | string {
  const mount = mountOf(kind);
  if (!mount) return kind === 'v2' ? 'no cgroup2 file system is mounted' : `no cgroup v1 ${kind} hierarchy is mounted`;
  try {
    accessSync(mount, fsConstants.W_OK);
    const dir = join(mount, ...base.split('/').filter((p) => p && p !== '..' && p !== '.'), instance);
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'cgroup.procs'))) return `${dir} is not a cgroup`;
    if (!ownCgroup(mount, kind)) return `this process is in no ${kind} cgroup`;
    return { dir };
  } catch (e) {
    return `cannot make a cgroup under ${mount}: ${(e as Error).message}`;
  }
}
