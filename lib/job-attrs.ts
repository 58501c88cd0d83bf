// Which job attributes a user may change once a job is queued (dqedit) or running (a job's own chirp). The
// schedd's edit rules and the startd's chirp check read the same lists, so a job cannot change about itself
// through chirp what its owner may not change with dqedit.

/** The longest attribute name a job may have (HTCondor's names are words of a few dozen characters). */
export const MAX_ATTR_NAME_CHARS = 256;

/**
 * Whether `name` may name a job attribute: a ClassAd word (letters, digits, `_`, not starting with a digit) of
 * at most MAX_ATTR_NAME_CHARS. Anything else (a NUL, a newline, a quote, a megabyte) is no name the submit
 * language can write, and a job queued with one was left out of its owner's `dq` listings.
 */
export function isJobAttrName(name: string): boolean {
  return name.length <= MAX_ATTR_NAME_CHARS && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** Who owns the job and which job it is, and its status (dhold, drelease and drm change that): no one changes these. */
const IMMUTABLE_NAMES = [
  'Owner',
  'User',
  'ClusterId',
  'ProcId',
  'GlobalJobId',
  'QDate',
  'MyType',
  'TargetType',
  'JobStatus',
];
export const IMMUTABLE_JOB_ATTRS: ReadonlySet<string> = new Set(IMMUTABLE_NAMES.map((n) => n.toLowerCase()));

/**
 * Only pool admins change these: what the schedd itself records (start and exit facts, hold and remove
 * reasons, DAG bookkeeping, PBS ids and dependencies, the queue a job was admitted to), the job's files and
 * fair-share group (paths are checked against the owner's rights at submit, and a changed path would skip that
 * check), and the walltime its queue admitted it with.
 */
const PROTECTED_NAMES = [
  'EnteredCurrentStatus',
  'LastJobStatus',
  'NumJobStarts',
  'NumJobCompletions',
  'JobStartDate',
  'JobCurrentStartDate',
  'LastMatchTime',
  'RemoteHost',
  'LastRemoteHost',
  'StartdAddress',
  'CurrentHosts',
  'RemoteWallClockTime',
  'RemoteUserCpu',
  'RemoteSysCpu',
  'ExitCode',
  'ExitBySignal',
  'ExitSignal',
  'HoldReason',
  'HoldReasonCode',
  'HoldReasonSubCode',
  'LastHoldReason',
  'RemoveReason',
  'ReleaseReason',
  'LastVacateTime',
  'TotalSubmitProcs',
  'JobUniverse',
  'DependencyHold',
  'HoldAfterDependency',
  'HoldAfterDependencyCode',
  'PbsDepend',
  'PbsHoldTypes',
  'PbsJobId',
  'PbsArrayId',
  'PbsArrayIndex',
  'IsPbsJob',
  'PbsWalltimeUsed',
  'Queue',
  'BatchQueue',
  'DAGManJobId',
  'DAGNodeName',
  'DAGNodeRetry',
  'DAGManDagFile',
  // a parallel job's slots, where a restarted schedd looks for its claims (gang.ts)
  'GangSlots',
  'GangStartds',
  'RemoteHosts',
  // files: checked with the owner's rights at submit
  'Cmd',
  'Iwd',
  'In',
  'Out',
  'Err',
  'UserLog',
  'TransferInput',
  'TransferOutput',
  'TransferOutputRemaps',
  'TransferExecutable',
  'PbsScript',
  'PbsScriptPath',
  'SpoolDir',
  // fair share: the group a job is charged to
  'AccountingGroup',
  'AcctGroup',
  'AcctGroupUser',
  // the walltime the job's queue admitted it with (its MAX_WALLTIME)
  'AllowedJobDuration',
];
export const PROTECTED_JOB_ATTRS: ReadonlySet<string> = new Set(PROTECTED_NAMES.map((n) => n.toLowerCase()));

/**
 * The one spelling of each attribute the daemons read by name. ClassAd names are case-insensitive, but the queue
 * keeps a job's attributes as submitted and the schedd's checks read them by these spellings: a submission's
 * `+iwd` is stored as `Iwd`, so no check can be passed by spelling a name otherwise.
 */
export const CANONICAL_JOB_ATTR_NAMES: ReadonlyMap<string, string> = new Map(
  [...IMMUTABLE_NAMES, ...PROTECTED_NAMES].map((n) => [n.toLowerCase(), n]),
);

/** What a job was matched and admitted with (Request*, AllowedJobDuration): changed only while it is idle or held. */
export function isResourceRequest(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('request') || n === 'allowedjobduration';
}

/**
 * The most characters (names and values) a job's attributes may grow to by its owner's dqedit or its own chirp.
 * Each change is bounded (a ClassAd of 1 MiB), but repeated under new names a running job kept the startd's and
 * the schedd's memory and the queue growing until they were full for every user. A change that does not make
 * the attributes larger is always taken.
 */
export const MAX_JOB_ATTRS_CHARS = 4 << 20;

/** Why `changes` may not be made to a job with these attributes (they would grow past MAX_JOB_ATTRS_CHARS), or undefined. */
export function attrsGrowthRefusal(
  attrs: Readonly<Record<string, string>>,
  changes: Iterable<readonly [string, string]>,
): string | undefined {
  const size = attrsChars(attrs);
  let after = size;
  for (const [k, v] of changes) after += v.length - (k in attrs ? attrs[k]!.length : -k.length);
  if (after <= MAX_JOB_ATTRS_CHARS || after <= size) return undefined;
  return `the job's attributes would hold ${after} characters; at most ${MAX_JOB_ATTRS_CHARS} (keep large data in a file the job reads)`;
}

/** The characters of a job's attributes, names and values, as MAX_JOB_ATTRS_CHARS counts them. */
export function attrsChars(attrs: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const k in attrs) size += k.length + attrs[k]!.length;
  return size;
}

/**
 * HTCondor's NICE_USER_ACCOUNTING_GROUP_NAME: the group `nice_user = true` jobs are accounted to, whose
 * submitters the negotiator serves after every other. Every pool has it: no admin lists it in GROUP_NAMES.
 */
export const NICE_USER_GROUP = 'nice-user';
