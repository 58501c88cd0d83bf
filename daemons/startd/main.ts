// dsched startd: one per execute node. Advertises its slots and runs the jobs schedds claim them for.
import { CollectorLink, daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { proto } from '../../lib/rpc/proto.js';
import { EventReporter } from './reporter.js';
import { detectResources, Machine } from './slots.js';
import { Startd } from './startd.js';
import { startdService } from './service.js';

const ctx = daemonContext('startd');
const { config, log } = ctx;
const name = config.str('STARTD_NAME') || ctx.hostName;
const machine = new Machine(name, ctx.hostName, config, detectResources(config));
const reporter = new EventReporter(log, ctx.token);
const startd = new Startd(machine, config, log, reporter);
startd.reapOrphans();

const server = await serveDaemon(ctx, config.int('STARTD_PORT'), [{ definition: proto().Startd.service, impl: startdService(startd) }]);
machine.address = server.address;
log.info({ name, cpus: machine.total.cpus, memory: machine.total.memory, disk: machine.total.disk }, 'startd ready');

const collector = new CollectorLink(config, ctx.token);
let advertisedDslots = new Set<string>();
let adTimer: NodeJS.Timeout | undefined;
let nameRefusedLogged = false;
async function advertise(): Promise<void> {
  adTimer = undefined;
  const c = collector.get();
  if (!c) {
    scheduleAdvertise(1000);
    return;
  }
  const lifetime = 3 * config.int('UPDATE_INTERVAL');
  const dslots = [...machine.dslots.values()];
  const updates = [
    { type: 'Machine', name: machine.pslotName, instance: ctx.instance, lifetime, ad: { attrs: machine.pslotAd() } },
    ...dslots.map((d) => ({ type: 'Machine', name: d.name, instance: ctx.instance, lifetime, ad: { attrs: machine.dslotAd(d) } })),
  ];
  try {
    await c.advertise(updates);
    nameRefusedLogged = false;
    const now = new Set(dslots.map((d) => d.name));
    const gone = [...advertisedDslots].filter((n) => !now.has(n));
    advertisedDslots = now;
    if (gone.length) await c.invalidate('Machine', gone, ctx.instance);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'NAME_IN_USE') {
      if (!nameRefusedLogged) log.error({ name }, `the collector refused this startd: ${err.message}. Set STARTD_NAME to a unique name.`);
      nameRefusedLogged = true;
    } else log.debug({ err: err.message }, 'collector update failed (will retry)');
    // Until the collector has our ads, retry every second: any start order works.
    scheduleAdvertise(1000);
  }
}
function scheduleAdvertise(delayMs = 2) {
  if (!adTimer) adTimer = setTimeout(() => void advertise(), delayMs);
}
startd.onChange = () => scheduleAdvertise();
scheduleAdvertise(0);
const periodic = setInterval(() => scheduleAdvertise(0), config.int('UPDATE_INTERVAL') * 1000);
const leases = setInterval(() => startd.checkLeases(), 1000);

onShutdown(ctx, async () => {
  for (const t of [periodic, leases]) clearInterval(t);
  await startd.shutdown(config.int('KILL_GRACE') * 1000);
  await new Promise((r) => setTimeout(r, 300)); // let the evictions reach the schedd
  const c = collector.get();
  await c?.invalidate('Machine', [machine.pslotName, ...advertisedDslots], ctx.instance).catch(() => {});
  await server.shutdown();
  reporter.close();
  collector.close();
});
