// The Collector gRPC service over the AdStore.
import type * as grpc from '@grpc/grpc-js';
import type { ServiceImpl } from '../../lib/rpc/server.js';
import type { AdvertiseRequest__Output } from '../../lib/rpc/generated/dsched/v1/AdvertiseRequest.js';
import type { CollectorQuery__Output } from '../../lib/rpc/generated/dsched/v1/CollectorQuery.js';
import type { InvalidateRequest__Output } from '../../lib/rpc/generated/dsched/v1/InvalidateRequest.js';
import type { WatchRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchRequest.js';
import type { Logger } from '../../lib/log.js';
import type { AdStore } from './ad-store.js';
import type { Admission } from './admission.js';
import { DschedError } from '../../lib/errors.js';
import type { CallContext } from '../../lib/rpc/server.js';
import type { CreateJoinTokenRequest__Output } from '../../lib/rpc/generated/dsched/v1/CreateJoinTokenRequest.js';
import type { JoinRequest__Output } from '../../lib/rpc/generated/dsched/v1/JoinRequest.js';
import type { RevokeRequest__Output } from '../../lib/rpc/generated/dsched/v1/RevokeRequest.js';

// until the authorization table lands, the administrator's methods check for themselves
function requireAdmin(ctx: CallContext, what: string) {
  if (ctx.identity.kind !== 'user' || !ctx.identity.admin) throw new DschedError('PERMISSION_DENIED', `only an administrator may ${what}`);
}

export function collectorService(store: AdStore, log: Logger, defaultLifetime: () => number, admission: Admission): ServiceImpl {
  return {
    public: ['Join'],
    unary: {
      CreateJoinToken(req: CreateJoinTokenRequest__Output, ctx: CallContext) {
        requireAdmin(ctx, 'make join tokens');
        const t = admission.createJoinToken(req.ttl);
        log.info({ by: ctx.identity.name, expires: t.expires }, 'join token made');
        return t;
      },
      async Join(req: JoinRequest__Output, ctx: CallContext) {
        try {
          const r = await admission.join(req.token, req.host, req.public_key);
          log.info({ host: req.host, peer: ctx.peer }, 'host joined the pool');
          return r;
        } catch (e) {
          log.warn({ host: req.host, peer: ctx.peer, err: (e as Error).message }, 'join refused');
          throw e;
        }
      },
      Revoke(req: RevokeRequest__Output, ctx: CallContext) {
        requireAdmin(ctx, 'revoke a host');
        const serials = admission.revoke(req.host);
        const removed = store.removeHost(req.host);
        log.warn({ host: req.host, serials, ads: removed, by: ctx.identity.name }, 'host revoked');
        return { serials, ads_removed: removed };
      },
      Advertise(req: AdvertiseRequest__Output) {
        let accepted = 0;
        for (const u of req.updates) {
          try {
            store.update(u.type, u.name, u.instance, u.ad?.attrs ?? {}, u.lifetime > 0 ? u.lifetime : defaultLifetime());
            accepted++;
          } catch (e) {
            log.error({ type: u.type, name: u.name, err: (e as Error).message }, 'refused ad');
            throw e;
          }
        }
        return { accepted };
      },
      Invalidate(req: InvalidateRequest__Output) {
        store.invalidate(req.type, req.names, req.instance);
        return {};
      },
      Query(req: CollectorQuery__Output) {
        return { ads: store.query(req.type, req.constraint, req.projection).map((attrs) => ({ attrs })) };
      },
    },
    stream: {
      Watch(req: WatchRequest__Output, call: grpc.ServerWritableStream<any, any>) {
        const types = new Set(req.types.map((t) => t.toLowerCase()));
        const wanted = (type: string) => !types.size || types.has(type.toLowerCase());
        // The listener goes on before the current ads are sent, in the same turn: no change falls between.
        const off = store.onChange((type, name, kind, attrs) => {
          if (wanted(type)) call.write(kind === 'removed' ? { type, name, kind } : { type, name, kind, ad: { attrs } });
        });
        call.on('cancelled', off);
        call.on('close', off);
        call.on('error', off);
        for (const a of store.current()) if (wanted(a.type)) call.write({ type: a.type, name: a.name, kind: 'added', ad: { attrs: a.attrs } });
        call.write({ type: '', name: '', kind: 'hello' });
      },
    },
  };
}
