// dsched collector: the pool directory of machine, schedd, submitter and negotiator ads.
import { daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { proto } from '../../lib/rpc/proto.js';
import { AdStore } from './ad-store.js';
import { Admission } from './admission.js';
import { collectorService } from './service.js';

const ctx = daemonContext('collector');
const store = new AdStore();
const lifetime = () => ctx.config.int('CLASSAD_LIFETIME') || 3 * ctx.config.int('UPDATE_INTERVAL');
const server = await serveDaemon(ctx, ctx.config.int('COLLECTOR_PORT'), [
  {
    definition: proto().Collector.service,
    impl: collectorService(store, ctx.log, lifetime, new Admission(ctx.config.paths, ctx.hostName), () =>
      ctx.config.int('QUERY_CPU_LIMIT'),
    ),
  },
]);
const sweep = setInterval(() => {
  const n = store.expire();
  if (n) ctx.log.info({ expired: n }, 'expired ads');
}, 1000);
onShutdown(ctx, async () => {
  clearInterval(sweep);
  await server.shutdown();
});
