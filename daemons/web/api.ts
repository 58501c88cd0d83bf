// The JSON API under /v1. Each handler makes its RPCs as the caller (PoolLink.as): the schedd applies the same
// ownership and privacy rules as for the CLIs, and the answers are the same ads and names as `dq -json`.
import { OpenAPIHono, createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { ClassAd, parseExpr } from '../../grammar/classad/index.js';
import { adOfRecord } from '../../grammar/classad/json-text.js';
import { isDirectoryPath, parseDagFileAsync, readDagFile } from '../../grammar/dag/index.js';
import { expandSubmit, isPbsScript, loadSubmit, singleCluster } from '../../grammar/submit/index.js';
import { analyzeJobs } from '../../cli/shared/analyze.js';
import { fetchPoolForAnalysis } from '../../cli/shared/analyze-pool.js';
import { adToJSON } from '../../cli/shared/output/ad.js';
import { jobOf } from '../../cli/shared/unreadable-attrs.js';
import { countSlots } from '../../cli/shared/output/slots.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError, reasonOf } from '../../lib/errors.js';
import { Universe } from '../../lib/job-status.js';
import type { Logger } from '../../lib/log.js';
import { qualifiedName } from '../../lib/rpc/authz.js';
import type { JobCounts__Output } from '../../lib/rpc/generated/dsched/v1/JobCounts.js';
import type { JobQuery } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import { TIGHTEST_UMASK } from '../../lib/umask.js';
import { loginOf } from '../../lib/users.js';
import { errorResponse, type WebEnv } from './guard.js';
import { literalValue, MIRROR_WAIT_MS, type JobMirror } from './job-mirror.js';
import { STATE_OF } from './metrics.js';
import type { Caller, PoolLink } from './pool-link.js';
import * as S from './schemas.js';
import { asCaller, jobEvents, jobPath, readText, rescueFiles, tailFile } from './user-files.js';

export interface ApiDeps {
  link: PoolLink;
  mirror: JobMirror;
  config: Config;
  log: Logger;
  anonymousReads: () => boolean;
}

const STATUS_OF: Record<(typeof S.STATES)[number], string> = {
  idle: 'JobStatus == 1',
  running: '(JobStatus == 2 || JobStatus == 6)',
  removed: 'JobStatus == 3',
  completed: 'JobStatus == 4',
  held: 'JobStatus == 5',
  suspended: 'JobStatus == 7',
};

const json = (schema: z.ZodType, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(S.ErrorBody, 'the request is malformed'),
  401: json(S.ErrorBody, 'a user token is needed'),
  403: json(S.ErrorBody, 'the caller may not do this'),
  404: json(S.ErrorBody, 'no such job'),
};
const bearer = [{ bearer: [] }];

function route<R extends RouteConfig>(r: R): R {
  return createRoute({ ...r, security: r.security ?? bearer, responses: { ...errors, ...r.responses } });
}

function parseId(text: string): { cluster: number; proc: number } {
  const [c, p] = text.split('.');
  return { cluster: Number(c), proc: p === undefined ? -1 : Number(p) };
}

function and(...parts: Array<string | undefined>): string {
  return parts
    .filter((p): p is string => !!p && p.trim() !== '')
    .map((p) => `(${p})`)
    .join(' && ');
}

/** A constraint from a user is parsed here first, so a syntax error is a 400 with its position. */
function checkConstraint(text: string | undefined): void {
  if (text) parseExpr(text, { file: '<constraint>', line: 1, column: 1 });
}

/**
 * Job ads from their stored texts, and the attributes left out of them. An attribute whose text is no ClassAd
 * expression (a queue or history written by an older version) is left out of its job, which is still shown,
 * and named with why, as dq names it on stderr: one such job must not fail the whole answer. Every route
 * that shows or weighs a whole job ad reads it here.
 */
function readJobs(records: Array<Record<string, string>>) {
  const unreadable: Array<z.infer<typeof S.Unreadable>> = [];
  const ads = records.map((attrs) =>
    adOfRecord(attrs, (name, err) => unreadable.push({ job: jobOf(attrs), attribute: name, ...reasonOf(err) })),
  );
  return { ads, unreadable };
}

/** `unreadable` as an answer carries it: absent when nothing was left out. */
const unreadableOf = (unreadable: Array<z.infer<typeof S.Unreadable>>) => (unreadable.length ? { unreadable } : {});

/** Job ads as dq -json prints them, and those left out of them in `unreadable`. */
function jobsJson(records: Array<Record<string, string>>) {
  const { ads, unreadable } = readJobs(records);
  return { jobs: ads.map((ad) => adToJSON(ad)), ...unreadableOf(unreadable) };
}

function countsOf(c: JobCounts__Output | null | undefined) {
  return {
    total: Number(c?.total ?? 0),
    idle: Number(c?.idle ?? 0),
    running: Number(c?.running ?? 0),
    held: Number(c?.held ?? 0),
    completed: Number(c?.completed ?? 0),
    removed: Number(c?.removed ?? 0),
    suspended: Number(c?.suspended ?? 0),
  };
}

function userOf(caller: Caller): string {
  if (caller.kind !== 'user')
    throw new DschedError(
      'UNAUTHENTICATED',
      "reading a job's files needs a user token: they are read with that user's rights",
    );
  return caller.name;
}

export function api(d: ApiDeps): OpenAPIHono<WebEnv> {
  const app = new OpenAPIHono<WebEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const first = result.error.issues[0];
        const where = first?.path?.join('.') || 'request';
        return c.json({ error: { code: 'USAGE', message: `${where}: ${first?.message ?? 'invalid'}` } }, 400);
      }
    },
  });
  app.onError((e, c) => errorResponse(c, e, d.log));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'a pool user token (`dsched token create`); without one, reads only (on a loopback address)',
  });
  const as = <T>(c: { get(k: 'caller'): Caller }, fn: () => Promise<T>, write = false) =>
    d.link.as(c.get('caller'), fn, { write });

  /** Every ad of a query as the caller, gathered with the counts of the last page. */
  async function query(q: JobQuery) {
    const ads: Array<Record<string, string>> = [];
    const completions: number[] = [];
    let last;
    for await (const page of d.link.schedd().queryPages(q)) {
      for (const a of page.ads) ads.push(a.attrs);
      completions.push(...(page.completions ?? []).map(Number));
      if (page.last) last = page;
    }
    return { ads, completions, last };
  }

  /**
   * A page of /v1/jobs by ids: the mirror knows every job's id, owner and state in id order, so the schedd is
   * asked for exactly the page's jobs instead of evaluating a cursor constraint over the queue before it. A
   * constraint is evaluated by the schedd (as the caller) over windows of ids until the page is full or a
   * second has passed; `next` then says where to go on, so no request is unbounded however rare the matches.
   */
  async function pageFromMirror(
    q: z.infer<typeof S.JobsQuery>,
    after: { cluster: number; proc: number } | undefined,
    projection: string[],
  ) {
    const cluster = q.cluster ? Number(q.cluster) : undefined;
    const keep = (j: { owner: string; status: number; cluster: number }) =>
      (!q.owner || j.owner === q.owner) &&
      (!q.state || STATE_OF[j.status] === q.state) &&
      (cluster === undefined || j.cluster === cluster);
    const jobs: Array<Record<string, string>> = [];
    const deadline = performance.now() + 1000;
    let from = after;
    for (;;) {
      const want = q.constraint ? Math.max(q.limit, 2000) : q.limit;
      const { ids, more } = d.mirror.idsAfter(from, keep, want);
      if (!ids.length) return { ...jobsJson(jobs), next: null };
      const { ads } = await query({
        ids: ids.map((j) => ({ cluster: j.cluster, proc: j.proc })),
        constraint: q.constraint ?? '',
        projection,
        history: false,
        limit: 0,
      });
      for (const a of ads) {
        if (jobs.length === q.limit) {
          const last = jobs.at(-1)!;
          return {
            ...jobsJson(jobs),
            next: `${literalValue(last.ClusterId ?? '0')}.${literalValue(last.ProcId ?? '0')}`,
          };
        }
        jobs.push(a);
      }
      const lastId = ids.at(-1)!;
      from = { cluster: lastId.cluster, proc: lastId.proc };
      if (!more) return { ...jobsJson(jobs), next: null };
      if (jobs.length === q.limit || performance.now() > deadline)
        return { ...jobsJson(jobs), next: `${from.cluster}.${from.proc}` };
    }
  }

  /** A `projection` parameter as the schedd takes it (the job id always in; none: every attribute). */
  const projectionOf = (p: string | undefined) =>
    p ? [...new Set(['ClusterId', 'ProcId', ...p.split(',').filter(Boolean)])] : [];

  /** A page of at most `limit` of `ads` (asked for one more), and the `after` of the next page when there is one. */
  function pageOf(ads: Array<Record<string, string>>, limit: number) {
    const page = ads.slice(0, limit);
    const lastAd = page.at(-1);
    const next =
      ads.length > limit && lastAd
        ? `${literalValue(lastAd.ClusterId ?? '0')}.${literalValue(lastAd.ProcId ?? '0')}`
        : null;
    return { ...jobsJson(page), next };
  }

  /** The queue's jobs by state, as dq -totals counts them, from the mirror. */
  function mirrorCounts() {
    const jobs = { total: 0, idle: 0, running: 0, held: 0, completed: 0, removed: 0, suspended: 0 };
    for (const [k, n] of d.mirror.tally) {
      jobs.total += n;
      const s = STATE_OF[Number(k.split('\0')[0])];
      if (s) jobs[s as keyof typeof jobs] += n;
    }
    return jobs;
  }

  /** One job's stored texts (queue, then history) as the caller, or JOB_NOT_FOUND. */
  async function oneJob(id: { cluster: number; proc: number }, projection: string[] = []) {
    const ids = [{ cluster: id.cluster, proc: id.proc < 0 ? 0 : id.proc }];
    let { ads } = await query({ ids, projection, history: false, limit: 1 });
    if (!ads.length) ({ ads } = await query({ ids, projection, history: true, limit: 1 }));
    if (!ads.length)
      throw new DschedError(
        'JOB_NOT_FOUND',
        `job ${id.cluster}.${ids[0]!.proc} is neither in the queue nor in the history`,
      );
    return ads[0]!;
  }

  /**
   * One job's ad of the few attributes a route acts on: one of them unreadable fails the request, since going
   * on without it would act on a wrong answer (no output file, no event log).
   */
  const jobAttrs = async (id: { cluster: number; proc: number }, projection: string[]) =>
    ClassAd.fromRecord(await oneJob(id, projection));

  app.openapi(
    route({ method: 'get', path: '/whoami', security: [], responses: { 200: json(S.WhoAmI, 'who this request is') } }),
    (c) => {
      const who = c.get('caller');
      return c.json(
        {
          user: who.kind === 'user' ? who.name : null,
          admin: who.kind === 'user' && who.admin,
          anonymousReads: d.anonymousReads(),
        },
        200,
      );
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/jobs',
      request: { query: S.JobsQuery },
      responses: { 200: json(S.JobsReply, 'a page of jobs in id order, as dq -json') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkConstraint(q.constraint);
      const after = q.after ? parseId(q.after) : undefined;
      const constraint = and(
        q.constraint,
        q.state ? STATUS_OF[q.state] : undefined,
        q.cluster ? `ClusterId == ${Number(q.cluster)}` : undefined,
        after ? `ClusterId > ${after.cluster} || (ClusterId == ${after.cluster} && ProcId > ${after.proc})` : undefined,
      );
      const projection = projectionOf(q.projection);
      void d.mirror.use();
      if (d.mirror.jobsReady)
        return c.json({ ...(await as(c, () => pageFromMirror(q, after, projection))), counts: mirrorCounts() }, 200);
      // before the mirror has the queue: the schedd pages by the constraint itself (slower on a big queue)
      const r = await as(c, () =>
        query({
          ids: [],
          owners: q.owner ? [q.owner] : [],
          constraint,
          projection,
          history: false,
          limit: q.limit + 1,
        }),
      );
      return c.json({ ...pageOf(r.ads, q.limit), counts: r.last?.all ? countsOf(r.last.all) : undefined }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/batches',
      request: { query: S.BatchesQuery },
      responses: { 200: json(S.BatchesReply, 'the queue in batches, as dq shows it') },
    }),
    async (c) => {
      await d.mirror.use(MIRROR_WAIT_MS);
      const q = c.req.valid('query');
      const batches = new Map<string, z.infer<typeof S.Batch> & { progressSum: number; progressN: number }>();
      const counts = { total: 0, idle: 0, running: 0, held: 0, completed: 0, removed: 0, suspended: 0 };
      for (const j of d.mirror.jobs.values()) {
        const state = STATE_OF[j.status];
        counts.total++;
        if (state) counts[state as keyof typeof counts]++;
        if (q.owner && j.owner !== q.owner) continue;
        if (q.state && state !== q.state) continue;
        // as dq's batch view: the batch name, else the DAG the job belongs to, else its cluster
        const dag = j.attrs.DAGManJobId;
        const name =
          typeof j.attrs.JobBatchName === 'string'
            ? j.attrs.JobBatchName
            : dag !== undefined
              ? `DAG: ${dag}`
              : `ID: ${j.cluster}`;
        const key = `${j.owner}\0${name}`;
        let b = batches.get(key);
        if (!b) {
          b = {
            owner: j.owner,
            name,
            clusters: [],
            submitted: Number(j.attrs.QDate ?? 0),
            done: 0,
            running: 0,
            idle: 0,
            held: 0,
            total: 0,
            progress: null,
            progressSum: 0,
            progressN: 0,
          };
          batches.set(key, b);
        }
        if (b.clusters.at(-1) !== j.cluster && !b.clusters.includes(j.cluster)) b.clusters.push(j.cluster);
        b.total++;
        if (j.status === 4) b.done++;
        else if (j.status === 2 || j.status === 6) b.running++;
        else if (j.status === 1) b.idle++;
        else if (j.status === 5) b.held++;
        const p = Number(j.attrs.Progress);
        if (Number.isFinite(p)) {
          b.progressSum += p;
          b.progressN++;
        }
      }
      const all = [...batches.values()].sort((a, b) => a.clusters[0]! - b.clusters[0]!);
      const page = all.slice(q.offset, q.offset + q.limit).map(({ progressSum, progressN, ...b }) => ({
        ...b,
        clusters: b.clusters.slice(0, 50),
        progress: progressN ? progressSum / progressN : null,
      }));
      return c.json({ batches: page, total: all.length, counts, ready: d.mirror.jobsReady }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/jobs/{id}',
      request: { params: S.JobIdParams },
      responses: { 200: json(S.JobReply, 'the job ad (queue, else history), as dq -json') },
    }),
    async (c) => {
      const id = parseId(c.req.valid('param').id);
      const { ads, unreadable } = readJobs([await as(c, () => oneJob(id))]);
      // beside the attributes, under a name no submit file can give an attribute (as dq -jsonl's $schema)
      return c.json({ ...adToJSON(ads[0]!), ...(unreadable.length ? { $unreadable: unreadable } : {}) }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/jobs/{id}/analyze',
      request: { params: S.JobIdParams },
      responses: { 200: json(S.AnalyzeReply, 'why the job is idle or held, as dq -analyze') },
    }),
    async (c) => {
      const id = parseId(c.req.valid('param').id);
      const out = await as(c, async () => {
        const { ads, unreadable } = readJobs([await oneJob(id)]);
        const job = ads[0]!;
        const pool = await fetchPoolForAnalysis({
          collector: async () => d.link.collector(),
          negotiator: () => d.link.negotiator(),
        });
        const name = qualifiedName(d.config.str('SCHEDD_NAME'), d.config.str('HOSTNAME') || hostname());
        const text = analyzeJobs([job], pool.slots, {
          submitter: `${String(job.lookupJS('Owner') ?? '')}@${name}`,
          priorities: pool.priorities,
          prioritiesError: pool.prioritiesError,
          width: 100,
        });
        return { text, ...unreadableOf(unreadable) };
      });
      return c.json(out, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/jobs/{id}/output',
      request: { params: S.JobIdParams, query: S.OutputQuery },
      responses: { 200: json(S.OutputReply, "the end of the job's stdout or stderr, read with the caller's rights") },
    }),
    async (c) => {
      const id = parseId(c.req.valid('param').id);
      const q = c.req.valid('query');
      const caller = c.get('caller');
      const user = userOf(caller);
      const job = await as(c, () => jobAttrs(id, ['Iwd', 'Out', 'Err', 'JobStatus', 'ShouldTransferFiles', 'Owner']));
      const path = jobPath(job.lookupJS('Iwd'), job.lookupJS(q.stream === 'stdout' ? 'Out' : 'Err'));
      if (!path) throw new DschedError('JOB_NOT_FOUND', `the job has no ${q.stream} file`);
      const running = job.lookupJS('JobStatus') === 2;
      const transfer = String(job.lookupJS('ShouldTransferFiles') ?? 'IF_NEEDED').toUpperCase();
      // the startd offers no output stream yet: a job whose files travel back shows its output after transfer
      const note =
        'the job runs with file transfer: its output is shown here once it has come back from the execute host';
      let t;
      try {
        t = tailFile(user, path, q.tail, q.from);
      } catch (e) {
        if (running && transfer !== 'NO' && e instanceof DschedError && e.code === 'JOB_NOT_FOUND')
          return c.json({ path, size: 0, offset: 0, text: '', source: 'file' as const, note }, 200);
        throw e;
      }
      return c.json({ ...t, source: 'file' as const, ...(running && transfer === 'YES' ? { note } : {}) }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/jobs/{id}/events',
      request: { params: S.JobIdParams },
      responses: { 200: json(S.EventsReply, "the job's events from its event log (log =)") },
    }),
    async (c) => {
      const id = parseId(c.req.valid('param').id);
      const user = userOf(c.get('caller'));
      const job = await as(c, () => jobAttrs(id, ['Iwd', 'UserLog']));
      const log = jobPath(job.lookupJS('Iwd'), job.lookupJS('UserLog'));
      if (!log) return c.json({ events: [], log: '' }, 200);
      const events = (await jobEvents(user, log, id.cluster, id.proc < 0 ? 0 : id.proc)) as unknown as Array<
        Record<string, unknown>
      >;
      return c.json({ events, log }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/history',
      request: { query: S.HistoryQuery },
      responses: { 200: json(S.JobsReply, 'finished jobs, newest first, as dhistory -json') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkConstraint(q.constraint);
      // newest first; a page goes on after the last job of the one before, as /v1/jobs pages, from where that
      // job stood in history's order (`C.P@T`: T its completion key), so it need not be in the history still
      const [id, completion] = (q.after ?? '').split('@');
      const history_after = id ? parseId(id) : undefined;
      const r = await as(c, () =>
        query({
          ids: [],
          owners: q.owner ? [q.owner] : [],
          constraint: q.constraint ?? '',
          projection: projectionOf(q.projection),
          history: true,
          limit: q.limit + 1,
          history_after,
          history_after_completion: Number(completion ?? 0),
        }),
      );
      const page = pageOf(r.ads, q.limit);
      const key = r.completions[q.limit - 1];
      return c.json({ ...page, next: page.next && key ? `${page.next}@${key}` : page.next }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/slots',
      request: { query: S.SlotsQuery },
      responses: { 200: json(S.SlotsReply, 'slot ads and their counts by state, as dstatus -json and -total') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkConstraint(q.constraint);
      const recs = await as(c, () => d.link.collector().query('Machine', q.constraint ?? ''));
      const ads = recs
        .map((r) => ClassAd.fromRecord(r))
        .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
      return c.json({ slots: ads.map((a) => adToJSON(a)), totals: { ...countSlots(ads).total } }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/submitters',
      responses: { 200: json(S.SubmittersReply, 'submitters with their jobs and fair-share standing') },
    }),
    async (c) => {
      const out = await as(c, async () => {
        const ads = await d.link.collector().query('Submitter');
        let prios:
          | Map<
              string,
              { effective_priority: number; real_priority: number; priority_factor: number; resources_in_use: number }
            >
          | undefined;
        let prioritiesError: string | undefined;
        try {
          const r = await (await d.link.negotiator()).priorities();
          prios = new Map(r.submitters.map((s) => [s.name, s]));
        } catch (e) {
          prioritiesError = (e as Error).message;
        }
        const names = new Set<string>();
        const rows = ads.map((a) => {
          const ad = ClassAd.fromRecord(a);
          const name = String(ad.lookupJS('Name') ?? '');
          names.add(name);
          const p = prios?.get(name);
          return {
            name,
            idle: Number(ad.lookupJS('IdleJobs') ?? 0),
            running: Number(ad.lookupJS('RunningJobs') ?? 0),
            held: Number(ad.lookupJS('HeldJobs') ?? 0),
            effectivePriority: p ? Number(p.effective_priority) : null,
            realPriority: p ? Number(p.real_priority) : null,
            priorityFactor: p ? Number(p.priority_factor) : null,
            resourcesInUse: p ? Number(p.resources_in_use) : null,
          };
        });
        // accounts the negotiator remembers without jobs now (duserprio shows them too)
        for (const [name, p] of prios ?? [])
          if (!names.has(name))
            rows.push({
              name,
              idle: 0,
              running: 0,
              held: 0,
              effectivePriority: Number(p.effective_priority),
              realPriority: Number(p.real_priority),
              priorityFactor: Number(p.priority_factor),
              resourcesInUse: Number(p.resources_in_use),
            });
        return {
          submitters: rows.sort((a, b) => a.name.localeCompare(b.name)),
          ...(prioritiesError ? { prioritiesError } : {}),
        };
      });
      return c.json(out, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/pool',
      responses: { 200: json(S.PoolReply, 'the overview: slots by state, jobs by state, utilisation, submitters') },
    }),
    async (c) => {
      await d.mirror.use(MIRROR_WAIT_MS);
      const { total } = countSlots(
        d.mirror
          .adsOf('Machine')
          .map((a) => ({ lookupJS: (n: string) => (a[n] === undefined ? undefined : literalValue(a[n]!)) })),
      );
      const jobs = mirrorCounts();
      const submitters = d.mirror.adsOf('Submitter').map((a) => ({
        name: String(literalValue(a.Name ?? '""')),
        idle: Number(literalValue(a.IdleJobs ?? '0')) || 0,
        running: Number(literalValue(a.RunningJobs ?? '0')) || 0,
        held: Number(literalValue(a.HeldJobs ?? '0')) || 0,
      }));
      return c.json({ slots: { ...total }, jobs, utilisation: d.mirror.utilisation, submitters }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/dags',
      responses: { 200: json(S.DagsReply, 'the DAGs in the queue (their DAGMan jobs)') },
    }),
    async (c) => {
      const r = await as(c, () =>
        query({
          ids: [],
          constraint: `JobUniverse == ${Universe.Scheduler}`,
          projection: [],
          history: false,
          limit: 1000,
        }),
      );
      const { jobs, ...unreadable } = jobsJson(r.ads);
      return c.json({ dags: jobs, ...unreadable }, 200);
    },
  );

  app.openapi(
    route({
      method: 'get',
      path: '/dags/{id}',
      request: { params: S.JobIdParams },
      responses: { 200: json(S.DagReply, 'a DAG: its nodes and their states, counts, rescue files') },
    }),
    async (c) => {
      const id = parseId(c.req.valid('param').id);
      const caller = c.get('caller');
      const out = await as(c, async () => {
        const { ads, unreadable } = readJobs([await oneJob(id)]);
        const dag = ads[0]!;
        if (dag.lookupJS('JobUniverse') !== Universe.Scheduler)
          throw new DschedError('USAGE', `job ${id.cluster} is not a DAG`);
        const file = String(dag.lookupJS('DAGManDagFile') ?? '');
        const projection = ['ClusterId', 'ProcId', 'DAGNodeName', 'JobStatus', 'ExitCode', 'ExitBySignal'];
        const constraint = `DAGManJobId == ${id.cluster}`;
        const [queue, history] = await Promise.all([
          query({ ids: [], constraint, projection, history: false, limit: 0 }),
          query({ ids: [], constraint, projection, history: true, limit: 0 }),
        ]);
        const nodeJobs = readJobs([...history.ads.reverse(), ...queue.ads]);
        return { dag, file, jobs: nodeJobs.ads, unreadable: [...unreadable, ...nodeJobs.unreadable] };
      });
      // the latest job of each node says its state
      const byNode = new Map<string, ClassAd>();
      for (const j of out.jobs) {
        const n = j.lookupJS('DAGNodeName');
        if (typeof n === 'string') byNode.set(n, j);
      }
      const stateOf = (j: ClassAd | undefined, premarked: boolean): string => {
        if (!j) return premarked ? 'done' : 'waiting';
        const s = j.lookupJS('JobStatus');
        if (s === 4) return j.lookupJS('ExitCode') === 0 && j.lookupJS('ExitBySignal') !== true ? 'done' : 'failed';
        return STATE_OF[Number(s)] ?? 'unknown';
      };
      let nodes: Array<z.infer<typeof S.DagNode>> = [];
      let error: string | undefined;
      let rescue: Array<{ file: string; text: string }> = [];
      if (caller.kind === 'user') {
        // the DAG file is the owner's: read with the caller's rights (another user may not be able to), each
        // file within a slice of the parse, so that other requests are served between them; no bigger than a
        // DAG the schedd would run, as the owner may have grown the file since it was submitted
        try {
          const iwd = out.dag.lookupJS('Iwd');
          const limit = d.config.int('DAGMAN_MAX_NODES_PER_OWNER');
          const parsed = await parseDagFileAsync(out.file, {
            cwd: typeof iwd === 'string' ? iwd : undefined,
            useDagDir: out.dag.lookupJS('DAGManUseDagDir') === true,
            maxNodes: {
              count: limit,
              why: `the DAG has more than ${limit} nodes, more than the schedd runs for one user (DAGMAN_MAX_NODES_PER_OWNER)`,
            },
            readFile: (path) => asCaller(caller.name, () => readDagFile(path)),
            isDirectory: (path) => asCaller(caller.name, () => isDirectoryPath(path)),
          });
          nodes = parsed.nodes.map((n) => {
            const j = byNode.get(n.name);
            return {
              name: n.name,
              state: stateOf(j, n.done),
              parents: n.parents.map((p) => parsed.nodes[p]!.name),
              job: j ? `${j.lookupJS('ClusterId')}.${j.lookupJS('ProcId')}` : null,
            };
          });
          // the newest alone, as DAGMan applies only that one: a user may leave 999 of them
          rescue = rescueFiles(caller.name, parsed.file)
            .slice(-1)
            .map((f) => ({ file: f, text: readText(caller.name, f, 1 << 20) }));
        } catch (e) {
          error = `cannot read the DAG file: ${(e as Error).message}`;
        }
      } else error = "the DAG file is read with the caller's rights: sign in to see the graph";
      if (!nodes.length)
        nodes = [...byNode].map(([name, j]) => ({
          name,
          state: stateOf(j, false),
          parents: [],
          job: `${j.lookupJS('ClusterId')}.${j.lookupJS('ProcId')}`,
        }));
      const counts: Record<string, number> = {};
      for (const n of nodes) counts[n.state] = (counts[n.state] ?? 0) + 1;
      return c.json(
        {
          dag: adToJSON(out.dag),
          file: out.file,
          nodes,
          counts,
          rescue,
          ...(error ? { error } : {}),
          ...unreadableOf(out.unreadable),
        },
        200,
      );
    },
  );

  app.openapi(
    route({
      method: 'post',
      path: '/jobs/actions',
      request: { body: { content: { 'application/json': { schema: S.ActionBody } } } },
      responses: { 200: json(S.ActionReply, 'what happened to each job') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      checkConstraint(b.constraint);
      if (!b.ids.length && !b.constraint) throw new DschedError('USAGE', 'say which jobs: ids or a constraint');
      if (b.action === 'prio' && b.value === undefined) throw new DschedError('USAGE', 'prio needs a value');
      const r = await as(
        c,
        () =>
          d.link.schedd().act({
            action: b.action,
            ids: b.ids.map(parseId),
            owners: [],
            constraint: b.constraint ?? '',
            all: false,
            reason: b.reason ?? '',
            value: b.value ?? '',
          }),
        true,
      );
      return c.json(
        {
          matched: r.matched,
          results: r.results.map((x) => ({
            id: `${x.id?.cluster}.${x.id?.proc}`,
            ok: x.ok,
            error: x.error,
            ...(x.code ? { code: x.code } : {}),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    route({
      method: 'post',
      path: '/submit',
      request: { body: { content: { 'application/json': { schema: S.SubmitBody } } } },
      responses: { 200: json(S.SubmitReply, 'the cluster queued') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const caller = c.get('caller');
      const user = userOf(caller);
      const cwd = b.cwd ?? loginOf(user)?.home;
      if (!cwd || !isAbsolute(cwd)) throw new DschedError('USAGE', 'cwd must be an absolute directory');
      const pbs = b.pbs ?? isPbsScript('web-submission', b.text);
      const input = {
        file: pbs ? 'web-submission.sh' : 'web-submission.sub',
        text: b.text,
        cwd,
        // no environment: the web daemon's own must never reach a job (getenv, $ENV, PBS -V see nothing)
        env: {},
        owner: user,
        // the caller's choice; else private to the owner: a web client has no shell umask to pass on, and a
        // job's output made readable by every user of the host is the worse surprise
        umask: b.umask === undefined ? TIGHTEST_UMASK : parseInt(b.umask, 8),
        hostname: d.config.str('HOSTNAME') || hostname(),
        pbsArgs: pbs ? [] : undefined,
        maxProcs: d.config.int('MAX_JOBS_PER_SUBMISSION'),
      };
      // include, queue from and matching read files: as the caller, never as root
      const plan = asCaller(user, () => loadSubmit(input));
      singleCluster(plan, 'a submit request');
      const r = await as(
        c,
        async () => {
          const schedd = d.link.schedd();
          const { cluster } = await schedd.newCluster();
          const { jobs, warnings } = asCaller(user, () => expandSubmit(plan, Number(cluster)));
          const res = await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
          return { cluster: Number(cluster), procs: res.procs, warnings: warnings.map((w) => w.message) };
        },
        true,
      );
      return c.json(r, 200);
    },
  );

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'dsched',
      version: '1',
      description:
        'The HTTP API of a dsched pool (docs/http-api.md). Server-sent events at /v1/events; Prometheus metrics at /metrics.',
    },
  });
  return app;
}
