// A job's umask: the submitter's, recorded in the job's ad as `Umask` (a number, as condor_submit writes it)
// and applied by whatever creates files for the job: the startd to the job and its stdout/stderr, the schedd
// to its event log and the files it writes back, DAGMan's scripts. A umask only takes rights away, so any
// value from 0 to 0777 is the user's own choice; anything else in an ad (a job can chirp its own) is taken as
// the tightest, 0077, never as a way to give more.

/** The umask of a job with no `Umask` (submitted by an older client): the usual one. */
export const DEFAULT_UMASK = 0o022;
/** The tightest umask a job gets: its files are its owner's alone. */
export const TIGHTEST_UMASK = 0o077;

/** A job's umask from its `Umask` value (undefined: none recorded). */
export function jobUmask(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_UMASK;
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0o777 ? n : TIGHTEST_UMASK;
}

/** Why the ClassAd text of a submitted `Umask` is refused, or undefined when it is a umask. */
export function umaskProblem(text: string): string | undefined {
  return /^\s*\d{1,3}\s*$/.test(text) && Number(text) <= 0o777
    ? undefined
    : `Umask = ${text.slice(0, 40)} is no umask: give a whole number from 0 to 511 (0777)`;
}
