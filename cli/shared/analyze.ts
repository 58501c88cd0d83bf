// "Why is my job idle?" (dq -analyze / -better-analyze, HTCondor's condor_q -better-analyze): a pure function
// from a job ad, the pool's slot ads and the negotiator's priorities to the text users read. No I/O here;
// dq fetches the ads (analyze-pool.ts) and prints what this returns.
//
// How the pool is counted, and why:
// - Dynamic slots are pieces carved out of a partitionable slot, so counting both would count capacity twice.
//   Matching is analysed against the other slots (partitionable and static), a partitionable slot *at its full
//   size* (Cpus/Memory/Disk replaced by its totals): that answers "could this slot ever run the job". Whether it
//   can run it *now* is the last step, against its free Cpus/Memory/Disk. Dynamic slots are reported as what
//   keeps those resources busy (your jobs, other users' jobs).
// - The steps follow the negotiator: the job's Requirements against the slot, then the slot's Requirements
//   (its START) against the job, then the job's RequestCpus/RequestMemory/RequestDisk against the slot's size,
//   then against what is free while the slot is Unclaimed.
// - A missing request counts as the startd counts it (1 cpu, 1024 MB, 1024 KB); dsubmit always writes all three.
// - Custom resources (GPUs, MACHINE_RESOURCE_<name>: the names a slot lists in MachineResources beyond the three)
//   are counted the same way: Request<name> against Total<name> for "ever", against <name> for "now".
import {
  ERROR,
  isTrue,
  isUndefined,
  printValue,
  referencedAttrs,
  unparse,
  type ClassAd,
  type Expr,
  type Value,
} from '../../grammar/classad/index.js';
import { customResourceNames, DEFAULT_REQUESTS } from '../../lib/job-requests.js';
import { bool, num, str } from './output/ad.js';
import { renderTable } from './output/columns.js';
import { statusName } from './output/jobs.js';
import { formatDuration } from './output/time.js';
import { undefinedRequestText, undefinedRequests } from './undefined-requests.js';
import { nowSeconds } from '../../lib/time.js';
import { gangWhy } from './analyze-gang.js';

/** One submitter's fair-share standing, as the negotiator's GetPriorities gives it. */
export interface SubmitterPriority {
  name: string;
  effectivePriority: number;
  realPriority: number;
  priorityFactor: number;
  resourcesInUse: number;
}

export interface AnalyzeExtra {
  /** Epoch seconds (for how long the job has been in its state); default: the clock. */
  now?: number;
  /** The job's submitter name as the negotiator accounts it (`owner@schedd`); default: any `Owner@…` account. */
  submitter?: string;
  /** The negotiator's priorities; undefined when they could not be had (see prioritiesError). */
  priorities?: readonly SubmitterPriority[];
  /** Why there are no priorities (negotiator unreachable, no token…). */
  prioritiesError?: string;
  /** Also analyse each slot's START against the job, clause by clause (condor_q -reverse). */
  reverse?: boolean;
  /** Wrap the Requirements expression at this width (default 100). */
  width?: number;
}

/** What the startd assumes when a job names no request (the same table it reads). */
const DEFAULT_REQUEST = DEFAULT_REQUESTS;

type Resource = 'cpus' | 'memory' | 'disk';
const RESOURCES: readonly Resource[] = ['cpus', 'memory', 'disk'];
const SLOT_ATTR: Record<Resource, string> = { cpus: 'Cpus', memory: 'Memory', disk: 'Disk' };
const REQUEST_ATTR: Record<Resource, string> = { cpus: 'RequestCpus', memory: 'RequestMemory', disk: 'RequestDisk' };
const SUBMIT_COMMAND: Record<Resource, string> = {
  cpus: 'request_cpus',
  memory: 'request_memory',
  disk: 'request_disk',
};

type Amounts = Record<Resource, number>;

// ---------------------------------------------------------------------------------------------------------------
// The analysis as data

export interface ClauseResult {
  /** The clause as written (outer parentheses dropped). */
  text: string;
  expr: Expr;
  /** Slots for which the clause is true. */
  matched: number;
  /** Slots for which it is undefined (an attribute the slot does not have). */
  undefinedFor: number;
  /** Slots that fail this clause and no other: dropping it would let them match. */
  onlyFailure: number;
}

export interface MachineSlot {
  name: string;
  partitionable: boolean;
  /** The ad as advertised (free resources for a partitionable slot). */
  ad: ClassAd;
  /** The ad the job is matched against: a partitionable slot at its full size. */
  view: ClassAd;
  total: Amounts;
  free: Amounts;
  /** Custom resources (GPUs…): the slot's totals and what is free, by name. */
  customTotal: Record<string, number>;
  customFree: Record<string, number>;
  unclaimed: boolean;
  requirements: boolean;
  start: boolean;
  bigEnough: boolean;
  freeEnough: boolean;
}

export interface JobDiagnosis {
  id: string;
  owner: string;
  status: number | undefined;
  requests: Amounts;
  /** Request<name> of the custom resources some slot offers (GPUs…), when above 0. */
  customRequests: Record<string, number>;
  hasRequirements: boolean;
  /**
   * Its Requirements evaluated to error against a slot: the negotiator gives up on it for the cycle, so it
   * matches nothing; the clause that did (its index), or -1 when none does alone.
   */
  requirementsError?: { clause: number };
  clauses: ClauseResult[];
  /** Index into clauses of the clause that rules out the most slots, or -1 (none rules any out). */
  worst: number;
  /** Every slot ad, by kind. */
  pool: { ads: number; partitionable: number; dynamic: number; static: number };
  machines: MachineSlot[];
  /** The funnel: each step counts the slots that passed every step before it. */
  counts: { slots: number; requirements: number; start: number; bigEnough: number; available: number };
  /** Jobs running in dynamic slots of the machines that could run this job but have too little free. */
  busy: { mine: number; others: Map<string, number> };
  /** Of the slots big enough for it and willing, those an administrator drains (they take no new job). */
  drained: { names: string[]; reasons: string[] };
  largest: Amounts;
  /** The largest total of each custom resource the job asks for (0: no slot has it). */
  largestCustom: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Drop the parentheses around a whole expression. */
function unwrap(e: Expr): Expr {
  while (e.kind === 'paren') e = e.expr;
  return e;
}

/** The top-level `&&` clauses of an expression, parenthesised conjunctions flattened. */
export function splitClauses(e: Expr): Expr[] {
  const x = unwrap(e);
  if (x.kind === 'binary' && x.op === '&&') return [...splitClauses(x.left), ...splitClauses(x.right)];
  return [e];
}

const clauseText = (e: Expr) => unparse(unwrap(e));

function jobIdText(job: ClassAd): string {
  const c = num(job, 'ClusterId');
  const p = num(job, 'ProcId');
  return `${c ?? '?'}.${p ?? '?'}`;
}

function requestOf(job: ClassAd, r: Resource): number {
  const v = num(job, REQUEST_ATTR[r]);
  if (v === undefined || v < 0) return DEFAULT_REQUEST[r];
  return r === 'cpus' ? Math.max(1, Math.ceil(v)) : Math.ceil(v);
}

function isDynamic(slot: ClassAd): boolean {
  return bool(slot, 'DynamicSlot') === true || str(slot, 'SlotType') === 'Dynamic';
}

function isPartitionable(slot: ClassAd): boolean {
  return bool(slot, 'PartitionableSlot') === true || str(slot, 'SlotType') === 'Partitionable';
}

/** A partitionable slot's full size: TotalSlotX, else TotalX, else what it advertises. */
function totalOf(slot: ClassAd, r: Resource): number {
  const a = SLOT_ATTR[r];
  return num(slot, `TotalSlot${a}`) ?? num(slot, `Total${a}`) ?? num(slot, a) ?? 0;
}

/** The slot's side of the match: its Requirements, or its START when it has none; neither never matches. */
function slotAccepts(slot: ClassAd, job: ClassAd): boolean {
  if (slot.has('Requirements')) return isTrue(slot.evaluate('Requirements', job));
  return slot.has('START') && isTrue(slot.evaluate('START', job));
}

/** The machine that owns a slot (dynamic slots are grouped with their partitionable slot). */
function machineKey(slot: ClassAd): string {
  return str(slot, 'StartdName') ?? str(slot, 'Machine') ?? str(slot, 'Name') ?? '';
}

function slotName(slot: ClassAd): string {
  return str(slot, 'Name') ?? '(unnamed slot)';
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Disk is in KB, as HTCondor counts it. */
export function formatDisk(kb: number): string {
  if (kb < 1024) return `${kb} KB`;
  if (kb < 1024 * 1024) return `${(kb / 1024).toFixed(1)} MB`;
  return `${(kb / (1024 * 1024)).toFixed(1)} GB`;
}

function formatAmount(r: Resource, n: number): string {
  return r === 'cpus' ? plural(n, 'cpu') : r === 'memory' ? `${n} MB` : formatDisk(n);
}

/** `3 of 4 cpus, 3096 of 4096 MB memory, 79.6 GB of 79.6 GB disk` */
function freeOfTotal(m: { free: Amounts; total: Amounts }): string {
  return [
    `${m.free.cpus} of ${plural(m.total.cpus, 'cpu')}`,
    `${m.free.memory} of ${m.total.memory} MB memory`,
    `${formatDisk(m.free.disk)} of ${formatDisk(m.total.disk)} disk`,
  ].join(', ');
}

/** A value as a user reads it in a suggestion. */
function showValue(v: Value): string {
  return isUndefined(v) ? 'undefined' : printValue(v);
}

// ---------------------------------------------------------------------------------------------------------------
// The analysis

/** Everything the text is made from; exported for tests and for tools that want the numbers. */
export function diagnoseJob(job: ClassAd, slots: readonly ClassAd[]): JobDiagnosis {
  const requests = { cpus: requestOf(job, 'cpus'), memory: requestOf(job, 'memory'), disk: requestOf(job, 'disk') };
  const dynamic = slots.filter(isDynamic);
  const others = slots.filter((s) => !isDynamic(s));
  // custom resources: the names the slots list, spelled as the first slot that has them spells them
  const customNames = new Map<string, string>();
  for (const s of others)
    for (const n of customResourceNames(s.lookupJS('MachineResources')))
      if (!customNames.has(n.toLowerCase())) customNames.set(n.toLowerCase(), n);
  const customRequests: Record<string, number> = {};
  for (const n of customNames.values()) {
    const v = num(job, `Request${n}`);
    if (v !== undefined && v > 0) customRequests[n] = Math.ceil(v);
  }
  const asked = Object.keys(customRequests);
  let reqError = false;
  const machines: MachineSlot[] = others.map((ad) => {
    const partitionable = isPartitionable(ad);
    const total = { cpus: totalOf(ad, 'cpus'), memory: totalOf(ad, 'memory'), disk: totalOf(ad, 'disk') };
    const free = { cpus: num(ad, 'Cpus') ?? 0, memory: num(ad, 'Memory') ?? 0, disk: num(ad, 'Disk') ?? 0 };
    const customTotal: Record<string, number> = {};
    const customFree: Record<string, number> = {};
    for (const n of customResourceNames(ad.lookupJS('MachineResources'))) {
      const name = customNames.get(n.toLowerCase())!;
      customFree[name] = num(ad, n) ?? 0;
      customTotal[name] = num(ad, `TotalSlot${n}`) ?? num(ad, `Total${n}`) ?? customFree[name]!;
    }
    let view = ad;
    if (partitionable) {
      view = ad.clone();
      for (const r of RESOURCES) view.setValue(SLOT_ATTR[r], total[r]);
      for (const [n, t] of Object.entries(customTotal)) view.setValue(n, t);
    }
    const size = partitionable ? total : free;
    const customSize = partitionable ? customTotal : customFree;
    // as the negotiator does: one error and the Requirements is not evaluated again (a hostile one costs a second)
    let requirements = false;
    if (job.has('Requirements') && !reqError) {
      const v = job.evaluate('Requirements', view);
      reqError = v === ERROR;
      requirements = isTrue(v);
    }
    const start = slotAccepts(view, job);
    const bigEnough =
      RESOURCES.every((r) => size[r] >= requests[r]) && asked.every((n) => (customSize[n] ?? 0) >= customRequests[n]!);
    const unclaimed = str(ad, 'State') === 'Unclaimed';
    const freeEnough =
      unclaimed &&
      RESOURCES.every((r) => free[r] >= requests[r]) &&
      asked.every((n) => (customFree[n] ?? 0) >= customRequests[n]!);
    return {
      name: slotName(ad),
      partitionable,
      ad,
      view,
      total,
      free,
      customTotal,
      customFree,
      unclaimed,
      requirements,
      start,
      bigEnough,
      freeEnough,
    };
  });

  const req = job.get('Requirements');
  const clauses: ClauseResult[] = req
    ? splitClauses(req).map((expr) => ({ text: clauseText(expr), expr, matched: 0, undefinedFor: 0, onlyFailure: 0 }))
    : [];
  // a clause that evaluated to error once is not evaluated again: it fails on every slot after
  const erred = new Set<number>();
  for (const m of machines) {
    const failed: number[] = [];
    clauses.forEach((c, i) => {
      if (erred.has(i)) return void failed.push(i);
      const v = job.evalExpr(c.expr, m.view);
      if (v === ERROR) erred.add(i);
      if (isTrue(v)) c.matched++;
      else {
        if (isUndefined(v)) c.undefinedFor++;
        failed.push(i);
      }
    });
    if (failed.length === 1) clauses[failed[0]!]!.onlyFailure++;
  }
  let worst = -1;
  clauses.forEach((c, i) => {
    const out = machines.length - c.matched;
    if (out <= 0) return;
    if (worst < 0) return void (worst = i);
    const w = clauses[worst]!;
    const wout = machines.length - w.matched;
    if (out > wout || (out === wout && c.onlyFailure > w.onlyFailure)) worst = i;
  });

  const counts = { slots: machines.length, requirements: 0, start: 0, bigEnough: 0, available: 0 };
  for (const m of machines) {
    if (!m.requirements) continue;
    counts.requirements++;
    if (!m.start) continue;
    counts.start++;
    if (!m.bigEnough) continue;
    counts.bigEnough++;
    if (m.freeEnough) counts.available++;
  }

  // who keeps the machines that could run the job busy
  const owner = str(job, 'Owner') ?? '';
  const busyMachines = new Set(
    machines.filter((m) => m.requirements && m.start && m.bigEnough && !m.freeEnough).map((m) => machineKey(m.ad)),
  );
  const busy = { mine: 0, others: new Map<string, number>() };
  for (const d of dynamic) {
    if (!busyMachines.has(machineKey(d))) continue;
    const user = str(d, 'RemoteOwner') ?? str(d, 'RemoteUser');
    if (!user) continue;
    if (user === owner) busy.mine++;
    else busy.others.set(user, (busy.others.get(user) ?? 0) + 1);
  }
  // static slots busy with a job count too
  for (const m of machines) {
    if (m.partitionable || !busyMachines.has(machineKey(m.ad))) continue;
    const user = str(m.ad, 'RemoteOwner') ?? str(m.ad, 'RemoteUser');
    if (!user) continue;
    if (user === owner) busy.mine++;
    else busy.others.set(user, (busy.others.get(user) ?? 0) + 1);
  }

  // a drained slot is not busy: it takes no job until an administrator ends the drain
  const drainedSlots = machines.filter(
    (m) => m.requirements && m.start && m.bigEnough && !m.freeEnough && str(m.ad, 'State') === 'Drained',
  );
  const drained = {
    names: drainedSlots.map((m) => m.name),
    reasons: [...new Set(drainedSlots.map((m) => str(m.ad, 'DrainReason') ?? '').filter(Boolean))],
  };

  const largest = { cpus: 0, memory: 0, disk: 0 };
  for (const m of machines)
    for (const r of RESOURCES) largest[r] = Math.max(largest[r], m.partitionable ? m.total[r] : m.free[r]);
  const largestCustom: Record<string, number> = {};
  for (const n of asked)
    largestCustom[n] = Math.max(0, ...machines.map((m) => (m.partitionable ? m.customTotal[n] : m.customFree[n]) ?? 0));

  return {
    id: jobIdText(job),
    owner,
    status: num(job, 'JobStatus'),
    requests,
    customRequests,
    hasRequirements: !!req,
    requirementsError: reqError ? { clause: erred.size ? Math.min(...erred) : -1 } : undefined,
    clauses,
    worst,
    pool: {
      ads: slots.length,
      partitionable: machines.filter((m) => m.partitionable).length,
      dynamic: dynamic.length,
      static: machines.filter((m) => !m.partitionable).length,
    },
    machines,
    counts,
    busy,
    drained,
    largest,
    largestCustom,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions

/** Slot attributes a clause looks at: TARGET.x, and plain names the job does not define itself (spelled as written). */
function slotAttrsOf(e: Expr, job: ClassAd): string[] {
  const refs = referencedAttrs(e);
  const out = new Set(refs.target);
  for (const n of refs.unscoped) if (!job.has(n)) out.add(n);
  const text = unparse(e);
  return [...out].map((n) => new RegExp(`\\b${n.replace(/[^\w]/g, '')}\\b`, 'i').exec(text)?.[0] ?? n);
}

/** `Arch = "X86_64" (3 slots), "aarch64" (1 slot)`: the values a slot attribute has across the machines. */
function poolValues(attr: string, machines: readonly MachineSlot[]): string {
  const counts = new Map<string, number>();
  for (const m of machines) {
    const shown = showValue(m.view.evaluate(attr));
    counts.set(shown, (counts.get(shown) ?? 0) + 1);
  }
  const name =
    machines
      .find((m) => m.view.has(attr))
      ?.view.names()
      .find((n) => n.toLowerCase() === attr.toLowerCase()) ?? attr;
  if (counts.size === 1 && counts.has('undefined')) return `no slot defines ${name}`;
  const parts = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([v, n]) => `${v} (${plural(n, 'slot')})`);
  if (counts.size > 5) parts.push('…');
  return `the pool has ${name} = ${parts.join(', ')}`;
}

function suggestions(d: JobDiagnosis, job: ClassAd): string[] {
  const out: string[] = [];
  if (!d.hasRequirements) {
    out.push(
      'The job has no Requirements expression, so it matches no slot: give it one (dsubmit writes one by default).',
    );
    return out;
  }
  if (!d.counts.slots) {
    out.push('The collector knows no slots: is a startd running and reporting to this pool (dstatus)?');
    return out;
  }
  // requests no slot can ever hold
  const tooBig = new Set<Resource>();
  for (const r of RESOURCES) {
    if (d.requests[r] <= d.largest[r]) continue;
    tooBig.add(r);
    const total = `Total${SLOT_ATTR[r]}`;
    out.push(
      `${REQUEST_ATTR[r]} ${d.requests[r]} exceeds the largest slot (${total} ${d.largest[r]}): ask for ${formatAmount(r, d.largest[r])} or less (${SUBMIT_COMMAND[r]}).`,
    );
  }
  const tooBigCustom = new Set<string>();
  for (const [n, want] of Object.entries(d.customRequests)) {
    const most = d.largestCustom[n] ?? 0;
    if (want <= most) continue;
    tooBigCustom.add(n.toLowerCase());
    const submit = n.toLowerCase() === 'gpus' ? 'request_gpus' : `request_${n}`;
    out.push(
      most > 0
        ? `Request${n} ${want} exceeds the largest slot (Total${n} ${most}): ask for ${most} or less (${submit}).`
        : `Request${n} ${want}: no slot has any ${n}.`,
    );
  }
  // clauses no slot satisfies
  d.clauses.forEach((c, i) => {
    if (c.matched > 0) return;
    const attrs = slotAttrsOf(c.expr, job);
    const resource = RESOURCES.find((r) => attrs.some((a) => a.toLowerCase() === SLOT_ATTR[r].toLowerCase()));
    if (resource && tooBig.has(resource)) return; // said above
    if (attrs.some((a) => tooBigCustom.has(a.toLowerCase()))) return; // said above
    const about = attrs.slice(0, 3).map((a) => poolValues(a, d.machines));
    out.push(
      `Clause [${i}] ${c.text} is true for no slot${about.length ? `: ${about.join('; ')}` : ''}. Change or remove it.`,
    );
  });
  if (d.counts.requirements === 0 && d.clauses.length > 1 && d.clauses.every((c) => c.matched > 0)) {
    const near = d.clauses.map((c, i) => [c.onlyFailure, i] as const).sort((a, b) => b[0] - a[0])[0]!;
    out.push(
      near[0] > 0
        ? `Each clause matches some slot, but no slot matches them all; ${plural(near[0], 'slot')} ${near[0] === 1 ? 'fails' : 'fail'} only clause [${near[1]}] ${d.clauses[near[1]]!.text}.`
        : 'Each clause matches some slot, but no slot matches them all: the clauses ask for things no single slot has together.',
    );
  }
  if (d.counts.requirements > 0 && d.counts.start === 0) {
    const refusing = d.machines.filter((m) => m.requirements && !m.start);
    const starts = new Map<string, string[]>();
    for (const m of refusing) {
      const e = m.view.get('START') ?? m.view.get('Requirements');
      const text = e ? unparse(e) : '(none)';
      starts.set(text, [...(starts.get(text) ?? []), m.name]);
    }
    for (const [text, names] of [...starts].slice(0, 3))
      out.push(
        `The START expression of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} refuses the job: START = ${text}. Ask the pool's admin, or use -reverse to see which part refuses it.`,
      );
  }
  if (d.counts.start > 0 && d.counts.bigEnough === 0) {
    const fits = d.machines.filter((m) => m.requirements && m.start);
    for (const r of RESOURCES) {
      if (tooBig.has(r)) continue;
      const most = Math.max(...fits.map((m) => (m.partitionable ? m.total[r] : m.free[r])));
      if (d.requests[r] > most)
        out.push(
          `${REQUEST_ATTR[r]} ${d.requests[r]} is more than any slot that accepts the job has (${formatAmount(r, most)}): lower ${SUBMIT_COMMAND[r]}.`,
        );
    }
    for (const [n, want] of Object.entries(d.customRequests)) {
      if (tooBigCustom.has(n.toLowerCase())) continue;
      const most = Math.max(0, ...fits.map((m) => (m.partitionable ? m.customTotal[n] : m.customFree[n]) ?? 0));
      if (want > most) out.push(`Request${n} ${want} is more than any slot that accepts the job has (${most} ${n}).`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Text

function why(d: JobDiagnosis, job: ClassAd): string {
  switch (d.status) {
    case 5: {
      const reason = str(job, 'HoldReason') ?? 'no reason recorded';
      if (bool(job, 'DependencyHold'))
        return `it is held until its dependency is satisfied (${reason}); the schedd releases it by itself.`;
      const code = num(job, 'HoldReasonCode');
      const types = str(job, 'PbsHoldTypes');
      if (types)
        return `it is held by a pool administrator (PBS hold type ${types}: ${reason}); only an administrator releases it (qrls -h ${types} ${d.id}).`;
      return `it is held: ${reason}${code !== undefined ? ` (HoldReasonCode ${code})` : ''}. Fix the cause, then drelease ${d.id}.`;
    }
    case 2: {
      // a parallel job runs on every slot of RemoteHosts
      const hosts = (str(job, 'RemoteHosts') ?? str(job, 'RemoteHost'))?.split(',').join(', ');
      return `it is running${hosts ? ` on ${hosts}` : ''}.`;
    }
    case 3:
      return 'it was removed and is leaving the queue.';
    case 4:
      return 'it has completed and is leaving the queue.';
    case 6:
      return 'it is transferring its output.';
    case 7:
      return 'it is suspended.';
    default:
      break;
  }
  const c = d.counts;
  if (!d.hasRequirements) return 'it has no Requirements, so it matches no slot.';
  if (!c.slots) return 'the pool has no slots.';
  if (d.requirementsError) {
    const k = d.requirementsError.clause;
    return `its Requirements is an error (a type mismatch, a bad argument, or more work than an evaluation may do${k >= 0 ? `: clause [${k}] ${d.clauses[k]!.text}` : ''}), so the negotiator matches it to no slot: fix the expression (dqedit ${d.id} Requirements '…').`;
  }
  if (!c.requirements) {
    const w = d.worst >= 0 ? d.clauses[d.worst] : undefined;
    return `no slot matches its Requirements${w ? `; clause [${d.worst}] ${w.text} rules out the most` : ''}.`;
  }
  if (!c.start)
    return c.requirements === 1
      ? 'the 1 slot its Requirements match refuses it (its START).'
      : `the ${c.requirements} slots its Requirements match refuse it (their START).`;
  if (!c.bigEnough) return 'no slot that accepts it is big enough for its requests.';
  if (!c.available) {
    const drained = d.drained.names;
    const which = `${drained.slice(0, 3).join(', ')}${drained.length > 3 ? ', …' : ''}${d.drained.reasons.length ? `: ${d.drained.reasons.join('; ')}` : ''}`;
    if (drained.length && drained.length === c.bigEnough)
      return `${drained.length === 1 ? 'the slot that can run it is' : `the ${drained.length} slots that can run it are`} drained by an administrator (${which}), taking no new jobs: it waits until the drain ends (dsched drain NAME -cancel) or another slot can run it.`;
    if (drained.length)
      return `every slot that can run it is busy or drained (${drained.length} of ${c.bigEnough} drained by an administrator: ${which}): it waits for resources to free up, and fair share decides who gets them first.`;
    return `every slot that can run it is busy: it waits for resources to free up, and fair share decides who gets them first.`;
  }
  const limits = str(job, 'ConcurrencyLimits');
  return `${plural(c.available, 'slot')} can run it now; the negotiator should match it at its next cycle${limits ? `, unless its concurrency limits (${limits}) are in use` : ''}.`;
}

function wrapRequirements(e: Expr, width: number): string[] {
  const parts = splitClauses(e).map((x) => unparse(x));
  const lines: string[] = [];
  let line = '';
  parts.forEach((p, i) => {
    const piece = i < parts.length - 1 ? `${p} &&` : p;
    if (line && 4 + line.length + 1 + piece.length > width) {
      lines.push(line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  });
  if (line) lines.push(line);
  return lines.map((l) => `    ${l}`);
}

/** Job attributes the expression uses (MY.x, and plain names the job defines), following references once more. */
function referencedJobAttrs(job: ClassAd, e: Expr): string[] {
  const seen = new Map<string, string>();
  const queue: Expr[] = [e];
  while (queue.length && seen.size < 30) {
    const refs = referencedAttrs(queue.shift()!);
    for (const n of [...refs.my, ...refs.unscoped]) {
      if (seen.has(n) || !job.has(n) || n === 'requirements') continue;
      seen.set(n, job.names().find((x) => x.toLowerCase() === n) ?? n);
      const sub = job.get(n);
      if (sub) queue.push(sub);
    }
  }
  return [...seen.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
}

function priorityLines(d: JobDiagnosis, extra: AnalyzeExtra): string[] {
  if (!extra.priorities) return [`Fair share: unknown (${extra.prioritiesError ?? 'the negotiator was not asked'}).`];
  const prios = extra.priorities;
  const mine =
    prios.find((p) => p.name === extra.submitter) ??
    (extra.submitter ? undefined : prios.find((p) => p.name.split('@')[0] === d.owner));
  const who = extra.submitter ?? `${d.owner}@…`;
  if (!mine)
    return [
      `Fair share: the negotiator has no account for ${who} yet (it opens one at the first cycle that sees its idle jobs).`,
    ];
  const lines = [
    `Fair share: submitter ${mine.name} has effective priority ${mine.effectivePriority.toFixed(2)} (real ${mine.realPriority.toFixed(2)} × factor ${mine.priorityFactor.toFixed(2)}; lower is better), ${plural(mine.resourcesInUse, 'job')} running.`,
  ];
  const ahead = prios
    .filter((p) => p.name !== mine.name && p.effectivePriority < mine.effectivePriority)
    .sort((a, b) => a.effectivePriority - b.effectivePriority);
  if (ahead.length)
    lines.push(
      `    ${plural(ahead.length, 'submitter')} ahead of it: ${ahead
        .slice(0, 5)
        .map((p) => `${p.name} (${p.effectivePriority.toFixed(2)}, ${p.resourcesInUse} running)`)
        .join(', ')}${ahead.length > 5 ? ', …' : ''}.`,
    );
  return lines;
}

function reverseLines(d: JobDiagnosis, job: ClassAd): string[] {
  const out: string[] = [];
  const groups = new Map<string, MachineSlot[]>();
  for (const m of d.machines) {
    const e = m.view.get('START') ?? m.view.get('Requirements');
    const key = e ? unparse(e) : '';
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  for (const [text, ms] of groups) {
    const names = ms.map((m) => m.name);
    out.push(
      `The START expression of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} is`,
      '',
    );
    if (!text) {
      out.push('    (none: the slot accepts no job)', '');
      continue;
    }
    const e = ms[0]!.view.get('START') ?? ms[0]!.view.get('Requirements')!;
    out.push(...wrapRequirements(e, 100), '');
    const rows = splitClauses(e).map((c, i) => {
      const accepted = ms.filter((m) => isTrue(m.view.evalExpr(c, job))).length;
      return [`[${i}]`, `${accepted}/${ms.length}`, clauseText(c)];
    });
    out.push(
      ...renderTable(
        [{ header: 'CLAUSE', align: 'right' }, { header: 'ACCEPT', align: 'right' }, { header: 'CONDITION' }],
        rows,
      ).map((l) => `  ${l}`),
      '',
    );
  }
  return out;
}

/** The analysis of one job, as dq -analyze prints it. */
export function analyzeJob(job: ClassAd, slots: readonly ClassAd[], extra: AnalyzeExtra = {}): string {
  const d = diagnoseJob(job, slots);
  const now = extra.now ?? nowSeconds();
  const out: string[] = [];
  const since = num(job, 'EnteredCurrentStatus') ?? num(job, 'QDate');
  out.push(
    `-- Job ${d.id} (${d.owner || 'unknown owner'}): ${statusName(d.status)}${since !== undefined ? ` for ${formatDuration(now - since)}` : ''}`,
  );
  out.push(`Why: ${(d.status === 1 && gangWhy(job, slots)) || why(d, job)}`);
  // a request the job cannot evaluate is counted at the default below: say so before anything else
  for (const u of undefinedRequests(job, slots)) out.push(`Undefined request: ${undefinedRequestText(u, true)}.`);
  const starts = num(job, 'NumJobStarts') ?? 0;
  if (d.status === 1 && starts > 0) out.push(`It has run ${plural(starts, 'time')} before and went back to idle.`);
  out.push('');

  const req = job.get('Requirements');
  if (req) {
    out.push(`The Requirements expression for job ${d.id} is`, '', ...wrapRequirements(req, extra.width ?? 100), '');
    const attrs = referencedJobAttrs(job, req);
    if (attrs.length) {
      out.push(`Job ${d.id} defines these attributes the expression uses:`, '');
      for (const a of attrs) out.push(`    ${a} = ${unparse(job.get(a)!)}`);
      out.push('');
    }
    if (d.counts.slots) {
      out.push(
        `Each clause against the ${plural(d.counts.slots, 'slot')} of the pool (partitionable slots at full size):`,
        '',
      );
      const rows = d.clauses.map((c, i) => {
        const notes: string[] = [];
        if (i === d.worst) notes.push(`<- rules out the most (${d.counts.slots - c.matched})`);
        if (c.undefinedFor) notes.push(`undefined for ${c.undefinedFor}`);
        if (d.requirementsError?.clause === i) notes.push('an error: the job matches no slot');
        return [`[${i}]`, String(c.matched), notes.length ? `${c.text}   ${notes.join('; ')}` : c.text];
      });
      out.push(
        ...renderTable(
          [{ header: 'CLAUSE', align: 'right' }, { header: 'SLOTS', align: 'right' }, { header: 'CONDITION' }],
          rows,
        ).map((l) => `  ${l}`),
        '',
      );
    }
  }

  // the pool
  const p = d.pool;
  const kinds = [`${p.partitionable} partitionable`, `${p.dynamic} dynamic`];
  if (p.static) kinds.push(`${p.static} static`);
  out.push(`Slots in the pool: ${p.ads} (${kinds.join(', ')})`);
  const shown = d.machines.filter((m) => m.partitionable).slice(0, 8);
  for (const m of shown) {
    const custom = Object.keys(m.customTotal)
      .map((k) => `, ${m.customFree[k] ?? 0} of ${m.customTotal[k]} ${k}`)
      .join('');
    out.push(
      `    ${m.name}: free ${freeOfTotal(m)}${custom}${m.unclaimed ? '' : ` (${str(m.ad, 'State') ?? 'not Unclaimed'})`}`,
    );
  }
  const hidden = d.pool.partitionable - shown.length;
  if (hidden > 0) out.push(`    … and ${plural(hidden, 'more partitionable slot')}`);
  const c = d.counts;
  const w = String(c.slots).length;
  const n = (x: number) => String(x).padStart(Math.max(5, w));
  out.push(
    `Of ${plural(c.slots, 'slot')} (a dynamic slot counts as part of its partitionable slot):`,
    `  ${n(c.requirements)} match the job's Requirements`,
    `  ${n(c.start)} of those accept the job (their START)`,
    `  ${n(c.bigEnough)} of those are big enough for RequestCpus ${d.requests.cpus}, RequestMemory ${d.requests.memory} MB, RequestDisk ${d.requests.disk} KB${Object.entries(
      d.customRequests,
    )
      .map(([k, v]) => `, Request${k} ${v}`)
      .join('')}`,
    `  ${n(c.available)} of those are Unclaimed with that much free now`,
  );
  const busyOthers = [...d.busy.others].sort((a, b) => b[1] - a[1]);
  if (c.bigEnough > c.available && (d.busy.mine || busyOthers.length)) {
    const othersCount = busyOthers.reduce((s, [, k]) => s + k, 0);
    const who = busyOthers
      .slice(0, 5)
      .map(([u, k]) => `${u} ${k}`)
      .join(', ');
    out.push(
      `  The busy ones run ${plural(d.busy.mine + othersCount, 'job')}: ${d.busy.mine} of yours, ${othersCount} of other users${who ? ` (${who})` : ''}.`,
    );
  }
  const drained = d.drained.names.length;
  if (drained)
    out.push(
      `  ${drained} of those ${drained === 1 ? 'is' : 'are'} drained by an administrator and take${drained === 1 ? 's' : ''} no new jobs (dsched drain).`,
    );
  out.push('');

  if (d.status === 1 || d.status === 5) {
    out.push(...priorityLines(d, extra));
    const limits = str(job, 'ConcurrencyLimits');
    if (limits)
      out.push(
        `Concurrency limits: the job needs ${limits} (reported only: the pool does not publish how much of each limit is in use).`,
      );
    out.push('');
  }

  if (extra.reverse) out.push(...reverseLines(d, job));

  const tips = d.status === 2 ? [] : suggestions(d, job);
  if (tips.length) {
    out.push('Suggestions:', ...tips.map((t) => `  - ${t}`), '');
  }
  return out.join('\n');
}

/** What makes two jobs analyse the same: owner, status, hold reason, Requirements, requests and limits. */
function signature(job: ClassAd): string {
  const parts = [
    'Owner',
    'JobStatus',
    'HoldReason',
    'DependencyHold',
    'ConcurrencyLimits',
    'RequestCpus',
    'RequestMemory',
    'RequestDisk',
    'NumJobStarts',
  ].map((n) => JSON.stringify(job.lookupJS(n) ?? null));
  const req = job.get('Requirements');
  // the values of the job attributes the Requirements use count too
  const refs = req ? referencedJobAttrs(job, req).map((a) => `${a}=${JSON.stringify(job.lookupJS(a) ?? null)}`) : [];
  return [...parts, req ? unparse(req) : '', ...refs].join('\u0000');
}

/**
 * Several jobs: one analysis per group of jobs that would analyse the same (the procs of a cluster usually),
 * naming the others instead of repeating it (condor_q does the same per autocluster).
 */
export function analyzeJobs(jobs: readonly ClassAd[], slots: readonly ClassAd[], extra: AnalyzeExtra = {}): string {
  const groups = new Map<string, ClassAd[]>();
  for (const j of jobs) {
    const k = signature(j);
    groups.set(k, [...(groups.get(k) ?? []), j]);
  }
  const out: string[] = [];
  for (const g of groups.values()) {
    let text = analyzeJob(g[0]!, slots, extra);
    if (g.length > 1) {
      const ids = g.slice(1).map(jobIdText);
      text += `The same analysis applies to ${plural(ids.length, 'more job')}: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}\n`;
    }
    out.push(text);
  }
  return out.join('\n');
}

/**
 * dq -analyze:summary: one line per job, the funnel of diagnoseJob as counts of slots (partitionable ones at
 * full size), each column the slots that passed it and every column before it: SLOTS in the pool, REQUIREMENTS
 * (the job's Requirements hold), START (the slot's too), FITS (big enough for the requests), AVAILABLE (free
 * now).
 */
export function summarizeJobs(jobs: readonly ClassAd[], slots: readonly ClassAd[]): string {
  const n = (header: string) => ({ header, align: 'right' as const });
  const rows = jobs.map((j) => {
    const c = diagnoseJob(j, slots).counts;
    return [
      jobIdText(j),
      str(j, 'Owner') ?? '',
      ...[c.slots, c.requirements, c.start, c.bigEnough, c.available].map(String),
    ];
  });
  const header = [
    { header: 'ID' },
    { header: 'OWNER' },
    n('SLOTS'),
    n('REQUIREMENTS'),
    n('START'),
    n('FITS'),
    n('AVAILABLE'),
  ];
  return renderTable(header, rows).join('\n') + '\n';
}

/**
 * dq -unmatchable: no slot of the pool would ever run the job, whatever else runs: none passes its
 * Requirements, the slot's START and its requests at the slot's full size.
 */
export function isUnmatchable(job: ClassAd, slots: readonly ClassAd[]): boolean {
  return diagnoseJob(job, slots).counts.bigEnough === 0;
}
