// Job queries (dq, dhistory, dwait, the CLIs' job selection, the negotiator): the constraint is evaluated and
// the ads projected a chunk at a time, yielding to the event loop between chunks, so a large queue or a costly
// constraint neither builds the whole answer in memory nor holds up the job path and other clients. Each query
// has a budget of the schedd's time (QUERY_CPU_LIMIT); attributes that carry secrets are left out for callers
// who are neither the job's owner nor an admin, from the ads and from what the constraint can see.
import type { JobCounts__Output } from '../../lib/rpc/generated/dsched/v1/JobCounts.js';
import { performance } from 'node:perf_hooks';
import {
  ClassAd,
  compile,
  exprChildren as exprChildrenOf,
  isPlainLiteral,
  isTrue,
  parseExpr,
  referencedAttrs,
  type Expr,
} from '../../grammar/classad/index.js';
import { adOfRecord, jsonElements, type OnUnreadable } from '../../grammar/classad/json-text.js';
import { DschedError, reasonOf } from '../../lib/errors.js';
import type { Identity } from '../../lib/rpc/auth.js';
import type { JobQuery__Output } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import type { UnreadableAttr } from '../../lib/rpc/generated/dsched/v1/UnreadableAttr.js';
import { jobKey, litValue, type HistoryKey, type Job, type JobQueue } from './queue.js';
import { clusterEntries, WirePage } from './query-wire.js';

export interface QueryOptions {
  /** QUERY_CPU_LIMIT: seconds of the schedd's time one query may take */
  cpuLimitSec: () => number;
  /** PRIVATE_JOB_ATTRS */
  privateAttrs: () => string[];
  /** WATCH_BACKLOG: changes a WatchJobs reader may fall behind by (watch-jobs.ts) */
  watchBacklog?: () => number;
}

/** Always private: the job's environment holds tokens and passwords as often as not. */
export const ALWAYS_PRIVATE = ['Environment', 'Env'];

/**
 * Ads per page, the most text per page (a reader that falls behind holds up to 16 pages per stream in the
 * schedd), and the longest the schedd works on one query before it lets others run.
 */
const PAGE_ADS = 1000;
const PAGE_BYTES = 128 * 1024;
const SLICE_MS = 10;
const PAGE_MIN_ROWS = 250;
const NO_ENTRIES = Buffer.alloc(0);

/**
 * The listings the schedd renders itself (JobQuery.format), byte for byte as dq prints them from ads: each
 * job's text (`first`: the listing's first job) and the text that ends a listing of `sent` jobs.
 */
const LISTINGS: Record<
  string,
  {
    job(rec: Record<string, string>, first: boolean, onUnreadable: OnUnreadable): string;
    end(sent: number): string;
  }
> = {
  // dq -json: an array, as JSON.stringify(ads, null, 2)
  json: {
    job: (rec, first, onUnreadable) =>
      (first ? '[\n' : ',\n') + jsonElements([rec], (_rec, name, err) => onUnreadable(name, err)),
    end: (sent) => (sent ? '\n]\n' : '[]\n'),
  },
  // dq -long: each ad's `Name = expr` lines, a blank line between ads
  long: {
    job(rec, first, onUnreadable) {
      const t = adOfRecord(rec, onUnreadable).toLong();
      return (first ? '' : '\n') + (t.endsWith('\n') ? t : t + '\n');
    },
    end: () => '',
  },
};

/** dq -af of attribute names: with the job id first (-af:j) or not. */
export interface AfView {
  jobId: boolean;
  names: string[];
}

/**
 * dq -af without qualifiers but j, each argument an attribute's name (JobQuery.format "af NAME..." or
 * "af:j NAME..."), or undefined for any other format (a name the CLI would parse as something else).
 */
export function afView(format: string | undefined): AfView | undefined {
  // undefined: a JobQuery made in the schedd itself, not decoded from the wire
  if (!format) return undefined;
  const jobId = format.startsWith('af:j ');
  if (!jobId && !format.startsWith('af ')) return undefined;
  const names = format.slice(jobId ? 5 : 3).split(' ');
  return names.every((n) => AF_NAME.test(n) && !AF_KEYWORDS.has(n.toLowerCase())) ? { jobId, names } : undefined;
}
const AF_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Words the ClassAd grammar reads as something other than an attribute. */
const AF_KEYWORDS = new Set(['true', 'false', 'undefined', 'error', 'is', 'isnt', 'my', 'target', 'parent']);
/** Literals whose value dq prints as their own text: integers it prints alike, true and false. */
const AF_SAME = /^(?:0|-?[1-9][0-9]{0,14}|true|false)$/;
/** A string literal of printable ASCII without escapes: dq prints what is between the quotes. */
const AF_STRING = /^"[ !#-[\]-~]*"$/;
/** A ClusterId or ProcId that -af:j prints as its text. */
const AF_ID = /^(?:0|[1-9][0-9]{0,14})$/;

/**
 * A job's -af line, byte for byte as dq's autoformat prints it (fields joined by a space, trailing blanks cut),
 * when every attribute is absent or a literal of AF_SAME or AF_STRING (and, with j, ClusterId and ProcId plain
 * integers); otherwise undefined, and the job goes to dq as an ad for it to evaluate.
 */
export function afLine(src: AttrSource, view: AfView): string | undefined {
  let line = '';
  if (view.jobId) {
    const c = src.find('ClusterId')?.[1];
    const p = src.find('ProcId')?.[1];
    if (c === undefined || p === undefined || !AF_ID.test(c) || !AF_ID.test(p)) return undefined;
    line = `${c}.${p}`;
  }
  const { names } = view;
  for (let i = 0; i < names.length; i++) {
    const text = src.find(names[i]!)?.[1];
    let cell: string;
    if (text === undefined) cell = 'undefined';
    else if (AF_SAME.test(text)) cell = text;
    else if (AF_STRING.test(text)) cell = text.slice(1, -1);
    else return undefined;
    line += i || view.jobId ? ' ' + cell : cell;
  }
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 32) end--;
  return (end === line.length ? line : line.slice(0, end)) + '\n';
}

/** An attribute left out of a listing, and why (the error's words without its excerpt of the text). */
function unreadableAttr(id: { cluster: number; proc: number }, name: string, err: unknown): UnreadableAttr {
  return { id, name, ...reasonOf(err) };
}

/** Jobs by status: the proto's JobCounts, which dq prints. */
export type Counts = JobCounts__Output;

export interface QueryPage {
  ads: Array<{ attrs: Record<string, string> }>;
  /** whole ads already as JobQueryPage wire bytes (field 1), when the caller asked for them so */
  wire?: Buffer;
  /** JobQuery.format: the next piece of the listing as the CLI prints it */
  text?: Buffer;
  /** history: each ad's completion key, in order (JobQuery.history_after_completion goes on from one) */
  completions?: number[];
  /** with a format: attributes left out of the listing, their text being no ClassAd expression */
  unreadable?: UnreadableAttr[];
  last: boolean;
  matched?: Counts;
  mine?: Counts;
  all?: Counts;
}

const zero = (): Counts => ({ total: 0, completed: 0, removed: 0, idle: 0, running: 0, held: 0, suspended: 0 });

function addStatus(c: Counts, status: number, n = 1) {
  c.total += n;
  if (status === 1) c.idle += n;
  else if (status === 2 || status === 6) c.running += n;
  else if (status === 3) c.removed += n;
  else if (status === 4) c.completed += n;
  else if (status === 5) c.held += n;
  else if (status === 7) c.suspended += n;
}

export function fromArray(byStatus: readonly number[]): Counts {
  const c = zero();
  byStatus.forEach((n, s) => n && addStatus(c, s, n));
  return c;
}

/** Whether this caller sees a job's private attributes: its owner, an admin, or a pool daemon. */
export function seesPrivate(identity: Identity, owner: string): boolean {
  if (identity.kind === 'daemon') return true;
  return identity.kind === 'user' && (identity.admin || identity.name === owner);
}

/** The lower-cased names of the private attributes now (Environment, Env and PRIVATE_JOB_ATTRS). */
export function privateSet(opts: QueryOptions): Set<string> {
  return new Set([...ALWAYS_PRIVATE, ...opts.privateAttrs()].map((n) => n.toLowerCase()));
}

export function withoutPrivate(rec: Record<string, string>, hidden: Set<string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const k of Object.keys(rec)) {
    if (!hidden.has(k.toLowerCase())) continue;
    out ??= { ...rec };
    delete out[k];
  }
  return out ?? rec;
}

// ---- what an expression needs from an ad --------------------------------------------------------------------

const parsed = new Map<string, { expr: Expr; refs: string[] } | null>();
/** An attribute's expression and the attributes it refers to (cached by text: ads repeat the same texts). */
function parseAttr(text: string): { expr: Expr; refs: string[] } | null {
  let p = parsed.get(text);
  if (p === undefined) {
    try {
      const expr = parseExpr(text);
      const r = referencedAttrs(expr);
      p = { expr, refs: [...r.my, ...r.unscoped] };
    } catch {
      p = null;
    }
    // bounded in count and in size: long texts (a big Environment) are parsed each time
    if (text.length > 4096) return p;
    if (parsed.size >= 20_000) parsed.clear();
    parsed.set(text, p);
  }
  return p;
}

/** Functions that reach attributes by name at run time: an expression calling one sees the whole ad. */
const DYNAMIC = new Set(['eval', 'unparse', 'unresolved']);

function needsWholeAd(e: Expr): boolean {
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'call' && DYNAMIC.has(x.name.toLowerCase())) return true;
    if (x.kind === 'attr' && x.scope && !(x.scope.kind === 'attr' && !x.scope.scope)) return true;
    for (const c of exprChildrenOf(x)) stack.push(c);
  }
  return false;
}

/**
 * Where a query reads a job's attributes: a record, or a queued job's own attributes over its cluster's (read
 * in place: copying forty shared attributes into a fresh object for each of a million jobs was most of the
 * cost of `dq -af ClusterId ProcId`). `find` is case-insensitive, as ClassAd names are; names the caller may
 * not see are absent.
 */
export interface AttrSource {
  find(name: string): [string, string] | undefined;
}

const own = (r: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(r, k);

/**
 * Lower-case name → name of a record's attributes (kept per record object: cluster ads are read by every job).
 * The records looked up this way (a cluster's shared attributes, a history page's) are not changed once
 * made, so the map is not checked against the record again (an Object.keys per lookup was most of the cost
 * of a watch or a dq -af over a million jobs).
 */
const lowerNames = new WeakMap<Record<string, string>, Map<string, string>>();
function lowerOf(rec: Record<string, string>): Map<string, string> {
  let m = lowerNames.get(rec);
  if (!m) {
    m = new Map();
    for (const k of Object.keys(rec)) m.set(k.toLowerCase(), k);
    lowerNames.set(rec, m);
  }
  return m;
}

function findIn(rec: Record<string, string>, name: string, scan: boolean): [string, string] | undefined {
  if (own(rec, name)) return [name, rec[name]!];
  const lower = name.toLowerCase();
  if (scan) {
    for (const k in rec) if (k.toLowerCase() === lower) return [k, rec[k]!];
    return undefined;
  }
  const k = lowerOf(rec).get(lower);
  return k === undefined ? undefined : [k, rec[k]!];
}

export function recordSource(rec: Record<string, string>): AttrSource {
  return { find: (n) => findIn(rec, n, false) };
}

/** A queued job's attributes without a merged copy: its own (a few) over its cluster's; `hidden` (lower case) left out. */
export function jobSource(
  attrs: Record<string, string>,
  shared: Record<string, string> | undefined,
  hidden?: Set<string>,
): AttrSource {
  return {
    find(n) {
      if (hidden?.size && hidden.has(n.toLowerCase())) return undefined;
      return findIn(attrs, n, true) ?? (shared ? findIn(shared, n, false) : undefined);
    },
  };
}

/**
 * The attributes of `src` that `names` name, and those their expressions refer to, transitively: what a
 * projection or a constraint needs, without parsing the rest of the ad.
 */
function closure(src: AttrSource, names: Iterable<string>): Array<[string, string]> {
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  const work = [...names];
  while (work.length) {
    const n = work.pop()!;
    const lower = n.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    const found = src.find(n);
    if (!found) continue;
    out.push(found);
    if (isPlainLiteral(found[1])) continue; // refers to nothing (ProcId differs per job: no cache would hold them)
    const p = parseAttr(found[1]);
    if (p) for (const r of p.refs) work.push(r);
  }
  return out;
}

function adOf(attrs: Array<[string, string]>): ClassAd {
  const ad = new ClassAd();
  for (const [k, text] of attrs) {
    const p = parseAttr(text);
    if (p) ad.set(k, p.expr);
  }
  return ad;
}

function textSize(rec: Record<string, string>): number {
  let n = 0;
  for (const k in rec) n += k.length + rec[k]!.length;
  return n;
}

function project(src: AttrSource, projection: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, text] of closure(src, projection)) out[k] = text;
  return out;
}

// ---- the query ---------------------------------------------------------------------------------------------

interface Prepared {
  pred?: (ad: ClassAd) => boolean;
  /** attributes the constraint needs; undefined = the whole ad */
  needs?: string[];
  projection?: string[];
  constraint: string;
}

function prepare(req: JobQuery__Output): Prepared {
  const constraint = req.constraint.trim();
  const out: Prepared = { constraint, projection: req.projection.length ? req.projection : undefined };
  if (constraint) {
    const e = parseExpr(constraint, { file: '<constraint>', line: 1, column: 1 });
    const fn = compile(e);
    out.pred = (ad) => isTrue(fn(ad));
    if (!needsWholeAd(e)) {
      const r = referencedAttrs(e);
      out.needs = [...r.my, ...r.unscoped];
    }
  }
  return out;
}

/** A job's place in the answer: the queue's jobs in (cluster, proc) order, live (a job gone meanwhile is skipped). */
function* queueJobs(queue: JobQueue, ids: Array<{ cluster: number; proc: number }>): Generator<Job> {
  if (!ids.length) {
    for (const c of queue.clusterIds()) yield* queue.byCluster(c);
    return;
  }
  // ids as sets: whole clusters, and single procs of the others
  const whole = new Set<number>();
  const procs = new Map<number, Set<number>>();
  for (const id of ids) {
    if (id.proc < 0) whole.add(id.cluster);
    else {
      let s = procs.get(id.cluster);
      if (!s) procs.set(id.cluster, (s = new Set()));
      s.add(id.proc);
    }
  }
  const clusters = [...new Set([...whole, ...procs.keys()])].sort((a, b) => a - b);
  for (const c of clusters) {
    if (whole.has(c)) {
      yield* queue.byCluster(c);
      continue;
    }
    for (const p of [...procs.get(c)!].sort((a, b) => a - b)) {
      const j = queue.jobs.get(jobKey(c, p));
      if (j) yield j;
    }
  }
}

/**
 * Turns of the event loop for query work: one slice of one query per turn, the queries served in the order
 * they asked. Fifty big queries then go on side by side, each at its share, and a submit or a startd's report
 * waits for one slice at most, never for a slice of every query in turn.
 */
const waiting: Array<() => void> = [];
let pumping = false;
function pump() {
  const next = waiting.shift();
  // queued from inside this turn's immediates: the next slice runs in the next turn, after its I/O
  if (waiting.length) setImmediate(pump);
  else pumping = false;
  next?.();
}
export function turn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}

/**
 * Hand `fn` each queued job the ids name (every job, if none) in (cluster, proc) order, a slice per turn of
 * the event loop; `fn` may return a promise to wait on (a slow reader).
 */
export async function forEachJob(
  queue: JobQueue,
  ids: Array<{ cluster: number; proc: number }>,
  fn: (j: Job) => Promise<void> | void,
  cancelled: () => boolean,
): Promise<void> {
  const it = queueJobs(queue, ids);
  for (;;) {
    const t0 = performance.now();
    for (;;) {
      const n = it.next();
      if (n.done || cancelled()) return;
      const wait = fn(n.value);
      if (wait) await wait;
      if (performance.now() - t0 > SLICE_MS) break;
    }
    await turn();
  }
}

/**
 * Run a job query, handing each page to `send` (which may wait, for a slow reader). Between chunks the event
 * loop runs; past QUERY_CPU_LIMIT of the schedd's time the query ends with QUERY_TOO_EXPENSIVE.
 */
export async function runJobQuery(
  queue: JobQueue,
  req: JobQuery__Output,
  identity: Identity,
  opts: QueryOptions,
  send: (page: QueryPage) => Promise<void> | void,
  cancelled: () => boolean = () => false,
  /** whole queued ads as wire bytes (QueryJobs): no merged record per job, the clusters' part shared */
  wire = false,
): Promise<void> {
  const q = prepare(req);
  const hidden = privateSet(opts);
  const limitMs = Math.max(1, opts.cpuLimitSec()) * 1000;
  const owners = new Set(req.owners);
  const matched = zero();
  const countsOnly = req.counts_only;
  const wanted = req.ids.map((i) => ({ cluster: Number(i.cluster), proc: Number(i.proc) }));
  let spent = 0;
  let sent = 0;

  const overBudget = () => tooExpensive(q.constraint, opts);
  /** Whether a job (its attributes as the caller may see them) passes the constraint. */
  const passes = (src: AttrSource, whole: () => Record<string, string>, cached?: ClassAd): boolean => {
    if (!q.pred) return true;
    const ad = cached ?? (q.needs ? adOf(closure(src, q.needs)) : ClassAd.fromRecord(whole()));
    return q.pred(ad);
  };
  const limited = () => req.limit > 0 && sent >= req.limit;

  if (!req.history) {
    // a summary of the whole queue or of some owners needs no pass over the jobs at all
    if (countsOnly && !q.pred && !wanted.length) {
      let byStatus: readonly number[] = queue.allCounts;
      if (owners.size) {
        const sum = new Array<number>(8).fill(0);
        for (const o of owners) queue.ownerCounts(o).forEach((n, s) => (sum[s]! += n));
        byStatus = sum;
      }
      await send({
        ads: [],
        last: true,
        matched: fromArray(byStatus),
        mine: fromArray(queue.ownerCounts(identity.name)),
        all: fromArray(queue.allCounts),
      });
      return;
    }
    const it = queueJobs(queue, wanted);
    // dq -json's or -long's text, rendered here once for every reader of this view (query-share.ts)
    const listing = countsOnly ? undefined : LISTINGS[req.format];
    // dq -af's lines for the jobs whose attributes are plain literals; the others go as ads, in their own pages
    const af = countsOnly || !q.projection ? undefined : afView(req.format);
    let text = '';
    // the job being rendered and the page it goes on: one closure for the query, none per job
    let rendering: Job | undefined;
    let unreadable: UnreadableAttr[] = [];
    const onUnreadable: OnUnreadable = (name, err) =>
      unreadable.push(unreadableAttr({ cluster: rendering!.cluster, proc: rendering!.proc }, name, err));
    const onWire = wire && !q.projection && !countsOnly && !listing ? new WirePage() : undefined;
    let done = false;
    /** a job that goes on the next page: a line after ads, or an ad after lines (a page is one or the other) */
    let carry: Job | undefined;
    while (!done) {
      if (cancelled()) return;
      const page: QueryPage = { ads: [], last: false };
      let bytes = 0;
      const t0 = performance.now();
      const c0 = cpuMs();
      for (;;) {
        const n = carry ? { done: false as const, value: carry } : it.next();
        carry = undefined;
        if (n.done || limited()) {
          done = true;
          break;
        }
        const j = n.value;
        if (owners.size && !owners.has(j.owner)) continue;
        const open = seesPrivate(identity, j.owner);
        const cluster = queue.clusters.get(j.cluster);
        const src = jobSource(j.attrs, cluster?.attrs, open ? undefined : hidden);
        const whole = () => (open ? queue.merged(j) : withoutPrivate(queue.merged(j), hidden));
        if (passes(src, whole, open ? j.ad : undefined)) {
          const line = af && afLine(src, af);
          if (af && (line === undefined ? text.length > 0 : page.ads.length > 0)) {
            carry = j;
            break;
          }
          addStatus(matched, j.status);
          sent++;
          if (onWire) {
            onWire.add(
              cluster ? clusterEntries(cluster, open ? undefined : hidden) : NO_ENTRIES,
              j.attrs,
              open ? undefined : hidden,
            );
            bytes = onWire.bytes;
          } else if (line !== undefined) {
            text += line;
            bytes = text.length;
          } else if (listing) {
            rendering = j;
            text += listing.job(q.projection ? project(src, q.projection) : whole(), sent === 1, onUnreadable);
            bytes = text.length;
          } else if (!countsOnly) {
            const attrs = q.projection ? project(src, q.projection) : whole();
            page.ads.push({ attrs });
            bytes += textSize(attrs);
          }
        }
        const now = performance.now();
        if (page.ads.length + (onWire?.ads ?? 0) >= PAGE_ADS || bytes >= PAGE_BYTES || now - t0 > SLICE_MS) break;
      }
      spent += cpuMs() - c0;
      if (spent > limitMs) throw overBudget();
      if (listing && done) text += listing.end(sent);
      if (onWire?.ads) page.wire = onWire.take();
      if (text) {
        page.text = Buffer.from(text);
        text = '';
      }
      if (unreadable.length) {
        page.unreadable = unreadable;
        unreadable = [];
      }
      if (page.ads.length || page.wire || page.text || page.unreadable) await send(page);
      if (!done) await turn();
    }
    await send({
      ads: [],
      last: true,
      matched,
      mine: fromArray(queue.ownerCounts(identity.name)),
      all: fromArray(queue.allCounts),
    });
    return;
  }

  // history: newest first, a page of rows per statement; ids matched by sets
  const wholeClusters = new Set<number>();
  const single = new Set<string>();
  for (const id of wanted) {
    if (id.proc < 0) wholeClusters.add(id.cluster);
    else single.add(jobKey(id.cluster, id.proc));
  }
  const clusters = wanted.length ? [...new Set(wanted.map((w) => w.cluster))] : undefined;
  let after: HistoryKey | undefined;
  if (req.history_after) {
    const { cluster, proc } = { cluster: Number(req.history_after.cluster), proc: Number(req.history_after.proc) };
    // the key the previous page gave needs no look-up: the job may have been rotated out of the history since
    const completion = Number(req.history_after_completion ?? 0);
    after = completion > 0 ? { completion, cluster, proc } : queue.historyKey(cluster, proc);
    if (!after)
      throw new DschedError(
        'JOB_NOT_FOUND',
        `job ${cluster}.${proc} is not in the history: a page cannot go on after it`,
      );
  }
  for (;;) {
    if (cancelled()) return;
    const page: QueryPage = { ads: [], completions: [], last: false };
    const t0 = performance.now();
    const c0 = cpuMs();
    let rows = 0;
    let bytes = 0;
    let more = false;
    for (const r of queue.historyPage({ owners: req.owners, clusters, after, max: PAGE_ADS })) {
      rows++;
      after = r;
      if (wanted.length && !wholeClusters.has(r.cluster) && !single.has(jobKey(r.cluster, r.proc))) continue;
      const open = seesPrivate(identity, r.owner);
      const src = jobSource(r.attrs, r.shared, open ? undefined : hidden);
      const whole = () => {
        const rec = r.shared ? { ...r.shared, ...r.attrs } : r.attrs;
        return open ? rec : withoutPrivate(rec, hidden);
      };
      if (passes(src, whole)) {
        addStatus(matched, Number(litValue(src.find('JobStatus')?.[1]) ?? 0));
        sent++;
        if (!countsOnly) {
          const attrs = q.projection ? project(src, q.projection) : whole();
          page.ads.push({ attrs });
          page.completions!.push(r.completion);
          bytes += textSize(attrs);
        }
        if (limited()) break;
      }
      const now = performance.now();
      // at least a few hundred rows a statement: its sort can cost more than a slice on its own
      if (rows >= PAGE_MIN_ROWS && (now - t0 > SLICE_MS || bytes >= PAGE_BYTES)) {
        more = true;
        break;
      }
    }
    spent += cpuMs() - c0;
    if (spent > limitMs) throw overBudget();
    if (page.ads.length) await send(page);
    if (limited() || (!more && rows < PAGE_ADS)) break;
    await turn();
  }
  await send({ ads: [], last: true, matched });
}

/**
 * Whether a queued job is one of `sel.owners` (any owner, if none) and passes `sel.constraint` as `identity` sees
 * the job: the constraint does not see other users' private attributes. `constraint`: the trimmed text ('' =
 * none); a malformed one is a CLASSAD_SYNTAX error at once.
 */
export function jobMatcher(
  queue: JobQueue,
  sel: { owners: string[]; constraint: string },
  identity: Identity,
  opts: QueryOptions,
): { test: (j: Job) => boolean; constraint: string } {
  const q = prepare({ constraint: sel.constraint, projection: [] } as unknown as JobQuery__Output);
  const hidden = privateSet(opts);
  const owners = new Set(sel.owners);
  return {
    constraint: q.constraint,
    test(j) {
      if (owners.size && !owners.has(j.owner)) return false;
      if (!q.pred) return true;
      const open = seesPrivate(identity, j.owner);
      let ad = open ? j.ad : undefined;
      if (!ad && q.needs)
        ad = adOf(
          closure(jobSource(j.attrs, queue.clusters.get(j.cluster)?.attrs, open ? undefined : hidden), q.needs),
        );
      ad ??= ClassAd.fromRecord(open ? queue.merged(j) : withoutPrivate(queue.merged(j), hidden));
      return q.pred(ad);
    },
  };
}

/**
 * The jobs an action (drm, dhold, drelease, dprio) names: by ids (as sets), owners, a constraint or all, found
 * as a query finds them – a chunk at a time, under the same time budget, and with a constraint that does not
 * see other users' private attributes (else "permission denied" for exactly the jobs whose secret fits would
 * tell the secret, a guess at a time). `missing`: ids that named no job.
 */
export async function selectJobs(
  queue: JobQueue,
  sel: { ids: Array<{ cluster: number; proc: number }>; owners: string[]; constraint: string; all: boolean },
  identity: Identity,
  opts: QueryOptions,
  cancelled: () => boolean = () => false,
): Promise<{ jobs: Job[]; missing: Array<{ cluster: number; proc: number }> }> {
  const missing = sel.ids.filter((id) =>
    id.proc >= 0
      ? !queue.jobs.has(jobKey(id.cluster, id.proc))
      : queue.byCluster(id.cluster)[Symbol.iterator]().next().done,
  );
  const jobs: Job[] = [];
  const m = jobMatcher(queue, sel, identity, opts);
  if (!sel.ids.length && !sel.owners.length && !m.constraint && !sel.all) return { jobs, missing };
  const limitMs = Math.max(1, opts.cpuLimitSec()) * 1000;
  const it = queueJobs(queue, sel.ids);
  let spent = 0;
  for (;;) {
    if (cancelled()) return { jobs: [], missing: [] }; // the caller went away: act on nothing
    const t0 = performance.now();
    const c0 = cpuMs();
    let done = false;
    for (;;) {
      const n = it.next();
      if (n.done) {
        done = true;
        break;
      }
      const j = n.value;
      if (!m.test(j)) continue;
      jobs.push(j);
      if (performance.now() - t0 > SLICE_MS) break;
    }
    spent += cpuMs() - c0;
    if (spent > limitMs) throw tooExpensive(m.constraint, opts);
    if (done) break;
    await turn();
  }
  return { jobs, missing };
}

/**
 * The schedd's CPU time so far, in ms. A query's budget counts this, taken around each slice (slices end
 * after SLICE_MS of wall time), not wall time: on a loaded machine a slice's wall time includes the time
 * other processes ran, and a query within its budget was stopped.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function tooExpensive(constraint: string, opts: QueryOptions): DschedError {
  const c = constraint.length > 200 ? constraint.slice(0, 200) + '…' : constraint;
  return new DschedError(
    'QUERY_TOO_EXPENSIVE',
    `the query${c ? ` with constraint ${c}` : ''} used more than ${opts.cpuLimitSec()} s of the schedd's time and was stopped`,
  );
}
