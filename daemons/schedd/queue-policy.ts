// Batch queues (PBS's queues, Slurm's partitions): named in the pool configuration, each with its limits,
// defaults and allowed users. A job names its queue (`-q NAME` for #PBS scripts and dsubmit, `batch_queue =
// NAME` or `+Queue = "NAME"` in a submit file) or goes to DEFAULT_QUEUE; the schedd admits it at submit —
// the queue exists, the owner may use it, its walltime is within the limit, the owner has room in it — or
// refuses the whole submission before anything is written. Admitted jobs carry `Queue`; defaults fill what
// the job did not ask for. MAX_RUNNING is kept when jobs start: a full queue's idle jobs are not offered to
// the negotiator nor started on a reused claim (JobQueue.canStart), nor are those of an array at its own
// limit of running subjobs (ArrayMaxRunning, from #PBS -J 1-100%10 / -t 1-100%10).
//
// Configuration (HTCondor-style knobs, per queue NAME as it is spelled in QUEUES):
//   QUEUES = workq, short                 DEFAULT_QUEUE = workq
//   QUEUE_short_MAX_WALLTIME = 1:00:00    QUEUE_short_DEFAULT_WALLTIME = 10:00
//   QUEUE_short_MAX_JOBS_PER_USER = 100   QUEUE_short_MAX_RUNNING = 20
//   QUEUE_short_DEFAULT_MEMORY = 2048     QUEUE_short_DEFAULT_CPUS = 1   (for #PBS jobs that ask for none)
//   QUEUE_short_ALLOWED_USERS = alice bob QUEUE_short_ALLOWED_GROUPS = staff
import { readFileSync } from 'node:fs';
import { pbsDurationSeconds } from '../../grammar/submit/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import { lookupUser } from '../../lib/users.js';
import { lit, litValue, type Job, type JobQueue } from './queue.js';
import { JobStatus } from '../../lib/job-status.js';

export interface BatchQueue {
  name: string;
  maxWalltime?: number;
  defaultWalltime?: number;
  maxJobsPerUser?: number;
  maxRunning?: number;
  defaultMemoryMB?: number;
  defaultCpus?: number;
  /** empty with allowedGroups empty: everyone */
  allowedUsers: string[];
  allowedGroups: string[];
}

/** Set by the #PBS grammar: the resources the script did not ask for, which a queue's defaults may fill. */
export const PBS_DEFAULTED = 'PbsDefaultedResources';

/** The queues the configuration declares, by name. */
export function readQueues(config: Config): { queues: Map<string, BatchQueue>; defaultQueue: string } {
  const queues = new Map<string, BatchQueue>();
  const knob = (q: string, what: string) => config.lookup(`QUEUE_${q}_${what}`)?.raw.trim() || undefined;
  const whole = (q: string, what: string) => {
    const v = knob(q, what);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new DschedError('CONFIG_INVALID', `QUEUE_${q}_${what} = ${v} is not a whole number`);
    return n;
  };
  const duration = (q: string, what: string) => {
    const v = knob(q, what);
    if (v === undefined) return undefined;
    const s = pbsDurationSeconds(v);
    if (s === undefined)
      throw new DschedError(
        'CONFIG_INVALID',
        `QUEUE_${q}_${what} = ${v} is not a duration ([[hours:]minutes:]seconds)`,
      );
    return s;
  };
  const words = (q: string, what: string) => (knob(q, what) ?? '').split(/[\s,]+/).filter(Boolean);
  for (const name of config.list('QUEUES')) {
    queues.set(name, {
      name,
      maxWalltime: duration(name, 'MAX_WALLTIME'),
      defaultWalltime: duration(name, 'DEFAULT_WALLTIME'),
      maxJobsPerUser: whole(name, 'MAX_JOBS_PER_USER'),
      maxRunning: whole(name, 'MAX_RUNNING'),
      defaultMemoryMB: whole(name, 'DEFAULT_MEMORY'),
      defaultCpus: whole(name, 'DEFAULT_CPUS'),
      allowedUsers: words(name, 'ALLOWED_USERS'),
      allowedGroups: words(name, 'ALLOWED_GROUPS'),
    });
  }
  return { queues, defaultQueue: config.str('DEFAULT_QUEUE') };
}

/** The names of the groups a user is in (primary and supplementary), from /etc/group. */
function groupNames(user: string): Set<string> {
  const out = new Set<string>();
  const primary = lookupUser(user)?.gid;
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 3 && (Number(f[2]) === primary || f[3]!.split(',').includes(user))) out.add(f[0]!);
    }
  } catch {
    /* no group file: no groups */
  }
  return out;
}

const fmt = (s: number) =>
  `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

export class QueuePolicy {
  constructor(
    private queue: JobQueue,
    private config: () => { queues: Map<string, BatchQueue>; defaultQueue: string },
    private isAdmin: (user: string) => boolean,
  ) {}

  /** The queue a job was admitted to. */
  queueOf(job: Job): string | undefined {
    const v = this.queue.value(job, 'Queue');
    return typeof v === 'string' ? v : undefined;
  }

  /**
   * Admit a submission (before anything is written): the cluster's attributes gain `Queue` and the queue's
   * defaults, or the whole submission is refused with why. Per-proc attributes may not name another queue.
   */
  admit(owner: string, cluster: Record<string, string>, procs: Array<Record<string, string>>): void {
    const { queues, defaultQueue } = this.config();
    for (const p of procs)
      for (const k of Object.keys(p))
        if (['queue', 'batchqueue', 'allowedjobduration'].includes(k.toLowerCase()))
          throw new DschedError(
            'SUBMIT_INVALID',
            `${k} must be the same for every job of a submission (one queue, one walltime)`,
          );
    // HTCondor's batch_queue (BatchQueue) names it too
    const text = cluster.Queue ?? cluster.BatchQueue;
    const asked = litValue(text ?? '');
    if (text !== undefined && (typeof asked !== 'string' || asked === ''))
      throw new DschedError('SUBMIT_INVALID', `Queue = ${text} is not a queue name (a string)`);
    // qsub's queue@server: this schedd is the server
    const name = typeof asked === 'string' && asked ? asked.replace(/@.*$/, '') : defaultQueue;
    const q = queues.get(name);
    if (!q)
      throw new DschedError(
        'QUEUE_UNKNOWN',
        `queue '${name}' does not exist${queues.size ? ` (queues: ${[...queues.keys()].join(', ')})` : ''}`,
        {
          hint: queues.size
            ? 'name one of the queues with -q NAME (or batch_queue = NAME)'
            : 'the pool declares no queues: set QUEUES and DEFAULT_QUEUE',
        },
      );
    if ((q.allowedUsers.length || q.allowedGroups.length) && !this.isAdmin(owner) && !q.allowedUsers.includes(owner)) {
      const groups = groupNames(owner);
      if (!q.allowedGroups.some((g) => groups.has(g)))
        throw new DschedError(
          'PERMISSION_DENIED',
          `user ${owner} may not submit to queue '${name}' (it takes ${[q.allowedUsers.length ? `users ${q.allowedUsers.join(', ')}` : '', q.allowedGroups.length ? `groups ${q.allowedGroups.join(', ')}` : ''].filter(Boolean).join(' and ')})`,
        );
    }
    const changes: Record<string, string | null> = { Queue: lit(name) };
    // walltime: the job's, else the queue's default, else its limit (so the limit holds for every job)
    const wallText = cluster.AllowedJobDuration;
    if (wallText !== undefined) {
      const wall = litValue(wallText);
      if (q.maxWalltime !== undefined) {
        if (typeof wall !== 'number')
          throw new DschedError(
            'QUEUE_LIMIT',
            `queue '${name}' has a walltime limit: the job's walltime (${wallText}) must be a number of seconds`,
          );
        if (wall > q.maxWalltime)
          throw new DschedError(
            'QUEUE_LIMIT',
            `walltime ${fmt(wall)} exceeds queue '${name}'s limit of ${fmt(q.maxWalltime)}`,
          );
      }
    } else if (q.defaultWalltime ?? q.maxWalltime)
      changes.AllowedJobDuration = String(Math.min(q.defaultWalltime ?? Infinity, q.maxWalltime ?? Infinity));
    // the #PBS script's unrequested resources take the queue's defaults (PBS's resources_default)
    const defaulted = new Set(
      String(litValue(cluster[PBS_DEFAULTED] ?? '""') ?? '')
        .split(',')
        .filter(Boolean),
    );
    if (defaulted.has('mem') && q.defaultMemoryMB) changes.RequestMemory = String(q.defaultMemoryMB);
    if (defaulted.has('ncpus') && q.defaultCpus) changes.RequestCpus = String(q.defaultCpus);
    changes[PBS_DEFAULTED] = null;
    if (q.maxJobsPerUser !== undefined) {
      let mine = 0;
      for (const j of this.queue.jobs.values())
        if (j.owner === owner && j.status !== JobStatus.Removed && this.queueOf(j) === name) mine++;
      if (mine + procs.length > q.maxJobsPerUser)
        throw new DschedError(
          'QUEUE_LIMIT',
          `queue '${name}' takes at most ${q.maxJobsPerUser} jobs per user; ${owner} has ${mine} there and this submission adds ${procs.length}`,
        );
    }
    if (cluster.IsPbsJob === 'true') changes.PbsQueue = lit(name);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete cluster[k];
      else cluster[k] = v;
    }
  }

  /**
   * May this idle job start now? False while its queue runs MAX_RUNNING jobs (running, or being started),
   * or its cluster as many as its ArrayMaxRunning or JobMaterializeLimit. Counted only for queues and
   * clusters with that limit.
   */
  canStart(job: Job): boolean {
    const busy = (j: Job) => (j.status === JobStatus.Running || j.matching || !!j.claim) && j !== job;
    // a cluster's own limit: at most that many of its jobs at once (an array's #PBS -J 1-100%10, -t 1-100%10;
    // a submit file's max_materialize = 10, whose procs are all queued at submit rather than materialized later)
    const limits = [this.queue.value(job, 'ArrayMaxRunning'), this.queue.value(job, 'JobMaterializeLimit')]
      .map(Number)
      .filter((n) => n > 0);
    const arrayLimit = limits.length ? Math.min(...limits) : 0;
    if (arrayLimit > 0) {
      let n = 0;
      for (const j of this.queue.byCluster(job.cluster)) if (busy(j) && ++n >= arrayLimit) return false;
    }
    const name = this.queueOf(job);
    const limit = name === undefined ? undefined : this.config().queues.get(name)?.maxRunning;
    if (limit === undefined) return true;
    let n = 0;
    for (const j of this.queue.jobs.values()) if (busy(j) && this.queueOf(j) === name) n++;
    return n < limit;
  }
}
