// What the schedd checks of a submission's attributes before it queues them, beyond their size and files.
//
// A user's submission may name only that user and that user's jobs where the schedd and the negotiator trust
// the name: the accounting name (AccountingGroup "group.user", AcctGroupUser) decides whose fair share a job
// spends and is charged to, and DAGManJobId makes a cluster a node of that DAG (the DAG takes such a cluster as
// its node's submission, and its exit as the node's). The group part of an accounting name must be one of the
// pool's groups (GROUP_NAMES): each accounting name is a submitter of its own (a Submitter ad, a fair-share record
// kept for good, negotiator state), so a user naming groups at will made as many as they liked, and one whose
// usage had made their priority poor took a fresh one (the best) by naming a new group. Pool admins may name
// anyone and any group (a service that submits for its users). Attribute names are case-insensitive in a
// ClassAd, so every spelling is looked at.
//
// A job enters the queue idle or held, whoever submits it: a job queued as running, completed or removed had no
// run, yet counted against its batch queue's MAX_RUNNING for every user, or never left the queue.
//
// The attributes the schedd checks or acts on by value are literals: the schedd reads a job's attributes in its
// ad (JobQueue.value), where an expression's value may differ from what a check saw without it.
import { parseExpr } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import { JobStatus } from '../../lib/job-status.js';
import { CANONICAL_JOB_ATTR_NAMES, isJobAttrName, MAX_ATTR_NAME_CHARS, NICE_USER_GROUP } from '../../lib/job-attrs.js';
import { visible } from '../../lib/visible-text.js';
import { isExpressionText, litValue } from './queue.js';
import { umaskProblem } from '../../lib/umask.js';

/**
 * Refuse attributes of `attrs` that name a user other than `owner`, a group not among `groups` (GROUP_NAMES), or
 * a cluster `owner` does not own.
 */
export function checkNamedOwners(
  owner: string,
  attrs: Iterable<Record<string, string>>,
  clusterOwner: (cluster: number) => string | undefined,
  groups: readonly string[],
): void {
  let known: Set<string> | undefined;
  for (const a of attrs)
    for (const [name, text] of Object.entries(a)) {
      const n = name.toLowerCase();
      if (n === 'accountinggroup' || n === 'acctgroupuser') {
        const v = litValue(text);
        const user = typeof v === 'string' ? (n === 'acctgroupuser' ? v : v.slice(v.lastIndexOf('.') + 1)) : undefined;
        if (user !== owner)
          throw new DschedError(
            'PERMISSION_DENIED',
            `${name} = ${text} accounts the job to ${user === undefined ? 'no user' : `user ${user}`}: a job is accounted to its owner (${owner}); only a pool admin may submit on another user's fair share`,
            { hint: 'leave accounting_group_user out (it defaults to you); accounting_group = GROUP names a group' },
          );
        const dot = n === 'accountinggroup' ? (v as string).lastIndexOf('.') : -1;
        if (dot < 0) continue;
        const group = (v as string).slice(0, dot);
        known ??= new Set([NICE_USER_GROUP, ...groups].map((g) => g.toLowerCase()));
        if (!known.has(group.toLowerCase()))
          throw new DschedError(
            'PERMISSION_DENIED',
            `accounting group ${visible(group.length > 80 ? `${group.slice(0, 80)}…` : group)} is not one of this pool's groups (${groups.length ? `GROUP_NAMES: ${groups.join(', ')}` : 'it has none'}): a job may join only a group the pool's admins made`,
            {
              hint: 'leave accounting_group out to be accounted as yourself, or ask a pool admin to add the group to GROUP_NAMES',
            },
          );
      } else if (n === 'dagmanjobid') {
        const v = litValue(text);
        if (typeof v !== 'number' || clusterOwner(v) !== owner)
          throw new DschedError(
            'PERMISSION_DENIED',
            `${name} = ${text} is not a DAG of ${owner}'s: a job may be a node only of its owner's own DAG`,
          );
      }
    }
}

/**
 * Attributes (lower case) the schedd acts on by their value. Those checked by name below (JobStatus, the
 * accounting name, DAGManJobId) refuse an expression there, as their check sees no literal it allows.
 */
const LITERAL_ATTRS = new Set(['jobuniverse', 'queue', 'batchqueue', 'dagmandagfile', 'pbsdepend', 'notifyuser']);

/** Refuse an expression for an attribute the schedd checks or acts on by value (any spelling). */
export function checkLiteral(name: string, text: string): void {
  if (LITERAL_ATTRS.has(name.toLowerCase()) && isExpressionText(text))
    throw new DschedError(
      'SUBMIT_INVALID',
      `${name} = ${text}: the schedd acts on this attribute's value, which must be a literal (a number or a string), not an expression`,
    );
}

/**
 * Refuse a value no ClassAd parser reads back (dqedit and a startd's updates are held to the same): the schedd
 * parses a job's ad whenever it evaluates one, and a value that threw there (a NUL in a string, sent by a client
 * that is no dsubmit) stopped the periodic policies of every job after it in the queue, other users' too.
 */
export function checkExpression(name: string, text: string): void {
  if (/^-?\d{1,15}$/.test(text)) return; // most values of most procs (ProcId): a number, and read as one
  try {
    parseExpr(text, { file: `<value of ${name}>`, line: 1, column: 1 });
  } catch (err) {
    throw new DschedError(
      'SUBMIT_INVALID',
      `the value of ${name} is not a ClassAd expression: ${visible((err as Error).message.split('\n')[0]!)}`,
    );
  }
}

/** Refuse a Umask (any spelling) that is no umask (lib/umask.ts): a job's files are created under it. */
export function checkUmask(name: string, text: string, code: 'SUBMIT_INVALID' | 'USAGE'): void {
  if (name.length !== 5 || name.toLowerCase() !== 'umask') return;
  const problem = umaskProblem(text);
  if (problem) throw new DschedError(code, problem, { hint: 'dsubmit records the umask it runs with' });
}

/** JobPrio's bounds: HTCondor keeps it in a C int, and condor_submit's `priority` must be an integer. */
export const JOB_PRIO_RANGE = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/** Why `value` is no JobPrio (a whole number within JOB_PRIO_RANGE), or undefined when it is one. */
export function jobPrioProblem(value: unknown): string | undefined {
  return Number.isSafeInteger(value) &&
    (value as number) >= JOB_PRIO_RANGE.min &&
    (value as number) <= JOB_PRIO_RANGE.max
    ? undefined
    : `a job's priority is a whole number from ${JOB_PRIO_RANGE.min} to ${JOB_PRIO_RANGE.max}`;
}

/**
 * Refuse a JobPrio (any spelling) that is not a whole number within JOB_PRIO_RANGE: 1e308, -1e308 and NaN were
 * queued as they came, and the schedd and the negotiator order a user's jobs by it (an expression there is
 * evaluated by nobody the same way: the schedd read it as 0).
 */
export function checkJobPrio(name: string, text: string, code: 'SUBMIT_INVALID' | 'USAGE'): void {
  if (name.length !== 7 || name.toLowerCase() !== 'jobprio') return;
  const problem = jobPrioProblem(litValue(text));
  if (problem)
    throw new DschedError(code, `${name} = ${visible(text.slice(0, 100))}: ${problem}`, {
      hint: 'priority = N in the submit file; dprio changes it',
    });
}

/**
 * Refuse a proc whose ProcId is not its place in the submission: the schedd numbers a cluster's jobs 0, 1, 2, …
 * (HTCondor's schedd gives each new proc the next id), and one that chose its own queued a job N.-1 (the id
 * that means "the whole cluster" to every command and to job-change streams), 1E+300, or two jobs of one id.
 */
export function checkProcId(attrs: Record<string, string>, index: number): void {
  const text = attrs.ProcId;
  if (text !== undefined && text !== String(index))
    throw new DschedError(
      'SUBMIT_INVALID',
      `ProcId = ${visible(text.slice(0, 100))}: the schedd numbers a cluster's jobs 0, 1, 2, …; this one is ${index}`,
    );
}

/** Refuse a JobStatus (any spelling) other than idle or held. */
export function checkSubmittedStatus(name: string, text: string): void {
  if (name.length !== 9 || name.toLowerCase() !== 'jobstatus') return;
  const v = litValue(text);
  if (v !== JobStatus.Idle && v !== JobStatus.Held)
    throw new DschedError(
      'SUBMIT_INVALID',
      `${name} = ${text}: a job is queued idle (${JobStatus.Idle}) or held (${JobStatus.Held}); the schedd sets its status from then on`,
      { hint: 'hold = true queues it held' },
    );
}

/**
 * Give the attributes the daemons read by name their one spelling (`+iwd` becomes `Iwd`), in place, and refuse a
 * set that spells one name twice: a ClassAd keeps one of them, and the checks must see the one it keeps.
 */
export function canonicalizeNames(attrs: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const name of Object.keys(attrs)) {
    if (!isJobAttrName(name))
      throw new DschedError(
        'SUBMIT_INVALID',
        `'${visible(name.slice(0, 100))}' is not an attribute name (letters, digits and _, at most ${MAX_ATTR_NAME_CHARS} characters, not starting with a digit)`,
      );
    const lower = name.toLowerCase();
    const other = seen.get(lower);
    if (other !== undefined)
      throw new DschedError('SUBMIT_INVALID', `attribute ${name} is given twice (as ${other} and ${name})`);
    seen.set(lower, name);
    const canonical = CANONICAL_JOB_ATTR_NAMES.get(lower);
    if (canonical !== undefined && canonical !== name) {
      attrs[canonical] = attrs[name]!;
      delete attrs[name];
    }
  }
}
