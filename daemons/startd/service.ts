// The Startd gRPC service. Who may call each method is in lib/rpc/authz.ts; here, that a claim is used only
// by the schedd that holds it (from the host it claimed from).
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import { daemonHost } from '../../lib/rpc/authz.js';
import { sendFiles, streamSink } from '../../lib/transfer.js';
import type { ChirpRequest__Output } from '../../lib/rpc/generated/dsched/v1/ChirpRequest.js';
import type { RunRankRequest__Output } from '../../lib/rpc/generated/dsched/v1/RunRankRequest.js';
import type { FetchOutputRequest__Output } from '../../lib/rpc/generated/dsched/v1/FetchOutputRequest.js';
import type { CallContext, ServiceImpl } from '../../lib/rpc/server.js';
import type { ActivateClaimsRequest__Output } from '../../lib/rpc/generated/dsched/v1/ActivateClaimsRequest.js';
import type { ActivateRequest__Output } from '../../lib/rpc/generated/dsched/v1/ActivateRequest.js';
import type { ClaimRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { ClaimStatusRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimStatusRequest.js';
import type { DeactivateRequest__Output } from '../../lib/rpc/generated/dsched/v1/DeactivateRequest.js';
import type { ReleaseRequest__Output } from '../../lib/rpc/generated/dsched/v1/ReleaseRequest.js';
import type { RenewRequest__Output } from '../../lib/rpc/generated/dsched/v1/RenewRequest.js';
import type { VacateRequest__Output } from '../../lib/rpc/generated/dsched/v1/VacateRequest.js';
import { ClassAd } from '../../grammar/classad/index.js';
import type { JobMonitor } from './policy.js';
import type { JobTail } from './tail.js';
import type { TailRequest__Output } from '../../lib/rpc/generated/dsched/v1/TailRequest.js';
import type { Startd } from './startd.js';

export function startdService(startd: Startd, monitor?: JobMonitor, tail?: JobTail): ServiceImpl {
  /** The claim is the caller's: a schedd on the host that claimed it. */
  const holder = (ctx: CallContext, claim: string) => startd.checkHolder(claim, daemonHost(ctx.identity));
  return {
    stream: {
      async FetchOutput(
        req: FetchOutputRequest__Output,
        call: grpc.ServerWritableStream<unknown, unknown>,
        ctx: CallContext,
      ) {
        const id = { cluster: Number(req.id?.cluster), proc: Number(req.id?.proc) };
        const r = startd.outputFor(req.claim, id, daemonHost(ctx.identity));
        await sendFiles(r.output.entries, streamSink(call), { within: r.sandbox, owner: r.owner });
        // what could be sent has been; what could not is the job's hold reason at the schedd
        if (r.output.error) throw new DschedError('TRANSFER_FAILED', r.output.error);
        call.end();
      },
      // dtail: the job's owner (or an admin) reads its stdout/stderr as it grows (tail.ts says how safely)
      async TailJob(req: TailRequest__Output, call: grpc.ServerWritableStream<unknown, unknown>, ctx: CallContext) {
        if (!tail) throw new DschedError('NOT_IMPLEMENTED', 'this startd does not serve dtail');
        await tail.stream(req, call, ctx.identity);
      },
      // dsched-rank: a parallel job proves itself with its rank key, not a pool credential (rank.ts)
      async RunRank(req: RunRankRequest__Output, call: grpc.ServerWritableStream<unknown, unknown>) {
        call.write(await startd.runRank(req));
        call.end();
      },
    },
    unary: {
      // a job proves itself with its chirp secret, not a pool credential
      Chirp(req: ChirpRequest__Output) {
        return { value: startd.chirp(req.secret, req.op, req.name, req.value) };
      },
      RequestClaim(req: ClaimRequest__Output, ctx: CallContext) {
        return startd.requestClaim(req, daemonHost(ctx.identity));
      },
      async ActivateClaim(req: ActivateRequest__Output, ctx: CallContext) {
        holder(ctx, req.claim);
        await startd.activate(req.claim, ClassAd.fromRecord(req.job?.attrs ?? {}));
        return {};
      },
      // the jobs after a batch of exits: each claim is checked and started on its own, and one that cannot
      // start (another schedd's, gone, draining) is answered with why, while the others start
      async ActivateClaims(req: ActivateClaimsRequest__Output, ctx: CallContext) {
        const host = daemonHost(ctx.identity);
        const errors = await Promise.all(
          req.claims.map(async (a) => {
            try {
              startd.checkHolder(a.claim, host);
              await startd.activate(a.claim, ClassAd.fromRecord(a.job?.attrs ?? {}));
              return '';
            } catch (e) {
              return e instanceof DschedError ? e.message : `internal error: ${(e as Error).message}`;
            }
          }),
        );
        return { errors };
      },
      DeactivateClaim(req: DeactivateRequest__Output, ctx: CallContext) {
        holder(ctx, req.claim);
        startd.deactivate(req.claim, req.fast, req.reason);
        return {};
      },
      ReleaseClaim(req: ReleaseRequest__Output, ctx: CallContext) {
        holder(ctx, req.claim);
        startd.release(req.claim);
        return {};
      },
      RenewLeases(req: RenewRequest__Output, ctx: CallContext) {
        return {
          unknown: startd.renew(req.claims, req.lease, req.schedd_address, daemonHost(ctx.identity)),
          name: startd.machine.name,
        };
      },
      Drain(req: { cancel: boolean; reason: string }) {
        return { running: startd.drain(!req.cancel, req.reason) };
      },
      // the negotiator (priority preemption) or an admin: evict a dynamic slot's job as PREEMPT does
      Vacate(req: VacateRequest__Output, ctx: CallContext) {
        if (!monitor) throw new DschedError('NOT_IMPLEMENTED', 'this startd has no job monitor');
        if (!req.slot) throw new DschedError('USAGE', 'Vacate needs the name of a dynamic slot');
        const who =
          ctx.identity.kind === 'daemon' ? `the ${ctx.identity.name || 'pool'} daemon` : `admin ${ctx.identity.name}`;
        return { vacated: monitor.vacate(req.slot, req.reason || `vacated by ${who}`, req.fast) };
      },
      ClaimStatus(req: ClaimStatusRequest__Output, ctx: CallContext) {
        return {
          claims: startd.claimStatus(req.claims, req.schedd_address, daemonHost(ctx.identity)),
          name: startd.machine.name,
        };
      },
    },
  };
}
