// The public types of grammar/submit (re-exported by index.ts).
import type { Location } from '../../lib/diagnostic.js';

export interface SubmitInput {
  /** path shown in diagnostics and used to resolve relative paths ('-' for stdin) */
  file: string;
  /** the submit description or the #PBS script */
  text: string;
  /** the submit directory (default initialdir, PBS_O_WORKDIR) */
  cwd: string;
  /** submitter's environment (getenv, $ENV(), PBS -V, PBS_O_*) */
  env: Record<string, string | undefined>;
  /** the submitting user */
  owner: string;
  /** the submitter's umask, recorded as `Umask` for the files made for its jobs (none: not recorded) */
  umask?: number;
  /** the submit host (PBS_O_HOST, PBS job ids) */
  hostname: string;
  /** `name=value` command-line arguments and DAG VARS */
  macros?: Record<string, string>;
  /** `-a 'line'` submit lines, appended before the queue statement(s) */
  append?: string[];
  /** qsub-style options from the dsubmit command line; they win over #PBS lines */
  pbsArgs?: string[];
  /** refuse a submission with more procs (default 1_000_000) */
  maxProcs?: number;
  /** condor_submit's -allow-crlf-script: a script with a DOS line end on its #! line is only warned of */
  allowCrlfScript?: boolean;
}

export interface JobSet {
  /** attributes every proc shares: name → ClassAd expression text */
  cluster: Record<string, string>;
  /** one per proc: attributes that differ from `cluster` (always ProcId) */
  procs: Array<Record<string, string>>;
}

export interface SubmitWarning {
  message: string;
  location?: Location;
}
