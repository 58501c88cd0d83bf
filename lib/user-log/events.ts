// The events of HTCondor's user job event log (`log = job.log` in a submit file), as typed values.
//
// Event numbers and texts are HTCondor's (docs: "Job Event Log Codes"); the text form is written by format.ts,
// read by parse.ts, and a JSON-lines form with HTCondor's event ClassAd attribute names by jsonl.ts. Times are
// epoch seconds (the text form has one-second resolution).

/** CPU time of a run, in seconds, as the `Usr d hh:mm:ss, Sys d hh:mm:ss` lines show it. */
export interface Rusage {
  user: number;
  sys: number;
}

/** One row of the `Partitionable Resources : Usage Request Allocated` table. */
export interface ResourceRow {
  /** Resource name as in the machine ad: `Cpus`, `Disk` (KB), `Memory` (MB), `Gpus`, … */
  name: string;
  usage?: number | string;
  request?: number | string;
  allocated?: number | string;
  assigned?: string;
}

interface EventBase {
  cluster: number;
  proc: number;
  /** Node number of parallel-universe jobs; 0 otherwise. */
  subproc?: number;
  /** Epoch seconds. */
  time: number;
}

/** 000 `Job submitted from host: <…>`. */
export interface SubmitEvent extends EventBase {
  type: 'submit';
  /** The submitting schedd's address, without the `<>` the log puts around it. */
  host: string;
  /** First note line (DAGMan writes `DAG Node: <name>`). */
  logNotes?: string;
  /** Second note line (the submit file's `submit_event_user_notes`). */
  userNotes?: string;
  warnings?: string;
}

/** 001 `Job executing on host: <…>`. */
export interface ExecuteEvent extends EventBase {
  type: 'execute';
  /** The execute host's address, without the `<>`. */
  host: string;
  slotName?: string;
}

/** 004 `Job was evicted.` (preempted, vacated, or the claim was lost); the job goes back to idle. */
export interface EvictedEvent extends EventBase {
  type: 'evicted';
  checkpointed?: boolean;
  /** The job exited and was put back in the queue (on_exit_remove false); then normal/returnValue/signal apply. */
  terminatedAndRequeued?: boolean;
  normal?: boolean;
  returnValue?: number;
  signal?: number;
  coreFile?: string;
  runRemoteUsage?: Rusage;
  runLocalUsage?: Rusage;
  sentBytes?: number;
  receivedBytes?: number;
  reason?: string;
  reasonCode?: number;
  reasonSubCode?: number;
  resources?: ResourceRow[];
}

/** 005 `Job terminated.`: `(1) Normal termination (return value N)` or `(0) Abnormal termination (signal N)`. */
export interface TerminatedEvent extends EventBase {
  type: 'terminated';
  /** The job exited on its own (any exit code); false when a signal ended it. Not "succeeded": see jobSucceeded. */
  normal: boolean;
  /** Exit code when `normal`. */
  returnValue?: number;
  /** Signal number when not `normal`. */
  signal?: number;
  coreFile?: string;
  runRemoteUsage?: Rusage;
  runLocalUsage?: Rusage;
  totalRemoteUsage?: Rusage;
  totalLocalUsage?: Rusage;
  sentBytes?: number;
  receivedBytes?: number;
  totalSentBytes?: number;
  totalReceivedBytes?: number;
  resources?: ResourceRow[];
}

/** 006 `Image size of job updated: N` (KB), with memory usage lines. */
export interface ImageSizeEvent extends EventBase {
  type: 'image_size';
  imageSizeKb: number;
  memoryUsageMb?: number;
  residentSetSizeKb?: number;
  proportionalSetSizeKb?: number;
}

/** 009 `Job was aborted.` (removed), with the reason (`via drm (by user alice)`). */
export interface AbortedEvent extends EventBase {
  type: 'aborted';
  reason?: string;
}

/** 010 `Job was suspended.` */
export interface SuspendedEvent extends EventBase {
  type: 'suspended';
  numPids: number;
}

/** 011 `Job was unsuspended.` */
export interface UnsuspendedEvent extends EventBase {
  type: 'unsuspended';
}

/** 012 `Job was held.` with the reason and `Code N Subcode M` (HoldReasonCode/HoldReasonSubCode). */
export interface HeldEvent extends EventBase {
  type: 'held';
  reason?: string;
  code: number;
  subCode: number;
}

/** 013 `Job was released.` with the reason. */
export interface ReleasedEvent extends EventBase {
  type: 'released';
  reason?: string;
}

/** 022 `Job disconnected, attempting to reconnect`: the schedd lost touch with the startd running the job. */
export interface DisconnectedEvent extends EventBase {
  type: 'disconnected';
  /** Why (`the startd did not answer the lease renewal`). */
  reason: string;
  /** The slot the job runs in (`slot1@host`). */
  startdName: string;
  /** The startd's address, without the `<>`. */
  startdAddress?: string;
}

/** 023 `Job reconnected to <slot>`: the startd was found again with the job still on its claim. */
export interface ReconnectedEvent extends EventBase {
  type: 'reconnected';
  startdName: string;
  startdAddress?: string;
  starterAddress?: string;
}

/** 024 `Job reconnection failed`: the schedd gave the run up; the job goes back to idle (001 again later). */
export interface ReconnectFailedEvent extends EventBase {
  type: 'reconnect_failed';
  reason: string;
  startdName: string;
}

/** 028 `Job ad information event triggered.` followed by `Attr = expr` lines. */
export interface JobAdEvent extends EventBase {
  type: 'job_ad';
  /** Attribute name → ClassAd expression text (`ExitCode` → `2`, `Owner` → `"alice"`). */
  attributes: Record<string, string>;
}

/** Any other event number: its header text and body lines, kept verbatim. */
export interface OtherEvent extends EventBase {
  type: 'other';
  code: number;
  text: string;
  body: string[];
}

export type UserLogEvent =
  | SubmitEvent
  | ExecuteEvent
  | EvictedEvent
  | TerminatedEvent
  | ImageSizeEvent
  | AbortedEvent
  | SuspendedEvent
  | UnsuspendedEvent
  | HeldEvent
  | ReleasedEvent
  | DisconnectedEvent
  | ReconnectedEvent
  | ReconnectFailedEvent
  | JobAdEvent
  | OtherEvent;

export type UserLogEventType = UserLogEvent['type'];

/** HTCondor's event numbers. */
export const EVENT_CODES = {
  submit: 0,
  execute: 1,
  evicted: 4,
  terminated: 5,
  image_size: 6,
  aborted: 9,
  suspended: 10,
  unsuspended: 11,
  held: 12,
  released: 13,
  disconnected: 22,
  reconnected: 23,
  reconnect_failed: 24,
  job_ad: 28,
} as const satisfies Record<Exclude<UserLogEventType, 'other'>, number>;

/** HTCondor's MyType of each event's ClassAd (the JSON form). */
export const EVENT_MYTYPES = {
  submit: 'SubmitEvent',
  execute: 'ExecuteEvent',
  evicted: 'JobEvictedEvent',
  terminated: 'JobTerminatedEvent',
  image_size: 'JobImageSizeEvent',
  aborted: 'JobAbortedEvent',
  suspended: 'JobSuspendedEvent',
  unsuspended: 'JobUnsuspendedEvent',
  held: 'JobHeldEvent',
  released: 'JobReleaseEvent',
  disconnected: 'JobDisconnectedEvent',
  reconnected: 'JobReconnectedEvent',
  reconnect_failed: 'JobReconnectFailedEvent',
  job_ad: 'JobAdInformationEvent',
} as const satisfies Record<Exclude<UserLogEventType, 'other'>, string>;

const TYPE_BY_CODE = new Map<number, Exclude<UserLogEventType, 'other'>>(
  Object.entries(EVENT_CODES).map(([t, c]) => [c, t as Exclude<UserLogEventType, 'other'>]),
);

/** The event number of an event. */
export function eventCode(e: UserLogEvent): number {
  return e.type === 'other' ? e.code : EVENT_CODES[e.type];
}

/** The typed name for an event number, or `other`. */
export function eventTypeOf(code: number): UserLogEventType {
  return TYPE_BY_CODE.get(code) ?? 'other';
}

/**
 * Whether a terminated event is a success: the job exited on its own with code 0. A non-zero exit, a signal,
 * an abort or a hold is never a success.
 */
export function eventSucceeded(e: UserLogEvent): boolean {
  return e.type === 'terminated' && e.normal && e.returnValue === 0;
}

/** How a terminated event ended, for messages: `exited with code 0`, `exited with code 2`, `killed by signal 9`. */
export function describeTermination(e: TerminatedEvent): string {
  return e.normal ? `exited with code ${e.returnValue ?? '?'}` : `killed by signal ${e.signal ?? '?'}`;
}

/** Events that end a job's life in the queue (005 terminated, 009 aborted). */
export function isFinalEvent(e: UserLogEvent): boolean {
  return e.type === 'terminated' || e.type === 'aborted';
}

const ZERO: Rusage = { user: 0, sys: 0 };

function sortResources(rows: ResourceRow[] | undefined): ResourceRow[] | undefined {
  if (!rows) return undefined;
  return [...rows].sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function stripBrackets(host: string): string {
  return host.startsWith('<') && host.endsWith('>') ? host.slice(1, -1) : host;
}

/** Text fields the log keeps on one line: newlines become `|`, carriage returns spaces (as HTCondor does). */
export function oneLine(s: string): string {
  return s.replace(/\r/g, ' ').replace(/\n/g, '|');
}

/**
 * The event as the text log stores it: what parse(format(e)) gives back. Fills HTCondor's defaults (zero
 * usage and byte counts, subproc 0), drops the `<>` around hosts, keeps text on one line, whole seconds,
 * resource rows sorted by name.
 */
export function normalizeEvent(e: UserLogEvent): UserLogEvent {
  const base = { cluster: e.cluster, proc: e.proc, subproc: e.subproc ?? 0, time: Math.floor(e.time) };
  const txt = (v: string | undefined): string | undefined => (v ? oneLine(v).trim() || undefined : undefined);
  switch (e.type) {
    case 'submit':
      return clean({
        ...base,
        type: e.type,
        host: stripBrackets(oneLine(e.host)),
        logNotes: txt(e.logNotes),
        userNotes: txt(e.userNotes),
        warnings: txt(e.warnings),
      });
    case 'execute':
      return clean({
        ...base,
        type: e.type,
        host: stripBrackets(oneLine(e.host)),
        slotName: e.slotName ? oneLine(e.slotName) : undefined,
      });
    case 'evicted': {
      const requeued = e.terminatedAndRequeued === true;
      return clean({
        ...base,
        type: e.type,
        checkpointed: requeued ? false : (e.checkpointed ?? false),
        terminatedAndRequeued: requeued,
        normal: requeued ? (e.normal ?? false) : undefined,
        returnValue: requeued && e.normal ? e.returnValue : undefined,
        signal: requeued && !e.normal ? e.signal : undefined,
        coreFile: requeued && !e.normal && e.coreFile ? oneLine(e.coreFile) : undefined,
        runRemoteUsage: e.runRemoteUsage ?? ZERO,
        runLocalUsage: e.runLocalUsage ?? ZERO,
        sentBytes: Math.round(e.sentBytes ?? 0),
        receivedBytes: Math.round(e.receivedBytes ?? 0),
        reason: txt(e.reason),
        reasonCode: e.reasonCode ? e.reasonCode : undefined,
        reasonSubCode: e.reasonCode ? (e.reasonSubCode ?? 0) : undefined,
        resources: sortResources(e.resources),
      });
    }
    case 'terminated':
      return clean({
        ...base,
        type: e.type,
        normal: e.normal,
        returnValue: e.normal ? (e.returnValue ?? 0) : undefined,
        signal: e.normal ? undefined : (e.signal ?? 0),
        coreFile: !e.normal && e.coreFile ? oneLine(e.coreFile) : undefined,
        runRemoteUsage: e.runRemoteUsage ?? ZERO,
        runLocalUsage: e.runLocalUsage ?? ZERO,
        totalRemoteUsage: e.totalRemoteUsage ?? ZERO,
        totalLocalUsage: e.totalLocalUsage ?? ZERO,
        sentBytes: Math.round(e.sentBytes ?? 0),
        receivedBytes: Math.round(e.receivedBytes ?? 0),
        totalSentBytes: Math.round(e.totalSentBytes ?? 0),
        totalReceivedBytes: Math.round(e.totalReceivedBytes ?? 0),
        resources: sortResources(e.resources),
      });
    case 'image_size':
      return clean({
        ...base,
        type: e.type,
        imageSizeKb: e.imageSizeKb,
        memoryUsageMb: e.memoryUsageMb,
        residentSetSizeKb: e.residentSetSizeKb ?? 0,
        proportionalSetSizeKb: e.proportionalSetSizeKb,
      });
    case 'aborted':
    case 'released':
      return clean({ ...base, type: e.type, reason: txt(e.reason) });
    case 'held': {
      const reason = txt(e.reason);
      return clean({
        ...base,
        type: e.type,
        reason: reason !== 'Reason unspecified' ? reason : undefined,
        code: e.code,
        subCode: e.subCode,
      });
    }
    case 'disconnected':
      return clean({
        ...base,
        type: e.type,
        reason: oneLine(e.reason).trim(),
        startdName: oneLine(e.startdName).trim(),
        startdAddress: e.startdAddress ? stripBrackets(oneLine(e.startdAddress)) : undefined,
      });
    case 'reconnected':
      return clean({
        ...base,
        type: e.type,
        startdName: oneLine(e.startdName).trim(),
        startdAddress: e.startdAddress ? stripBrackets(oneLine(e.startdAddress)) : undefined,
        starterAddress: e.starterAddress ? stripBrackets(oneLine(e.starterAddress)) : undefined,
      });
    case 'reconnect_failed':
      return { ...base, type: e.type, reason: oneLine(e.reason).trim(), startdName: oneLine(e.startdName).trim() };
    case 'suspended':
      return { ...base, type: e.type, numPids: e.numPids };
    case 'unsuspended':
      return { ...base, type: e.type };
    case 'job_ad': {
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.attributes)) attributes[k] = oneLine(v).trim();
      return { ...base, type: e.type, attributes };
    }
    case 'other':
      return {
        ...base,
        type: e.type,
        code: e.code,
        text: oneLine(e.text),
        body: e.body.map((l) => oneLine(l)).filter((l) => l !== '...'),
      };
  }
}

/** Drops keys whose value is undefined (so deepEqual compares what is there). */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
