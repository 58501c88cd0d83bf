// The matchmaking itself, in process and without RPC: unclaimed slots + the submitters' idle autoclusters
// (+ claimed slots when preemption is on) → matches (and preemptions). cycle.ts fetches the inputs and hands
// the results out; the benchmark and the unit tests call this directly.
//
// Semantics (HTCondor's): the job's Requirements against the slot and the slot's Requirements (or START)
// against the job must both be true and the job's requests must fit what the slot has left; among the
// matching slots the best job Rank wins, ties by the machine's Rank, then by slot name. Submitters take
// turns in fair-share order, each round giving each one a slice of the free cpus in inverse proportion to
// its effective priority; with accounting groups the groups go in starvation order, each within its quota,
// then the groups that accept surplus share what is left. Partitionable slots are split locally, so one
// cycle can fill a machine; concurrency limits count every match.
//
// Speed: slots whose ads agree on every attribute any expression can read — apart from attributes with many
// distinct values (Name, Machine, the resources) — form a slot class. Requirements are split into conjuncts;
// a conjunct that reads no such per-slot attribute is evaluated once per (autocluster, class), the others
// once per slot visited, lazily, in rank order, only until the autocluster's jobs are placed. Rank is
// evaluated per class when it reads no per-slot attribute. So a cycle costs about autoclusters × classes
// evaluations plus the slots actually handed out, not autoclusters × slots.
import {
  ClassAd,
  ERROR,
  UNDEFINED,
  compile,
  isTrue,
  symmetricMatch,
  toNumber,
  unparse,
  type Expr,
  type Value,
} from '../../grammar/classad/index.js';
import {
  customResourceNames,
  fitCount,
  giveResources,
  jobRequests,
  takeResources,
  type Resources,
} from '../../lib/job-requests.js';
import { conjuncts, reach, refsOf, type Reach } from './expr-analysis.js';
import {
  allowance,
  chargeGroup,
  starvationOrder,
  ROOT_GROUP,
  type AccountingGroups,
  type GroupNode,
} from './groups.js';
import { parseLimits, type ConcurrencyLimits } from './limits.js';

export interface AutoclusterInput {
  id: number;
  /** idle jobs in it */
  idle: number;
  /** a representative job ad */
  ad: ClassAd;
}

export interface SubmitterInput {
  /** the accounting name with its schedd, "alice@schedd" or "group_a.alice@schedd": the fair-share account */
  name: string;
  /** schedd address (where matches go) */
  schedd: string;
  /** effective priority: lower is better */
  priority: number;
  /** cpus its jobs use now (running, being claimed): counts against its group's quota */
  usage?: number;
  /** its idle autoclusters (none for a submitter only listed for its usage) */
  autoclusters: AutoclusterInput[];
  /** ms its parallel jobs took in this cycle before the matchmaker (gang.ts): counted against its time */
  spentMs?: number;
}

/** A claimed slot that preemption may take back. */
export interface ClaimedSlotInput {
  ad: ClassAd;
  /** the submitter (fair-share account) of the job running there */
  remoteSubmitter: string;
  remotePriority: number;
  /** the running job's ad, for the machine's Rank of it (CurrentRank); missing → Rank against an empty ad */
  currentJob?: ClassAd;
  /** seconds the job has run */
  runSeconds: number;
  /** MaxJobRetirementTime left: > 0 means it may not be preempted yet */
  retirementLeft: number;
}

export interface PreemptionPolicy {
  /** PREEMPTION_REQUIREMENTS (MY = the claimed slot with the Remote... and Submitter... attributes, TARGET = the job) */
  requirements?: Expr;
  /** PREEMPTION_RANK: among preemptable slots, higher first */
  rank?: Expr;
}

export interface NegotiationInput {
  /** unclaimed slot ads (partitionable or static) */
  slots: ClassAd[];
  submitters: SubmitterInput[];
  limits?: ConcurrencyLimits;
  groups?: AccountingGroups;
  /** cpus of the whole pool (claimed or not): the root of the group quotas */
  poolCpus?: number;
  /** claimed slots, when preemption is considered */
  claimed?: ClaimedSlotInput[];
  preemption?: PreemptionPolicy;
  /** resources a finished preemption freed, kept for the job that preempted (placed before anyone else) */
  reservations?: Reservation[];
  /**
   * NEGOTIATOR_MAX_TIME_PER_SUBMITTER in ms: past it (summed over its turns) a submitter is left for the rest
   * of this negotiation, so one user's costly Requirements cannot hold up everyone's; unbounded if not given.
   */
  maxTimePerSubmitterMs?: number;
}

/**
 * A vacated slot's resources promised to the autocluster that preempted it: the next job of that
 * autocluster goes to the startd's partitionable slot first, so the evicted job (idle again, and often
 * first in line) cannot take them back.
 */
export interface Reservation {
  schedd: string;
  autocluster: number;
  /** the startd's address */
  startd: string;
}

export interface MatchOut {
  submitter: string;
  schedd: string;
  autocluster: number;
  slot: string;
  startd: string;
  count: number;
}

export interface PreemptionOut {
  submitter: string;
  schedd: string;
  autocluster: number;
  /** the dynamic (or static) slot to vacate */
  slot: string;
  startd: string;
  /** who runs there now */
  victim: string;
  reason: 'rank' | 'priority';
}

export interface NegotiationResult {
  matches: MatchOut[];
  preemptions: PreemptionOut[];
  /** per submitter: jobs matched (or slots preempted for it) and their cpus */
  placed: Map<string, { jobs: number; cpus: number }>;
  /** the reservations (indices into the input's) that were placed */
  reservationsPlaced: number[];
  stats: {
    slots: number;
    classes: number;
    autoclusters: number;
    /** expressions evaluated once per (autocluster, class) */
    classEvaluations: number;
    /** expressions evaluated per slot */
    slotEvaluations: number;
    jobs: number;
    /** autoclusters whose Requirements evaluated to error this cycle (given up on at once) */
    requirementsErrors: number;
  };
  /** the group tree (quotas and usage after this negotiation), when groups are configured */
  groups?: Map<string, GroupNode>;
  /** submitters left for the rest of this negotiation at maxTimePerSubmitterMs, in the order they ran out */
  outOfTime: string[];
}

// ---- internals --------------------------------------------------------------------------------------------

type Fn = (my: ClassAd, target?: ClassAd) => Value;
const compiled = new WeakMap<Expr, Fn>();
function fnOf(e: Expr): Fn {
  let f = compiled.get(e);
  if (!f) compiled.set(e, (f = compile(e)));
  return f;
}
function rankValue(v: Value): number {
  const n = toNumber(v);
  return n === undefined || Number.isNaN(n) ? 0 : n;
}

/**
 * An attribute with more distinct values than this among the slots is read per slot rather than made part of
 * the class key (host names, load averages): otherwise every slot would be a class of its own.
 */
const MAX_CLASS_VALUES = 32;

/** Resources are per slot by nature (and shrink as partitionable slots are split during the cycle). */
const RESOURCE_ATTRS = ['cpus', 'memory', 'disk'];

const EMPTY_AD = new ClassAd();

interface Slot {
  /** position in name order: the final tie-break */
  ord: number;
  name: string;
  address: string;
  ad: ClassAd;
  free: Resources;
  custom: string[];
  customKey: string;
  partitionable: boolean;
  cls: SlotClass;
  /** bumped whenever the slot's resources change (a per-slot verdict is valid for one version) */
  version: number;
  dead: boolean;
}

interface PolicyConjunct {
  expr: Expr;
  fn: Fn;
}

interface SlotClass {
  id: number;
  rep: Slot;
  members: Slot[];
  live: number;
  /** upper bound of any member's free cpus/memory/disk (resources only shrink during a cycle) */
  max: Resources;
  /**
   * Requests for which a whole walk of the class found no member with room: any request at least as large
   * finds none either (resources only shrink during a cycle), so later walks skip the class.
   */
  noFit: Resources[];
  /** the slot side of the match: Requirements (or START), split; undefined = never matches */
  policy?: PolicyConjunct[];
  rank?: Expr;
}

interface Conjunct {
  fn: Fn;
  /** reads only class attributes: one evaluation per class */
  perClass: boolean;
  /** otherwise: how it is tested per slot */
  test?: SlotTest;
  /** per class and reading nothing of the job: one verdict per class serves every autocluster */
  shared?: Uint8Array;
}

/** A candidate class of an autocluster whose ranks are per class. */
interface Entry {
  jr: number;
  mr: number;
  cls: SlotClass;
}

/** How an autocluster goes through its candidates; `checks[class id]`: the conjuncts left per slot. */
type Walk =
  | { kind: 'class'; checks: Array<ClassCheck | undefined>; entries: Entry[] }
  | { kind: 'shared'; checks: Array<ClassCheck | undefined>; rank: SharedRank; mr: Float64Array; uniformMr: boolean }
  | {
      kind: 'slot';
      checks: Array<ClassCheck | undefined>;
      classes: SlotClass[];
      mr: Float64Array;
      jr: SlotValue;
      machineRank?: boolean;
    };

/** A rank evaluated per slot; remembered per (class, value) when it reads one per-slot attribute only. */
interface SlotValue {
  fn: Fn;
  mine: boolean;
  memo?: { value: (s: Slot) => number; cache: Map<number, number> };
}

/** The conjuncts of a match left to test per slot, for one class. */
interface ClassCheck {
  tests: SlotTest[];
}

/**
 * A conjunct tested per slot. When it reads a single per-slot attribute, its result is a function of the class
 * and that attribute's value, and is remembered: `TARGET.Memory >= RequestMemory` is evaluated once per
 * (class, Memory value), not once per slot.
 */
interface SlotTest {
  fn: Fn;
  /** MY is the job (the job's Requirements) rather than the slot (the slot's START) */
  mine: boolean;
  memo?: { value: (s: Slot) => number; cache: Map<number, boolean> };
  /** it reads nothing of the job: one verdict per slot (and slot version) serves every autocluster */
  shared?: SlotVerdicts;
}

/** Per-slot verdicts of a conjunct that reads only the slot: 1 true, 2 false, valid for one slot version. */
interface SlotVerdicts {
  ok: Uint8Array;
  version: Int32Array;
}

interface Ac {
  sub: Sub;
  id: number;
  idle: number;
  ad: ClassAd;
  cpus: number;
  hasRequirements: boolean;
  jobConjuncts: Conjunct[];
  rank?: { fn: Fn; perClass: boolean };
  machineRankPerClass: boolean;
  /** per slot-side policy conjunct: undefined = evaluated per class for this job, else its per-slot test */
  policyTests: Map<Expr, SlotTest | null>;
  wants: Map<string, number>;
  reqs: Map<string, Resources>;
  walk?: Walk;
  rejected: Map<number, number>;
  done: boolean;
  /**
   * Its Requirements evaluated to error against a slot (a type mismatch, a bad argument, or more work than an
   * evaluation may do: up to about a second each). It is not evaluated again in this cycle and matches nothing,
   * so a hostile or broken expression costs one evaluation per cycle, not one per slot.
   */
  requirementsError?: boolean;
  preemptOrder?: Array<{ c: Claimed; jr: number; reason: 'rank' | 'priority'; pr: number }>;
}

interface Sub {
  input: SubmitterInput;
  acs: Ac[];
  group?: GroupNode;
  jobs: number;
  cpus: number;
  /**
   * ms its user's submitters spent on their autoclusters (their requests, then placing them) in this
   * negotiation: one clock for all of a user's accounting groups (timeKey)
   */
  clock: { ms: number };
  /** ms of the clock it spent itself (its parallel jobs' included) */
  ownMs: number;
  outOfTime?: boolean;
}

/** The matchmaker runs this long at most before the event loop gets a turn (negotiateInTurns). */
export const SLICE_MS = 20;

interface Claimed {
  input: ClaimedSlotInput;
  name: string;
  address: string;
  res: Resources;
  /** the same startd's partitionable slot: what is left there joins what the vacated slot frees */
  pslot?: Slot;
  custom: string[];
  overlay: ClassAd;
  currentRank: number;
  taken: boolean;
}

/** fitCount without its allocation for the common request without custom resources (the hot path). */
function fits(req: Resources, free: Resources): number {
  if (req.custom) return fitCount(req, free);
  let n = Math.floor(free.cpus / Math.max(1, req.cpus));
  if (req.memory > 0) n = Math.min(n, Math.floor(free.memory / req.memory));
  if (req.disk > 0) n = Math.min(n, Math.floor(free.disk / req.disk));
  return Math.max(0, n);
}

function jobAttrState(ad: ClassAd, lower: string): 'missing' | 'literal' | 'expr' {
  const e = ad.entry(lower)?.expr;
  return !e ? 'missing' : e.kind === 'literal' ? 'literal' : 'expr';
}

/** Whether a class is known to have no member with room for `req` (see SlotClass.noFit). */
function noRoom(c: SlotClass, req: Resources): boolean {
  if (req.custom) return false;
  for (const f of c.noFit) if (req.cpus >= f.cpus && req.memory >= f.memory && req.disk >= f.disk) return true;
  return false;
}

function noteNoRoom(c: SlotClass, req: Resources): void {
  if (req.custom || noRoom(c, req)) return;
  c.noFit = c.noFit.filter((f) => !(f.cpus >= req.cpus && f.memory >= req.memory && f.disk >= req.disk));
  if (c.noFit.length < 32) c.noFit.push(req);
}

/** A custom resource's free amount on a slot, by its lower-cased name. */
function customValue(s: Slot, lower: string): number {
  for (const [k, v] of Object.entries(s.free.custom ?? {})) if (k.toLowerCase() === lower) return v;
  return NaN;
}

/** An attribute's value as JS, without evaluating when it is a literal (the usual case in slot ads). */
function js(ad: ClassAd, lower: string): unknown {
  const e = ad.entry(lower)?.expr;
  if (!e) return undefined;
  const v = e.kind === 'literal' ? e.value : UNDEFINED;
  if (v !== UNDEFINED && v !== ERROR) return typeof v === 'bigint' ? Number(v) : v;
  return ad.lookupJS(lower);
}

function num(ad: ClassAd, name: string, dflt: number): number {
  const v = js(ad, name.toLowerCase());
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function resourcesOf(ad: ClassAd, custom: string[]): Resources {
  const r: Resources = { cpus: num(ad, 'Cpus', 0), memory: num(ad, 'Memory', 0), disk: num(ad, 'Disk', 0) };
  for (const c of custom) (r.custom ??= {})[c] = num(ad, c, 0);
  return r;
}

const printed = new WeakMap<Expr, string>();
/** The printed form of a tree (cached: equal texts parsed in different ads are different objects). */
function textOf(e: Expr): string {
  let t = printed.get(e);
  if (t === undefined) printed.set(e, (t = unparse(e)));
  return t;
}

/** One attribute across all slots: a small id per slot (0 = missing; equal ids = equal expressions). */
interface AttrScan {
  /** undefined when there are more than MAX_CLASS_VALUES distinct values */
  ids?: Int32Array;
  distinct: number;
  /** the distinct non-literal expressions (what the reference closure follows) */
  exprs: Expr[];
  /** some slot lacks the attribute */
  missing: boolean;
}

/** A job Rank whose value depends on the slot alone: evaluated once per slot, slots sorted once. */
interface SharedRank {
  values: Float64Array;
  /** slot ords by value (higher first), then name; dead slots are dropped now and then */
  order: Int32Array;
  /** how many slots were dead when `order` was last compacted */
  deadAt: number;
}

/** Reused buffers for the per-slot ranks of one autocluster's turn (placeAc is not re-entered). */
const scratch = {
  slots: new Array<Slot>(1024),
  jr: new Float64Array(1024),
  mr: new Float64Array(1024),
  grow() {
    const n = this.slots.length * 2;
    this.slots.length = n;
    const jr = new Float64Array(n);
    jr.set(this.jr);
    this.jr = jr;
    const mr = new Float64Array(n);
    mr.set(this.mr);
    this.mr = mr;
  },
};

/** A max-heap of the indices 0..n-1 under `cmp` (> 0: a before b), built in O(n), popped lazily. */
class IndexHeap {
  private h: Int32Array;
  private n: number;
  constructor(
    n: number,
    private cmp: (a: number, b: number) => number,
  ) {
    this.n = n;
    this.h = new Int32Array(n);
    for (let i = 0; i < n; i++) this.h[i] = i;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }
  /** the best remaining index, or -1 */
  pop(): number {
    if (!this.n) return -1;
    const top = this.h[0]!;
    this.h[0] = this.h[--this.n]!;
    this.down(0);
    return top;
  }
  private down(k: number) {
    const h = this.h;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < this.n && this.cmp(h[l]!, h[m]!) > 0) m = l;
      if (r < this.n && this.cmp(h[r]!, h[m]!) > 0) m = r;
      if (m === k) return;
      const t = h[m]!;
      h[m] = h[k]!;
      h[k] = t;
      k = m;
    }
  }
}

/** A binary heap of cursors over name-ordered slot lists (the k-way merge of a tie group). */
class MergeHeap {
  private h: Array<{ list: Slot[]; i: number }> = [];
  push(list: Slot[]) {
    if (!list.length) return;
    this.h.push({ list, i: 0 });
    this.up(this.h.length - 1);
  }
  /** the next slot in name order */
  pop(): Slot | undefined {
    const top = this.h[0];
    if (!top) return undefined;
    const slot = top.list[top.i++]!;
    if (top.i >= top.list.length) {
      const last = this.h.pop()!;
      if (this.h.length) {
        this.h[0] = last;
        this.down(0);
      }
    } else this.down(0);
    return slot;
  }
  private key(k: number) {
    const c = this.h[k]!;
    return c.list[c.i]!.ord;
  }
  private up(k: number) {
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (this.key(p) <= this.key(k)) break;
      [this.h[p], this.h[k]] = [this.h[k]!, this.h[p]!];
      k = p;
    }
  }
  private down(k: number) {
    const n = this.h.length;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < n && this.key(l) < this.key(m)) m = l;
      if (r < n && this.key(r) < this.key(m)) m = r;
      if (m === k) break;
      [this.h[m], this.h[k]] = [this.h[k]!, this.h[m]!];
      k = m;
    }
  }
}

/**
 * One negotiation: build the slot classes, then hand out slots in fair-share (and group) order. An instance
 * is used once. The input ads are as advertised again when it returns (partitionable slots are split in
 * place, START may read what is left, and the values are put back at the end).
 */
export class Matchmaker {
  private slots: Slot[] = [];
  private classes: SlotClass[] = [];
  private subs: Sub[] = [];
  private claimed: Claimed[] = [];
  /** attributes read per slot (many values, or resources) */
  private perSlotAttrs = new Set<string>(RESOURCE_ATTRS);
  /** the resources: per slot, and changing while partitionable slots are split */
  private resourceAttrs = new Set<string>(RESOURCE_ATTRS);
  /** attributes every member of a class agrees on (the class key) */
  private keySet = new Set<string>();
  private scans = new Map<string, AttrScan>();
  private classified = new Map<string, { verdict: true | string | undefined; jobNames: Array<[string, boolean]> }>();
  private jobFreeCache = new Map<string, boolean>();
  private verdictCache = new Map<string, SlotVerdicts>();
  private sharedRanks = new Map<string, SharedRank | null>();
  private freeCpus = 0;
  /** partitionable slots split so far, with their resource attributes as advertised */
  private split: Array<{ ad: ClassAd; attrs: ReadonlyArray<readonly [string, Expr | undefined]> }> = [];
  /** slots handed out entirely so far */
  private deadSlots = 0;
  private matches = new Map<string, MatchOut>();
  private preemptions: PreemptionOut[] = [];
  private stats = {
    slots: 0,
    classes: 0,
    autoclusters: 0,
    classEvaluations: 0,
    slotEvaluations: 0,
    jobs: 0,
    requirementsErrors: 0,
  };
  private preemptReq?: Fn;
  private preemptRank?: Fn;

  private outOfTime: string[] = [];
  /** when the event loop last had a turn (negotiateInTurns) */
  private sliceStart = 0;

  constructor(private input: NegotiationInput) {}

  /** The whole negotiation at once (tests, benchmarks). */
  negotiate(): NegotiationResult {
    const steps = this.run();
    try {
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        this.sliceStart = performance.now();
      }
    } finally {
      this.restoreSplit();
    }
  }

  /**
   * The same negotiation, giving the event loop a turn every SLICE_MS between autoclusters, so the daemon
   * keeps answering (and reading the collector's stream) while a costly one is matched.
   */
  async negotiateInTurns(): Promise<NegotiationResult> {
    const steps = this.run();
    try {
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.sliceStart = performance.now();
      }
    } finally {
      this.restoreSplit();
    }
  }

  private restoreSplit() {
    for (const { ad, attrs } of this.split) for (const [n, e] of attrs) e ? ad.set(n, e) : ad.delete(n);
  }

  /** Yields where the event loop may take a turn. */
  private *run(): Generator<void, NegotiationResult> {
    const input = this.input;
    this.sliceStart = performance.now();
    this.indexSlots(input.slots);
    const clocks = new Map<string, { ms: number }>();
    for (const s of input.submitters) {
      const key = timeKey(s.name, s.schedd, s.autoclusters[0]?.ad);
      let clock = clocks.get(key);
      if (!clock) clocks.set(key, (clock = { ms: 0 }));
      clock.ms += s.spentMs ?? 0;
      this.subs.push({ input: s, acs: [], jobs: 0, cpus: 0, clock, ownMs: s.spentMs ?? 0 });
    }
    // the requests (RequestCpus…) are evaluated here: a submitter's time counts from its first autocluster
    for (const sub of this.subs) {
      const acs = sub.input.autoclusters;
      let t = performance.now();
      // its user's other submitters (their parallel jobs too) may have taken its time already
      this.timeGone(
        sub,
        acs.some((a) => a.idle > 0),
      );
      for (let i = 0; i < acs.length && !sub.outOfTime; i++) {
        if (acs[i]!.idle <= 0) continue;
        sub.acs.push(this.analyze(sub, acs[i]!));
        t = yield* this.spent(sub, t, acs, i);
      }
    }
    for (const sub of this.subs)
      sub.acs.sort((a, b) => num(b.ad, 'JobPrio', 0) - num(a.ad, 'JobPrio', 0) || a.id - b.id);
    this.stats.autoclusters = this.subs.reduce((n, s) => n + s.acs.length, 0);
    this.buildClasses();
    if (input.claimed?.length && input.preemption) this.indexClaimed(input.claimed, input.preemption);
    const reservationsPlaced = (input.reservations ?? []).flatMap((r, i) => (this.placeReserved(r) ? [i] : []));

    // submitters in fair-share order (lower effective priority first; name for a stable order)
    const subs = this.subs
      .slice()
      .sort(
        (a, b) =>
          a.input.priority - b.input.priority ||
          (a.input.name < b.input.name ? -1 : a.input.name > b.input.name ? 1 : 0),
      );
    let groups: Map<string, GroupNode> | undefined;
    if (input.groups?.enabled) {
      const usage = new Map<string, number>();
      const requested = new Map<string, number>();
      for (const s of subs) {
        const g = input.groups.groupOf(accountingName(s.input.name));
        usage.set(g, (usage.get(g) ?? 0) + (s.input.usage ?? 0));
        requested.set(g, (requested.get(g) ?? 0) + s.acs.reduce((n, a) => n + a.idle * a.cpus, 0));
      }
      groups = input.groups.tree(input.poolCpus ?? this.freeCpus, usage, requested);
      for (const s of subs) s.group = groups.get(input.groups.groupOf(accountingName(s.input.name)));
      const order = starvationOrder(groups);
      for (const phase of ['quota', 'surplus'] as const) {
        for (const g of order) {
          const members = subs.filter((s) => s.group === g);
          if (!members.some((s) => hasWork(s))) continue;
          const room = allowance(g, phase);
          if (room >= 1) yield* this.pie(members, room, g);
        }
      }
    } else yield* this.pie(subs, Infinity, undefined);

    const placed = new Map<string, { jobs: number; cpus: number }>();
    for (const s of this.subs) if (s.jobs) placed.set(s.input.name, { jobs: s.jobs, cpus: s.cpus });
    return {
      matches: [...this.matches.values()],
      preemptions: this.preemptions,
      placed,
      reservationsPlaced,
      stats: this.stats,
      groups,
      outOfTime: this.outOfTime,
    };
  }

  // ---- slots and classes --------------------------------------------------------------------------------

  private indexSlots(ads: ClassAd[]) {
    for (const ad of ads) {
      const custom = customResourceNames(js(ad, 'machineresources'));
      const s: Slot = {
        ord: 0,
        name: String(js(ad, 'name') ?? ''),
        address: String(js(ad, 'myaddress') ?? ''),
        ad,
        free: resourcesOf(ad, custom),
        custom,
        customKey: custom.join(' '),
        partitionable: js(ad, 'partitionableslot') === true,
        cls: undefined as unknown as SlotClass,
        version: 0,
        dead: false,
      };
      if (s.free.cpus > 0 && s.address) this.slots.push(s);
    }
    this.slots.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.slots.forEach((s, i) => (s.ord = i));
    for (const s of this.slots) {
      this.freeCpus += s.free.cpus;
      for (const c of s.custom) {
        this.perSlotAttrs.add(c.toLowerCase());
        this.resourceAttrs.add(c.toLowerCase());
      }
    }
    this.stats.slots = this.slots.length;
  }

  /** Attribute `name` (lower case) across the slots, scanned once. */
  private scan(name: string): AttrScan {
    return this.scans.get(name) ?? this.scanMany([name])[0]!;
  }

  /**
   * Scan several attributes in one pass over the slots: the lookups are memory-bound (10,000 ads), and an
   * ad's index stays in cache while all the names are looked up in it.
   */
  private scanMany(names: string[]): AttrScan[] {
    const todo = [...new Set(names)].filter((n) => !this.scans.has(n));
    const state = todo.map(() => ({
      ids: new Int32Array(this.slots.length),
      byValue: new Map<unknown, number>(),
      byText: new Map<string, number>(),
      exprs: [] as Expr[],
      next: 1,
      missing: 0,
      many: false,
    }));
    for (let i = 0; i < this.slots.length; i++) {
      const ad = this.slots[i]!.ad;
      for (let k = 0; k < todo.length; k++) {
        const st = state[k]!;
        const e = ad.entry(todo[k]!)?.expr;
        let id: number | undefined;
        if (st.many) {
          // past MAX_CLASS_VALUES the ids serve nothing (the attribute is read per slot): only the
          // expressions are still collected, for the reference closure
          if (e && e.kind !== 'literal') {
            const t = textOf(e);
            if (!st.byText.has(t)) {
              st.byText.set(t, st.next++);
              st.exprs.push(e);
            }
          }
          continue;
        }
        if (!e) {
          id = 0;
          st.missing = 1;
        } else if (e.kind === 'literal') {
          // literal values as Map keys: 5n, 5 and "5" stay apart (they are different ClassAd values)
          id = st.byValue.get(e.value);
          if (id === undefined) st.byValue.set(e.value, (id = st.next++));
        } else {
          const t = textOf(e);
          id = st.byText.get(t);
          if (id === undefined) {
            st.byText.set(t, (id = st.next++));
            st.exprs.push(e);
          }
        }
        st.ids[i] = id;
        if (st.next > MAX_CLASS_VALUES + 1) st.many = true;
      }
    }
    todo.forEach((n, k) => {
      const st = state[k]!;
      this.scans.set(n, {
        ids: st.many ? undefined : st.ids,
        distinct: st.many ? Infinity : st.next - 1 + st.missing,
        exprs: st.exprs,
        missing: st.missing > 0,
      });
    });
    return names.map((n) => this.scans.get(n)!);
  }

  /** The distinct non-literal expressions of a slot attribute: what the reference closure follows. */
  private readonly slotExprSource = (name: string): Iterable<Expr> => this.scan(name).exprs;

  /** The attributes the slots' own policy expressions start from. */
  private static POLICY = ['requirements', 'start', 'rank'];

  /** Group the slots into classes by the attributes any expression of this negotiation can read. */
  private buildClasses() {
    // what can be read: the jobs' Requirements/Rank (and what they lead to) and the slots' policy expressions
    const read = new Set<string>(Matchmaker.POLICY);
    // the names the jobs name on the slot side, scanned in one pass (the closure below finds any others)
    const first = new Set<string>(Matchmaker.POLICY);
    for (const sub of this.subs)
      for (const ac of sub.acs)
        for (const n of ['requirements', 'rank']) {
          const e = ac.ad.get(n);
          if (!e) continue;
          const r = refsOf(e);
          for (const x of r.target) first.add(x);
          for (const x of r.unscoped) if (!ac.ad.get(x)) first.add(x);
        }
    this.scanMany([...first]);
    for (const sub of this.subs) for (const ac of sub.acs) for (const n of this.acReach(ac).slot) read.add(n);
    for (const p of Matchmaker.POLICY)
      for (const e of this.slotExprSource(p))
        for (const n of reach(e, 'slot', EMPTY_AD, this.slotExprSource).slot) read.add(n);
    for (const n of read)
      if (!Matchmaker.POLICY.includes(n) && this.scan(n).distinct > MAX_CLASS_VALUES) this.perSlotAttrs.add(n);
    const keyAttrs = [...read].filter((n) => !this.perSlotAttrs.has(n)).sort();
    this.keySet = new Set(keyAttrs);
    const inline = (ad: ClassAd) => (n: string) => (this.keySet.has(n) ? ad.get(n) : undefined);
    // a trie over the attributes' ids: slots reaching the same leaf agree on every key attribute
    const columns = keyAttrs.map((n) => this.scan(n).ids!);
    type Node = Map<number, Node | SlotClass>;
    const roots = new Map<string, Node>();
    for (const s of this.slots) {
      let node = roots.get(s.customKey);
      if (!node) roots.set(s.customKey, (node = new Map()));
      let c: SlotClass | undefined;
      for (let k = 0; k < columns.length; k++) {
        const id = columns[k]![s.ord]!;
        let next = node.get(id);
        if (k === columns.length - 1) c = next as SlotClass | undefined;
        else {
          if (!next) node.set(id, (next = new Map()));
          node = next as Node;
        }
      }
      if (!columns.length) c = node.get(0) as SlotClass | undefined;
      if (!c) {
        c = { id: this.classes.length, rep: s, members: [], live: 0, max: { cpus: 0, memory: 0, disk: 0 }, noFit: [] };
        node.set(columns.length ? columns[columns.length - 1]![s.ord]! : 0, c);
        this.classes.push(c);
        const req = s.ad.get('Requirements') ?? s.ad.get('START');
        if (req) c.policy = conjuncts(req, inline(s.ad)).map((expr) => ({ expr, fn: fnOf(expr) }));
        c.rank = s.ad.get('Rank');
      }
      s.cls = c;
      c.members.push(s); // slots are in name order already
      c.live++;
      c.max.cpus = Math.max(c.max.cpus, s.free.cpus);
      c.max.memory = Math.max(c.max.memory, s.free.memory);
      c.max.disk = Math.max(c.max.disk, s.free.disk);
    }
    this.stats.classes = this.classes.length;
  }

  // ---- autoclusters -------------------------------------------------------------------------------------

  private acReachCache = new WeakMap<Ac, Reach>();
  /** Everything an autocluster's match can read on the slot side (its expressions and the slots' policies). */
  private acReach(ac: Ac): Reach {
    let r = this.acReachCache.get(ac);
    if (!r) {
      r = { slot: new Set(), job: new Set(), dynamic: false };
      for (const n of ['requirements', 'rank']) {
        const e = ac.ad.get(n);
        if (e) reach(e, 'job', ac.ad, this.slotExprSource, r);
      }
      this.acReachCache.set(ac, r);
    }
    return r;
  }

  private perClassExpr(e: Expr, side: 'job' | 'slot', job: ClassAd): boolean {
    return this.classify(e, side, job) === true;
  }

  /**
   * true: the expression reads only attributes every member of a class agrees on (one evaluation per class).
   * Otherwise the per-slot attributes it reads: a name when there is exactly one, else undefined.
   */
  private classify(e: Expr, side: 'job' | 'slot', job: ClassAd): true | string | undefined {
    // autoclusters share most conjuncts ("TARGET.Arch == ...", "TARGET.Memory >= RequestMemory"): when the
    // closure went through no job expression (every job attribute it named is a literal or missing), the
    // verdict holds for any job with the same attributes present as literals and the same ones missing (an
    // unscoped name the job lacks is looked up in the slot)
    const key = `${side}\u0000${textOf(e)}`;
    const hit = this.classified.get(key);
    if (hit && hit.jobNames.every(([n, present]) => jobAttrState(job, n) === (present ? 'literal' : 'missing')))
      return hit.verdict;
    const r = reach(e, side, job, this.slotExprSource);
    let verdict: true | string | undefined;
    if (!r.dynamic) {
      let count = 0;
      for (const n of r.slot)
        if (!this.keySet.has(n)) {
          verdict = n;
          count++;
        }
      verdict = count === 0 ? true : count === 1 ? verdict : undefined;
    }
    const states = [...r.job].map((n) => [n, jobAttrState(job, n)] as const);
    if (!hit && states.every(([, st]) => st !== 'expr'))
      this.classified.set(key, { verdict, jobNames: states.map(([n, st]) => [n, st === 'literal']) });
    return verdict;
  }

  private slotValue(fn: Fn, mine: boolean, single: string | undefined): SlotValue {
    const memo = this.slotTest(fn, mine, single).memo;
    return { fn, mine, memo: memo && { value: memo.value, cache: new Map() } };
  }

  private valueAt(v: SlotValue, ac: Ac, slot: Slot): number {
    let key = -1;
    if (v.memo) {
      const x = v.memo.value(slot);
      if (Number.isInteger(x) && x >= 0 && x < 4294967296) {
        key = slot.cls.id * 4294967296 + x;
        const r = v.memo.cache.get(key);
        if (r !== undefined) return r;
      }
    }
    this.stats.slotEvaluations++;
    const r = rankValue(v.mine ? v.fn(ac.ad, slot.ad) : v.fn(slot.ad, ac.ad));
    if (key >= 0) v.memo!.cache.set(key, r);
    return r;
  }

  /**
   * Whether an expression reads nothing of the job: then its value for a slot is the same for every
   * autocluster (a START clause like `LoadAvg < 0.95`, a job clause like `TARGET.KFlops > 2000000`). From the
   * slot's side an unscoped name counts only if every slot has it (else the lookup falls through to the job).
   */
  private jobFree(e: Expr, side: 'job' | 'slot'): boolean {
    const key = `${side}\u0000${textOf(e)}`;
    let v = this.jobFreeCache.get(key);
    if (v !== undefined) return v;
    v = true;
    const seen = new Set<string>();
    const stack: Array<[Expr, 'job' | 'slot']> = [[e, side]];
    const slotName = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      for (const x of this.slotExprSource(n)) stack.push([x, 'slot']);
    };
    while (v && stack.length) {
      const [x, sd] = stack.pop()!;
      const r = refsOf(x);
      if (r.dynamic) v = false;
      else if (sd === 'job') {
        if (r.my.length || r.unscoped.length) v = false;
        else r.target.forEach(slotName);
      } else {
        if (r.target.length || r.unscoped.some((n) => this.scan(n).missing)) v = false;
        else {
          r.my.forEach(slotName);
          r.unscoped.forEach(slotName);
        }
      }
    }
    this.jobFreeCache.set(key, v);
    return v;
  }

  private classVerdictCache = new Map<string, Uint8Array>();
  /** Per-class verdicts (1 true, 2 false) of a conjunct that reads only class attributes and nothing of the job. */
  private classVerdicts(e: Expr, side: 'job' | 'slot'): Uint8Array {
    const key = `${side}\u0000${textOf(e)}`;
    let v = this.classVerdictCache.get(key);
    if (!v) this.classVerdictCache.set(key, (v = new Uint8Array(this.classes.length)));
    return v;
  }

  private classVerdict(shared: Uint8Array | undefined, c: SlotClass, evaluate: () => Value): boolean {
    if (shared?.[c.id]) return shared[c.id] === 1;
    this.stats.classEvaluations++;
    const ok = isTrue(evaluate());
    if (shared) shared[c.id] = ok ? 1 : 2;
    return ok;
  }

  private verdicts(e: Expr, side: 'job' | 'slot'): SlotVerdicts {
    const key = `${side}\u0000${textOf(e)}`;
    let v = this.verdictCache.get(key);
    if (!v)
      this.verdictCache.set(
        key,
        (v = { ok: new Uint8Array(this.slots.length), version: new Int32Array(this.slots.length) }),
      );
    return v;
  }

  private slotTest(fn: Fn, mine: boolean, single: string | undefined, e?: Expr): SlotTest {
    const t: SlotTest = { fn, mine };
    if (e && this.jobFree(e, mine ? 'job' : 'slot')) t.shared = this.verdicts(e, mine ? 'job' : 'slot');
    if (single === undefined) return t;
    let value: ((s: Slot) => number) | undefined;
    if (single === 'cpus') value = (s) => s.free.cpus;
    else if (single === 'memory') value = (s) => s.free.memory;
    else if (single === 'disk') value = (s) => s.free.disk;
    else if (this.resourceAttrs.has(single)) value = (s) => customValue(s, single);
    else {
      const ids = this.scan(single).ids;
      if (!ids) return t;
      value = (s) => ids[s.ord]!;
    }
    t.memo = { value, cache: new Map() };
    return t;
  }

  private analyze(sub: Sub, a: AutoclusterInput): Ac {
    const req = a.ad.get('Requirements');
    const rank = a.ad.get('Rank');
    const ac: Ac = {
      sub,
      id: a.id,
      idle: a.idle,
      ad: a.ad,
      cpus: jobRequests((n) => a.ad.lookupJS(n)).cpus,
      hasRequirements: !!req,
      jobConjuncts: [],
      rank: rank ? { fn: fnOf(rank), perClass: true } : undefined,
      machineRankPerClass: true,
      policyTests: new Map(),
      wants: parseLimits(a.ad.lookupJS('ConcurrencyLimits')),
      reqs: new Map(),
      rejected: new Map(),
      done: false,
    };
    return ac;
  }

  /** The per-class / per-slot split of an autocluster's expressions (after the classes are known). */
  private prepare(ac: Ac) {
    const req = ac.ad.get('Requirements');
    if (req)
      ac.jobConjuncts = conjuncts(req).map((e) => {
        const raw = fnOf(e);
        const fn: Fn = (my, target) => {
          const v = raw(my, target);
          if (v === ERROR) {
            ac.requirementsError = true;
            this.stats.requirementsErrors++;
          }
          return v;
        };
        const k = this.classify(e, 'job', ac.ad);
        if (k !== true) return { fn, perClass: false, test: this.slotTest(fn, true, k, e) };
        return { fn, perClass: true, shared: this.jobFree(e, 'job') ? this.classVerdicts(e, 'job') : undefined };
      });
    if (ac.rank) ac.rank.perClass = this.perClassExpr(ac.ad.get('Rank')!, 'job', ac.ad);
    for (const e of this.slotExprSource('rank'))
      if (!this.perClassExpr(e, 'slot', ac.ad)) ac.machineRankPerClass = false;
  }

  /** null: the slot's policy conjunct `e` is evaluated per class for this job; else how per slot. */
  private policyTest(ac: Ac, e: Expr, fn: Fn): SlotTest | null {
    let t = ac.policyTests.get(e);
    if (t === undefined) {
      const k = this.classify(e, 'slot', ac.ad);
      ac.policyTests.set(e, (t = k === true ? null : this.slotTest(fn, false, k, e)));
    }
    return t;
  }

  private reqFor(ac: Ac, slot: { customKey: string; custom: string[] }): Resources {
    let r = ac.reqs.get(slot.customKey);
    if (!r) ac.reqs.set(slot.customKey, (r = jobRequests((n) => ac.ad.lookupJS(n), slot.custom)));
    return r;
  }

  /**
   * Where the autocluster can go, decided on its first turn and reused after: the classes whose per-class
   * conjuncts hold, each with the conjuncts left to test per slot, in rank order. Ranks evaluated per class
   * sort the classes; a Rank shared by all autoclusters uses its one slot order; any other per-slot Rank sorts
   * this autocluster's candidate slots.
   */
  private walkOrder(ac: Ac): Walk {
    if (ac.walk) return ac.walk;
    this.prepare(ac);
    const base = this.reqFor(ac, { customKey: '', custom: [] });
    const checks = new Array<ClassCheck | undefined>(this.classes.length);
    const mrs = new Float64Array(this.classes.length);
    const perClassRank = (!ac.rank || ac.rank.perClass) && ac.machineRankPerClass;
    const shared = !perClassRank && ac.machineRankPerClass ? this.sharedRank(ac) : undefined;
    const entries: Entry[] = [];
    const slotClasses: SlotClass[] = [];
    let uniformMr = true;
    let firstMr: number | undefined;
    if (ac.hasRequirements) {
      for (const c of this.classes) {
        if (ac.requirementsError) break;
        if (!c.live || !c.policy) continue;
        if (fits(base, c.max) < 1) continue;
        const rep = c.rep.ad;
        const check: ClassCheck = { tests: [] };
        let ok = true;
        for (const j of ac.jobConjuncts) {
          if (!j.perClass) check.tests.push(j.test!);
          else if (!this.classVerdict(j.shared, c, () => j.fn(ac.ad, rep))) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        for (const p of c.policy) {
          const t = this.policyTest(ac, p.expr, p.fn);
          if (t) check.tests.push(t);
          else if (
            !this.classVerdict(this.jobFree(p.expr, 'slot') ? this.classVerdicts(p.expr, 'slot') : undefined, c, () =>
              p.fn(rep, ac.ad),
            )
          ) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        checks[c.id] = check;
        if (perClassRank || shared || ac.machineRankPerClass) {
          const jr = perClassRank && ac.rank ? rankValue(ac.rank.fn(ac.ad, rep)) : 0;
          const mr = c.rank ? rankValue(fnOf(c.rank)(rep, ac.ad)) : 0;
          this.stats.classEvaluations += (perClassRank && ac.rank ? 1 : 0) + (c.rank ? 1 : 0);
          mrs[c.id] = mr;
          if (firstMr === undefined) firstMr = mr;
          else if (mr !== firstMr) uniformMr = false;
          entries.push({ jr, mr, cls: c });
        }
        if (!perClassRank && !shared) slotClasses.push(c);
      }
    }
    let walk: Walk;
    if (shared) walk = { kind: 'shared', checks, rank: shared, mr: mrs, uniformMr };
    else if (perClassRank) {
      entries.sort((a, b) => b.jr - a.jr || b.mr - a.mr);
      walk = { kind: 'class', checks, entries };
    } else {
      const e = ac.ad.get('Rank');
      const k = e ? this.classify(e, 'job', ac.ad) : true;
      const jr = this.slotValue(ac.rank?.fn ?? (() => 0), true, typeof k === 'string' ? k : undefined);
      walk = { kind: 'slot', checks, classes: slotClasses, mr: mrs, jr, machineRank: !ac.machineRankPerClass };
    }
    ac.walk = walk;
    return walk;
  }

  /**
   * The slot order of a job Rank that reads only slot attributes which stay put during the cycle (KFlops,
   * Mips, labels): one evaluation per slot and one sort per cycle, whatever the number of autoclusters using
   * it. A Rank that reads the job's own attributes, or resources (which shrink as slots are split), is
   * evaluated per autocluster instead.
   */
  private sharedRank(ac: Ac): SharedRank | undefined {
    const e = ac.ad.get('Rank');
    if (!e) return undefined;
    const r = reach(e, 'job', ac.ad, this.slotExprSource);
    if (r.dynamic) return undefined;
    for (const n of r.job) if (ac.ad.get(n)) return undefined;
    for (const n of r.slot) if (this.resourceAttrs.has(n)) return undefined;
    const key = textOf(e);
    let sr = this.sharedRanks.get(key);
    if (sr === undefined) {
      const fn = fnOf(e);
      const values = new Float64Array(this.slots.length);
      for (let i = 0; i < this.slots.length; i++) values[i] = rankValue(fn(ac.ad, this.slots[i]!.ad));
      this.stats.slotEvaluations += this.slots.length;
      const order = new Int32Array(this.slots.length);
      for (let i = 0; i < order.length; i++) order[i] = i;
      order.sort((a, b) => values[b]! - values[a]! || a - b);
      this.sharedRanks.set(key, (sr = { values, order, deadAt: 0 }));
    }
    return sr ?? undefined;
  }

  // ---- handing out ----------------------------------------------------------------------------------------

  /** One pie spin after another within `room` cpus, until nobody can place anything more. */
  private *pie(subs: Sub[], room: number, group: GroupNode | undefined): Generator<void> {
    for (;;) {
      const active = subs.filter(hasWork);
      if (!active.length || room < 1) return;
      const preempting = this.claimed.some((c) => !c.taken);
      if (this.freeCpus <= 0 && !preempting) return;
      const pieSize = Math.min(
        room,
        this.freeCpus + (preempting ? this.claimed.reduce((n, c) => n + (c.taken ? 0 : c.res.cpus), 0) : 0),
      );
      const weight = (s: Sub) => 1 / Math.max(s.input.priority, 1e-9);
      const total = active.reduce((n, s) => n + weight(s), 0);
      let progress = false;
      for (const s of active) {
        const share = Math.max(1, Math.ceil((pieSize * weight(s)) / total));
        const got = yield* this.negotiateSubmitter(s, share, room, group);
        if (got > 0) progress = true;
        room -= got;
        if (room < 1) return;
      }
      if (!progress) return;
    }
  }

  /**
   * Give one submitter up to `share` cpus (a job may overshoot it) and never more than `hard`. Its time is
   * read once per autocluster (spent): past maxTimePerSubmitterMs with an autocluster still to try, it is out
   * of time, its turns over until the next negotiation (HTCondor's NEGOTIATOR_MAX_TIME_PER_SUBMITTER); its
   * place in the fair-share order is unchanged, so it is not passed over in the next one.
   */
  private *negotiateSubmitter(
    s: Sub,
    share: number,
    hard: number,
    group: GroupNode | undefined,
  ): Generator<void, number> {
    let budget = share;
    let got = 0;
    let t = performance.now();
    this.timeGone(s, hasWork(s));
    for (let i = 0; i < s.acs.length && !s.outOfTime; i++) {
      const ac = s.acs[i]!;
      if (ac.done || ac.idle <= 0 || hard < ac.cpus) continue;
      if (budget <= 0) break;
      const r = this.placeAc(ac, budget, hard);
      budget -= r.cpus;
      hard -= r.cpus;
      got += r.cpus;
      s.jobs += r.jobs;
      s.cpus += r.cpus;
      if (group && r.cpus) chargeGroup(group, r.cpus);
      if (r.finished) ac.done = true;
      t = yield* this.spent(s, t, s.acs, i);
    }
    return got;
  }

  /**
   * Charge `s` the time since `t` (the one clock read per autocluster); past its time with autoclusters after
   * the `i`th of `acs` still to do, it is out of time for the rest of the negotiation. Gives the event loop its
   * turn every SLICE_MS.
   */
  private *spent(
    s: Sub,
    t: number,
    acs: ReadonlyArray<{ idle: number; done?: boolean }>,
    i: number,
  ): Generator<void, number> {
    const now = performance.now();
    s.clock.ms += now - t;
    s.ownMs += now - t;
    if (
      s.clock.ms > (this.input.maxTimePerSubmitterMs ?? Infinity) &&
      !s.outOfTime &&
      acs.some((x, j) => j > i && !x.done && x.idle > 0)
    ) {
      s.outOfTime = true;
      this.outOfTime.push(s.input.name);
    }
    if (now - this.sliceStart < SLICE_MS) return now;
    yield;
    return performance.now();
  }

  /** Before `s` takes a turn with `work` to do: out of time if its user's other submitters took its time. */
  private timeGone(s: Sub, work: boolean): void {
    if (!s.outOfTime && work && s.clock.ms - s.ownMs > (this.input.maxTimePerSubmitterMs ?? Infinity)) {
      s.outOfTime = true;
      this.outOfTime.push(s.input.name);
    }
  }

  /**
   * Place the autocluster's idle jobs on slots in rank order. `finished`: nothing more can be placed for it
   * in this cycle (as opposed to stopping at its budget).
   */
  private placeAc(ac: Ac, budget: number, hard: number): { jobs: number; cpus: number; finished: boolean } {
    const limits = ac.wants.size ? this.input.limits : undefined;
    let jobs = 0;
    const cpus = ac.cpus;
    const base = this.reqFor(ac, { customKey: '', custom: [] });
    const stop = (): 'budget' | 'finished' | undefined => {
      if (ac.idle <= 0 || ac.requirementsError) return 'finished';
      if (limits && limits.room(ac.wants) <= 0) return 'finished';
      if (budget <= 0 || hard < cpus) return 'budget';
      return undefined;
    };
    // classes known to have no room for this request are skipped; those walked without finding room are noted
    const skip = new Uint8Array(this.classes.length);
    const roomSeen = new Uint8Array(this.classes.length);
    const visit = (slot: Slot, check: ClassCheck): boolean => {
      if (slot.dead || ac.requirementsError) return false;
      const req = slot.customKey ? this.reqFor(ac, slot) : base;
      if (fits(req, slot.free) < 1) return false;
      roomSeen[slot.cls.id] = 1;
      const tests = check.tests;
      if (tests.length) {
        if (ac.rejected.get(slot.ord) === slot.version) return false;
        for (let i = 0; i < tests.length; i++) {
          const t = tests[i]!;
          let ok: boolean | undefined;
          let key = -1;
          const sh = t.shared;
          if (sh && sh.ok[slot.ord] && sh.version[slot.ord] === slot.version) ok = sh.ok[slot.ord] === 1;
          else if (t.memo) {
            const v = t.memo.value(slot);
            // the class and the value decide: one key while both fit a double exactly
            if (Number.isInteger(v) && v >= 0 && v < 4294967296) {
              key = slot.cls.id * 4294967296 + v;
              ok = t.memo.cache.get(key);
            }
          }
          if (ok === undefined) {
            this.stats.slotEvaluations++;
            ok = isTrue(t.mine ? t.fn(ac.ad, slot.ad) : t.fn(slot.ad, ac.ad));
            if (key >= 0) t.memo!.cache.set(key, ok);
            if (sh) {
              sh.ok[slot.ord] = ok ? 1 : 2;
              sh.version[slot.ord] = slot.version;
            }
          }
          if (!ok) {
            // the slot's own policy refuses whatever the job (`LoadAvg < 0.95` on a busy machine): it can take
            // nobody in this cycle, and nobody need look at it again
            if (sh && !t.mine) this.retire(slot);
            else ac.rejected.set(slot.ord, slot.version);
            return false;
          }
        }
      }
      let n = slot.partitionable ? fits(req, slot.free) : 1;
      n = Math.min(n, ac.idle, Math.ceil(budget / cpus), Math.floor(hard / cpus));
      if (limits) n = Math.min(n, limits.room(ac.wants));
      if (n <= 0) return false;
      if (limits) limits.take(ac.wants, n);
      ac.idle -= n;
      jobs += n;
      budget -= n * cpus;
      hard -= n * cpus;
      this.take(slot, req, n);
      this.record(ac, slot.name, slot.address, n);
      return true;
    };

    let why = stop();
    if (why) return { jobs, cpus: jobs * cpus, finished: why === 'finished' };
    const walk = this.walkOrder(ac);
    const checks = walk.checks;
    for (const c of this.classes) if (checks[c.id] && (!c.live || noRoom(c, this.reqFor(ac, c.rep)))) skip[c.id] = 1;
    if (walk.kind === 'class') {
      const order = walk.entries;
      for (let i = 0; i < order.length && !why;) {
        // a tie group: equal job Rank and machine Rank, merged by slot name
        let j = i + 1;
        while (j < order.length && order[j]!.jr === order[i]!.jr && order[j]!.mr === order[i]!.mr) j++;
        if (j - i === 1) {
          const c = order[i]!.cls;
          const members = skip[c.id] ? [] : this.liveMembers(c);
          const check = checks[c.id]!;
          for (let k = 0; k < members.length; k++) {
            const slot = members[k]!;
            if (!slot.dead && visit(slot, check) && (why = stop())) break;
          }
        } else {
          const heap = new MergeHeap();
          for (let k = i; k < j; k++) if (!skip[order[k]!.cls.id]) heap.push(this.liveMembers(order[k]!.cls));
          for (let slot = heap.pop(); slot; slot = heap.pop())
            if (!slot.dead && visit(slot, checks[slot.cls.id]!) && (why = stop())) break;
        }
        i = j;
      }
    } else if (walk.kind === 'shared') {
      // runs of equal job Rank in the shared order; within a run, the machine Rank (per class), then name
      const sr = walk.rank;
      if ((this.deadSlots - sr.deadAt) * 2 > sr.order.length) {
        sr.order = sr.order.filter((o) => !this.slots[o]!.dead);
        sr.deadAt = this.deadSlots;
      }
      const { values, order: ords } = sr;
      for (let i = 0; i < ords.length && !why;) {
        const v = values[ords[i]!]!;
        let j = i + 1;
        while (j < ords.length && values[ords[j]!] === v) j++;
        if (walk.uniformMr) {
          for (let k = i; k < j; k++) {
            const slot = this.slots[ords[k]!]!;
            const check = checks[slot.cls.id];
            if (check && !slot.dead && !skip[slot.cls.id] && visit(slot, check) && (why = stop())) break;
          }
        } else {
          const run: Slot[] = [];
          for (let k = i; k < j; k++) {
            const slot = this.slots[ords[k]!]!;
            if (!slot.dead && checks[slot.cls.id] && !skip[slot.cls.id]) run.push(slot);
          }
          run.sort((a, b) => walk.mr[b.cls.id]! - walk.mr[a.cls.id]! || a.ord - b.ord);
          for (const slot of run) if (visit(slot, checks[slot.cls.id]!) && (why = stop())) break;
        }
        i = j;
      }
    } else {
      // a Rank per slot that is not shared (it reads resources or the job): this turn's candidates, best first
      let n = 0;
      for (const c of walk.classes) {
        if (skip[c.id]) continue;
        for (const slot of this.liveMembers(c)) {
          if (slot.dead || fits(this.reqFor(ac, slot), slot.free) < 1) continue;
          roomSeen[c.id] = 1;
          if (n === scratch.slots.length) scratch.grow();
          scratch.slots[n] = slot;
          scratch.jr[n] = this.valueAt(walk.jr, ac, slot);
          scratch.mr[n] = walk.machineRank ? (c.rank ? rankValue(fnOf(c.rank)(slot.ad, ac.ad)) : 0) : walk.mr[c.id]!;
          n++;
        }
      }
      const heap = new IndexHeap(
        n,
        (a, b) =>
          scratch.jr[a]! - scratch.jr[b]! ||
          scratch.mr[a]! - scratch.mr[b]! ||
          scratch.slots[b]!.ord - scratch.slots[a]!.ord,
      );
      for (let i = heap.pop(); i >= 0; i = heap.pop()) {
        const slot = scratch.slots[i]!;
        if (visit(slot, checks[slot.cls.id]!) && (why = stop())) break;
      }
      scratch.slots.fill(undefined as unknown as Slot, 0, n);
    }
    if (!why)
      for (const c of this.classes)
        if (checks[c.id] && !skip[c.id] && !roomSeen[c.id]) noteNoRoom(c, this.reqFor(ac, c.rep));
    if (!why && this.claimed.length)
      why = this.preempt(
        ac,
        () => budget,
        () => hard,
        (n) => ((budget -= n * cpus), (hard -= n * cpus), (jobs += n)),
        stop,
      );
    return { jobs, cpus: jobs * cpus, finished: why !== 'budget' };
  }

  /** A class's members still alive (the array is compacted once half of it is gone). */
  private liveMembers(c: SlotClass): Slot[] {
    if (c.live * 2 < c.members.length) c.members = c.members.filter((s) => !s.dead);
    return c.members;
  }

  private take(slot: Slot, req: Resources, n: number) {
    const cpusBefore = slot.free.cpus;
    if (slot.partitionable) {
      takeResources(slot.free, req, n);
      // the ad is put back as advertised at the end (the negotiator keeps slot ads from one cycle to the next)
      if (slot.version === 0) {
        const names = ['Cpus', 'Memory', 'Disk', ...slot.custom];
        this.split.push({ ad: slot.ad, attrs: names.map((n) => [n, slot.ad.get(n)] as const) });
      }
      slot.ad.setValue('Cpus', slot.free.cpus).setValue('Memory', slot.free.memory).setValue('Disk', slot.free.disk);
      for (const [c, v] of Object.entries(slot.free.custom ?? {})) slot.ad.setValue(c, v);
      slot.version++;
      if (slot.free.cpus <= 0) this.kill(slot);
      this.freeCpus -= cpusBefore - Math.max(0, slot.free.cpus);
    } else {
      this.kill(slot);
      this.freeCpus -= cpusBefore;
    }
  }

  /** A slot no job can use in this cycle. */
  private retire(slot: Slot) {
    if (slot.dead) return;
    this.freeCpus -= Math.max(0, slot.free.cpus);
    this.kill(slot);
  }

  private kill(slot: Slot) {
    if (slot.dead) return;
    slot.dead = true;
    slot.cls.live--;
    this.deadSlots++;
  }

  private record(ac: Ac, slot: string, startd: string, n: number) {
    const key = `${ac.sub.input.schedd}\u0000${ac.id}\u0000${slot}`;
    const m = this.matches.get(key);
    if (m) m.count += n;
    else
      this.matches.set(key, {
        submitter: ac.sub.input.name,
        schedd: ac.sub.input.schedd,
        autocluster: ac.id,
        slot,
        startd,
        count: n,
      });
    this.stats.jobs += n;
  }

  // ---- preemption ------------------------------------------------------------------------------------------

  /**
   * One job of the reserving autocluster on the startd's partitionable slot, if the freed resources are
   * back there and it still fits. Otherwise that job waits for them: it neither runs nor preempts elsewhere.
   */
  private placeReserved(r: Reservation): boolean {
    // autocluster ids are the schedd's: any of its submitters may hold it
    const ac = this.subs
      .flatMap((s) => (s.input.schedd === r.schedd ? s.acs : []))
      .find((a) => a.id === r.autocluster && a.idle > 0);
    if (!ac) return false;
    const sub = ac.sub;
    const slot = this.slots.find((s) => s.partitionable && !s.dead && s.address === r.startd);
    const req = slot && this.reqFor(ac, slot);
    const limits = ac.wants.size ? this.input.limits : undefined;
    if (
      !slot ||
      !req ||
      fits(req, slot.free) < 1 ||
      (limits && limits.room(ac.wants) < 1) ||
      !symmetricMatch(ac.ad, slot.ad)
    ) {
      ac.idle -= 1;
      return false;
    }
    if (limits) limits.take(ac.wants, 1);
    ac.idle -= 1;
    sub.jobs += 1;
    sub.cpus += ac.cpus;
    this.take(slot, req, 1);
    this.record(ac, slot.name, slot.address, 1);
    return true;
  }

  private indexClaimed(list: ClaimedSlotInput[], policy: PreemptionPolicy) {
    this.preemptReq = policy.requirements ? fnOf(policy.requirements) : undefined;
    this.preemptRank = policy.rank ? fnOf(policy.rank) : undefined;
    for (const c of list) {
      const name = String(c.ad.lookupJS('Name') ?? '');
      const address = String(c.ad.lookupJS('MyAddress') ?? '');
      if (!name || !address) continue;
      const custom = customResourceNames(c.ad.lookupJS('MachineResources'));
      const overlay = c.ad.clone();
      overlay.setValue('RemoteUserPrio', c.remotePriority);
      overlay.setValue('TotalJobRunTime', c.runSeconds);
      const remote = this.subs.find((s) => s.input.name === c.remoteSubmitter);
      overlay.setValue('RemoteUserResourcesInUse', remote?.input.usage ?? 0);
      if (this.input.groups?.enabled)
        overlay.setValue('RemoteGroup', this.input.groups.groupOf(accountingName(c.remoteSubmitter)));
      const cur = overlay.get('Rank') ? rankValue(overlay.evaluate('Rank', c.currentJob ?? EMPTY_AD)) : 0;
      const pslot = this.slots.find((s) => s.partitionable && s.address === address);
      this.claimed.push({
        input: c,
        name,
        address,
        res: resourcesOf(c.ad, custom),
        pslot,
        custom,
        overlay,
        currentRank: cur,
        taken: false,
      });
    }
  }

  /**
   * Claimed slots the autocluster may take (HTCondor's reasons): the machine ranks the job above the one it
   * runs (RANK preemption), or the job's submitter has a better priority than the running job's and
   * PREEMPTION_REQUIREMENTS holds (priority preemption, never against the machine's Rank). Ordered by job
   * Rank, then RANK reasons before priority ones, then PREEMPTION_RANK, then name.
   */
  private preemptCandidates(ac: Ac) {
    if (ac.preemptOrder) return ac.preemptOrder;
    const out: NonNullable<Ac['preemptOrder']> = [];
    const sub = ac.sub.input;
    const group = ac.sub.group;
    for (const c of this.claimed) {
      if (c.taken || c.input.retirementLeft > 0) continue;
      const room: Resources = { ...c.res, custom: { ...c.res.custom } };
      if (c.pslot && !c.pslot.dead) giveResources(room, c.pslot.free);
      if (
        fits(
          this.reqFor(
            ac,
            c.custom.length ? { customKey: c.custom.join(' '), custom: c.custom } : { customKey: '', custom: [] },
          ),
          room,
        ) < 1
      )
        continue;
      const o = c.overlay;
      o.setValue('SubmitterUserPrio', sub.priority);
      o.setValue('SubmitterUserResourcesInUse', sub.usage ?? 0);
      if (group) {
        o.setValue('SubmitterGroup', group.name);
        o.setValue('SubmitterGroupQuota', group.quota);
        o.setValue('SubmitterGroupResourcesInUse', group.subtreeUsage);
      }
      this.stats.slotEvaluations += 2;
      if (!ac.hasRequirements || ac.requirementsError) continue;
      const wants = ac.ad.evaluate('Requirements', o);
      if (wants === ERROR) {
        ac.requirementsError = true;
        this.stats.requirementsErrors++;
      }
      if (!isTrue(wants)) continue;
      const policy = o.get('Requirements') ? o.evaluate('Requirements', ac.ad) : o.evaluate('START', ac.ad);
      if (!isTrue(policy)) continue;
      const newRank = o.get('Rank') ? rankValue(o.evaluate('Rank', ac.ad)) : 0;
      let reason: 'rank' | 'priority' | undefined;
      if (newRank > c.currentRank) reason = 'rank';
      else if (
        newRank >= c.currentRank &&
        c.input.remoteSubmitter !== sub.name &&
        sub.priority < c.input.remotePriority &&
        this.preemptReq &&
        isTrue(this.preemptReq(o, ac.ad))
      )
        reason = 'priority';
      if (!reason) continue;
      const jr = ac.rank ? rankValue(ac.rank.fn(ac.ad, o)) : 0;
      const pr = this.preemptRank ? rankValue(this.preemptRank(o, ac.ad)) : 0;
      out.push({ c, jr, reason, pr });
    }
    out.sort(
      (a, b) =>
        b.jr - a.jr ||
        (a.reason === b.reason ? 0 : a.reason === 'rank' ? -1 : 1) ||
        b.pr - a.pr ||
        (a.c.name < b.c.name ? -1 : a.c.name > b.c.name ? 1 : 0),
    );
    ac.preemptOrder = out;
    return out;
  }

  private preempt(
    ac: Ac,
    budget: () => number,
    hard: () => number,
    took: (n: number) => void,
    stop: () => 'budget' | 'finished' | undefined,
  ): 'budget' | 'finished' | undefined {
    const limits = ac.wants.size ? this.input.limits : undefined;
    for (const cand of this.preemptCandidates(ac)) {
      if (cand.c.taken) continue;
      if (budget() <= 0 || hard() < ac.cpus) return 'budget';
      if (limits && limits.room(ac.wants) < 1) return 'finished';
      cand.c.taken = true;
      if (limits) limits.take(ac.wants, 1);
      ac.idle -= 1;
      took(1);
      this.stats.jobs++;
      this.preemptions.push({
        submitter: ac.sub.input.name,
        schedd: ac.sub.input.schedd,
        autocluster: ac.id,
        slot: cand.c.name,
        startd: cand.c.address,
        victim: cand.c.input.remoteSubmitter,
        reason: cand.reason,
      });
      const w = stop();
      if (w) return w;
    }
    return undefined;
  }
}

function hasWork(s: Sub): boolean {
  return !s.outOfTime && s.acs.some((a) => !a.done && a.idle > 0);
}

/** "group_a.alice@schedd" → "group_a.alice" */
/**
 * Whose time a submitter's work takes (NEGOTIATOR_MAX_TIME_PER_SUBMITTER): its jobs' owner at its schedd. A user
 * names any accounting group, each a submitter of its own, so by submitter one user with a group per costly
 * autocluster had no bound at all.
 */
export function timeKey(submitter: string, schedd: string, ad: ClassAd | undefined): string {
  const owner = ad?.lookupJS('Owner');
  return typeof owner === 'string' ? `${owner}@${schedd}` : submitter;
}

export function accountingName(submitter: string): string {
  const at = submitter.lastIndexOf('@');
  return at > 0 ? submitter.slice(0, at) : submitter;
}

export { ROOT_GROUP };
