// The job queue: the whole queue in memory (as HTCondor's schedd keeps it), written through to SQLite.
// A submission is one synchronous transaction committed before the cluster id is returned; job state
// changes are grouped into one transaction per event-loop turn, and whoever needs them durable (an
// acknowledgement to a startd) awaits `commit()`.
import {
  ClassAd,
  literal,
  parseExpr,
  referencedAttrs,
  unparse,
  valueToJS,
  compile,
  type Expr,
} from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import { JobStatus, Universe } from '../../lib/job-status.js';
import { nowSeconds } from '../../lib/time.js';
import { storeError, type DB } from './store/db.js';

export interface ClaimRef {
  id: string;
  startd: string;
  slot: string;
}

export interface Job {
  cluster: number;
  proc: number;
  owner: string;
  status: number;
  prio: number;
  /** Per-proc attributes (name → ClassAd expression text); the cluster's shared ones live on the Cluster. */
  attrs: Record<string, string>;
  /** Autocluster of an idle job (same significant attributes ⇒ same match). */
  ac: number;
  claim?: ClaimRef;
  /** A claim request for this job is in flight. */
  matching?: boolean;
  /**
   * The claim of an earlier run given up on whose exit may still come (its startd was silent): the job is
   * not started again until that run is settled (its exit recorded, or its startd says it has none).
   */
  unsettled?: string;
  ad?: ClassAd;
}

/** A run the schedd gave up on while its startd was silent (past the lease, or after a restart of the schedd). */
export interface LostRun {
  cluster: number;
  proc: number;
  startd: string;
  slot: string;
}

/**
 * A removal committed as one row (`removals`, migration 0006) whose procs wait, shown removed, for their move
 * to history a piece at a time (JobQueue.markRemoved, moveRemoved).
 */
export interface Removal {
  id: number;
  cluster: number;
  /** RemoveReason (ClassAd literal text) */
  reason: string;
  /** when it was committed (epoch seconds) */
  time: number;
  /** its procs, in proc order; those already moved are no longer queued */
  jobs: Job[];
  /** jobs[0 … moved) are in history */
  moved: number;
}

export interface Cluster {
  id: number;
  owner: string;
  attrs: Record<string, string>;
  procs: number;
}

export interface HistoryKey {
  completion: number;
  cluster: number;
  proc: number;
}
export interface HistoryRow extends HistoryKey {
  owner: string;
  /** the proc's own attributes (name → ClassAd expression text); its whole ad for rows written before history_clusters */
  attrs: Record<string, string>;
  /** its cluster's shared attributes (one object for every row of the cluster) */
  shared?: Record<string, string>;
}

/** Procs a submission writes per transaction; the event loop runs between pieces of a larger one. */
export const SUBMIT_PIECE = 50_000;
/** Cluster ids one owner may hold reserved and not queued; past it their oldest reservation lapses. */
export const RESERVED_PER_OWNER = 10_000;
/** The longest wait between tries to write pending changes while the queue cannot be written. */
const MAX_RETRY_MS = 5000;
/** A reserved cluster id whose submission is being written (no user name has a NUL). */
const WRITING = '\0';

export const jobKey = (cluster: number, proc: number) => `${cluster}.${proc}`;

/** ClassAd literal text for a JS value (what goes into an ad). */
export function lit(v: string | number | boolean | null): string {
  // an action on many jobs gives each the same reason: its text is made once
  if (v === lastLit[0] && typeof v === 'string') return lastLit[1];
  const text = unparse(literal(v));
  if (typeof v === 'string') lastLit = [v, text];
  return text;
}
let lastLit: [unknown, string] = [undefined, ''];

/** Whether an expression is a constant as written: a literal, a signed number, in parentheses or not. */
function isLiteral(e: Expr): boolean {
  if (e.kind === 'literal') return true;
  if (e.kind === 'paren') return isLiteral(e.expr);
  return e.kind === 'unary' && (e.op === '-' || e.op === '+') && isLiteral(e.operand);
}

const EMPTY = new ClassAd();
const litCache = new Map<string, unknown>();
/**
 * The JS value of a literal's text (`5`, `-5`, `"x"`, `true`), cached: ads repeat the same few texts. Any other
 * expression gives undefined, since its value depends on the ad it is evaluated in (`ifThenElse(isUndefined(X),
 * 10, X)` is 10 only where X is undefined) or on when (`time()`): a check of a literal's value holds for the
 * job, where a check of an expression evaluated without its ad would not.
 */
export function litValue(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  let v = litCache.get(text);
  if (v === undefined && !litCache.has(text)) {
    try {
      const e = parseExpr(text);
      v = isLiteral(e) ? valueToJS(compile(e)(EMPTY)) : undefined;
    } catch {
      v = undefined;
    }
    if (litCache.size > 10_000) litCache.clear();
    litCache.set(text, v);
  }
  return v;
}

/** Whether a text is an expression rather than a literal (whose value litValue gives; `undefined` is one too). */
export function isExpressionText(text: string): boolean {
  return litValue(text) === undefined && text.trim().toLowerCase() !== 'undefined';
}

// Attributes whose values decide where a job can run: identical values ⇒ one autocluster.
const SIGNIFICANT = [
  'Owner',
  'AccountingGroup',
  'Requirements',
  'Rank',
  'RequestCpus',
  'RequestMemory',
  'RequestDisk',
  'RequestGpus',
  'JobUniverse',
  'ConcurrencyLimits',
  'JobPrio',
  'Queue',
  'MachineCount',
  'GangPlacement',
];

export interface Autocluster {
  id: number;
  key: string;
  owner: string;
  /** the accounting name its jobs are negotiated under: AccountingGroup ("group.user") or the owner */
  acct: string;
  /** idle, unmatched jobs in priority order is computed on demand; this is the member set */
  idle: Set<Job>;
  /**
   * No job was added before a better one (a submission's procs come in order): the set's own order is the
   * priority order, and takeIdle takes the first job not being matched instead of walking them all
   */
  ordered: boolean;
  /** the job added last */
  tail?: Job;
}

/** Whether idle job `a` goes before `b`: higher JobPrio, then older (cluster, then proc). */
function before(a: Job, b: Job): boolean {
  return (
    a.prio > b.prio || (a.prio === b.prio && (a.cluster < b.cluster || (a.cluster === b.cluster && a.proc < b.proc)))
  );
}

/**
 * The queued jobs by "cluster.proc" (the Map calls the schedd makes), kept as cluster → proc → job: no key
 * string and no second table per job, which with a million held jobs was a tenth of the schedd's memory.
 */
/**
 * The WHERE of a statement over these procs of one cluster (its cluster id is the first parameter): a range
 * when they are consecutive (a whole cluster, a piece of one), which SQLite walks on the key, else a list.
 */
function procFilter(jobs: Job[]): { which: string; procs: Array<number | string> } {
  const first = jobs[0]!.proc;
  if (jobs.every((j, i) => j.proc === first + i))
    return { which: 'cluster_id = ? AND proc_id BETWEEN ? AND ?', procs: [first, first + jobs.length - 1] };
  return {
    which: 'cluster_id = ? AND proc_id IN (SELECT value FROM json_each(?))',
    procs: [JSON.stringify(jobs.map((j) => j.proc))],
  };
}

export class JobIndex {
  private byCluster = new Map<number, Map<number, Job>>();
  private count = 0;

  private static split(key: string): [number, number] {
    const dot = key.indexOf('.');
    return [Number(key.slice(0, dot)), Number(key.slice(dot + 1))];
  }
  get size(): number {
    return this.count;
  }
  get(key: string): Job | undefined {
    const [c, p] = JobIndex.split(key);
    return this.byCluster.get(c)?.get(p);
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  set(key: string, job: Job): this {
    const [c, p] = JobIndex.split(key);
    let procs = this.byCluster.get(c);
    if (!procs) this.byCluster.set(c, (procs = new Map()));
    if (!procs.has(p)) this.count++;
    procs.set(p, job);
    return this;
  }
  delete(key: string): boolean {
    const [c, p] = JobIndex.split(key);
    return this.deleteProc(c, p);
  }
  /** get() without the key text (a walk over many procs). */
  at(c: number, p: number): Job | undefined {
    return this.byCluster.get(c)?.get(p);
  }
  /** delete() without the key text (a removal of many procs). */
  deleteProc(c: number, p: number): boolean {
    const procs = this.byCluster.get(c);
    if (!procs?.delete(p)) return false;
    this.count--;
    if (!procs.size) this.byCluster.delete(c);
    return true;
  }
  /** Drop every proc of a cluster at once (a whole-cluster removal): no delete per proc. */
  deleteCluster(cluster: number): void {
    const procs = this.byCluster.get(cluster);
    if (!procs) return;
    this.count -= procs.size;
    this.byCluster.delete(cluster);
  }
  /** How many procs of a cluster are queued. */
  clusterSize(cluster: number): number {
    return this.byCluster.get(cluster)?.size ?? 0;
  }
  /** The queued procs of a cluster, in the order they were queued. */
  ofCluster(cluster: number): Iterable<Job> {
    return this.byCluster.get(cluster)?.values() ?? [];
  }
  clusterIds(): IterableIterator<number> {
    return this.byCluster.keys();
  }
  *values(): IterableIterator<Job> {
    for (const procs of this.byCluster.values()) yield* procs.values();
  }
  *keys(): IterableIterator<string> {
    for (const j of this.values()) yield jobKey(j.cluster, j.proc);
  }
  *entries(): IterableIterator<[string, Job]> {
    for (const j of this.values()) yield [jobKey(j.cluster, j.proc), j];
  }
  [Symbol.iterator](): IterableIterator<[string, Job]> {
    return this.entries();
  }
}

export class JobQueue {
  readonly jobs = new JobIndex();
  readonly clusters = new Map<number, Cluster>();
  readonly autoclusters = new Map<number, Autocluster>();
  private acByKey = new Map<string, Autocluster>();
  private nextAc = 1;
  private reserved = new Map<number, string>();
  /** Each owner's reserved ids, oldest first: a client that reserves without end cannot fill the schedd's memory. */
  private reservedOf = new Map<string, Set<number>>();

  private dirty = new Set<Job>();
  private finished: Array<{ job: Job; completion: number }> = [];
  private flushScheduled = false;
  /** a pending change must reach the disk with the next commit (one made outside `lazily`) */
  private mustSync = false;
  /** inside `lazily` */
  private lazy = false;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** Called after every flush with the jobs whose state changed (for watchers and ads). */
  onFlushed: (changed: Job[]) => void = () => {};

  /**
   * Runs the schedd gave up on without hearing of their end, by claim id (migration 0005): the latest
   * 10,000, loaded at start; a change is written with the next commit.
   */
  readonly lostRuns = new Map<string, LostRun>();
  private lostWrites = new Map<string, LostRun | undefined>();

  private st;

  constructor(private db: DB) {
    this.st = {
      bumpCounter: db.prepare("UPDATE counters SET value = MAX(value, ?) WHERE name = 'next_cluster'"),
      peekCluster: db.prepare("SELECT value FROM counters WHERE name = 'next_cluster'"),
      insCluster: db.prepare('INSERT INTO clusters (cluster_id, owner, ad, pending) VALUES (?, ?, ?, ?)'),
      donePending: db.prepare('UPDATE clusters SET pending = 0 WHERE cluster_id = ?'),
      insJob: db.prepare('INSERT INTO jobs (cluster_id, proc_id, owner, status, prio, ad) VALUES (?, ?, ?, ?, ?, ?)'),
      updJob: db.prepare(
        'UPDATE jobs SET status = ?, prio = ?, ad = ?, claim_id = ?, startd_addr = ?, slot_name = ? WHERE cluster_id = ? AND proc_id = ?',
      ),
      delJob: db.prepare('DELETE FROM jobs WHERE cluster_id = ? AND proc_id = ?'),
      delCluster: db.prepare('DELETE FROM clusters WHERE cluster_id = ?'),
      insHistory: db.prepare(
        'INSERT OR REPLACE INTO history (cluster_id, proc_id, owner, status, completion_date, ad) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // a cluster's shared attributes go to history once, its procs' rows hold only their own
      insHistoryCluster: db.prepare('INSERT OR IGNORE INTO history_clusters (cluster_id, ad) VALUES (?, ?)'),
      insLost: db.prepare(
        'INSERT OR REPLACE INTO lost_runs (claim_id, cluster_id, proc_id, startd_addr, slot_name, seq) VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM lost_runs))',
      ),
      delLost: db.prepare('DELETE FROM lost_runs WHERE claim_id = ?'),
    };
    this.load();
  }

  private load() {
    // a large submission the schedd stopped in the middle of was never acknowledged: it goes
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM jobs WHERE cluster_id IN (SELECT cluster_id FROM clusters WHERE pending)').run();
      this.db.prepare('DELETE FROM clusters WHERE pending').run();
    })();
    for (const row of this.db.prepare('SELECT cluster_id, owner, ad FROM clusters').iterate() as Iterable<{
      cluster_id: number;
      owner: string;
      ad: string;
    }>) {
      this.clusters.set(row.cluster_id, { id: row.cluster_id, owner: row.owner, attrs: JSON.parse(row.ad), procs: 0 });
    }
    const rows = this.db
      .prepare(
        'SELECT cluster_id, proc_id, owner, status, prio, ad, claim_id, startd_addr, slot_name FROM jobs ORDER BY cluster_id, proc_id',
      )
      .iterate() as Iterable<{
      cluster_id: number;
      proc_id: number;
      owner: string;
      status: number;
      prio: number;
      ad: string;
      claim_id: string | null;
      startd_addr: string | null;
      slot_name: string | null;
    }>;
    for (const r of rows) {
      const c = this.clusters.get(r.cluster_id);
      if (!c) continue;
      c.procs++;
      const job: Job = {
        cluster: r.cluster_id,
        proc: r.proc_id,
        owner: r.owner,
        status: r.status,
        prio: r.prio,
        attrs: JSON.parse(r.ad),
        ac: 0,
      };
      if (r.claim_id && r.startd_addr) {
        job.claim = { id: r.claim_id, startd: r.startd_addr, slot: r.slot_name ?? '' };
        // an idle job with a claim was being started when the schedd stopped: not offered for matching
        // until reconnect() has asked its startd
        job.matching = true;
        this.engagedJobs.add(job);
      }
      this.addJob(job);
    }
    for (const r of this.db
      .prepare('SELECT claim_id, cluster_id, proc_id, startd_addr, slot_name FROM lost_runs ORDER BY seq')
      .iterate() as Iterable<{
      claim_id: string;
      cluster_id: number;
      proc_id: number;
      startd_addr: string;
      slot_name: string;
    }>)
      // a job that left the queue meanwhile (completed by another run, removed) has no use for it
      if (this.jobs.has(jobKey(r.cluster_id, r.proc_id)))
        this.lostRuns.set(r.claim_id, {
          cluster: r.cluster_id,
          proc: r.proc_id,
          startd: r.startd_addr,
          slot: r.slot_name,
        });
      else this.lostWrites.set(r.claim_id, undefined);
    // whether each was settled is not recorded: a job that waits to run again waits until its startd is
    // asked once more (Leases.settleLostRuns)
    for (const [claim, run] of this.lostRuns) {
      const j = this.jobs.get(jobKey(run.cluster, run.proc));
      if (j && j.status !== JobStatus.Running && j.status !== JobStatus.Suspended) this.holdForLostRun(j, claim);
    }
    // removals committed whose move to history had not ended: their procs are removed from now on
    for (const r of this.db
      .prepare('SELECT id, cluster_id, procs, reason, time FROM removals ORDER BY id')
      .iterate() as Iterable<{
      id: number;
      cluster_id: number;
      procs: string;
      reason: string;
      time: number;
    }>) {
      const jobs: Job[] = [];
      for (const [first, last] of JSON.parse(r.procs) as Array<[number, number]>)
        for (let p = first; p <= last; p++) {
          const j = this.jobs.at(r.cluster_id, p);
          if (j) jobs.push(j);
        }
      this.markInMemory(jobs, r.reason, String(r.time));
      this.removals.push({ id: r.id, cluster: r.cluster_id, reason: r.reason, time: r.time, jobs, moved: 0 });
    }
  }

  /** Whether the queue database is still open (false once the schedd closed it to stop). */
  get open(): boolean {
    return this.db.open;
  }

  /** Removals committed and not yet moved to history when the queue was opened (the schedd resumes them). */
  readonly removals: Removal[] = [];

  /**
   * Remember a run given up on (durable after `commit()`, with the job's other changes); the oldest goes past
   * 10,000. The job does not start again until the run is settled (`unsettledRuns`).
   */
  loseRun(claimId: string, run: LostRun): void {
    this.lostRuns.set(claimId, run);
    this.lostWrites.set(claimId, run);
    const job = this.jobs.get(jobKey(run.cluster, run.proc));
    if (job) this.holdForLostRun(job, claimId);
    if (this.lostRuns.size > 10_000) this.forgetLostRun(this.lostRuns.keys().next().value!);
    this.scheduleFlush();
  }

  /** A run given up on is settled (its late exit was recorded, or it is gone): forgotten with the next commit. */
  forgetLostRun(claimId: string): void {
    if (!this.lostRuns.has(claimId)) return;
    this.stopWaitingFor(claimId);
    this.lostRuns.delete(claimId);
    this.lostWrites.set(claimId, undefined);
    this.scheduleFlush();
  }

  /** The job of a run given up on may run again, the run still remembered (its exit, should it come, counts). */
  stopWaitingFor(claimId: string): void {
    this.unsettled.delete(claimId);
    const run = this.lostRuns.get(claimId);
    const job = run && this.jobs.get(jobKey(run.cluster, run.proc));
    if (job?.unsettled === claimId) job.unsettled = undefined;
  }

  /** Runs given up on whose exit may still come, by claim: since when their job waits for them (ms, monotonic). */
  private unsettled = new Map<string, number>();

  private holdForLostRun(job: Job, claimId: string): void {
    job.unsettled = claimId;
    this.unsettled.set(claimId, performance.now());
  }

  /** The runs given up on that may still report an exit, with since when (ms) their job waits for them. */
  *unsettledRuns(): Generator<{ claim: string; run: LostRun; since: number }> {
    for (const [claim, since] of this.unsettled) {
      const run = this.lostRuns.get(claim);
      const job = run && this.jobs.get(jobKey(run.cluster, run.proc));
      if (run && job?.unsettled === claim) yield { claim, run, since };
      else this.unsettled.delete(claim);
    }
  }

  /**
   * Jobs in the queue by status (index = JobStatus), per owner and in all, kept as jobs come, change state and
   * go: dq's totals cost nothing at any queue size.
   */
  private statusCounts = new Map<string, number[]>();
  readonly allCounts: number[] = new Array(8).fill(0);
  /**
   * The same per accounting name (a Submitter ad each), with its owner: the schedd's ads are made from these
   * and from the few jobs being started or running (`engaged`), never by counting the queue.
   */
  private acctCounts = new Map<string, { owner: string; byStatus: number[] }>();
  /** Jobs running or being started (matching), maybe a few that no longer are: pruned when read. */
  private engagedJobs = new Set<Job>();

  private count(job: Job, status: number, d: number) {
    let c = this.statusCounts.get(job.owner);
    if (!c) this.statusCounts.set(job.owner, (c = new Array(8).fill(0)));
    const i = status >= 1 && status <= 7 ? status : 0;
    c[i]! += d;
    this.allCounts[i]! += d;
    if (d < 0 && c.every((n) => n === 0)) this.statusCounts.delete(job.owner);
    const acct = this.accountingName(job);
    let a = this.acctCounts.get(acct);
    if (!a) this.acctCounts.set(acct, (a = { owner: job.owner, byStatus: new Array(8).fill(0) }));
    a.byStatus[i]! += d;
    if (d < 0 && a.byStatus.every((n) => n === 0)) this.acctCounts.delete(acct);
    if (
      d > 0 &&
      (status === JobStatus.Running || status === JobStatus.TransferringOutput || status === JobStatus.Suspended)
    )
      this.engagedJobs.add(job);
  }

  /** Queued jobs by status (index = JobStatus) per accounting name, and its owner. */
  submitterCounts(): ReadonlyMap<string, { owner: string; byStatus: readonly number[] }> {
    return this.acctCounts;
  }

  /** The queued jobs that run or are being started: at most a few per slot, whatever the queue's size. */
  *engaged(): Generator<Job> {
    for (const j of this.engagedJobs) {
      const live = this.jobs.get(jobKey(j.cluster, j.proc)) === j;
      if (
        live &&
        (j.status === JobStatus.Running ||
          j.status === JobStatus.TransferringOutput ||
          j.status === JobStatus.Suspended ||
          (j.status === JobStatus.Idle && j.matching))
      )
        yield j;
      else this.engagedJobs.delete(j);
    }
  }

  /** An owner's queued jobs by status (index = JobStatus); zeros for an owner with none. */
  ownerCounts(owner: string): readonly number[] {
    return this.statusCounts.get(owner) ?? new Array(8).fill(0);
  }

  /** The cluster ids with jobs in the queue, ascending (a query walks them in order, a cluster at a time). */
  clusterIds(): number[] {
    return [...this.jobs.clusterIds()].sort((a, b) => a - b);
  }

  private addJob(job: Job) {
    this.jobs.set(jobKey(job.cluster, job.proc), job);
    this.count(job, job.status, 1);
    if (job.status === JobStatus.Idle) this.enterIdle(job);
  }

  /** The queued procs of a cluster. */
  byCluster(cluster: number): Iterable<Job> {
    return this.jobs.ofCluster(cluster);
  }

  // ---- clusters and submission ----

  /** Next cluster id to hand out (in memory; the disk counter moves with each submission). */
  private nextId = 0;

  /** Cluster ids go on from `next` (a queue that replaces one set aside: no user sees an id twice). */
  continueClusterIds(next: number): void {
    this.st.bumpCounter.run(next);
    this.nextId = 0;
  }

  /**
   * A new cluster id. Only a submission records its id on disk (in its own transaction), so numbering
   * continues from the last queued cluster after a restart or a crash: an id reserved but never queued
   * before it may be handed out again, which is safe, as no job, log or history row carries it.
   */
  reserveCluster(owner: string): number {
    if (!this.nextId) this.nextId = (this.st.peekCluster.get() as { value: number }).value;
    const id = this.nextId++;
    this.reserved.set(id, owner);
    let mine = this.reservedOf.get(owner);
    if (!mine) this.reservedOf.set(owner, (mine = new Set()));
    mine.add(id);
    if (mine.size > RESERVED_PER_OWNER) {
      const oldest = mine.values().next().value!;
      mine.delete(oldest);
      if (this.reserved.get(oldest) === owner) this.reserved.delete(oldest);
    }
    return id;
  }

  /** Queue a whole submission in one transaction. Returns the jobs created. */
  submit(
    clusterId: number,
    owner: string,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>>,
  ): Job[] {
    const steps = this.submission(clusterId, owner, clusterAttrs, procs);
    for (;;) {
      const n = steps.next();
      if (n.done) return n.value;
    }
  }

  /**
   * A submission, yielding between pieces of SUBMIT_PIECE procs (the caller lets the event loop run there).
   * Up to a piece it is one transaction. A larger one is written as a pending cluster row, then its procs a
   * piece per transaction (other changes are committed in between, as usual), then the row marked done: that
   * last transaction is the one the submission stands on, and a schedd that stops before it drops the pending
   * cluster when it starts again. The jobs enter the queue in memory only after it, all at once.
   */
  *submission(
    clusterId: number,
    owner: string,
    clusterAttrs: Record<string, string>,
    procs: Array<Record<string, string>>,
  ): Generator<void, Job[]> {
    const reservedBy = this.reserved.get(clusterId);
    const next = this.nextId || (this.st.peekCluster.get() as { value: number }).value;
    // only an id reserved for this owner (and not queued since): the id of a cluster that has left the queue,
    // or one reserved before a restart, would otherwise be anyone's to fill, and the history rows of its jobs
    // would replace the first cluster's (history is keyed by cluster and proc) and be read with its ad
    if (this.clusters.has(clusterId) || clusterId >= next || clusterId < 1 || reservedBy === undefined)
      throw new DschedError(
        'USAGE',
        `cluster ${clusterId} was not reserved for this submission (ask NewCluster first)`,
      );
    if (reservedBy === WRITING)
      throw new DschedError('USAGE', `cluster ${clusterId} is being queued by another submission`);
    if (reservedBy !== undefined && reservedBy !== owner)
      throw new DschedError('PERMISSION_DENIED', `cluster ${clusterId} was reserved by another user`);
    // no other submission may queue this id while this one is written
    this.reserved.set(clusterId, WRITING);
    const jobs: Job[] = [];
    const status0 = Number(clusterAttrs.JobStatus ?? JobStatus.Idle);
    const prio0 = Number(clusterAttrs.JobPrio ?? 0) || 0;
    const pieces = procs.length > SUBMIT_PIECE;
    try {
      for (let start = 0; start < procs.length || start === 0; start += SUBMIT_PIECE) {
        if (start > 0) yield;
        const piece: Job[] = [];
        for (let i = start; i < Math.min(procs.length, start + SUBMIT_PIECE); i++) {
          const attrs = procs[i]!;
          const proc = Number(attrs.ProcId ?? i);
          const status = attrs.JobStatus === undefined ? status0 : Number(attrs.JobStatus);
          const prio = attrs.JobPrio === undefined ? prio0 : Number(attrs.JobPrio) || 0;
          piece.push({ cluster: clusterId, proc, owner, status, prio, attrs, ac: 0 });
        }
        this.db.transaction(() => {
          if (start === 0) {
            this.st.insCluster.run(clusterId, owner, JSON.stringify(clusterAttrs), pieces ? 1 : 0);
            this.st.bumpCounter.run(clusterId + 1);
          }
          for (const j of piece)
            this.st.insJob.run(clusterId, j.proc, owner, j.status, j.prio, JSON.stringify(j.attrs));
        })();
        for (const j of piece) jobs.push(j);
      }
      if (pieces) this.st.donePending.run(clusterId);
    } catch (e) {
      if (pieces) this.dropPending(clusterId);
      this.reserved.set(clusterId, owner);
      throw storeError(e, `cannot queue cluster ${clusterId}`);
    }
    this.reserved.delete(clusterId);
    const mine = this.reservedOf.get(owner);
    if (mine?.delete(clusterId) && !mine.size) this.reservedOf.delete(owner);
    this.clusters.set(clusterId, { id: clusterId, owner, attrs: clusterAttrs, procs: jobs.length });
    for (const j of jobs) this.addJob(j);
    return jobs;
  }

  /** Take back the pieces of a submission that failed half-way (else the next start does). */
  private dropPending(clusterId: number): void {
    try {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM jobs WHERE cluster_id = ?').run(clusterId);
        this.st.delCluster.run(clusterId);
      })();
    } catch {
      /* still marked pending: dropped when the schedd starts again */
    }
  }

  // ---- ads ----

  merged(job: Job): Record<string, string> {
    const c = this.clusters.get(job.cluster);
    return c ? { ...c.attrs, ...job.attrs } : { ...job.attrs };
  }

  ad(job: Job): ClassAd {
    if (!job.ad) job.ad = ClassAd.fromRecord(this.merged(job));
    return job.ad;
  }

  /** An attribute's expression text as the job's ad has it, its name in any case (ads ignore case). */
  textOf(job: Job, name: string): string | undefined {
    const lower = name.toLowerCase();
    let text: string | undefined;
    // the proc's own attributes come after the cluster's in its ad, and the last one of a name wins
    // (a name of another length is never the same: no lower-case copy of it for each job that ends)
    const same = (k: string) => k === name || (k.length === name.length && k.toLowerCase() === lower);
    const c = this.clusters.get(job.cluster)?.attrs;
    if (c) for (const k in c) if (same(k)) text = c[k];
    for (const k in job.attrs) if (same(k)) text = job.attrs[k];
    return text;
  }

  /**
   * The JS value of a job attribute (per-proc first, then the cluster's): a literal as it is, an expression
   * evaluated in the job's ad (its cluster's and its own attributes), as HTCondor's schedd evaluates them.
   */
  value(job: Job, name: string): unknown {
    const text = job.attrs[name] ?? this.clusters.get(job.cluster)?.attrs[name];
    if (text === undefined) return undefined;
    const v = litValue(text);
    if (v !== undefined) return v;
    return this.ad(job).lookupJS(name);
  }

  // ---- autoclusters ----

  /** The submitter a job is negotiated (and accounted) as: its AccountingGroup "group.user", else its owner. */
  accountingName(job: Job): string {
    const g = this.value(job, 'AccountingGroup');
    return typeof g === 'string' && g ? g : job.owner;
  }

  /**
   * Job attributes the machines tell jobs apart by (from the negotiator: what slots' Requirements, START and
   * Rank refer to). The set only grows; when it does, the idle jobs are grouped again.
   */
  private machineSignificant = new Set<string>();
  private static readonly BASE_SIGNIFICANT = new Set(SIGNIFICANT.map((n) => n.toLowerCase()));

  addSignificant(names: string[]): void {
    const fresh = names
      .map((n) => n.toLowerCase())
      .filter((n) => !JobQueue.BASE_SIGNIFICANT.has(n) && !this.machineSignificant.has(n));
    if (!fresh.length) return;
    for (const n of fresh) this.machineSignificant.add(n);
    const idle = [...this.autoclusters.values()].flatMap((ac) => [...ac.idle]);
    this.autoclusters.clear();
    this.acByKey.clear();
    for (const j of idle) this.enterIdle(j);
  }

  private acKey(job: Job): string {
    const m = this.merged(job);
    const names = new Set(SIGNIFICANT);
    if (this.machineSignificant.size)
      for (const k of Object.keys(m)) if (this.machineSignificant.has(k.toLowerCase())) names.add(k);
    for (const attr of ['Requirements', 'Rank']) {
      const text = m[attr];
      if (!text) continue;
      try {
        const refs = referencedAttrs(parseExpr(text));
        for (const n of [...refs.my, ...refs.unscoped]) {
          const real = Object.keys(m).find((k) => k.length === n.length && k.toLowerCase() === n);
          if (real) names.add(real);
        }
      } catch {
        /* a broken expression is its own autocluster */
      }
    }
    const pairs = [...names].sort().map((n) => [n, m[n] ?? '']);
    // a cluster with a limit on its running jobs (#PBS -J 1-100%10, max_materialize) is an autocluster of its
    // own, so that the limit (JobQueue.canStart) holds its jobs back and no other cluster's
    if (m.ArrayMaxRunning !== undefined || m.JobMaterializeLimit !== undefined)
      pairs.push(['ClusterId', String(job.cluster)]);
    return JSON.stringify(pairs);
  }

  private enterIdle(job: Job) {
    // scheduler-universe jobs (DAGs) run inside the schedd: they are never matched to a slot
    if (this.value(job, 'JobUniverse') === Universe.Scheduler) return;
    const key = this.acKey(job);
    let ac = this.acByKey.get(key);
    if (!ac) {
      ac = {
        id: this.nextAc++,
        key,
        owner: job.owner,
        acct: this.accountingName(job),
        idle: new Set(),
        ordered: true,
      };
      this.acByKey.set(key, ac);
      this.autoclusters.set(ac.id, ac);
    }
    job.ac = ac.id;
    if (ac.tail && before(job, ac.tail)) ac.ordered = false;
    ac.idle.add(job);
    ac.tail = job;
  }

  private leaveIdle(job: Job) {
    const ac = this.autoclusters.get(job.ac);
    if (ac) {
      ac.idle.delete(job);
      if (ac.idle.size === 0) {
        this.autoclusters.delete(ac.id);
        this.acByKey.delete(ac.key);
      }
    }
    job.ac = 0;
  }

  /** May an idle job start now (its batch queue's MAX_RUNNING: queue-policy.ts)? Unset: always. */
  canStart?: (job: Job) => boolean;

  /** The best idle, unmatched job of an autocluster: highest JobPrio, then oldest. */
  takeIdle(acId: number): Job | undefined {
    const ac = this.autoclusters.get(acId);
    if (!ac) return undefined;
    let best: Job | undefined;
    for (const j of ac.idle) {
      if (j.matching || j.unsettled) continue;
      if (ac.ordered) {
        best = j;
        break;
      }
      if (!best || before(j, best)) best = j;
    }
    // an autocluster's jobs share their queue (Queue is significant): one check for all of them
    if (best && this.canStart && !this.canStart(best)) return undefined;
    if (best) {
      best.matching = true;
      this.engagedJobs.add(best);
    }
    return best;
  }

  idleCount(acId: number): number {
    const ac = this.autoclusters.get(acId);
    if (!ac) return 0;
    let n = 0;
    let rep: Job | undefined;
    for (const j of ac.idle) {
      if (j.matching || j.unsettled) continue;
      n++;
      rep ??= j;
    }
    return rep && this.canStart && !this.canStart(rep) ? 0 : n;
  }

  // ---- state changes ----

  /** Change a job's attributes and/or status. `null` deletes an attribute. Durable after `commit()`. */
  update(job: Job, changes: Record<string, string | null>, status?: number): void {
    this.remember(job);
    const wasIdle = job.status === JobStatus.Idle;
    // an admin's edit of AccountingGroup moves the job to another submitter's counts
    const regroups =
      this.jobs.get(jobKey(job.cluster, job.proc)) === job &&
      Object.keys(changes).some((k) => k.toLowerCase() === 'accountinggroup');
    if (regroups) this.count(job, job.status, -1);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) {
        delete job.attrs[k];
        // a cluster attribute is hidden by an explicit per-proc UNDEFINED
        if (this.clusters.get(job.cluster)?.attrs[k] !== undefined) job.attrs[k] = 'undefined';
      } else job.attrs[k] = v;
    }
    if (regroups) this.count(job, job.status, 1);
    if (status !== undefined && status !== job.status) {
      this.count(job, job.status, -1);
      this.count(job, status, 1);
      // HTCondor's LastJobStatus: the status the job had before this one (scripts and policies read it)
      job.attrs.LastJobStatus = String(job.status);
      job.status = status;
      job.attrs.JobStatus = String(status);
      job.attrs.EnteredCurrentStatus = String(nowSeconds());
    }
    if ('JobPrio' in changes) job.prio = Number(litValue(changes.JobPrio ?? '0')) || 0;
    job.ad = undefined;
    const isIdle = job.status === JobStatus.Idle;
    if (wasIdle && !isIdle) this.leaveIdle(job);
    else if (isIdle && (!wasIdle || 'JobPrio' in changes || 'Requirements' in changes)) {
      if (wasIdle) this.leaveIdle(job);
      job.matching = false;
      this.enterIdle(job);
    }
    this.dirty.add(job);
    if (!this.lazy) this.mustSync = true;
    this.scheduleFlush();
  }

  /**
   * Make changes that no one waits for and that the schedd finds again after a power cut took them back:
   * their commit (unless other changes ride with it) is written without an fsync holding the event loop
   * (SQLite's WAL with synchronous = NORMAL: durable across a crash of the schedd, atomic, and made durable
   * by the next synchronous commit). A job's start is one: the claim it is being started on was committed
   * before the startd was asked, and a schedd that finds it there asks the startd (ClaimStatus).
   */
  lazily(fn: () => void): void {
    const was = this.lazy;
    this.lazy = true;
    try {
      fn();
    } finally {
      this.lazy = was;
    }
  }

  /** Group an idle job again after its attributes were edited (dqedit): any of them may be significant. */
  regroup(job: Job): void {
    if (job.status !== JobStatus.Idle || job.matching || job.claim) return;
    this.leaveIdle(job);
    this.enterIdle(job);
  }

  /** Move a finished (completed or removed) job to history. */
  finish(job: Job, status: number, changes: Record<string, string | null> = {}): void {
    this.remember(job);
    const now = nowSeconds();
    this.update(
      job,
      { ...changes, CompletionDate: status === JobStatus.Completed ? String(now) : (job.attrs.CompletionDate ?? '0') },
      status,
    );
    if (job.ac) this.leaveIdle(job);
    this.jobs.delete(jobKey(job.cluster, job.proc));
    this.count(job, job.status, -1);
    this.dirty.delete(job);
    this.finished.push({ job, completion: now });
    // the cluster's shared attributes stay readable until the flush (event log lines still need them)
    const c = this.clusters.get(job.cluster);
    if (c) c.procs--;
    this.scheduleFlush();
  }

  /**
   * Remove queued procs of one cluster (the caller has checked they are queued and need nothing but their
   * removal recorded: no claim, no DAG) with one set-based statement per table, all or nothing: a drm of
   * many held jobs is a few statements in SQLite and a walk over the procs here, instead of a row written,
   * a row deleted and a change tracked per job.
   * Earlier pending changes are committed first. The caller writes their events once this returns; if the
   * write fails, nothing changed and the typed error is thrown.
   */
  removeProcs(clusterId: number, jobs: Job[], reason: string): void {
    this.flushFirst();
    const c = this.clusters.get(clusterId);
    if (!c || !jobs.length) return;
    const t = nowSeconds();
    const reasonText = lit(reason);
    try {
      this.db.transaction(() => this.moveRows(c, jobs, reasonText, t))();
    } catch (e) {
      throw storeError(e, `cannot remove the jobs of cluster ${clusterId}`);
    }
    this.commits.count++;
    this.markInMemory(jobs, reasonText, String(t));
    this.dropMoved(c, jobs);
  }

  /**
   * The first half of a large removal: its procs (queued, needing nothing but their removal recorded, as for
   * removeProcs) are removed by one row committed in `removals`, and shown removed at once (JobStatus 3, the
   * reason) while they wait for moveRemoved to take them to history a piece at a time. Earlier pending
   * changes are committed first; if the write fails, nothing changed and the typed error is thrown.
   */
  markRemoved(clusterId: number, jobs: Job[], reason: string): Removal | undefined {
    this.flushFirst();
    if (!this.clusters.has(clusterId) || !jobs.length) return undefined;
    const t = nowSeconds();
    const reasonText = lit(reason);
    // the procs as spans of consecutive ids: a whole cluster is one
    const spans: Array<[number, number]> = [];
    for (const j of jobs) {
      const last = spans[spans.length - 1];
      if (last && j.proc === last[1] + 1) last[1] = j.proc;
      else spans.push([j.proc, j.proc]);
    }
    let id: number;
    try {
      id = Number(
        this.db
          .prepare('INSERT INTO removals (cluster_id, procs, reason, time) VALUES (?, ?, ?, ?)')
          .run(clusterId, JSON.stringify(spans), reasonText, t).lastInsertRowid,
      );
    } catch (e) {
      throw storeError(e, `cannot remove the jobs of cluster ${clusterId}`);
    }
    this.commits.count++;
    this.markInMemory(jobs, reasonText, String(t));
    this.onFlushed(jobs);
    return { id, cluster: clusterId, reason: reasonText, time: t, jobs, moved: 0 };
  }

  /**
   * The second half of a large removal: its next `n` procs go to history as removeProcs writes them (with the
   * removal's reason and time), in one transaction that also drops the removal's row with its last piece.
   * Earlier pending changes are committed first; if the write fails, nothing moved and the typed error is
   * thrown (the procs stay removed, and the move can be tried again).
   */
  moveRemoved(r: Removal, n: number): Job[] {
    this.flushFirst();
    const end = Math.min(r.jobs.length, r.moved + n);
    const piece = r.jobs.slice(r.moved, end).filter((j) => this.jobs.at(j.cluster, j.proc) === j);
    const c = this.clusters.get(r.cluster);
    const last = end === r.jobs.length;
    // A piece before the last need not wait for the disk (no fsync holding the event loop): the removal's
    // row stays until the last piece, written durably, and a piece a power cut takes back moves again.
    if (!last) this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        if (c && piece.length) this.moveRows(c, piece, r.reason, r.time);
        if (last) this.db.prepare('DELETE FROM removals WHERE id = ?').run(r.id);
      })();
    } catch (e) {
      throw storeError(e, `cannot move the removed jobs of cluster ${r.cluster} to history`);
    } finally {
      if (!last) this.db.pragma('synchronous = FULL');
    }
    this.commits.count++;
    r.moved = end;
    if (c && piece.length) this.dropMoved(c, piece);
    return piece;
  }

  /** Earlier pending changes are committed before a set-based write (which then fails alone, or not). */
  private flushFirst(): void {
    if (!this.flushScheduled) return;
    this.flush();
    if (this.failing !== undefined) throw this.failing;
  }

  /** What finish() writes per removed job, as SQL (inside the caller's transaction): history in, queue out. */
  private moveRows(c: Cluster, jobs: Job[], reasonText: string, t: number): void {
    const { which, procs } = procFilter(jobs);
    this.st.insHistoryCluster.run(c.id, JSON.stringify(c.attrs));
    this.db
      .prepare(
        'INSERT OR REPLACE INTO history (cluster_id, proc_id, owner, status, completion_date, ad) ' +
          `SELECT cluster_id, proc_id, owner, ${JobStatus.Removed}, ?, json_set(ad, '$.RemoveReason', ?, '$.CompletionDate', COALESCE(json_extract(ad, '$.CompletionDate'), '0'), ` +
          `'$.JobStatus', '${JobStatus.Removed}', '$.LastJobStatus', CAST(status AS TEXT), '$.EnteredCurrentStatus', ?) ` +
          `FROM jobs WHERE ${which}`,
      )
      .run(t, reasonText, String(t), c.id, ...procs);
    this.db.prepare(`DELETE FROM jobs WHERE ${which}`).run(c.id, ...procs);
    if (jobs.length === c.procs) this.st.delCluster.run(c.id);
  }

  /** Queued jobs become removed in memory (the totals follow); they stay queued until dropMoved. */
  private markInMemory(jobs: Job[], reasonText: string, t: string): void {
    for (const j of jobs) {
      if (j.ac) this.leaveIdle(j);
      this.count(j, j.status, -1);
      const a = j.attrs;
      if (j.status !== JobStatus.Removed) a.LastJobStatus = String(j.status);
      j.status = JobStatus.Removed;
      this.count(j, j.status, 1);
      a.RemoveReason = reasonText;
      a.CompletionDate ??= '0';
      a.JobStatus = String(JobStatus.Removed);
      a.EnteredCurrentStatus = t;
      j.ad = undefined;
    }
  }

  /** Removed jobs whose rows went to history leave the queue in memory; watchers are told. */
  private dropMoved(c: Cluster, jobs: Job[]): void {
    for (const j of jobs) this.count(j, j.status, -1);
    if (jobs.length === c.procs) this.jobs.deleteCluster(c.id);
    else for (const j of jobs) this.jobs.deleteProc(j.cluster, j.proc);
    c.procs -= jobs.length;
    // watchers read the removed jobs' cluster attributes: an emptied cluster goes after them
    this.onFlushed(jobs);
    if (c.procs <= 0) this.clusters.delete(c.id);
  }

  /**
   * Change queued procs of one cluster from one status to another (dhold, drelease of whole clusters; the
   * caller has checked they need nothing but the change recorded: no claim, no DAG) with one UPDATE per group,
   * all groups in one transaction, all or nothing. Each group's jobs get the same `changes`, as update() makes
   * them (null removes an attribute, or hides the cluster's with undefined), with JobStatus and
   * EnteredCurrentStatus. Earlier pending changes are committed first. The caller writes the events once
   * this returns; if the write fails, nothing changed and the typed error is thrown.
   */
  changeProcs(
    clusterId: number,
    groups: Array<{ jobs: Job[]; changes: Record<string, string | null> }>,
    status: number,
  ): void {
    this.flushFirst();
    const c = this.clusters.get(clusterId);
    if (!c || !groups.some((g) => g.jobs.length)) return;
    const t = String(nowSeconds());
    const path = (k: string) => `$."${k.replace(/["\\]/g, '')}"`;
    const planned = groups.map((g) => {
      const set: Record<string, string> = {};
      const removed: string[] = [];
      for (const [k, v] of Object.entries(g.changes)) {
        if (v !== null) set[k] = v;
        else if (c.attrs[k] !== undefined) set[k] = 'undefined';
        else removed.push(k);
      }
      set.JobStatus = String(status);
      set.EnteredCurrentStatus = t;
      return { jobs: g.jobs, set, removed };
    });
    try {
      this.db.transaction(() => {
        for (const g of planned) {
          if (!g.jobs.length) continue;
          const names = Object.keys(g.set);
          const ad = g.removed.length ? `json_remove(ad, ${g.removed.map(() => '?').join(', ')})` : 'ad';
          const { which, procs } = procFilter(g.jobs);
          this.db
            .prepare(
              // each job's LastJobStatus is the status its row had (SET reads the row as it was)
              `UPDATE jobs SET status = ?, ad = json_set(${ad}, ${names.map(() => '?, ?').join(', ')}, ` +
                `'$.LastJobStatus', CAST(status AS TEXT)) WHERE ${which}`,
            )
            .run(status, ...g.removed.map(path), ...names.flatMap((k) => [path(k), g.set[k]!]), clusterId, ...procs);
        }
      })();
    } catch (e) {
      throw storeError(e, `cannot change the jobs of cluster ${clusterId}`);
    }
    this.commits.count++;
    const changed: Job[] = [];
    for (const g of planned) {
      for (const j of g.jobs) {
        const wasIdle = j.status === JobStatus.Idle;
        this.count(j, j.status, -1);
        for (const k of g.removed) delete j.attrs[k];
        Object.assign(j.attrs, g.set);
        j.attrs.LastJobStatus = String(j.status);
        j.status = status;
        this.count(j, status, 1);
        j.ad = undefined;
        if (wasIdle && status !== JobStatus.Idle) this.leaveIdle(j);
        else if (!wasIdle && status === JobStatus.Idle) {
          j.matching = false;
          this.enterIdle(j);
        }
        changed.push(j);
      }
    }
    this.onFlushed(changed);
  }

  private scheduleFlush() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // a flush made meanwhile (atomically, a caller that needs it now) leaves nothing to do
    setImmediate(() => this.flushScheduled && this.flush());
  }

  /** Resolves once every change made so far is committed (rejects with the typed error if it cannot be). */
  commit(): Promise<void> {
    if (!this.flushScheduled) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Transactions of state changes written, and the seconds they took (the Scheduler ad, /metrics). */
  readonly commits = { count: 0, seconds: 0 };
  /** Runs before each batch of changes is written (the schedd writes their job log events first). */
  beforeWrite: () => void = () => {};
  /** Told when writing the queue starts failing (the error) and when it works again (undefined). */
  onStoreError: (e: unknown) => void = () => {};
  /** The error of the last write, while writes fail (changes are kept and retried). */
  private failing: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 1000;

  /**
   * Write every pending change in one transaction. When that fails (disk full, I/O error, locked) the
   * transaction is rolled back, the changes stay pending and are tried again (after 1 s, backing off to 5 s),
   * and whoever awaits `commit()` gets the typed error: the daemon keeps running and catches up once the
   * disk has room.
   */
  flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const dirty = [...this.dirty];
    const finished = this.finished;
    const waiters = this.waiters;
    const sync = this.mustSync || waiters.length > 0 || finished.length > 0 || this.lostWrites.size > 0;
    this.dirty = new Set();
    this.finished = [];
    this.waiters = [];
    this.mustSync = false;
    try {
      this.beforeWrite();
      const t0 = performance.now();
      this.write(dirty, finished, sync);
      this.commits.count++;
      this.commits.seconds += (performance.now() - t0) / 1000;
    } catch (e) {
      for (const j of dirty) this.dirty.add(j);
      this.finished = [...finished, ...this.finished];
      this.mustSync ||= sync;
      const err = storeError(e, 'cannot record job state changes');
      for (const w of waiters) w.reject(err);
      if (this.failing === undefined) this.onStoreError(err);
      this.failing = err;
      this.flushScheduled = true;
      // backing off (1, 2, 4, 5, 5 ... s): a lock held for an hour is not tried 3600 times; a user's
      // write (atomically) flushes at once, so writing resumes with the first that gets through
      this.retryTimer = setTimeout(() => this.flush(), this.retryMs);
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      return;
    }
    this.retryMs = 1000;
    if (this.failing !== undefined) {
      this.failing = undefined;
      this.onStoreError(undefined);
    }
    for (const w of waiters) w.resolve();
    this.flushed(dirty, finished);
  }

  private write(dirty: Job[], finished: Array<{ job: Job; completion: number }>, sync = true): void {
    if (!sync) this.db.pragma('synchronous = NORMAL');
    try {
      this.writeRows(dirty, finished);
    } finally {
      if (!sync) this.db.pragma('synchronous = FULL');
    }
  }

  private writeRows(dirty: Job[], finished: Array<{ job: Job; completion: number }>): void {
    this.db.transaction(() => {
      for (const j of dirty) {
        this.st.updJob.run(
          j.status,
          j.prio,
          JSON.stringify(j.attrs),
          j.claim?.id ?? null,
          j.claim?.startd ?? null,
          j.claim?.slot ?? null,
          j.cluster,
          j.proc,
        );
      }
      const emptied = new Set<number>();
      let sharedOf = -1;
      for (const f of finished) {
        if (f.job.cluster !== sharedOf) {
          const c = this.clusters.get(f.job.cluster);
          if (c) this.st.insHistoryCluster.run(c.id, JSON.stringify(c.attrs));
          sharedOf = f.job.cluster;
        }
        this.st.insHistory.run(
          f.job.cluster,
          f.job.proc,
          f.job.owner,
          f.job.status,
          f.completion,
          JSON.stringify(f.job.attrs),
        );
        this.st.delJob.run(f.job.cluster, f.job.proc);
        if ((this.clusters.get(f.job.cluster)?.procs ?? 0) <= 0) emptied.add(f.job.cluster);
      }
      // only once every proc row of the batch is gone may its cluster row go
      for (const c of emptied) this.st.delCluster.run(c);
      for (const [id, r] of this.lostWrites) {
        if (r) this.st.insLost.run(id, r.cluster, r.proc, r.startd, r.slot);
        else this.st.delLost.run(id);
      }
    })();
    this.lostWrites.clear();
  }

  private flushed(dirty: Job[], finished: Array<{ job: Job }>): void {
    // watchers may still read a finished job's cluster attributes; empty clusters go after them
    this.onFlushed([...dirty, ...finished.map((f) => f.job)]);
    for (const f of finished)
      if ((this.clusters.get(f.job.cluster)?.procs ?? 1) <= 0) this.clusters.delete(f.job.cluster);
  }

  /** While `atomically` runs: each touched job as it was before (to put back if the write fails). */
  private undo:
    | Map<
        Job,
        {
          status: number;
          prio: number;
          attrs: Record<string, string>;
          claim?: ClaimRef;
          matching?: boolean;
          queued: boolean;
        }
      >
    | undefined;

  private remember(job: Job): void {
    if (!this.undo || this.undo.has(job)) return;
    this.undo.set(job, {
      status: job.status,
      prio: job.prio,
      attrs: { ...job.attrs },
      claim: job.claim,
      matching: job.matching,
      queued: this.jobs.get(jobKey(job.cluster, job.proc)) === job,
    });
  }

  /**
   * Run `fn` (synchronous changes to jobs) and commit them at once, all or nothing: if they cannot be
   * written (disk full), the transaction is rolled back, every job is put back in memory as it was, and
   * the typed error is thrown. A user's action is either done and durable or refused with nothing changed.
   */
  atomically<T>(fn: () => T): T {
    // earlier pending changes first, so that a failure below is this action's alone
    if (this.flushScheduled) {
      this.flush();
      if (this.failing !== undefined) throw this.failing;
    }
    this.undo = new Map();
    let result: T;
    let dirty: Job[];
    let finished: typeof this.finished;
    try {
      result = fn();
      dirty = [...this.dirty];
      finished = this.finished;
      this.write(dirty, finished);
    } catch (e) {
      this.restore(this.undo);
      throw storeError(e, 'cannot record the change');
    } finally {
      this.undo = undefined;
    }
    this.dirty = new Set();
    this.finished = [];
    this.flushScheduled = false;
    this.mustSync = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    this.flushed(dirty, finished);
    return result;
  }

  private restore(undo: NonNullable<typeof this.undo>): void {
    for (const [job, was] of undo) {
      const key = jobKey(job.cluster, job.proc);
      if (job.ac) this.leaveIdle(job);
      // the totals follow the job back (it may have left the queue, changed status or submitter)
      const queued = this.jobs.get(key) === job;
      if (queued) this.count(job, job.status, -1);
      Object.assign(job, {
        status: was.status,
        prio: was.prio,
        attrs: was.attrs,
        claim: was.claim,
        matching: was.matching,
        ad: undefined,
      });
      if (was.queued) this.count(job, job.status, 1);
      if (was.queued && !queued) {
        this.jobs.set(key, job);
        const c = this.clusters.get(job.cluster);
        if (c) c.procs++;
      }
      if (job.status === JobStatus.Idle) {
        const matching = job.matching;
        this.enterIdle(job);
        job.matching = matching;
        if (matching) this.engagedJobs.add(job);
      }
      this.dirty.delete(job);
    }
    this.finished = this.finished.filter((f) => !undo.has(f.job));
  }

  // ---- history ----

  /**
   * One page of history, newest first, after `after` (the last row of the previous page): a fresh statement per
   * page, so no SQLite iterator stays open while the event loop runs (it would block every write meanwhile).
   * `clusters` narrows to those cluster ids (sent as one JSON array, not as an expression per id). A page walks
   * the history_newest index from `after` on, so paging through a million rows costs one pass, not a sort of
   * them all per page; only clusters with few rows are looked up by their key and sorted.
   */
  /** Where a finished job stands in history's reading order (a page that ended with it goes on from there). */
  historyKey(cluster: number, proc: number): HistoryKey | undefined {
    const r = this.db
      .prepare('SELECT completion_date FROM history WHERE cluster_id = ? AND proc_id = ?')
      .get(cluster, proc) as { completion_date: number } | undefined;
    return r && { completion: r.completion_date, cluster, proc };
  }

  *historyPage(opts: {
    owners?: string[];
    clusters?: number[];
    after?: HistoryKey;
    max: number;
  }): Generator<HistoryRow> {
    const where: string[] = [];
    const args: unknown[] = [];
    let byKey = false;
    if (opts.clusters?.length) {
      const list = JSON.stringify(opts.clusters);
      where.push('h.cluster_id IN (SELECT value FROM json_each(?))');
      args.push(list);
      const few = this.db
        .prepare(
          'SELECT COUNT(*) AS n FROM (SELECT 1 FROM history WHERE cluster_id IN (SELECT value FROM json_each(?)) LIMIT 5001)',
        )
        .get(list) as { n: number };
      byKey = few.n <= 5000;
    }
    if (opts.owners?.length) {
      where.push(`h.owner IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(opts.owners));
    }
    const a = opts.after;
    if (a) {
      where.push('(h.completion_date, h.cluster_id, h.proc_id) < (?, ?, ?)');
      args.push(a.completion, a.cluster, a.proc);
    }
    const sql =
      `SELECT h.cluster_id, h.proc_id, h.owner, h.completion_date, h.ad, c.ad AS shared FROM history h ${byKey ? '' : 'INDEXED BY history_newest'} ` +
      `LEFT JOIN history_clusters c ON c.cluster_id = h.cluster_id ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ` +
      'ORDER BY h.completion_date DESC, h.cluster_id DESC, h.proc_id DESC LIMIT ?';
    const rows = this.db.prepare(sql).all(...args, opts.max) as Array<{
      cluster_id: number;
      proc_id: number;
      owner: string;
      completion_date: number;
      ad: string;
      shared: string | null;
    }>;
    // a cluster's shared attributes are read once per page, and every row of it points at the same object
    const shared = new Map<number, Record<string, string>>();
    for (const r of rows) {
      let s: Record<string, string> | undefined;
      if (r.shared !== null) {
        s = shared.get(r.cluster_id);
        if (!s) shared.set(r.cluster_id, (s = JSON.parse(r.shared) as Record<string, string>));
      }
      yield {
        cluster: r.cluster_id,
        proc: r.proc_id,
        owner: r.owner,
        completion: r.completion_date,
        attrs: JSON.parse(r.ad),
        shared: s,
      };
    }
  }

  /** The finished procs of a cluster (status and ad), committed ones plus those awaiting the flush. */
  historyOfCluster(cluster: number): Array<{ proc: number; status: number; ad: Record<string, string> }> {
    const out = (
      this.db.prepare('SELECT proc_id, status, ad FROM history_ads WHERE cluster_id = ?').all(cluster) as Array<{
        proc_id: number;
        status: number;
        ad: string;
      }>
    ).map((r) => ({
      proc: r.proc_id,
      status: r.status,
      ad: JSON.parse(r.ad) as Record<string, string>,
    }));
    for (const f of this.finished)
      if (f.job.cluster === cluster) out.push({ proc: f.job.proc, status: f.job.status, ad: this.merged(f.job) });
    return out;
  }

  trimHistory(max: number): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'DELETE FROM history WHERE (cluster_id, proc_id) IN (SELECT cluster_id, proc_id FROM history ORDER BY completion_date DESC, cluster_id DESC, proc_id DESC LIMIT -1 OFFSET ?)',
        )
        .run(max);
      this.db
        .prepare(
          'DELETE FROM history_clusters WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.cluster_id = history_clusters.cluster_id)',
        )
        .run();
    })();
  }
}
