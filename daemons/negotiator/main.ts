// dsched negotiator: matchmaking on events (a new idle job, a freed or new slot), with a timer as fallback.
import { CollectorLink, daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { literal, unparse } from '../../grammar/classad/index.js';
import { proto } from '../../lib/rpc/proto.js';
import { DschedError } from '../../lib/errors.js';
import type { CallContext } from '../../lib/rpc/server.js';
import { Negotiator } from './cycle.js';
import { FairShare } from './fair-share.js';
import { ConcurrencyLimits } from './limits.js';

const ctx = daemonContext('negotiator');
const { config, log } = ctx;
const fairShare = new FairShare();
const limits = new ConcurrencyLimits((name) => {
  const v = config.lookup(`${name.toUpperCase()}_LIMIT`)?.raw ?? config.lookup('CONCURRENCY_LIMIT_DEFAULT')?.raw;
  const n = Number(v);
  return v !== undefined && v.trim() !== '' && Number.isFinite(n) ? n : Infinity;
});
const negotiator = new Negotiator(log, ctx.token, fairShare, limits);
const collector = new CollectorLink(config, ctx.token);

let running = false;
let again = false;
let timer: NodeJS.Timeout | undefined;
let lastCycleEnd = 0;

async function runCycle(): Promise<void> {
  timer = undefined;
  if (running) {
    again = true;
    return;
  }
  const c = collector.get();
  if (!c) return;
  running = true;
  again = false;
  try {
    await negotiator.cycle(c);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'negotiation cycle failed');
  } finally {
    running = false;
    lastCycleEnd = performance.now();
    if (again) schedule();
  }
}

/** A cycle soon after an event on a quiet pool (latency), at most one per minimum interval on a busy one. */
function schedule(delay = config.int('NEGOTIATOR_CYCLE_DELAY_MS')) {
  if (running) {
    again = true;
    return;
  }
  const spacing = lastCycleEnd + config.int('NEGOTIATOR_MIN_INTERVAL_MS') - performance.now();
  if (!timer) timer = setTimeout(() => void runCycle(), Math.max(delay, spacing));
}

const server = await serveDaemon(ctx, config.int('NEGOTIATOR_PORT'), [
  {
    definition: proto().Negotiator.service,
    impl: {
      unary: {
        Reschedule() {
          schedule(0);
          return {};
        },
        GetPriorities() {
          return { submitters: fairShare.list() };
        },
        SetFactor(req: { submitter: string; factor: number }, ctx: CallContext) {
          if (!ctx.identity.admin) throw new DschedError('PERMISSION_DENIED', 'only an admin may set priority factors');
          if (!(req.factor >= 1)) throw new DschedError('USAGE', 'a priority factor is a number ≥ 1');
          fairShare.setFactor(req.submitter, req.factor);
          log.info({ submitter: req.submitter, factor: req.factor }, 'priority factor set');
          schedule(0);
          return {};
        },
      },
    },
  },
]);

// The collector's change stream is what wakes us; it is re-opened whenever it breaks (collector restart).
let watchBackoff = 250;
function watch() {
  const c = collector.get();
  if (!c) {
    setTimeout(watch, 1000).unref();
    return;
  }
  const stream = c.watch(['Machine', 'Submitter']);
  stream.on('data', (ch: { type: string; kind: string; state: string; idle_jobs: number }) => {
    watchBackoff = 250;
    // only what can lead to a match: a slot with room, a submitter with idle jobs (or the stream's hello)
    if (ch.kind === 'hello' || (ch.type === 'Machine' && ch.kind !== 'removed' && ch.state === 'Unclaimed') || (ch.type === 'Submitter' && ch.idle_jobs > 0)) schedule();
  });
  const retry = () => {
    stream.removeAllListeners();
    setTimeout(watch, watchBackoff).unref();
    watchBackoff = Math.min(5000, watchBackoff * 2);
  };
  stream.on('error', retry);
  stream.on('end', retry);
}
watch();

async function advertise() {
  const c = collector.get();
  if (!c) return;
  await c
    .advertise([
      {
        type: 'Negotiator',
        name: ctx.hostName,
        instance: ctx.instance,
        lifetime: 3 * config.int('UPDATE_INTERVAL'),
        ad: { attrs: { MyType: unparse(literal('Negotiator')), Name: unparse(literal(ctx.hostName)), MyAddress: unparse(literal(server.address)) } },
      },
    ])
    .catch(() => {});
}
void advertise();
const periodic = setInterval(() => {
  void advertise();
  schedule(0);
}, config.int('NEGOTIATOR_INTERVAL') * 1000);
const ads = setInterval(() => void advertise(), config.int('UPDATE_INTERVAL') * 1000);

onShutdown(ctx, async () => {
  clearInterval(periodic);
  clearInterval(ads);
  await server.shutdown();
  negotiator.close();
  collector.close();
});
