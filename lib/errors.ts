// The error model: stable string codes, one table mapping each to its gRPC status, CLI exit code and hint.
// docs/errors.md lists the same table for users.
import { formatDiagnostic, type Location } from './diagnostic.js';

/** gRPC status numbers (kept here so lib/errors does not depend on grpc-js). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

interface CodeInfo {
  status: number;
  exit: number;
  hint?: string;
}

export const ERROR_CODES = {
  // languages
  CLASSAD_SYNTAX: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  CLASSAD_EVAL: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_SYNTAX: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_UNKNOWN_COMMAND: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_MACRO: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_INVALID: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_QUEUE: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  SUBMIT_FILE: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  PBS_SYNTAX: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  DAG_SYNTAX: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  DAG_CYCLE: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  DAG_UNKNOWN_NODE: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  CONFIG_INVALID: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  USAGE: { status: GrpcStatus.INVALID_ARGUMENT, exit: 2 },
  INPUT_TOO_LARGE: { status: GrpcStatus.RESOURCE_EXHAUSTED, exit: 2 },
  RPC_MALFORMED: {
    status: GrpcStatus.INVALID_ARGUMENT,
    exit: 2,
    hint: 'the client and the daemon may be of different versions',
  },
  // queue and jobs
  JOB_NOT_FOUND: {
    status: GrpcStatus.NOT_FOUND,
    exit: 1,
    hint: 'dq lists the jobs in the queue, dhistory the finished ones',
  },
  JOB_STATE: { status: GrpcStatus.FAILED_PRECONDITION, exit: 1 },
  QUEUE_UNKNOWN: {
    status: GrpcStatus.NOT_FOUND,
    exit: 2,
    hint: 'QUEUES in the pool configuration names the queues (dsched config QUEUES)',
  },
  TOO_MANY_JOBS: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'a user may have at most MAX_JOBS_PER_OWNER jobs in the queue: wait for some to finish, or remove some (drm)',
  },
  QUEUE_LIMIT: {
    status: GrpcStatus.FAILED_PRECONDITION,
    exit: 1,
    hint: "the queue's limits are QUEUE_<name>_* in the pool configuration; ask for less or use another queue",
  },
  // the job queue's storage (SQLite): the change was rolled back and nothing of it applied
  DISK_FULL: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'the file system of the pool spool ($DSCHED_HOME/spool) is full; the change was not made: free space and try again',
  },
  QUEUE_BUSY: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'another process holds the job queue database locked; the change was not made: try again',
  },
  QUEUE_IO_ERROR: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'the job queue database could not be read or written (see the schedd log); the change was not made',
  },
  QUEUE_CORRUPT: {
    status: GrpcStatus.DATA_LOSS,
    exit: 1,
    hint: 'the job queue database ($DSCHED_HOME/spool/job_queue.db) is damaged: the schedd will not start on it. Restore it from a backup and `dsched on schedd` (the rest of the pool runs on), or `dsched stop` and `dsched start -set-aside-damaged-queue` (it is kept as job_queue.db.damaged-TIME, for `sqlite3 FILE .recover`, and the schedd starts with an empty queue)',
  },
  QUEUE_TOO_NEW: {
    status: GrpcStatus.FAILED_PRECONDITION,
    exit: 1,
    hint: 'install the dsched release that wrote the job queue (or a later one) again and `dsched restart`; the queue is left as it was',
  },
  OUT_OF_FILES: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: "the daemon cannot open more files (its open-file limit, `ulimit -n`, or the system's); the change was not made, and what it had to record waits until files are free: raise the limit (LimitNOFILE= in its service) or let some clients end",
  },
  QUEUE_READONLY: {
    status: GrpcStatus.FAILED_PRECONDITION,
    exit: 1,
    hint: 'the job queue database cannot be written (read-only file or file system); the change was not made',
  },
  QUERY_TOO_EXPENSIVE: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'the schedd and the collector stop a query past QUERY_CPU_LIMIT seconds of their time; select fewer jobs (ids, a user) or ads, or simplify the constraint',
  },
  TOO_MANY_CLIENTS: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'the daemon serves a bounded number of streams at once; close some or try again later',
  },
  USER_REQUEST_LIMIT: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: "a daemon reads a bounded number of bytes of one user's requests at once (USER_REQUEST_BUDGET): try again once some of your calls have ended",
  },
  ANONYMOUS_LIMIT: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'a daemon reads a bounded number of bytes of requests without a credential at once (ANONYMOUS_REQUEST_BUDGET, and ANONYMOUS_REQUEST_BUDGET_PER_HOST from one host): try again once some have ended',
  },
  // security
  PERMISSION_DENIED: { status: GrpcStatus.PERMISSION_DENIED, exit: 1 },
  UNAUTHENTICATED: {
    status: GrpcStatus.UNAUTHENTICATED,
    exit: 1,
    hint: "is this the pool of $DSCHED_HOME? a CLI proves who it is with a token from the schedd or the pool's token key; a daemon with its host certificate (dsched join)",
  },
  // daemons and pool
  SCHEDD_UNREACHABLE: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'is the pool running? try: dsched status (or dsched start)',
  },
  COLLECTOR_UNREACHABLE: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'is the pool running? try: dsched status (or dsched start)',
  },
  DAEMON_UNREACHABLE: { status: GrpcStatus.UNAVAILABLE, exit: 1, hint: 'is the pool running? try: dsched status' },
  POOL_NOT_RUNNING: { status: GrpcStatus.UNAVAILABLE, exit: 1, hint: 'start it with: dsched start' },
  HOST_NOT_FOUND: {
    status: GrpcStatus.NOT_FOUND,
    exit: 1,
    hint: 'spool/issued.json on the central host lists the certificates issued',
  },
  MACHINE_NOT_FOUND: { status: GrpcStatus.NOT_FOUND, exit: 1, hint: 'dstatus lists the machines' },
  POOL_ALREADY_RUNNING: { status: GrpcStatus.ALREADY_EXISTS, exit: 1 },
  POOL_ON_OTHER_HOST: {
    status: GrpcStatus.FAILED_PRECONDITION,
    exit: 1,
    hint: 'stop or inspect it on that host; a host of its own needs a DSCHED_HOME of its own',
  },
  PORT_IN_USE: {
    status: GrpcStatus.ALREADY_EXISTS,
    exit: 1,
    hint: 'stop what listens there (another pool?), or set the knob to another port (0 chooses a free one)',
  },
  NAME_IN_USE: {
    status: GrpcStatus.ALREADY_EXISTS,
    exit: 1,
    hint: 'every daemon in a pool needs a unique name (set STARTD_NAME / NAME)',
  },
  CLAIM_REFUSED: { status: GrpcStatus.FAILED_PRECONDITION, exit: 1 },
  CLAIM_NOT_FOUND: { status: GrpcStatus.NOT_FOUND, exit: 1 },
  TRANSFER_REFUSED: { status: GrpcStatus.PERMISSION_DENIED, exit: 1 },
  JOB_FILE_REFUSED: {
    status: GrpcStatus.PERMISSION_DENIED,
    exit: 1,
    hint: "a job's files are opened with its owner's rights and may not lie in the pool's own directory ($DSCHED_HOME): name files in a folder of yours",
  },
  TRANSFER_FAILED: { status: GrpcStatus.FAILED_PRECONDITION, exit: 1 },
  FILE_UNREADABLE: {
    status: GrpcStatus.FAILED_PRECONDITION,
    exit: 1,
    hint: 'dq -userlog and dhistory -file/-userlog read the file with your own rights: it must be a regular file you may read, at most 256 MB',
  },
  TIMEOUT: { status: GrpcStatus.DEADLINE_EXCEEDED, exit: 1 },
  NOT_IMPLEMENTED: { status: GrpcStatus.UNIMPLEMENTED, exit: 1 },
  OUTPUT_REFUSED: {
    status: GrpcStatus.PERMISSION_DENIED,
    exit: 1,
    hint: "dtail reads only the file the job's standard output (or error) was opened as when it started, with the owner's rights; a link or another file in its place is not followed",
  },
  WATCHER_TOO_SLOW: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'the job-change stream fell too far behind the queue and was ended; watching again starts from the queue as it is',
  },
  TOO_MANY_STREAMS: {
    status: GrpcStatus.RESOURCE_EXHAUSTED,
    exit: 1,
    hint: 'end some of your other dtail -f (or watches) first',
  },
  SERVICE_UNKNOWN: {
    status: GrpcStatus.NOT_FOUND,
    exit: 1,
    hint: 'the health service knows "" (the daemon) and the daemon\'s own service (dsched.v1.Schedd, ...)',
  },
  // the command agent (cli/dsched-agent.ts): a command stopped by a signal, or an agent gone mid-command
  INTERRUPTED: { status: GrpcStatus.CANCELLED, exit: 130 },
  AGENT_LOST: {
    status: GrpcStatus.UNAVAILABLE,
    exit: 1,
    hint: 'set DSCHED_AGENT=0 to run commands without the agent',
  },
  INTERNAL: { status: GrpcStatus.INTERNAL, exit: 1 },
} satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(s: string): s is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, s);
}

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class DschedError extends Error {
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: ErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DschedError';
    this.hint = opts.hint ?? (ERROR_CODES[code] as CodeInfo).hint;
    this.details = opts.details;
  }
  get grpcStatus(): number {
    return ERROR_CODES[this.code].status;
  }
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

/** An error in a user's file or expression: keeps the location as fields and in the text. */
export class SourceError extends DschedError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly location: Location,
    readonly sourceLine?: string,
    opts: ErrorOptions = {},
  ) {
    super(code, `${message}\n${formatDiagnostic(location, sourceLine)}`, opts);
    this.name = 'SourceError';
    this.bareMessage = message;
  }
  /** The message without the `-->` excerpt. */
  readonly bareMessage: string;
}

/**
 * An error's code and words without a SourceError's excerpt of the text: what a listing says of an attribute it
 * could not read (the excerpt would repeat a text that may be a megabyte).
 */
export function reasonOf(err: unknown): { code: ErrorCode; error: string } {
  const e = err instanceof DschedError ? err : undefined;
  return {
    code: e?.code ?? 'CLASSAD_SYNTAX',
    error: e instanceof SourceError ? e.bareMessage : (e?.message ?? String(err)),
  };
}
