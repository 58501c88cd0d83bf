// PBS/Slurm-style job dependencies (`-W depend=afterok:12.host:13.host`). A dependent job waits held with
// the reason in HoldReason; it is released as soon as its condition holds, and removed (as PBS deletes it)
// when the condition can never hold, with the reason recorded.
import { DschedError } from '../../lib/errors.js';
import { jobKey, type Job, type JobQueue } from './queue.js';
import { JobStatus } from '../../lib/job-status.js';

/** PBS's dependency types: the after forms wait for the named jobs, the before forms make the named jobs wait. */
export const DEPEND_TYPES = [
  'after',
  'afterok',
  'afternotok',
  'afterany',
  'before',
  'beforeok',
  'beforenotok',
  'beforeany',
  'on',
] as const;
export type DependType = (typeof DEPEND_TYPES)[number];
export interface Dependency {
  type: DependType;
  /** the jobs named; none for `on` */
  clusters: number[];
  /** `on:N`: how many before dependencies other jobs have still to place on this one */
  count?: number;
}

/** `beforeok:A` on B is `afterok:B` on A: the clause a before dependency places on the job it names. */
export function placedByBefore(type: DependType, cluster: number): string {
  return `after${type.slice('before'.length)}:${cluster}`;
}

/** Parse `afterok:12.host:13[].host,afterany:14` into typed clauses. */
export function parseDepend(text: string): Dependency[] {
  const out: Dependency[] = [];
  for (const clause of text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)) {
    const [type, ...ids] = clause.split(':');
    const t = type!.toLowerCase();
    if (!(DEPEND_TYPES as readonly string[]).includes(t))
      throw new DschedError('USAGE', `dependency type '${type}' is not supported (${DEPEND_TYPES.join(', ')})`);
    if (!ids.length) throw new DschedError('USAGE', `dependency '${clause}' names no job`);
    if (t === 'on') {
      if (ids.length !== 1 || !/^\d{1,6}$/.test(ids[0]!.trim()))
        throw new DschedError('USAGE', `'${clause}': on takes a count of before dependencies (on:1)`);
      out.push({ type: 'on', clusters: [], count: Number(ids[0]) });
      continue;
    }
    const clusters = ids.map((id) => {
      const m = /^(\d+)(?:\[\d*\])?(?:\.\d+)?(?:\.[A-Za-z][\w.-]*)?$/.exec(id.trim());
      if (!m) throw new DschedError('USAGE', `'${id}' in dependency '${clause}' is not a job id`);
      return Number(m[1]);
    });
    out.push({ type: t as DependType, clusters });
  }
  return out;
}

/** The text of a job's dependency once a before dependency of `cluster` is placed on it: one `on` fewer. */
export function placeBefore(text: string, type: DependType, cluster: number): string | undefined {
  let placed = false;
  const clauses = text.split(',').map((c) => {
    const m = /^\s*on:(\d+)\s*$/i.exec(c);
    if (placed || !m || Number(m[1]) < 1) return c;
    placed = true;
    return `on:${Number(m[1]) - 1}`;
  });
  return placed ? [...clauses, placedByBefore(type, cluster)].join(',') : undefined;
}

interface ClusterState {
  exists: boolean;
  total: number;
  finished: number;
  failed: number;
  started: boolean;
  firstFailure?: string;
}

export const DEPENDENCY_HOLD = 'DependencyHold';

export class Dependencies {
  constructor(private queue: JobQueue) {}

  /** What a cluster's procs have done so far (queue and history). */
  state(cluster: number): ClusterState {
    const s: ClusterState = { exists: false, total: 0, finished: 0, failed: 0, started: false };
    for (const j of this.queue.byCluster(cluster)) {
      s.exists = true;
      s.total++;
      if (j.status === JobStatus.Running || this.queue.value(j, 'JobStartDate') !== undefined) s.started = true;
    }
    for (const h of this.queue.historyOfCluster(cluster)) {
      s.exists = true;
      s.total++;
      s.finished++;
      s.started = true;
      const removed = h.status === JobStatus.Removed;
      const bySignal = h.ad.ExitBySignal === 'true';
      const code = Number(h.ad.ExitCode ?? 0);
      if (removed || bySignal || code !== 0) {
        s.failed++;
        s.firstFailure ??= `job ${cluster}.${h.proc} ${removed ? 'was removed' : bySignal ? `was killed by signal ${h.ad.ExitSignal}` : `exited with ${code}`}`;
      }
    }
    return s;
  }

  /** Check at submit time that every named job exists. */
  validate(deps: Dependency[]): void {
    for (const d of deps)
      for (const c of d.clusters)
        if (!this.state(c).exists)
          throw new DschedError('JOB_NOT_FOUND', `dependency on job ${c}: no such job in the queue or its history`);
  }

  /**
   * The jobs a submission's before dependencies are placed on, checked before anything is queued: each named
   * cluster must be in the queue, the submitter's own, and waiting with an `on` count left (as PBS asks).
   */
  beforeTargets(deps: Dependency[], owner: string): Array<{ type: DependType; jobs: Job[] }> {
    const out: Array<{ type: DependType; jobs: Job[] }> = [];
    for (const d of deps) {
      if (!d.type.startsWith('before')) continue;
      for (const c of d.clusters) {
        const jobs = [...this.queue.byCluster(c)];
        if (!jobs.length)
          throw new DschedError('JOB_NOT_FOUND', `dependency ${d.type}:${c}: job ${c} is not in the queue`);
        for (const j of jobs) {
          if (this.queue.value(j, 'Owner') !== owner)
            throw new DschedError('PERMISSION_DENIED', `dependency ${d.type}:${c}: job ${c} is not yours`);
          const text = this.queue.value(j, 'PbsDepend');
          if (typeof text !== 'string' || placeBefore(text, d.type, 0) === undefined)
            throw new DschedError(
              'USAGE',
              `dependency ${d.type}:${c}: job ${c}.${j.proc} was not submitted to wait for it (qsub -W depend=on:1)`,
            );
        }
        out.push({ type: d.type, jobs });
      }
    }
    return out;
  }

  /** ready: run now; wait: keep waiting (with why); never: can never run (with why). */
  evaluate(deps: Dependency[]): { verdict: 'ready' | 'wait' | 'never'; why: string } {
    const waiting: string[] = [];
    for (const d of deps) {
      // a before dependency holds the jobs it names, not this one; on:N waits for N of them to be placed
      if (d.type === 'on' && d.count) waiting.push(`on:${d.count} (before dependencies still to come)`);
      for (const c of d.clusters) {
        if (d.type.startsWith('before')) continue;
        const s = this.state(c);
        const done = s.exists && s.finished === s.total;
        switch (d.type) {
          case 'after':
            if (!s.started) waiting.push(`after:${c} (not started)`);
            break;
          case 'afterany':
            if (!done) waiting.push(`afterany:${c}`);
            break;
          case 'afterok':
            if (s.failed)
              return { verdict: 'never', why: `dependency afterok:${c} can never be satisfied: ${s.firstFailure}` };
            if (!done) waiting.push(`afterok:${c}`);
            break;
          case 'afternotok':
            if (done && !s.failed)
              return {
                verdict: 'never',
                why: `dependency afternotok:${c} can never be satisfied: every job of ${c} succeeded`,
              };
            if (!done) waiting.push(`afternotok:${c}`);
            break;
        }
      }
    }
    return waiting.length
      ? { verdict: 'wait', why: `waiting for dependency ${waiting.join(', ')}` }
      : { verdict: 'ready', why: '' };
  }

  /** depended-on cluster → the jobs that were held waiting on it (an index: the queue is not scanned per change) */
  private waiting = new Map<number, Set<Job>>();

  /** Remember a job held for its dependency under every cluster it names. */
  note(job: Job): void {
    const text = this.queue.value(job, 'PbsDepend');
    if (typeof text !== 'string') return;
    let deps: Dependency[];
    try {
      deps = parseDepend(text);
    } catch {
      return; // validated at submit
    }
    for (const d of deps)
      for (const c of d.clusters) {
        let set = this.waiting.get(c);
        if (!set) this.waiting.set(c, (set = new Set()));
        set.add(job);
      }
  }

  /** Jobs held for a dependency that names this cluster. */
  dependents(cluster: number): Job[] {
    const set = this.waiting.get(cluster);
    if (!set) return [];
    const out: Job[] = [];
    for (const j of set) {
      // a job that left the queue is forgotten; one released or held otherwise is passed over
      if (this.queue.jobs.get(jobKey(j.cluster, j.proc)) !== j) set.delete(j);
      else if (j.status === JobStatus.Held && this.queue.value(j, DEPENDENCY_HOLD) === true) out.push(j);
    }
    if (!set.size) this.waiting.delete(cluster);
    return out;
  }
}
