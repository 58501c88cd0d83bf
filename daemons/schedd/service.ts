// The Schedd gRPC service: the translation between messages and the queue. Who may call each method is in
// lib/rpc/authz.ts; here, that a startd reports only on claims given to a startd on its host.
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import { daemonHost } from '../../lib/rpc/authz.js';
import { streamSink } from '../../lib/transfer.js';
import type { FetchInputRequest__Output } from '../../lib/rpc/generated/dsched/v1/FetchInputRequest.js';
import type { CallContext, ServiceImpl } from '../../lib/rpc/server.js';
import type { ActRequest__Output } from '../../lib/rpc/generated/dsched/v1/ActRequest.js';
import type { IdleRequest__Output } from '../../lib/rpc/generated/dsched/v1/IdleRequest.js';
import type { JobEventsRequest__Output } from '../../lib/rpc/generated/dsched/v1/JobEventsRequest.js';
import type { JobQuery__Output } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import type { MatchedRequest__Output } from '../../lib/rpc/generated/dsched/v1/MatchedRequest.js';
import type { SubmitRequest__Output } from '../../lib/rpc/generated/dsched/v1/SubmitRequest.js';
import type { WatchJobsRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchJobsRequest.js';
import { compile, isTrue, parseExpr, ClassAd } from '../../grammar/classad/index.js';
import type { FsAuth } from './fs-auth.js';
import { jobKey, type Job } from './queue.js';
import type { Schedd } from './schedd.js';

const ids = (list: Array<{ cluster: number; proc: number }>) => list.map((i) => ({ cluster: Number(i.cluster), proc: Number(i.proc) }));

function project(rec: Record<string, string>, projection: Set<string> | undefined): Record<string, string> {
  if (!projection) return rec;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) if (projection.has(k.toLowerCase())) out[k] = v;
  return out;
}

export function scheddService(schedd: Schedd, auth: FsAuth): ServiceImpl {
  const queue = schedd.queue;
  return {
    unary: {
      BeginAuth(req: { user: string }) {
        return auth.begin(req.user);
      },
      FinishAuth(req: { nonce: string }) {
        return auth.finish(req.nonce);
      },
      NewCluster(_req: object, ctx: CallContext) {
        return { cluster: queue.reserveCluster(ctx.identity.name) };
      },
      Submit(req: SubmitRequest__Output, ctx: CallContext) {
        const jobs = schedd.submit(ctx.identity, Number(req.cluster), req.cluster_attrs, req.procs.map((p) => p.attrs));
        return { cluster: Number(req.cluster), procs: jobs.length };
      },
      Query(req: JobQuery__Output) {
        const projection = req.projection.length ? new Set(req.projection.map((p) => p.toLowerCase())) : undefined;
        const pred = req.constraint.trim() ? compile(parseExpr(req.constraint, { file: '<constraint>', line: 1, column: 1 })) : undefined;
        const wanted = ids(req.ids);
        const owners = new Set(req.owners);
        const out: Array<{ attrs: Record<string, string> }> = [];
        if (req.history) {
          for (const rec of queue.history({ owners: req.owners, clusters: wanted })) {
            if (pred && !isTrue(pred(ClassAd.fromRecord(rec)))) continue;
            out.push({ attrs: project(rec, projection) });
            if (req.limit && out.length >= req.limit) break;
          }
          return { ads: out };
        }
        let jobs: Iterable<Job> = queue.jobs.values();
        if (wanted.length) {
          const sel: Job[] = [];
          for (const id of wanted) {
            if (id.proc >= 0) {
              const j = queue.jobs.get(jobKey(id.cluster, id.proc));
              if (j) sel.push(j);
            } else for (const j of queue.jobs.values()) if (j.cluster === id.cluster) sel.push(j);
          }
          jobs = sel;
        }
        const list = [...jobs].sort((a, b) => a.cluster - b.cluster || a.proc - b.proc);
        for (const j of list) {
          if (owners.size && !owners.has(j.owner)) continue;
          if (pred && !isTrue(pred(queue.ad(j)))) continue;
          out.push({ attrs: project(queue.merged(j), projection) });
          if (req.limit && out.length >= req.limit) break;
        }
        return { ads: out };
      },
      async Act(req: ActRequest__Output, ctx: CallContext) {
        const wanted = ids(req.ids);
        if (!wanted.length && !req.owners.length && !req.constraint.trim() && !req.all)
          throw new DschedError('USAGE', 'say which jobs: cluster, cluster.proc, a user, -constraint or -all');
        const { jobs, missing } = schedd.select(wanted, req.owners, req.constraint, req.all);
        const results = await schedd.act(ctx.identity, req.action, jobs, req.reason, req.value);
        return {
          matched: jobs.length,
          results: [
            ...results.map((r) => ({ id: { cluster: r.job.cluster, proc: r.job.proc }, ok: r.ok, error: r.error ?? '' })),
            ...missing.map((m) => ({ id: m, ok: false, error: `job ${m.cluster}${m.proc >= 0 ? '.' + m.proc : ''} is not in the queue` })),
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
        void schedd.matched(req.matches);
        return {};
      },
      async JobEvents(req: JobEventsRequest__Output, ctx: CallContext) {
        return { acked: await schedd.jobEvents(req.events, daemonHost(ctx.identity)) };
      },
    },
    stream: {
      async FetchInput(req: FetchInputRequest__Output, call: grpc.ServerWritableStream<any, any>, ctx: CallContext) {
        await schedd.sendInput(req.claim, { cluster: Number(req.id?.cluster), proc: Number(req.id?.proc) }, streamSink(call), daemonHost(ctx.identity));
        call.end();
      },
      WatchJobs(req: WatchJobsRequest__Output, call: grpc.ServerWritableStream<any, any>) {
        const wanted = ids(req.ids);
        const matches = (j: Job) => !wanted.length || wanted.some((w) => w.cluster === j.cluster && (w.proc < 0 || w.proc === j.proc));
        const send = (j: Job, gone: boolean) => call.write({ id: { cluster: j.cluster, proc: j.proc }, status: j.status, gone, ad: { attrs: queue.merged(j) } });
        for (const j of queue.jobs.values()) if (matches(j)) send(j, false);
        const off = schedd.watch((changed) => {
          for (const j of changed) if (matches(j)) send(j, !queue.jobs.has(jobKey(j.cluster, j.proc)));
        });
        call.write({ id: { cluster: 0, proc: -1 }, status: 0, gone: false });
        call.on('cancelled', off);
        call.on('close', off);
        call.on('error', off);
      },
    },
  };
}
