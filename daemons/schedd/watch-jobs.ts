// Schedd.WatchJobs: the job-change stream that dwait, dq -watch, dtail and the web daemon follow. Two things
// keep it cheap with a million jobs:
//  - a watcher that says it reads spans (WatchJobsRequest.spans) is told of the procs of a cluster that
//    changed alike in one message (JobChange.procs): a drm or a `queue 1000000` is a few messages, not one
//    per job;
//  - changes are written at the reader's pace: they wait in a backlog while the reader is behind, and a
//    reader so far behind that the backlog passes WATCH_BACKLOG messages (or WATCH_BACKLOG_BYTES) is cut off with WATCHER_TOO_SLOW
//    (watching again starts from the queue as it is), so a stalled watcher never grows the schedd's memory
//    without bound.
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import type { CallContext } from '../../lib/rpc/server.js';
import type { WatchJobsRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchJobsRequest.js';
import { writePaced } from '../../lib/rpc/write-paced.js';
import { jobKey, type Job } from './queue.js';
import type { Schedd } from './schedd.js';
import { forEachJob, jobSource, privateSet, seesPrivate, withoutPrivate, type QueryOptions } from './query.js';

/**
 * Messages a watcher may fall behind by before it is cut off (WATCH_BACKLOG's default): above two pieces of a
 * large submission or removal told a message per job (a watcher that does not read spans), far above what
 * one that does meets.
 */
export const WATCH_BACKLOG = 120_000;
/** The same bound in bytes of attribute text (whole ads, to a watcher without a projection, are large). */
const WATCH_BACKLOG_BYTES = 64 << 20;
/** Spans in one message at most (procs left out here and there make many): a message stays far below gRPC's limit. */
const MAX_SPANS = 10_000;

/** One watcher's backlog as its caller's bound sees it: how much it holds, and how to cut it off. */
interface Behind {
  changes: number;
  bytes: number;
  cut(): void;
}

/** A caller's watchers, and what they hold together. */
interface CallerBacklog {
  watchers: Set<Behind>;
  changes: number;
  bytes: number;
}

/**
 * Every caller's watchers share the bounds of one (WATCH_BACKLOG changes, WATCH_BACKLOG_BYTES): a user who
 * opens a thousand watchers and reads none would otherwise make the schedd keep a thousand backlogs, and run
 * out of memory for everyone. Past a bound, the caller's watcher furthest behind is cut off (a watcher that
 * keeps up is not the one that pays).
 */
const backlogByCaller = new Map<string, CallerBacklog>();

function furthestBehind(watchers: Set<Behind>): Behind | undefined {
  let worst: Behind | undefined;
  for (const w of watchers)
    if (!worst || w.bytes > worst.bytes || (w.bytes === worst.bytes && w.changes > worst.changes)) worst = w;
  return worst;
}

interface Change {
  id: { cluster: number; proc: number };
  status: number;
  gone: boolean;
  ad?: { attrs: Record<string, string> };
  procs?: Array<{ first: number; last: number }>;
}

export async function watchJobs(
  schedd: Schedd,
  query: QueryOptions,
  req: WatchJobsRequest__Output,
  call: grpc.ServerWritableStream<unknown, unknown>,
  ctx: CallContext,
): Promise<void> {
  const queue = schedd.queue;
  const wanted = (req.ids ?? []).map((i) => ({ cluster: Number(i.cluster), proc: Number(i.proc) }));
  const whole = new Set(wanted.filter((w) => w.proc < 0).map((w) => w.cluster));
  const single = new Set(wanted.filter((w) => w.proc >= 0).map((w) => jobKey(w.cluster, w.proc)));
  const owners = new Set(req.owners ?? []);
  const matches = (j: Job) =>
    (!wanted.length || whole.has(j.cluster) || single.has(jobKey(j.cluster, j.proc))) &&
    (!owners.size || owners.has(j.owner));
  // a watcher of many jobs (dwait, dq -watch, the web daemon) asks only for the attributes it shows
  const only = req.projection?.length ? new Set(req.projection.map((a) => a.toLowerCase())) : undefined;
  // the private names as configured, read again at each batch of changes (not for each job)
  let privateNames: Set<string> | undefined;
  const hiddenFor = (j: Job) => (seesPrivate(ctx.identity, j.owner) ? undefined : (privateNames ??= privateSet(query)));
  // with a projection, only those attributes are looked up (own over the cluster's, in place): a merged
  // copy of every job's ad, filtered, cost more than the rest of a million-job removal
  const attrs = (j: Job, hidden = hiddenFor(j)) => {
    if (!only) return hidden ? withoutPrivate(queue.merged(j), hidden) : queue.merged(j);
    const src = jobSource(j.attrs, queue.clusters.get(j.cluster)?.attrs, hidden);
    const out: Record<string, string> = {};
    for (const n of only) {
      const found = src.find(n);
      if (found) out[found[0]] = found[1];
    }
    return out;
  };
  const change = (j: Job, gone: boolean, hidden?: Set<string>): Change => ({
    id: { cluster: j.cluster, proc: j.proc },
    status: j.status,
    gone,
    ad: { attrs: attrs(j, hidden) },
  });
  const gone = (j: Job) => !queue.jobs.at(j.cluster, j.proc);

  // What of a job's own attributes the watcher sees, ProcId aside: procs of one cluster with the same (and the
  // same status) have the same ad but for their ProcId, as the rest comes from the cluster.
  const ownText = (j: Job, hidden: Set<string> | undefined) => {
    let s = '';
    for (const k in j.attrs) {
      if (k === 'ProcId' || k === 'ClusterId') continue;
      const lower = k.toLowerCase();
      if ((only && !only.has(lower)) || hidden?.has(lower)) continue;
      s += `${k}\0${j.attrs[k]}\0`;
    }
    return s;
  };
  /**
   * Changes as this watcher reads them: with spans, consecutive procs of a cluster that changed alike are
   * gathered into one message, sent (`push`) once a job that differs comes or `close` is called. `add` and
   * `close` return what `push` returned for a message they completed (a write to wait for).
   */
  const grouper = (push: (c: Change) => Promise<void> | void) => {
    let group:
      | {
          msg: Change;
          procs: Array<{ first: number; last: number }>;
          text: string;
          span: { first: number; last: number };
        }
      | undefined;
    const close = () => {
      if (!group) return undefined;
      const { msg, procs, span } = group;
      group = undefined;
      if (procs.length > 1 || span.first !== span.last) msg.procs = procs;
      return push(msg);
    };
    const add = (j: Job, g: boolean) => {
      if (!req.spans) return push(change(j, g));
      const hidden = hiddenFor(j);
      const text = ownText(j, hidden);
      const m = group?.msg;
      if (
        group &&
        m!.id.cluster === j.cluster &&
        m!.status === j.status &&
        m!.gone === g &&
        group.text === text &&
        group.procs.length < MAX_SPANS
      ) {
        if (j.proc === group.span.last + 1) group.span.last = j.proc;
        else group.procs.push((group.span = { first: j.proc, last: j.proc }));
        return undefined;
      }
      const sent = close();
      const span = { first: j.proc, last: j.proc };
      group = { msg: change(j, g, hidden), procs: [span], text, span };
      return sent;
    };
    return { add, close };
  };
  /** The changes of `changed` this watcher sees, into the backlog. */
  const changesOf = (changed: Iterable<Job>) => {
    const g = grouper(push);
    for (const j of changed) if (matches(j)) g.add(j, gone(j));
    g.close();
  };

  // the backlog: written in order at the reader's pace
  const backlog: Array<Change | undefined> = [];
  let head = 0;
  let wake: (() => void) | undefined;
  let tooSlow = false;
  let closed = false;
  const sizeOf = (c: Change) => {
    let n = 64 + 16 * (c.procs?.length ?? 0);
    for (const k in c.ad?.attrs) n += k.length + c.ad.attrs[k]!.length;
    return n;
  };
  const most = query.watchBacklog?.() ?? WATCH_BACKLOG;
  // a reader that stopped reading holds the loop below in a write that never drains: the cut-off ends it
  let cutOff!: () => void;
  const cut = new Promise<void>((r) => (cutOff = r));
  const caller = `${ctx.identity.kind}:${ctx.identity.name}`;
  const all = backlogByCaller.get(caller) ?? { watchers: new Set<Behind>(), changes: 0, bytes: 0 };
  backlogByCaller.set(caller, all);
  const mine: Behind = {
    changes: 0,
    bytes: 0,
    cut: () => {
      tooSlow = true;
      cutOff();
      wake?.();
      leave(); // what it held no longer counts against its caller (it is dropped once its loop ends)
    },
  };
  // What the request makes this watcher keep for its whole life (the jobs, owners and attributes it names)
  // counts as its backlog does: a user's streams, each naming 30 MB of owners, held as many gigabytes.
  const asked = 64 * wanted.length + [...owners, ...(req.projection ?? [])].reduce((n, s) => n + 16 + s.length, 0);
  if (asked > WATCH_BACKLOG_BYTES)
    throw new DschedError(
      'INPUT_TOO_LARGE',
      `a job-change stream may name at most ${WATCH_BACKLOG_BYTES >> 20} MB of jobs, owners and attributes`,
    );
  all.watchers.add(mine);
  const leave = () => {
    if (!all.watchers.delete(mine)) return;
    all.changes -= mine.changes;
    all.bytes -= mine.bytes;
    if (!all.watchers.size && backlogByCaller.get(caller) === all) backlogByCaller.delete(caller);
  };
  mine.bytes = asked;
  all.bytes += asked;
  if (all.bytes > WATCH_BACKLOG_BYTES) furthestBehind(all.watchers)?.cut();
  /** This watcher's backlog changed by `n` changes of `size` bytes. */
  const held = (n: number, size: number) => {
    if (!all.watchers.has(mine)) return;
    mine.changes += n;
    mine.bytes += size;
    all.changes += n;
    all.bytes += size;
  };
  const push = (c: Change) => {
    if (tooSlow) return;
    backlog.push(c);
    held(1, sizeOf(c));
    if (all.changes > most || all.bytes > WATCH_BACKLOG_BYTES) furthestBehind(all.watchers)?.cut();
    wake?.();
  };
  // changes made while the initial state goes out wait (once per job) and follow it, as they are then;
  // a job that left the queue is told now, while its cluster's attributes are still there
  let pending: Map<Job, Change | undefined> | undefined = new Map();
  const off = schedd.watch((changed) => {
    privateNames = undefined;
    if (!pending) changesOf(changed);
    else for (const j of changed) if (matches(j)) pending.set(j, gone(j) ? change(j, true) : undefined);
  });
  const stop = () => {
    closed = true;
    off();
    wake?.();
  };
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
  const ended = () => closed || call.cancelled;
  try {
    // the initial state a slice at a time, at the reader's pace: a watch over a big queue neither holds
    // the event loop nor makes the schedd buffer the queue
    const initial = grouper((c) => writePaced(call, c));
    await forEachJob(queue, wanted, (j) => (matches(j) ? initial.add(j, false) : undefined), ended);
    if (ended()) return;
    await initial.close();
    call.write({ id: { cluster: 0, proc: -1 }, status: 0, gone: false });
    const later = pending;
    pending = undefined;
    let run: Job[] = [];
    for (const [j, told] of later) {
      if (!told) {
        run.push(j);
        continue;
      }
      changesOf(run);
      run = [];
      push(told);
    }
    changesOf(run);
    while (!ended()) {
      if (tooSlow)
        throw new DschedError(
          'WATCHER_TOO_SLOW',
          `the job-change stream fell more than ${most} changes (or ${WATCH_BACKLOG_BYTES >> 20} MB) behind (with the other streams ${ctx.identity.name || 'this caller'} watches that are behind, and what they name)`,
        );
      if (head === backlog.length) {
        backlog.length = head = 0;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const c = backlog[head]!;
      backlog[head++] = undefined;
      held(-1, -sizeOf(c));
      // a reader that keeps up, but never quite to the end, does not grow the array of written slots
      if (head >= 4096 && head * 2 >= backlog.length) {
        backlog.splice(0, head);
        head = 0;
      }
      await Promise.race([writePaced(call, c), cut]);
    }
  } finally {
    off();
    leave();
  }
}
