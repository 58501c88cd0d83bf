// Following jobs live over the schedd's job-change stream (Schedd.WatchJobs) instead of asking again and
// again: dwait's waiting loop and `dq -watch` (HTCondor's condor_watch_q: a progress bar per batch, redrawn
// at every change, exiting when the jobs are done). A schedd that restarts is waited for: the stream is
// opened again and the queue re-read, and jobs that left it meanwhile count as gone.
import { ClassAd } from '../../grammar/classad/index.js';
import { DschedError, type ErrorCode } from '../../lib/errors.js';
import { Universe } from '../../lib/job-status.js';
import { io } from './io.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { procsOf } from '../../lib/rpc/job-changes.js';
import type { Selection } from './job-selection.js';
import type { Session } from './session.js';

export interface JobState {
  cluster: number;
  proc: number;
  /** JobStatus: 1 idle, 2 running, 3 removed, 4 completed, 5 held, 6 transferring output, 7 suspended */
  status: number;
  attrs: Record<string, string>;
  /** it left the queue; `status` is its last (undefined when it left while the stream was down) */
  gone: boolean;
}

export interface Follow {
  ids: Array<{ cluster: number; proc: number }>;
  owners?: string[];
  /** the attributes each change carries (JobStatus and the ids always) */
  projection: string[];
  /** After the queue was read (again) and after each change; true ends the watch. While a promise it
   *  returns is pending, the stream is paused (later changes wait). */
  update(
    jobs: ReadonlyMap<string, JobState>,
    left: ReadonlyMap<string, JobState | undefined>,
    changed?: JobState,
  ): boolean | Promise<boolean>;
  /** Give up at this time (epoch ms): followJobs resolves 'timeout'. */
  deadline?: number;
  /** How long a schedd that cannot be reached is waited for (default two minutes). */
  reconnectForMs?: number;
  /** The stream broke and is being opened again. */
  onReconnect?(why: DschedError | undefined): void;
}

// refusals are final; anything else (the schedd restarting, the stream cut) is waited out
const FINAL = new Set<ErrorCode>([
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'USAGE',
  'RPC_MALFORMED',
  'INPUT_TOO_LARGE',
  'NOT_IMPLEMENTED',
  'JOB_NOT_FOUND',
  'QUERY_TOO_EXPENSIVE',
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const jobKey = (j: { cluster: number; proc: number }) => `${j.cluster}.${j.proc}`;

function stateOf(c: JobChange__Output): JobState {
  return {
    cluster: Number(c.id?.cluster),
    proc: Number(c.id?.proc),
    status: c.status,
    attrs: c.ad?.attrs ?? {},
    gone: c.gone,
  };
}

/** The jobs a change tells of: one, or each proc of its spans (procs of a cluster that changed alike). */
function* statesOf(c: JobChange__Output): Generator<JobState> {
  const first = stateOf(c);
  if (!c.procs?.length) {
    yield first;
    return;
  }
  const withId = 'ProcId' in first.attrs;
  for (const p of procsOf(c))
    yield { ...first, proc: p, attrs: withId ? { ...first.attrs, ProcId: String(p) } : first.attrs };
}

/** Follow the jobs until `update` says so ('done') or the deadline passes ('timeout'). */
export async function followJobs(schedd: ScheddClient, f: Follow): Promise<'done' | 'timeout'> {
  const jobs = new Map<string, JobState>();
  const left = new Map<string, JobState | undefined>();
  const projection = [...new Set(['ClusterId', 'ProcId', 'JobStatus', ...f.projection])];
  let lostSince = 0;
  let backoff = 250;
  for (;;) {
    const r = await new Promise<{ stop?: 'done' | 'timeout'; err?: DschedError; fatal?: unknown }>((resolve) => {
      const stream = schedd.jobChanges({ ids: f.ids, owners: f.owners ?? [], projection, spans: true });
      let synced = false;
      const fresh = new Map<string, JobState>();
      let timer: NodeJS.Timeout | undefined;
      const finish = (out: { stop?: 'done' | 'timeout'; err?: DschedError; fatal?: unknown }) => {
        clearTimeout(timer);
        stream.removeAllListeners();
        stream.on('error', () => {}); // the cancel below reports itself as an error
        stream.cancel();
        resolve(out);
      };
      if (f.deadline !== undefined)
        timer = setTimeout(() => finish({ stop: 'timeout' }), Math.max(0, f.deadline - Date.now()));
      const decide = (r: boolean | Promise<boolean>) => {
        if (r === true) finish({ stop: 'done' });
        else if (r !== false) {
          stream.pause();
          r.then(
            (stop) => (stop ? finish({ stop: 'done' }) : stream.resume()),
            (e) => finish({ fatal: e }), // our own failure: nothing a reconnect would cure
          );
        }
      };
      stream.on('data', (c: JobChange__Output) => {
        if (Number(c.id?.cluster) === 0 && Number(c.id?.proc) === -1) {
          // the queue as it is now has been sent: what was watched before and is missing left meanwhile
          for (const [k] of jobs) if (!fresh.has(k)) left.set(k, undefined);
          jobs.clear();
          for (const [k, j] of fresh) jobs.set(k, j);
          synced = true;
          lostSince = 0;
          backoff = 250;
          decide(f.update(jobs, left));
          return;
        }
        if (!synced) {
          for (const j of statesOf(c)) if (!j.gone) fresh.set(jobKey(j), j);
          return;
        }
        apply(statesOf(c), false);
      });
      // each job of a change in turn; an update that waits pauses the stream until it is done
      const apply = (it: Iterator<JobState>, paused: boolean): void => {
        for (let n = it.next(); !n.done; n = it.next()) {
          const j = n.value;
          const k = jobKey(j);
          if (j.gone) {
            jobs.delete(k);
            left.set(k, j);
          } else jobs.set(k, j);
          const r = f.update(jobs, left, j);
          if (r === true) return finish({ stop: 'done' });
          if (r !== false) {
            if (!paused) stream.pause();
            r.then(
              (stop) => (stop ? finish({ stop: 'done' }) : apply(it, true)),
              (e) => finish({ fatal: e }),
            );
            return;
          }
        }
        if (paused) stream.resume();
      };
      stream.on('error', (e) =>
        finish({ err: schedd.rpc.streamError(e as Parameters<ScheddClient['rpc']['streamError']>[0]) }),
      );
      stream.on('end', () => finish({}));
    });
    if (r.stop) return r.stop;
    if (r.fatal !== undefined) throw r.fatal;
    if (r.err && FINAL.has(r.err.code)) throw r.err;
    lostSince ||= Date.now();
    if (Date.now() - lostSince > (f.reconnectForMs ?? 120_000))
      throw r.err ?? new DschedError('SCHEDD_UNREACHABLE', 'the schedd keeps ending the job-change stream');
    f.onReconnect?.(r.err);
    if (f.deadline !== undefined && Date.now() + backoff >= f.deadline) return 'timeout';
    await sleep(backoff);
    backoff = Math.min(5000, backoff * 2);
  }
}

// ---- dq -watch ----

/** An -exit condition (condor_watch_q): when GROUPER (all, any, none) of the jobs are in STATUS, exit with CODE. */
export interface ExitCondition {
  grouper: 'all' | 'any' | 'none';
  status: 'active' | 'done' | 'idle' | 'held';
  code: number;
}

export function parseExitCondition(text: string): ExitCondition {
  const [grouper, status, code, ...rest] = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = (why: string) =>
    new DschedError(
      'USAGE',
      `-exit ${text}: ${why} (GROUPER,JOB_STATUS[,EXIT_CODE], e.g. -exit all,done,0 -exit any,held,1)`,
    );
  if (rest.length) throw bad('too many parts');
  if (grouper !== 'all' && grouper !== 'any' && grouper !== 'none') throw bad('GROUPER is all, any or none');
  if (status !== 'active' && status !== 'done' && status !== 'idle' && status !== 'held')
    throw bad('JOB_STATUS is active, done, idle or held');
  const n = code === undefined || code === '' ? 0 : Number(code);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw bad('EXIT_CODE is a number from 0 to 255');
  return { grouper, status, code: n };
}

/** What a job counts as in a batch's bar. */
type Category = 'idle' | 'running' | 'held' | 'done' | 'failed';
const CATEGORIES: Category[] = ['done', 'failed', 'running', 'idle', 'held'];

function categoryOf(j: JobState | undefined): Category {
  if (!j) return 'done'; // left while the stream was down: its outcome is read from the history at the end
  if (j.gone) return j.status === 4 && j.attrs.ExitCode === '0' && j.attrs.ExitBySignal !== 'true' ? 'done' : 'failed';
  if (j.status === 5) return 'held';
  if (j.status === 1) return 'idle';
  return 'running'; // running, transferring output, suspended
}

function matchesStatus(c: Category, status: ExitCondition['status']): boolean {
  if (status === 'done') return c === 'done' || c === 'failed';
  if (status === 'active') return c === 'idle' || c === 'running' || c === 'held';
  return c === status;
}

interface Batch {
  label: string;
  counts: Record<Category, number>;
  /** a DAG's own job ad: its node counts (DAG_Nodes*) */
  dag?: Record<string, string>;
}

const WATCH_PROJECTION = [
  'Owner',
  'JobUniverse',
  'DAGManJobId',
  'JobBatchName',
  'ExitCode',
  'ExitBySignal',
  'DAG_NodesTotal',
  'DAG_NodesDone',
  'DAG_NodesFailed',
];

function literal(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  try {
    return ClassAd.fromRecord({ v }).lookupJS('v');
  } catch {
    return undefined;
  }
}

/** Jobs of a DAG are one batch with it; other jobs are batched by cluster. */
function batchOf(j: JobState): { key: string; label: string } {
  const dag = Number(j.attrs.DAGManJobId);
  const name = literal(j.attrs.JobBatchName);
  if (Number.isInteger(dag) && dag > 0) return { key: `dag ${dag}`, label: `DAG ${dag}` };
  if (j.attrs.JobUniverse === String(Universe.Scheduler))
    return { key: `dag ${j.cluster}`, label: typeof name === 'string' && name ? name : `DAG ${j.cluster}` };
  return { key: `cluster ${j.cluster}`, label: typeof name === 'string' && name ? name : `cluster ${j.cluster}` };
}

function bar(done: number, total: number, width: number): string {
  const fill = total ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
}

function batchLine(b: Batch, labelWidth: number): string {
  const c = b.counts;
  let total = CATEGORIES.reduce((n, k) => n + c[k], 0);
  let finished = c.done + c.failed;
  let nodes = '';
  if (b.dag && Number(b.dag.DAG_NodesTotal) > 0) {
    // a DAG's bar counts its nodes, also those not submitted yet
    total = Number(b.dag.DAG_NodesTotal);
    finished = Number(b.dag.DAG_NodesDone ?? 0) + Number(b.dag.DAG_NodesFailed ?? 0);
    nodes = `  (nodes ${Number(b.dag.DAG_NodesDone ?? 0)}/${total} done, ${Number(b.dag.DAG_NodesFailed ?? 0)} failed)`;
  }
  const pct = total ? Math.floor((finished / total) * 100) : 0;
  return `${b.label.padEnd(labelWidth)} ${bar(finished, total, 20)} ${String(pct).padStart(3)}%  ${c.done} done, ${c.failed} failed, ${c.running} running, ${c.idle} idle, ${c.held} held${nodes}`;
}

export interface WatchQueueOptions {
  ids: Array<{ cluster: number; proc: number }>;
  owners: string[];
  exit: ExitCondition[];
  /** redraw in place (a terminal); otherwise a plain line per change */
  tty: boolean;
  out: NodeJS.WritableStream;
}

/**
 * dq -watch: one progress bar per batch (a cluster, or a DAG with its nodes), live. Exits as its -exit
 * conditions say; without any, once every job has left the queue or is held, with 1 if any was held, removed
 * or exited non-zero (0 when there is nothing to watch, as condor_watch_q).
 */
export async function watchQueue(schedd: ScheddClient, o: WatchQueueOptions): Promise<number> {
  const batches = new Map<string, Batch>();
  const category = new Map<string, Category>();
  const batchKey = new Map<string, string>();
  /** DAG jobs (they head their batch) and jobs that left while the stream was down (outcome unknown) */
  const heads = new Set<string>();
  const unknown = new Set<string>();
  let exitCode = 0;
  let drawn = 0;
  let pending: NodeJS.Timeout | undefined;
  /** jobs by category: all of them (for when to exit), and those in the bars (DAG jobs left out) */
  const tally: Record<Category, number> = { idle: 0, running: 0, held: 0, done: 0, failed: 0 };
  const shown: Record<Category, number> = { ...tally };

  const note = (k: string, j: JobState | undefined) => {
    let bk = batchKey.get(k);
    if (!bk && j) {
      const { key, label } = batchOf(j);
      bk = key;
      batchKey.set(k, key);
      if (!batches.has(key)) batches.set(key, { label, counts: { idle: 0, running: 0, held: 0, done: 0, failed: 0 } });
    }
    if (!bk) return undefined;
    const b = batches.get(bk)!;
    const was = category.get(k);
    const now = categoryOf(j);
    category.set(k, now);
    // running tallies: a change costs the same with ten jobs or 100,000
    if (was) tally[was]--;
    tally[now]++;
    if (!j) unknown.add(k);
    if (j?.attrs.JobUniverse === String(Universe.Scheduler) || heads.has(k)) {
      // the DAG job itself heads its batch: it counts for when to exit, not in the bar
      heads.add(k);
      if (!j?.gone) b.dag = { ...b.dag, ...j?.attrs };
      const lbl = literal(j?.attrs.JobBatchName);
      if (typeof lbl === 'string' && lbl) b.label = lbl;
      return { batch: b, moved: was !== now };
    }
    if (was) b.counts[was]--;
    b.counts[now]++;
    shown[now]++;
    if (was) shown[was]--;
    return { batch: b, moved: was !== now };
  };

  const lines = () => {
    const w = Math.max(8, ...[...batches.values()].map((b) => b.label.length));
    return [...batches.values()].map((b) => batchLine(b, w));
  };
  const totals = () => {
    const t = shown;
    return `Total: ${category.size - heads.size} jobs; ${t.done} done, ${t.failed} failed, ${t.running} running, ${t.idle} idle, ${t.held} held`;
  };
  const redraw = () => {
    pending = undefined;
    const text = [...lines(), totals()];
    // back to the first line of the last drawing, and over it
    o.out.write(`${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${text.join('\n')}\n`);
    drawn = text.length;
  };
  const show = (changed?: JobState, n?: { batch: Batch; moved: boolean }) => {
    if (o.tty) {
      pending ??= setTimeout(redraw, 50);
      return;
    }
    const stamp = new Date().toISOString().slice(11, 19);
    if (!changed) for (const l of lines()) o.out.write(`${stamp} ${l}\n`);
    // a line when a job moves in its bar (not for every attribute update)
    else if (n?.moved)
      o.out.write(`${stamp} ${jobKey(changed)} ${categoryOf(changed)}: ${batchLine(n.batch, n.batch.label.length)}\n`);
  };

  const decide = (): boolean => {
    if (o.exit.length) {
      for (const c of o.exit) {
        const n = CATEGORIES.reduce((sum, x) => sum + (matchesStatus(x, c.status) ? tally[x] : 0), 0);
        const hit = c.grouper === 'all' ? n === category.size : c.grouper === 'any' ? n > 0 : n === 0;
        if (hit) {
          exitCode = c.code;
          return true;
        }
      }
      return false;
    }
    if (tally.idle || tally.running) return false;
    exitCode = tally.held || tally.failed ? 1 : 0;
    return true;
  };

  let first = true;
  await followJobs(schedd, {
    ids: o.ids,
    owners: o.owners,
    projection: WATCH_PROJECTION,
    update(jobs, left, changed) {
      if (!changed) {
        // (re)read: every job in the queue, and those that left while the stream was down
        for (const [k, j] of jobs) note(k, j);
        for (const [k, j] of left)
          if (j === undefined && category.get(k) !== 'done' && category.get(k) !== 'failed') note(k, undefined);
        if (!first) {
          show();
          return decide();
        }
        first = false;
        // jobs named that have already finished are part of their batch (and of the exit code)
        return (async () => {
          if (o.ids.length)
            for await (const page of schedd.queryPages({
              ids: o.ids,
              owners: [],
              constraint: '',
              projection: ['ClusterId', 'ProcId', 'JobStatus', ...WATCH_PROJECTION],
              history: true,
              limit: 0,
            }))
              for (const a of page.ads) {
                const j: JobState = {
                  cluster: Number(a.attrs.ClusterId),
                  proc: Number(a.attrs.ProcId),
                  status: Number(a.attrs.JobStatus),
                  attrs: a.attrs,
                  gone: true,
                };
                if (!category.has(jobKey(j))) note(jobKey(j), j);
              }
          if (!category.size) {
            if (o.ids.length)
              throw new DschedError(
                'JOB_NOT_FOUND',
                `no such job: ${o.ids
                  .slice(0, 10)
                  .map(jobKey)
                  .join(', ')
                  .replace(/\.-1\b/g, '')}${o.ids.length > 10 ? ', …' : ''}`,
              );
            o.out.write('dq: no jobs to watch\n');
            return true;
          }
          show();
          return decide();
        })();
      }
      show(changed, note(jobKey(changed), changed));
      return decide();
    },
    onReconnect: () => {
      if (!o.tty)
        o.out.write(`${new Date().toISOString().slice(11, 19)} the schedd is not answering: waiting for it\n`);
    },
  });
  if (o.tty) {
    clearTimeout(pending);
    if (category.size) redraw();
  } else if (category.size) o.out.write(`${totals()}\n`);
  if (!o.exit.length && exitCode === 0 && unknown.size) exitCode = (await allSucceeded(schedd, [...unknown])) ? 0 : 1;
  return exitCode;
}

/** Whether jobs that left the queue unseen (the schedd was restarting) completed with exit code 0. */
async function allSucceeded(schedd: ScheddClient, keys: string[]): Promise<boolean> {
  const ids = keys.map((k) => ({ cluster: Number(k.split('.')[0]), proc: Number(k.split('.')[1]) }));
  let ok = 0;
  for await (const page of schedd.queryPages({
    ids,
    owners: [],
    constraint: '',
    projection: ['JobStatus', 'ExitCode', 'ExitBySignal'],
    history: true,
    limit: 0,
  }))
    for (const a of page.ads)
      if (categoryOf({ cluster: 0, proc: 0, status: Number(a.attrs.JobStatus), attrs: a.attrs, gone: true }) === 'done')
        ok++;
  return ok === ids.length;
}

/** dq -watch: the selection as dq reads it (ids, users, or your jobs), without a constraint. */
export async function watchCommand(
  session: Session,
  sel: Selection,
  o: { allusers: boolean; exit: string[] },
): Promise<number> {
  if (sel.constraint)
    throw new DschedError('USAGE', '-watch follows jobs by id or user; -constraint does not go with it');
  const exit = o.exit.map(parseExitCondition);
  const mine = !o.allusers && !sel.ids.length && !sel.owners.length;
  return watchQueue(await session.schedd(), {
    ids: sel.ids,
    owners: mine ? [session.user] : sel.owners,
    exit,
    tty: !!io().stdout.isTTY,
    out: io().stdout,
  });
}
