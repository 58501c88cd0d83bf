// What the web daemon keeps in memory for everyone: one Schedd.WatchJobs stream (a few public attributes of
// every job) and one Collector.Watch stream (Machine, Submitter, Negotiator and Scheduler ads). Every SSE
// client, the batch view and /metrics read these copies, so a hundred browsers cost the schedd one stream and
// a scrape costs no RPC at all. The streams are open only while someone uses them (WEB_JOBS_IDLE): a pool
// nobody looks at over HTTP pays nothing per job for them (the utilisation history then asks the collector
// every 10 s). Both streams use the host certificate with a projection that leaves out the
// private attributes (Environment, Env, PRIVATE_JOB_ATTRS), so nothing here is anyone's secret.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log.js';
import type { AdChange__Output } from '../../lib/rpc/generated/dsched/v1/AdChange.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { procsOf } from '../../lib/rpc/job-changes.js';
import type { PoolLink } from './pool-link.js';
import { nowSeconds } from '../../lib/time.js';

/**
 * The job attributes the mirror asks for: what the batch view, events and metrics need. It keeps the ids,
 * Owner and JobStatus as fields of the job and the others in `attrs`, one object shared by the procs that
 * changed alike (a cluster of a million jobs holds one).
 */
export const MIRROR_ATTRS = [
  'ClusterId',
  'ProcId',
  'Owner',
  'JobStatus',
  'JobBatchName',
  'QDate',
  'Cmd',
  'DAGManJobId',
  'DAGNodeName',
  'JobUniverse',
  'EnteredCurrentStatus',
  'Progress',
  'HoldReason',
  'DAG_NodesTotal',
  'DAG_NodesDone',
  'DAG_NodesFailed',
  'DAG_NodesFutile',
  'DAG_NodesQueued',
  'DAG_NodesRunning',
  'DAG_NodesIdle',
  'DAG_NodesReady',
  'DAG_NodesUnready',
  'DAG_NodesPre',
  'DAG_NodesPost',
  'DAG_State',
];

/** How long a request that needs the jobs waits for a closed job stream to bring the queue in (ms). */
export const MIRROR_WAIT_MS = 3000;

export interface MirrorJob {
  cluster: number;
  proc: number;
  owner: string;
  status: number;
  /** shared with other jobs: never changed in place */
  attrs: Readonly<Record<string, string | number>>;
}

export interface JobEvent {
  id: string;
  status: number;
  owner: string;
  gone: boolean;
  progress?: string | number;
}

/** The literal value of ClassAd expression text, cheaply (strings and numbers; anything else as its text). */
export function literalValue(text: string): string | number {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

export class JobMirror {
  readonly jobs = new Map<string, MirrorJob>();
  /** Ads by type (Machine, Submitter, Negotiator, Scheduler), then name. */
  readonly ads = new Map<string, Map<string, Record<string, string>>>();
  /** Both streams have sent their current state. */
  jobsReady = false;
  adsReady = false;
  private jobStream?: grpc.ClientReadableStream<JobChange__Output>;
  private adStream?: grpc.ClientReadableStream<AdChange__Output>;
  private pending: JobEvent[] = [];
  private flushTimer?: NodeJS.Timeout;
  private listeners = new Set<(kind: 'jobs' | 'pool', data: unknown) => void>();
  private stopped = false;
  private poolChanged = false;
  /** Slot utilisation samples for the overview: [epoch seconds, busy cpus, total cpus]. */
  readonly utilisation: Array<[number, number, number]> = [];
  private sampler?: NodeJS.Timeout;
  /** Someone used the mirror lately: its streams are (re)opened and kept. */
  private wanted = false;
  private lastUse = 0;
  private idleTimer?: NodeJS.Timeout;
  private readyWaiters: Array<() => void> = [];

  /** `idleSeconds`: how long the streams stay open after their last use (0: always). */
  constructor(
    private link: PoolLink,
    private log: Logger,
    private hidden: () => Set<string>,
    private idleSeconds: () => number = () => 0,
  ) {}

  start(): void {
    if (this.idleSeconds() === 0) void this.use();
    this.sampler = setInterval(() => void this.sample(), 10_000);
    this.sampler.unref();
    this.idleTimer = setInterval(() => this.dropIfIdle(), 5_000);
    this.idleTimer.unref();
    void this.sample();
  }

  /**
   * Say the jobs and ads are needed: opens the streams if they are closed. The promise resolves once the
   * mirror holds the queue and the ads, or after `waitMs` (readers check jobsReady; /v1/jobs falls back to the
   * schedd meanwhile).
   */
  use(waitMs = 0): Promise<void> {
    this.lastUse = performance.now();
    if (!this.wanted && !this.stopped) {
      this.wanted = true;
      this.watchJobs(500);
      this.watchAds(500);
    }
    if ((this.jobsReady && this.adsReady) || waitMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, waitMs);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.readyWaiters.push(done);
    });
  }

  /** Close the streams and forget what they brought when nobody used them for WEB_JOBS_IDLE seconds. */
  private dropIfIdle(): void {
    const idle = this.idleSeconds();
    if (!this.wanted || idle === 0 || this.listeners.size) return;
    if (performance.now() - this.lastUse < idle * 1000) return;
    this.wanted = false;
    // their ends close their clients (retry sees they are no longer the mirror's streams)
    const { jobStream, adStream } = this;
    this.jobStream = this.adStream = undefined;
    jobStream?.cancel();
    adStream?.cancel();
    this.jobsReady = this.adsReady = false;
    this.jobs.clear();
    this.tally.clear();
    this.dagJobs.clear();
    this.ads.clear();
    this.log.info({ idle }, 'job watch stream closed: unused');
  }

  /** Be told of job changes (coalesced, at most 4 a second) and pool changes. */
  subscribe(fn: (kind: 'jobs' | 'pool', data: unknown) => void): () => void {
    this.listeners.add(fn);
    void this.use();
    return () => {
      this.listeners.delete(fn);
      this.lastUse = performance.now();
    };
  }
  get subscribers(): number {
    return this.listeners.size;
  }

  private projection(): string[] {
    const hidden = this.hidden();
    return MIRROR_ATTRS.filter((a) => !hidden.has(a.toLowerCase()));
  }

  /** A client for a watch stream, or undefined after arranging to try again (the daemon is not up yet). */
  private clientOr<T>(make: () => T | undefined, again: (backoff: number) => void, backoff: number): T | undefined {
    if (this.stopped) return undefined;
    const client = make();
    if (!client) setTimeout(() => again(Math.min(5000, backoff * 2)), backoff).unref();
    return client;
  }

  private watchJobs(backoff: number): void {
    if (!this.wanted) return;
    const client = this.clientOr(
      () => this.link.daemonSchedd(),
      (b) => this.watchJobs(b),
      backoff,
    );
    if (!client) return;
    const fresh = new Map<string, MirrorJob>();
    let hello = false;
    const stream = (this.jobStream = client.rpc.stream<JobChange__Output>('WatchJobs', {
      ids: [],
      projection: this.projection(),
      spans: true,
    }));
    stream.on('data', (ch: JobChange__Output) => {
      if (this.jobStream !== stream) return; // closed as unused; what it still had buffered is stale
      const cluster = Number(ch.id?.cluster ?? 0);
      const proc = Number(ch.id?.proc ?? 0);
      if (!hello && cluster === 0 && proc === -1) {
        // the current queue is in: it replaces what an earlier stream left
        hello = true;
        this.jobs.clear();
        this.tally.clear();
        this.dagJobs.clear();
        for (const [k, v] of fresh) this.put(k, v);
        fresh.clear();
        this.jobsReady = true;
        backoff = 500;
        this.wakeReaders();
        this.emitPool();
        return;
      }
      // the ids, owner and status are the job's fields; the rest is one object for every proc of the change
      let shared: Record<string, string | number> | undefined;
      let owner = '';
      if (!ch.gone) {
        shared = {};
        for (const [k, v] of Object.entries(ch.ad?.attrs ?? {})) {
          if (k === 'Owner') owner = String(literalValue(v));
          else if (k !== 'ClusterId' && k !== 'ProcId' && k !== 'JobStatus') shared[k] = literalValue(v);
        }
      }
      // one job, or the procs of a cluster that changed alike
      for (const p of procsOf(ch)) {
        const key = `${cluster}.${p}`;
        const job: MirrorJob | undefined = shared && { cluster, proc: p, owner, status: ch.status, attrs: shared };
        if (!hello) {
          if (job) fresh.set(key, job);
          else fresh.delete(key);
          continue;
        }
        // a changed job keeps its place: the map stays in (cluster, proc) order for paging
        this.untally(key);
        if (job) this.put(key, job);
        else this.jobs.delete(key);
        this.queueEvent({
          id: key,
          status: ch.status,
          owner: job?.owner ?? '',
          gone: ch.gone,
          progress: job?.attrs.Progress,
        });
      }
    });
    const retry = () => {
      stream.removeAllListeners();
      stream.on('error', () => {});
      client.close();
      if (this.jobStream !== stream) return; // closed as unused: nothing to reopen
      this.jobsReady = false;
      if (!this.stopped) setTimeout(() => this.watchJobs(Math.min(5000, backoff * 2)), backoff).unref();
    };
    stream.on('error', (e) => {
      this.log.debug({ err: e.message }, 'job watch stream lost (will reopen)');
      retry();
    });
    stream.on('end', retry);
  }

  private wakeReaders(): void {
    if (this.jobsReady && this.adsReady) for (const w of this.readyWaiters.splice(0)) w();
  }

  private watchAds(backoff: number): void {
    if (!this.wanted) return;
    const client = this.clientOr(
      () => this.link.daemonCollector(),
      (b) => this.watchAds(b),
      backoff,
    );
    if (!client) return;
    const stream = (this.adStream = client.watch(['Machine', 'Submitter', 'Negotiator', 'Scheduler'], {
      renewals: true,
    }));
    const fresh = new Map<string, Map<string, Record<string, string>>>();
    let hello = false;
    stream.on('data', (ch: AdChange__Output) => {
      if (this.adStream !== stream) return; // closed as unused
      if (ch.kind === 'hello') {
        hello = true;
        this.ads.clear();
        for (const [k, v] of fresh) this.ads.set(k, v);
        this.adsReady = true;
        backoff = 500;
        this.wakeReaders();
        this.emitPool();
        return;
      }
      const target = hello ? this.ads : fresh;
      let byName = target.get(ch.type);
      if (!byName) target.set(ch.type, (byName = new Map()));
      if (ch.kind === 'removed') byName.delete(ch.name);
      else if (ch.kind === 'renewed') {
        // a renewal's texts over the ad held (a copy: readers may hold the one before)
        const held = byName.get(ch.name);
        if (held) byName.set(ch.name, { ...held, ...ch.ad?.attrs });
      } else byName.set(ch.name, ch.ad?.attrs ?? {});
      if (hello) this.emitPool();
    });
    const retry = () => {
      stream.removeAllListeners();
      stream.on('error', () => {});
      client.close();
      if (this.adStream !== stream) return; // closed as unused: nothing to reopen
      this.adsReady = false;
      if (!this.stopped) setTimeout(() => this.watchAds(Math.min(5000, backoff * 2)), backoff).unref();
    };
    stream.on('error', retry);
    stream.on('end', retry);
  }

  /** The ids of the jobs after `after` (in id order) that pass `keep`, `max` of them at most, and whether more follow. */
  idsAfter(
    after: { cluster: number; proc: number } | undefined,
    keep: (j: MirrorJob) => boolean,
    max: number,
  ): { ids: MirrorJob[]; more: boolean } {
    const ids: MirrorJob[] = [];
    for (const j of this.jobs.values()) {
      if (after && (j.cluster < after.cluster || (j.cluster === after.cluster && j.proc <= after.proc))) continue;
      if (!keep(j)) continue;
      if (ids.length === max) return { ids, more: true };
      ids.push(j);
    }
    return { ids, more: false };
  }

  /** Jobs by `status \0 owner`, kept as they change: a scrape over 100,000 jobs reads a few numbers. */
  readonly tally = new Map<string, number>();
  /** The keys of DAG jobs (those with DAG_Nodes* attributes). */
  readonly dagJobs = new Set<string>();

  private put(key: string, job: MirrorJob): void {
    this.jobs.set(key, job);
    const t = `${job.status}\0${job.owner}`;
    this.tally.set(t, (this.tally.get(t) ?? 0) + 1);
    if (job.attrs.DAG_NodesTotal !== undefined) this.dagJobs.add(key);
  }

  private untally(key: string): void {
    const old = this.jobs.get(key);
    if (!old) return;
    const t = `${old.status}\0${old.owner}`;
    const n = (this.tally.get(t) ?? 1) - 1;
    if (n > 0) this.tally.set(t, n);
    else this.tally.delete(t);
    this.dagJobs.delete(key);
  }

  adsOf(type: string): Array<Record<string, string>> {
    return [...(this.ads.get(type)?.values() ?? [])];
  }

  private queueEvent(e: JobEvent): void {
    if (!this.listeners.size) return;
    this.pending.push(e);
    this.scheduleFlush();
  }

  private emitPool(): void {
    if (!this.listeners.size) return;
    this.poolChanged = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      const events = this.pending;
      this.pending = [];
      const pool = this.poolChanged;
      this.poolChanged = false;
      for (const fn of this.listeners) {
        if (events.length) fn('jobs', events);
        if (pool) fn('pool', {});
      }
    }, 250);
  }

  /** One utilisation sample: from the mirror's ads while it has them, else from the collector. */
  private async sample(): Promise<void> {
    let machines = this.adsOf('Machine');
    if (!this.adsReady) {
      const client = this.link.sharedDaemonCollector();
      if (!client) return;
      try {
        machines = await client.query('Machine', '', ['Cpus', 'SlotType', 'TotalSlotCpus', 'State'], {
          deadlineMs: 5_000,
        });
      } catch {
        return; // the collector is not up: no sample this time
      }
    }
    let busy = 0;
    let total = 0;
    for (const ad of machines) {
      const cpus = Number(literalValue(ad.Cpus ?? '0')) || 0;
      const type = literalValue(ad.SlotType ?? '""');
      // a partitionable slot advertises what is left; its dynamic slots what they hold
      if (type === 'Partitionable') total += Number(literalValue(ad.TotalSlotCpus ?? ad.Cpus ?? '0')) || cpus;
      else if (type === 'Dynamic') busy += cpus;
      else {
        total += cpus;
        if (literalValue(ad.State ?? '""') === 'Claimed') busy += cpus;
      }
    }
    this.utilisation.push([nowSeconds(), busy, total]);
    if (this.utilisation.length > 360) this.utilisation.shift(); // an hour at one sample every 10 s
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sampler);
    clearInterval(this.idleTimer);
    clearTimeout(this.flushTimer);
    this.jobStream?.cancel();
    this.adStream?.cancel();
  }
}
