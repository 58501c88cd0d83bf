// The Schedd gRPC service: the translation between messages and the queue. Who may call each method is in
// lib/rpc/authz.ts; here, that a startd reports only on claims given to a startd on its host.
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import { daemonHost } from '../../lib/rpc/authz.js';
import { streamSink } from '../../lib/transfer.js';
import type { FetchInputRequest__Output } from '../../lib/rpc/generated/dsched/v1/FetchInputRequest.js';
import { EncodedReply, type CallContext, type ServiceImpl } from '../../lib/rpc/server.js';
import { proto } from '../../lib/rpc/proto.js';
import type { ActRequest__Output } from '../../lib/rpc/generated/dsched/v1/ActRequest.js';
import type { IdleRequest__Output } from '../../lib/rpc/generated/dsched/v1/IdleRequest.js';
import type { JobEventsRequest__Output } from '../../lib/rpc/generated/dsched/v1/JobEventsRequest.js';
import type { JobQuery__Output } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import type { MatchedRequest__Output } from '../../lib/rpc/generated/dsched/v1/MatchedRequest.js';
import type { SubmitRequest__Output } from '../../lib/rpc/generated/dsched/v1/SubmitRequest.js';
import type { WatchJobsRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchJobsRequest.js';
import type { EditRequest__Output } from '../../lib/rpc/generated/dsched/v1/EditRequest.js';
import { checkEdits, editJobs } from './edit.js';
import type { FsAuth } from './fs-auth.js';
import type { Job } from './queue.js';
import type { Schedd } from './schedd.js';
import { fromArray, runJobQuery, selectJobs, type QueryOptions, type QueryPage } from './query.js';
import { QueryShare } from './query-share.js';
import { runAutoclusterQuery } from './autocluster-query.js';
import { writePaced } from '../../lib/rpc/write-paced.js';
import { frame } from '../../lib/rpc/framing.js';
import { watchJobs } from './watch-jobs.js';

const ids = (list: Array<{ cluster: number; proc: number }>) =>
  list.map((i) => ({ cluster: Number(i.cluster), proc: Number(i.proc) }));

/** Attribute text a streamed submission's procs may carry in all (as much as one Submit message may). */
const MAX_SUBMISSION_CHARS = 512 << 20;

export function scheddService(schedd: Schedd, auth: FsAuth, query: QueryOptions): ServiceImpl {
  const queue = schedd.queue;
  // whole ads come as wire bytes; the rest of the page (its counts, a rendered listing) is encoded as usual
  const encode = (proto().Schedd as unknown as { service: Record<string, grpc.MethodDefinition<unknown, unknown>> })
    .service.QueryJobs!.responseSerialize;
  // framed as gRPC sends it: a shared page goes to each of its readers as this one buffer (lib/rpc/framing.ts)
  const encodePage = (page: QueryPage) =>
    frame(page.wire ? [page.wire, encode({ ...page, wire: undefined })] : [encode(page)]);
  // queries of the same view share one answer while the queue stays the same
  const shared = new QueryShare(queue, query, encodePage);
  schedd.watch(() => shared.invalidate());
  return {
    unary: {
      BeginAuth() {
        return auth.begin();
      },
      FinishAuth(req: { nonce: string }) {
        return auth.finish(req.nonce);
      },
      NewCluster(_req: object, ctx: CallContext) {
        return { cluster: queue.reserveCluster(ctx.identity.name) };
      },
      async Submit(req: SubmitRequest__Output, ctx: CallContext) {
        const jobs = await schedd.submitPaced(
          ctx.identity,
          Number(req.cluster),
          req.cluster_attrs,
          req.procs.length ? req.procs.map((p) => p.attrs) : Number(req.count),
        );
        return { cluster: Number(req.cluster), procs: jobs.length };
      },
      async Query(req: JobQuery__Output, ctx: CallContext) {
        // the paged query, gathered: for callers that have not moved to QueryJobs
        const ads: Array<{ attrs: Record<string, string> }> = [];
        await runJobQuery(queue, req, ctx.identity, query, (p) => void ads.push(...p.ads), ctx.cancelled);
        return { ads };
      },
      async Act(req: ActRequest__Output, ctx: CallContext) {
        const wanted = ids(req.ids);
        if (!wanted.length && !req.owners.length && !req.constraint.trim() && !req.all)
          throw new DschedError('USAGE', 'say which jobs: cluster, cluster.proc, a user, -constraint or -all');
        const notQueued = (m: { cluster: number; proc: number }) => ({
          id: m,
          ok: false,
          error: `job ${m.cluster}${m.proc >= 0 ? '.' + m.proc : ''} is not in the queue`,
          code: 'JOB_NOT_FOUND',
        });
        const result = (r: { job: Job; ok: boolean; error?: string; code?: string }) => ({
          id: { cluster: r.job.cluster, proc: r.job.proc },
          ok: r.ok,
          error: r.error ?? '',
          code: r.code ?? '',
        });
        const action = req.action;
        // hold, release: PBS's hold types (qhold -h, qrls -h), u o s
        if ((action === 'hold' || action === 'release') && !/^[uos]*$/.test(req.value))
          throw new DschedError('USAGE', `hold types are letters among u, o and s, not '${req.value}'`);
        if (
          (action === 'remove' || action === 'hold' || action === 'release') &&
          // an operator or system hold is placed and released job by job (an administrator's, checked per job)
          !/[os]/.test(req.value) &&
          wanted.length &&
          wanted.every((w) => w.proc < 0) &&
          !req.owners.length &&
          !req.constraint.trim() &&
          !req.all
        ) {
          // whole clusters: changed set-based, no per-job selection
          const missing = wanted.filter((w) => !queue.jobs.clusterSize(w.cluster));
          const { done: acted, results } = await schedd.actOnClusters(
            ctx.identity,
            action,
            [...new Set(wanted.map((w) => w.cluster))],
            req.reason,
            req.value,
          );
          const done = acted.reduce((n, r) => n + r.length, 0) + results.filter((r) => r.ok).length;
          const out = req.failures_only ? [] : acted.flatMap((r) => r.map((job) => result({ job, ok: true })));
          for (const r of results) if (!req.failures_only || !r.ok) out.push(result(r));
          for (const m of missing) out.push(notQueued(m));
          return { matched: done + results.filter((r) => !r.ok).length, done, results: out };
        }
        const { jobs, missing } = await selectJobs(
          queue,
          { ids: wanted, owners: req.owners, constraint: req.constraint, all: req.all },
          ctx.identity,
          query,
          ctx.cancelled,
        );
        const results = await schedd.act(ctx.identity, req.action, jobs, req.reason, req.value);
        const out = [];
        for (const r of results) if (!req.failures_only || !r.ok) out.push(result(r));
        for (const m of missing) out.push(notQueued(m));
        return { matched: jobs.length, done: results.filter((r) => r.ok).length, results: out };
      },
      async Edit(req: EditRequest__Output, ctx: CallContext) {
        // the request is checked whole (names, values, protected attributes) before any job is selected
        const edits = checkEdits(
          Object.entries(req.attrs).map(([name, value]) => ({ name, value })),
          ctx.identity,
        );
        const wanted = ids(req.ids);
        if (!wanted.length && !req.owners.length && !req.constraint.trim())
          throw new DschedError('USAGE', 'say which jobs: cluster, cluster.proc, a user or -constraint');
        const { jobs, missing } = await selectJobs(
          queue,
          { ids: wanted, owners: req.owners, constraint: req.constraint, all: false },
          ctx.identity,
          query,
          ctx.cancelled,
        );
        const results = editJobs(queue, ctx.identity, jobs, edits, () => schedd.onQueueChanged());
        return {
          matched: jobs.length,
          results: [
            ...results.map((r) => ({
              id: { cluster: r.job.cluster, proc: r.job.proc },
              ok: r.ok,
              error: r.error ?? '',
              code: r.code ?? '',
            })),
            ...missing.map((m) => ({
              id: m,
              ok: false,
              error: `job ${m.cluster}${m.proc >= 0 ? '.' + m.proc : ''} is not in the queue`,
              code: 'JOB_NOT_FOUND',
            })),
          ],
        };
      },
      GetIdleAutoclusters(req: IdleRequest__Output) {
        queue.addSignificant(req.significant);
        const out = [];
        for (const ac of queue.autoclusters.values()) {
          if (req.submitter && ac.acct !== req.submitter) continue;
          const idle = queue.idleCount(ac.id);
          if (!idle) continue;
          const rep = [...ac.idle].find((j) => !j.matching);
          if (!rep) continue;
          out.push({ id: ac.id, job: { attrs: queue.merged(rep) }, idle });
        }
        return { autoclusters: out };
      },
      async Matched(req: MatchedRequest__Output) {
        // Claiming runs in the background: the negotiator need not wait for the startds.
        schedd.reserve(req.reserved ?? [], Number(req.reserved_start) || 0);
        void schedd.matched(req.matches);
        return {};
      },
      async JobEvents(req: JobEventsRequest__Output, ctx: CallContext) {
        return { acked: await schedd.jobEvents(req.events, daemonHost(ctx.identity)) };
      },
    },
    upload: {
      async SubmitPieces(messages: AsyncIterable<SubmitRequest__Output>, ctx: CallContext) {
        // the procs are gathered (as Submit's message holds them) and queued once the stream ended whole
        let first: SubmitRequest__Output | undefined;
        const procs: Array<Record<string, string>> = [];
        let chars = 0;
        for await (const m of messages) {
          if (!first) {
            first = m;
            schedd.checkSubmissionSize(Number(m.total));
          }
          for (const p of m.procs) {
            procs.push(p.attrs);
            for (const k in p.attrs) chars += k.length + p.attrs[k]!.length;
          }
          if (procs.length > Number(first.total))
            throw new DschedError(
              'SUBMIT_QUEUE',
              `the submission carries more procs than the ${first.total} it announced`,
            );
          if (chars > MAX_SUBMISSION_CHARS)
            throw new DschedError(
              'INPUT_TOO_LARGE',
              `the procs' own attributes pass ${MAX_SUBMISSION_CHARS >> 20} MB; keep large data in files the jobs read`,
            );
        }
        if (ctx.cancelled()) throw new DschedError('SUBMIT_QUEUE', 'the submitter went away: nothing was queued');
        if (!first || procs.length !== Number(first.total))
          throw new DschedError(
            'SUBMIT_QUEUE',
            `the submission ended after ${procs.length} of the ${first?.total ?? 0} procs it announced: nothing was queued`,
          );
        const jobs = await schedd.submitPaced(ctx.identity, Number(first.cluster), first.cluster_attrs, procs);
        return { cluster: Number(first.cluster), procs: jobs.length };
      },
    },
    stream: {
      async FetchInput(
        req: FetchInputRequest__Output,
        call: grpc.ServerWritableStream<unknown, unknown>,
        ctx: CallContext,
      ) {
        await schedd.sendInput(
          req.claim,
          { cluster: Number(req.id?.cluster), proc: Number(req.id?.proc) },
          streamSink(call),
          daemonHost(ctx.identity),
          req.expanded ?? {},
        );
        call.end();
      },
      async QueryJobs(req: JobQuery__Output, call: grpc.ServerWritableStream<unknown, unknown>, ctx: CallContext) {
        if (req.history || req.counts_only) {
          // history reads the database a page at a time, and a summary costs nothing: neither is shared
          await runJobQuery(
            queue,
            req,
            ctx.identity,
            query,
            (page) => writePaced(call, EncodedReply.framed(encodePage(page))),
            ctx.cancelled,
            true,
          );
        } else {
          const matched = await shared.query(
            req,
            ctx.identity,
            (page) => writePaced(call, EncodedReply.framed(page)),
            ctx.cancelled,
          );
          if (ctx.cancelled()) return;
          // the last page is the caller's own: its jobs among the queue's
          await writePaced(call, {
            ads: [],
            last: true,
            matched,
            mine: fromArray(queue.ownerCounts(ctx.identity.name)),
            all: fromArray(queue.allCounts),
          });
        }
        call.end();
      },
      async QueryAutoclusters(
        req: JobQuery__Output,
        call: grpc.ServerWritableStream<unknown, unknown>,
        ctx: CallContext,
      ) {
        await runAutoclusterQuery(queue, query, req, ctx, (page) => writePaced(call, page));
        call.end();
      },
      WatchJobs(req: WatchJobsRequest__Output, call: grpc.ServerWritableStream<unknown, unknown>, ctx: CallContext) {
        return watchJobs(schedd, query, req, call, ctx);
      },
    },
  };
}
