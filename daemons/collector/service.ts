// The Collector gRPC service over the AdStore.
import type * as grpc from '@grpc/grpc-js';
import type { ServiceImpl } from '../../lib/rpc/server.js';
import type { AdvertiseRequest__Output } from '../../lib/rpc/generated/dsched/v1/AdvertiseRequest.js';
import type { CollectorQuery__Output } from '../../lib/rpc/generated/dsched/v1/CollectorQuery.js';
import type { InvalidateRequest__Output } from '../../lib/rpc/generated/dsched/v1/InvalidateRequest.js';
import type { WatchRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchRequest.js';
import type { Logger } from '../../lib/log.js';
import type { AdStore } from './ad-store.js';

export function collectorService(store: AdStore, log: Logger, defaultLifetime: () => number): ServiceImpl {
  return {
    unary: {
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
