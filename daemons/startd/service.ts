// The Startd gRPC service: only pool daemons (schedds) may claim and run.
import { DschedError } from '../../lib/errors.js';
import type { CallContext, ServiceImpl } from '../../lib/rpc/server.js';
import type { ActivateRequest__Output } from '../../lib/rpc/generated/dsched/v1/ActivateRequest.js';
import type { ClaimRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { ClaimStatusRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimStatusRequest.js';
import type { DeactivateRequest__Output } from '../../lib/rpc/generated/dsched/v1/DeactivateRequest.js';
import type { ReleaseRequest__Output } from '../../lib/rpc/generated/dsched/v1/ReleaseRequest.js';
import type { RenewRequest__Output } from '../../lib/rpc/generated/dsched/v1/RenewRequest.js';
import { ClassAd } from '../../grammar/classad/index.js';
import type { Startd } from './startd.js';

function daemonOnly(ctx: CallContext) {
  if (ctx.identity.kind !== 'daemon') throw new DschedError('PERMISSION_DENIED', 'only pool daemons may use the startd');
}

export function startdService(startd: Startd): ServiceImpl {
  return {
    unary: {
      RequestClaim(req: ClaimRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        return startd.requestClaim(req);
      },
      ActivateClaim(req: ActivateRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        startd.activate(req.claim, ClassAd.fromRecord(req.job?.attrs ?? {}));
        return {};
      },
      DeactivateClaim(req: DeactivateRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        startd.deactivate(req.claim, req.fast, req.reason);
        return {};
      },
      ReleaseClaim(req: ReleaseRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        startd.release(req.claim);
        return {};
      },
      RenewLeases(req: RenewRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        return { unknown: startd.renew(req.claims, req.lease, req.schedd_address) };
      },
      Drain(req: { cancel: boolean; reason: string }, ctx: CallContext) {
        if (!ctx.identity.admin) throw new DschedError('PERMISSION_DENIED', 'only an admin may drain a machine');
        return { running: startd.drain(!req.cancel, req.reason) };
      },
      ClaimStatus(req: ClaimStatusRequest__Output, ctx: CallContext) {
        daemonOnly(ctx);
        return { claims: startd.claimStatus(req.claims, req.schedd_address) };
      },
    },
  };
}
