// Attributes a listing could not read, said on stderr as they are met and made the command's exit code: what
// dq, dhistory and qstat share so that a job with a bad stored attribute is listed, never dropped.
import type { OnUnreadable } from '../../grammar/classad/json-text.js';
import { DschedError, isErrorCode, reasonOf, type ErrorCode } from '../../lib/errors.js';
import type { JobQueryPage__Output } from '../../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import { io } from './io.js';

/**
 * Attributes a listing left out because their stored text is no ClassAd expression (a queue or history written
 * by an older version may hold one that does not parse or is over the size limit). The job is still listed:
 * each such attribute is named on stderr as it is met, and `check` then fails the command, so a script sees
 * that the listing is not whole (condor_q lists a job with a bad attribute too).
 */
export class UnreadableAttrs {
  private count = 0;
  private readonly jobs = new Set<string>();
  private code: ErrorCode | undefined;

  constructor(private readonly cmd: string) {}

  /** One left out: `job` as cluster.proc. */
  note(job: string, name: string, code: string, why: string): void {
    this.count++;
    this.jobs.add(job);
    this.code ??= isErrorCode(code) ? code : 'CLASSAD_SYNTAX';
    io().stderr.write(`${this.cmd}: job ${job}: attribute ${name} cannot be read: ${why}\n`);
  }

  /** One an ad of this record left out (the CLI's own parse of the schedd's texts). */
  of(rec: Record<string, string>): OnUnreadable {
    return (name, err) => {
      const { code, error } = reasonOf(err);
      this.note(jobOf(rec), name, code, error);
    };
  }

  /** Those the schedd left out of a listing it rendered. */
  fromPage(page: JobQueryPage__Output): void {
    for (const u of page.unreadable ?? [])
      this.note(u.id ? `${u.id.cluster}.${u.id.proc}` : '?', u.name, u.code, u.error);
  }

  /** After the listing: an error, when something was left out. */
  check(): void {
    if (!this.count) return;
    const n = this.count === 1 ? 'an attribute' : `${this.count} attributes`;
    const jobs = this.jobs.size === 1 ? `job ${[...this.jobs][0]}` : `${this.jobs.size} jobs`;
    throw new DschedError(
      this.code!,
      `${n} of ${jobs} could not be read as ClassAd expressions: the listing shows the jobs without them (-xml: with their stored text)`,
      {
        hint: "a job queue or history written by an older version may hold such values; `dqedit` sets a queued job's attribute anew",
      },
    );
  }
}

/** A record's job id as cluster.proc (its texts, which are plain integers in any ad dsched wrote). */
export function jobOf(rec: Record<string, string>): string {
  const own = (n: string) => rec[n] ?? Object.entries(rec).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
  return `${own('ClusterId') ?? '?'}.${own('ProcId') ?? '?'}`;
}
