// dqedit (condor_qedit / qalter): set attributes of queued jobs, with HTCondor's rules on what may change.
//
// - Immutable for everyone: who owns the job and which job it is (Owner, User, ClusterId, ProcId, GlobalJobId,
//   QDate, MyType, TargetType), and JobStatus (dhold, drelease and drm change it, with their events).
// - Protected (pool admins only): what the schedd itself records (start and exit facts, hold and remove
//   reasons, DAG bookkeeping, PBS ids and dependencies, the queue a job was admitted to), and the job's files
//   and fair-share group: paths are checked against the owner's rights at submit, and a changed path would
//   skip that check; and the walltime its queue admitted it with.
// - Resource requests (Request*, AllowedJobDuration) change only while the job is idle or held, as they are
//   what it was matched and admitted with.
// - Only the owner or an admin edits a job; every value must parse as a ClassAd expression.
// Every change of one request is made in one transaction, or none is. The lists are in lib/job-attrs.ts, which a
// running job's chirp obeys too.
import { limits as classadLimits, parseExpr } from '../../grammar/classad/index.js';
import { DschedError, type ErrorCode } from '../../lib/errors.js';
import type { Identity } from '../../lib/rpc/auth.js';
import { type Job, type JobQueue } from './queue.js';
import { checkNotifyUser } from './notify.js';
import { checkJobPrio, checkUmask } from './submit-checks.js';
import { JobStatus } from '../../lib/job-status.js';
import { visible } from '../../lib/visible-text.js';
import {
  isJobAttrName,
  IMMUTABLE_JOB_ATTRS as IMMUTABLE,
  PROTECTED_JOB_ATTRS as PROTECTED,
  attrsGrowthRefusal,
  isResourceRequest,
} from '../../lib/job-attrs.js';

export interface Edit {
  name: string;
  /** the ClassAd expression, as text */
  value: string;
}

/** Check the request as a whole (names, values, immutable/protected attributes) before any job is looked at. */
export function checkEdits(edits: Edit[], identity: Identity): Edit[] {
  if (!edits.length) throw new DschedError('USAGE', 'name at least one attribute and its value');
  const out: Edit[] = [];
  for (const e of edits) {
    if (!isJobAttrName(e.name))
      throw new DschedError('USAGE', `'${visible(e.name.slice(0, 100))}' is not an attribute name`);
    const n = e.name.toLowerCase();
    if (IMMUTABLE.has(n))
      throw new DschedError(
        'PERMISSION_DENIED',
        `attribute ${e.name} cannot be changed${n === 'jobstatus' ? " (dhold, drelease and drm change a job's status)" : ''}`,
      );
    if (PROTECTED.has(n) && !identity.admin)
      throw new DschedError('PERMISSION_DENIED', `attribute ${e.name} is protected: only a pool admin may change it`);
    const text = e.value.trim();
    if (text.length > classadLimits.maxInputChars)
      throw new DschedError(
        'INPUT_TOO_LARGE',
        `the value of ${e.name} is ${text.length} characters long; at most ${classadLimits.maxInputChars}`,
      );
    try {
      parseExpr(text, { file: `<value of ${e.name}>`, line: 1, column: 1 });
    } catch (err) {
      throw new DschedError(
        'CLASSAD_SYNTAX',
        `the value of ${e.name} is not a ClassAd expression: ${(err as Error).message}`,
        {
          hint: "strings need double quotes inside the shell's quotes, e.g. dqedit 12 Label '\"fast\"'",
        },
      );
    }
    checkNotifyUser(e.name, text, 'USAGE');
    checkUmask(e.name, text, 'USAGE');
    checkJobPrio(e.name, text, 'USAGE');
    out.push({ name: e.name, value: text });
  }
  return out;
}

/** Why this caller may not apply these edits to this job (its code and text), or undefined when it may. */
export function editRefusal(
  job: Job,
  edits: Edit[],
  identity: Identity,
): { code: ErrorCode; error: string } | undefined {
  const id = `${job.cluster}.${job.proc}`;
  if (!identity.admin && job.owner !== identity.name)
    return { code: 'PERMISSION_DENIED', error: `permission denied: job ${id} belongs to ${job.owner}` };
  const requests = edits.filter((e) => isResourceRequest(e.name)).map((e) => e.name);
  if (requests.length && ((job.status !== JobStatus.Idle && job.status !== JobStatus.Held) || job.claim))
    return {
      code: 'JOB_STATE',
      error: `job ${id} is not idle or held: ${requests.join(', ')} can change only before it runs`,
    };
  const tooLarge = attrsGrowthRefusal(
    job.attrs,
    edits.map((e) => [e.name, e.value]),
  );
  if (tooLarge) return { code: 'INPUT_TOO_LARGE', error: `job ${id}: ${tooLarge}` };
  return undefined;
}

/** Apply the edits to one job (inside the caller's transaction). */
export function applyEdits(queue: JobQueue, job: Job, edits: Edit[]): void {
  queue.update(job, Object.fromEntries(edits.map((e) => [e.name, e.value])));
  queue.regroup(job);
}

/**
 * Edit the selected jobs: one transaction (a change that cannot be written leaves every job as it was), a
 * result per job. The negotiator is told, since an idle job's requests may have changed.
 */
export function editJobs(
  queue: JobQueue,
  identity: Identity,
  jobs: Job[],
  edits: Edit[],
  changed: () => void,
): Array<{ job: Job; ok: boolean; error?: string; code?: ErrorCode }> {
  const results: Array<{ job: Job; ok: boolean; error?: string; code?: ErrorCode }> = [];
  queue.atomically(() => {
    for (const job of jobs) {
      const why = editRefusal(job, edits, identity);
      if (why) results.push({ job, ok: false, ...why });
      else {
        applyEdits(queue, job, edits);
        results.push({ job, ok: true });
      }
    }
  });
  changed();
  return results;
}
