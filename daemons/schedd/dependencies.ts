// PBS/Slurm-style job dependencies (`-W depend=afterok:12.host:13.host`). A dependent job waits held with
// the reason in HoldReason; it is released as soon as its condition holds, and removed (as PBS deletes it)
// when the condition can never hold, with the reason recorded.
import { DschedError } from '../../lib/errors.js';
import { jobKey, type Job, type JobQueue } from './queue.js';
import { JobStatus } from '../../lib/job-status.js';

export type DependType = 'after' | 'afterok' | 'afternotok' | 'afterany';
export interface Dependency {
  type: DependType;
  clusters: number[];
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
    if (t !== 'after' && t !== 'afterok' && t !== 'afternotok' && t !== 'afterany')
      throw new DschedError(
        'USAGE',
        `dependency type '${type}' is not supported (after, afterok, afternotok, afterany)`,
      );
    if (!ids.length) throw new DschedError('USAGE', `dependency '${clause}' names no job`);
    const clusters = ids.map((id) => {
      const m = /^(\d+)(?:\[\d*\])?(?:\.\d+)?(?:\.[A-Za-z][\w.-]*)?$/.exec(id.trim());
      if (!m) throw new DschedError('USAGE', `'${id}' in dependency '${clause}' is not a job id`);
      return Number(m[1]);
    });
    out.push({ type: t, clusters });
  }
  return out;
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

  /** ready: run now; wait: keep waiting (with why); never: can never run (with why). */
  evaluate(deps: Dependency[]): { verdict: 'ready' | 'wait' | 'never'; why: string } {
    const waiting: string[] = [];
    for (const d of deps) {
      for (const c of d.clusters) {
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
