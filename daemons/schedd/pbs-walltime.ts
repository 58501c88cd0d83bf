// PBS's walltime: a #PBS job that runs past its `-l walltime` is killed, not held (HTCondor holds a job over
// its AllowedJobDuration with code 46; PBS ends it). The job finishes with the exit status PBS reports for a
// job its MOM killed (256 + the signal: 271 for SIGTERM), "=>> PBS: job killed: walltime USED exceeded limit
// LIMIT" is appended to its error file, and its dependents see a failure (afternotok fires, afterok never
// will). PBS_WALLTIME_HOLD = true keeps HTCondor's hold for #PBS jobs too.
import { closeSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { openFileAs } from '../../lib/as-user.js';
import type { runAsOwner } from '../../lib/users.js';
import type { Job, JobQueue } from './queue.js';

/** Set on a job being killed for its walltime: the seconds it had run when it was stopped. */
export const WALLTIME_KILLED = 'PbsWalltimeUsed';

/** The exit status PBS gives a job it killed with `signal` (its exit_status: 256 + the signal). */
export function pbsKilledExitStatus(signal: number): number {
  return 256 + signal;
}

/** Is this job ended PBS's way when its walltime runs out? */
export function killsOnWalltime(queue: JobQueue, job: Job, holdKnob: boolean): boolean {
  return !holdKnob && queue.value(job, 'IsPbsJob') === true;
}

export function walltimeMessage(used: number, limit: number): string {
  return `=>> PBS: job killed: walltime ${used} exceeded limit ${limit}`;
}

/**
 * The exit of a job killed for its walltime, as PBS records it, and the line for its error file; undefined
 * for any other job. `signal` is what ended the process (SIGTERM when it did not catch it).
 */
export function walltimeExit(
  queue: JobQueue,
  job: Job,
  signal: number | undefined,
): { exitCode: number; message: string } | undefined {
  const used = queue.value(job, WALLTIME_KILLED);
  if (typeof used !== 'number') return undefined;
  const limit = Number(queue.value(job, 'AllowedJobDuration'));
  return { exitCode: pbsKilledExitStatus(signal ?? 15), message: walltimeMessage(used, limit) };
}

/** Append PBS's line to the job's error file, with its owner's rights (as the job's own output). */
export function appendToErrorFile(
  queue: JobQueue,
  job: Job,
  owner: ReturnType<typeof runAsOwner>,
  text: string,
): string | undefined {
  const err = queue.value(job, 'Err');
  if (typeof err !== 'string' || err === '' || err === '/dev/null') return undefined;
  const iwd = queue.value(job, 'Iwd');
  try {
    const fd = openFileAs(owner, resolve(typeof iwd === 'string' ? iwd : '/', err), 'append');
    try {
      writeSync(fd, text + '\n');
    } finally {
      closeSync(fd);
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
