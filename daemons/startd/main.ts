// dsched startd: one per execute node. Advertises its slots and runs the jobs schedds claim them for.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adsTakenFile } from '../../lib/config/paths.js';
import {
  checkOnReconfig,
  CollectorLink,
  daemonContext,
  onReconfig,
  onShutdown,
  serveDaemon,
} from '../../lib/daemon.js';
import { checkConfigExprs } from '../../grammar/classad/config-exprs.js';
import { proto } from '../../lib/rpc/proto.js';
import { qualifiedName } from '../../lib/rpc/authz.js';
import { EventReporter } from './reporter.js';
import { detectResources, Machine, type DynamicSlot } from './slots.js';
import { detectCustomResources, runBenchmarks } from './resources.js';
import { DschedError } from '../../lib/errors.js';
import { Starter } from './starter.js';
import { Launchers, ProcessLauncher } from './launcher.js';
import { ContainerLauncher, launcherAttrs, launcherNames, probePodman } from './container-launcher.js';
import { ProcTracker } from './proc-family.js';
import { Startd } from './startd.js';
import { JobMonitor } from './policy.js';
import { setupMemoryEnforcement, startdInstance } from './memory-cgroup.js';
import { startdService } from './service.js';
import { JobTail } from './tail.js';
import type { AdUpdate } from '../../lib/rpc/generated/dsched/v1/AdUpdate.js';
import { nowSeconds } from '../../lib/time.js';

const ctx = daemonContext('startd');
// an edit of START, RANK, PREEMPTION_REQUIREMENTS… that does not parse is refused, not died on
checkOnReconfig(checkConfigExprs);
const { config, log } = ctx;
const name = qualifiedName(config.str('STARTD_NAME'), ctx.hostName);
/** The machine as configured and detected; a configuration error (a bad MACHINE_RESOURCE_ value) stops the startd. */
async function describeMachine(): Promise<Machine> {
  try {
    const custom = await detectCustomResources(config, log);
    const benchmarks = await runBenchmarks();
    log.info({ kflops: benchmarks.kflops, mips: benchmarks.mips, durationMs: benchmarks.durationMs }, 'benchmarks run');
    return new Machine(name, ctx.hostName, config, detectResources(config, custom), '', { custom, benchmarks });
  } catch (e) {
    if (!(e instanceof DschedError)) throw e;
    log.fatal(
      { code: e.code, err: e.message, hint: e.hint },
      'the startd cannot start: its configuration has an error',
    );
    process.exit(e.exitCode);
  }
}
const machine = await describeMachine();
const reporter = new EventReporter(log, ctx.creds, join(config.paths.run, 'startd-exits.journal'));
/** How a job's processes are found (cgroup v2, cgroup v1, or the environment); a forced method this host lacks stops the startd. */
async function setupTracking(): Promise<ProcTracker> {
  const want = config.str('STARTD_PROCESS_TRACKING').toLowerCase() || 'auto';
  try {
    const t = ProcTracker.setup(
      want,
      config.str('BASE_CGROUP') || 'dsched',
      startdInstance(machine.name, config.paths.execute),
    );
    log.info(
      { processTracking: t.method, cgroup: t.dir, unavailable: t.why.length ? t.why : undefined },
      `job processes are tracked by ${t.method}`,
    );
    return t;
  } catch (e) {
    const err = new DschedError('CONFIG_INVALID', (e as Error).message);
    log.fatal({ code: err.code, err: err.message }, 'the startd cannot track job processes as configured');
    process.exit(err.exitCode);
  }
}
const tracker = await setupTracking();
machine.processTracking = tracker.method;
const starter = new Starter((msg) => log.error(msg), tracker, config.paths.run);
const memory = setupMemoryEnforcement(
  config.str('STARTER_MEMORY_ENFORCEMENT'),
  config.str('BASE_CGROUP') || 'dsched',
  startdInstance(machine.name, config.paths.execute),
  tracker,
  log,
);
const launchers = new Launchers(new ProcessLauncher(starter, config.paths.run, memory.memory));
const launcherKinds = launcherNames(config.str('STARTD_LAUNCHERS'));
if (typeof launcherKinds === 'string') {
  const err = new DschedError('CONFIG_INVALID', launcherKinds);
  log.fatal({ code: err.code, err: err.message }, 'the startd cannot start: its configuration has an error');
  process.exit(err.exitCode);
}
machine.launcherAttrs = launcherAttrs(['process']);
const startd = new Startd(machine, config, log, reporter, launchers);
const monitor = new JobMonitor(startd, config, log, reporter, memory.mode, launchers);
startd.hooks = monitor;
monitor.start();
// ends the previous run's spawner journaled and that run never read are reported as exits (not run again)
await startd.recoverSpawnerExits();
// jobs an earlier run left (the startd and its spawner killed at once) go before any job of this run starts
const reaped = await tracker.reapOrphans(launchers.process.tags(startd.previousRecords()));
if (reaped) log.warn({ processes: reaped }, 'killed processes left by jobs of a previous startd');
startd.restoreOwed();
startd.reapOrphans();
log.info({ launchers: launcherKinds }, `jobs are started by the launchers: ${launcherKinds.join(', ')}`);
// podman's test container takes a moment: the container launcher (and HasContainer) comes once it ran
const containers = launcherKinds.includes('container')
  ? probePodman({
      podman: config.str('PODMAN'),
      args: config.str('PODMAN_ARGS'),
      pull: config.str('CONTAINER_PULL').toLowerCase(),
      instance: startdInstance(machine.name, config.paths.execute),
      controlDir: config.paths.execute,
    }).then((setup) => {
      if (typeof setup === 'string') return log.warn({ why: setup }, 'no container launcher: container jobs are held');
      const c = new ContainerLauncher(starter, setup, (msg) => log.error(msg));
      const left = c.recover(startd.previousRecords());
      if (left) log.warn({ containers: left }, 'removed containers left by a previous startd');
      launchers.register(c);
      machine.launcherAttrs = launcherAttrs(launchers.kinds(), setup);
      machine.invalidate();
      log.info(
        { podman: setup.podman, version: setup.version, args: setup.globalArgs, memoryLimit: setup.memoryLimit },
        'container launcher ready',
      );
    })
  : undefined;

// before the address file says this startd serves: a file of an earlier run must not say its ads are taken
const adsTaken = adsTakenFile(config.paths);
rmSync(adsTaken, { force: true });
const server = await serveDaemon(ctx, config.int('STARTD_PORT'), [
  { definition: proto().Startd.service, impl: startdService(startd, monitor, new JobTail(machine, log)) },
]);
machine.address = server.address;
// healthy while it can start jobs: NOT_SERVING while its job spawner is down (it is restarted at once)
const spawnerHealth = (up: boolean) =>
  server.health.set(
    up ? 'SERVING' : 'NOT_SERVING',
    up ? 'the job spawner runs' : 'the job spawner is down: no job can start',
  );
spawnerHealth(starter.spawnerUp);
starter.onSpawnerState = spawnerHealth;
log.info(
  {
    name,
    cpus: machine.total.cpus,
    memory: machine.total.memory,
    disk: machine.total.disk,
    custom: machine.total.custom,
  },
  'startd ready',
);

const collector = new CollectorLink(config, ctx.creds);
let adsTakenWritten = false;
let advertisedDslots = new Set<string>();
let adTimer: NodeJS.Timeout | undefined;
let nameRefusedLogged = false;
/**
 * Each slot's ad as last sent: its own attributes (Machine.dslotOwn, pslotOwn), the version of the attributes
 * every slot ad shares it was built with (Machine.commonVersion), the version the collector holds it as
 * (renewals name it), and its job's load as a renewal compares it.
 */
const lastSent = new Map<string, { own: Record<string, string>; common: number; version: string; load: string }>();
/**
 * A dynamic slot's job load as a renewal compares it: to a tenth of a cpu, so that a job's load shows in the
 * collector once measured (and as it moves by that much) while the readings' jitter does not undo renewals.
 */
const jobLoad = (load: string | undefined) => (load === undefined ? '' : Number(load).toFixed(1));
/** Bumped for each ad sent whole: a renewal of an ad the collector does not hold as that version is refused. */
let adVersion = 0;
/** The collector said it applies renewals: until it does (an older one, or not yet asked), ads go whole. */
let collectorRenews = false;
/**
 * The collector said it sets the load averages a renewal carries: then a renewed dynamic slot's ad shows the
 * machine's load and its job's as the partitionable slot's does (HTCondor's dynamic slot ads carry the
 * machine's LoadAvg). An older one keeps them as last sent whole: a job's load moved by a tenth of a cpu
 * sends the ad whole.
 */
let collectorRenewsLoads = false;
/** Dynamic slots whose ads may have changed since the last update (the startd says so as it changes them). */
const dirty = new Set<string>();
/**
 * Dynamic slots whose ads changed only as their claim went from one job to the next (JobId, Activity):
 * with claim reuse that is every job, and nothing decides on it at once (a released claim, a slot's
 * resources or state go out at once), so those changes go out together, at most once a second.
 */
const churned = new Set<string>();
let churnTimer: NodeJS.Timeout | undefined;
/** the next update sends the churned ads too */
let churnDue = false;
const CHURN_AD_DELAY_MS = 1000;
/** The attributes only a claim's next job changes. */
const CHURN = new Set(['EnteredCurrentActivity', 'JobId', 'RemoteOwner', 'RemoteUser']);
const busyOrIdle = (v: string | undefined) => v === '"Busy"' || v === '"Idle"';
/**
 * How a slot's own attributes changed since they were sent: not at all, only as its claim went from one job
 * to the next (Busy and Idle are a claim between its jobs, while Suspended, Vacating or Killing go out at
 * once), or otherwise. One pass over a few attributes, and no copies: it runs at each job's start and end.
 */
function ownChange(last: Record<string, string>, own: Record<string, string>): 'same' | 'churn' | 'changed' {
  let churn = false;
  for (const k in own) {
    const v = own[k];
    if (last[k] === v) continue;
    if (!CHURN.has(k) && !(k === 'Activity' && busyOrIdle(v) && busyOrIdle(last[k]))) return 'changed';
    churn = true;
  }
  for (const k in last) {
    if (k in own) continue;
    if (!CHURN.has(k)) return 'changed';
    churn = true;
  }
  return churn ? 'churn' : 'same';
}
/** A slot whose ad goes whole: its own attributes as compared, and the dynamic slot (none for the partitionable). */
interface WholeAd {
  name: string;
  own: Record<string, string>;
  d?: DynamicSlot;
}
/** The update on the wire, if any, and whether another is wanted once it is done (and whether of everything). */
let inFlight: Promise<void> | undefined;
let again: { everything: boolean } | undefined;
/**
 * Send the slot ads that changed since the last update (all of them when `everything`). One update at a time:
 * two overlapping ones could deliver a released slot's last ad after its invalidation, and the collector would
 * show the slot Claimed until the ad expired.
 */
function advertise(everything = false): Promise<void> {
  if (inFlight) {
    again = { everything: everything || (again?.everything ?? false) };
    return inFlight;
  }
  inFlight = sendAds(everything).finally(() => {
    inFlight = undefined;
    const next = again;
    again = undefined;
    if (next) void advertise(next.everything);
  });
  return inFlight;
}
async function sendAds(everything: boolean): Promise<void> {
  adTimer = undefined;
  const churn = churnDue;
  churnDue = false;
  lastAdvertise = performance.now();
  const c = collector.get();
  if (!c) {
    scheduleAdvertise(1000);
    return;
  }
  const lifetime = 3 * config.int('UPDATE_INTERVAL');
  const common = machine.commonVersion();
  const dslots = [...machine.dslots.values()];
  // An ad is built only to be sent whole: what changed is told by the slot's own attributes (a few) and the
  // version of those every ad shares. The partitionable slot's goes whole when it changed and at each
  // periodic update, with the machine's load averages.
  const changed: WholeAd[] = [];
  const pOwn = machine.pslotOwn();
  const pLast = lastSent.get(machine.pslotName);
  if (everything || pLast?.common !== common || ownChange(pLast.own, pOwn) !== 'same')
    changed.push({ name: machine.pslotName, own: pOwn });
  // A dynamic slot's ad unchanged since the collector took it is renewed at the periodic update (name,
  // version and its load averages) rather than built, sent, encoded, decoded and compared again; one the startd did
  // not say changed is not even looked at. Ads the collector cannot renew (restarted, invalidated) go whole.
  const renewals: AdUpdate[] = [];
  const renewed: DynamicSlot[] = [];
  for (const d of dslots) {
    if (!everything && !dirty.has(d.claim)) continue;
    const last = lastSent.get(d.name);
    const fresh = last !== undefined && last.common === common;
    let own: Record<string, string> | undefined;
    let how: 'same' | 'churn' | 'changed' = 'same';
    if (!fresh || dirty.has(d.claim) || churned.has(d.claim)) {
      own = machine.dslotOwn(d);
      how = fresh ? ownChange(last.own, own) : 'changed';
    }
    if (how === 'same') {
      if (!everything) continue;
      if (collectorRenews && (collectorRenewsLoads || last!.load === jobLoad(machine.condorLoad(d)))) {
        renewals.push({
          type: 'Machine',
          name: d.name,
          instance: ctx.instance,
          lifetime,
          version: last!.version,
          renew: true,
          ad: { attrs: machine.loads(d) },
        });
        renewed.push(d);
        continue;
      }
    } else if (how === 'churn' && !churn && !everything) {
      churned.add(d.claim);
      churnTimer ??= setTimeout(() => {
        churnTimer = undefined;
        for (const cl of churned) dirty.add(cl);
        churned.clear();
        churnDue = true;
        scheduleAdvertise(0);
      }, CHURN_AD_DELAY_MS);
      continue;
    }
    changed.push({ name: d.name, own: own ?? machine.dslotOwn(d), d });
  }
  dirty.clear();
  for (const a of changed) if (a.d) churned.delete(a.d.claim);
  const sentAt = String(nowSeconds());
  const versions = new Map<string, { version: string; load: string }>();
  const wholeUpdate = (a: WholeAd): AdUpdate => {
    const attrs = a.d ? machine.dslotAd(a.d, a.own) : machine.pslotAd(a.own);
    // its clock as it sends, so that readers can tell how far it is from the collector's (onPoolClock)
    attrs.MyCurrentTime = sentAt;
    const version = String(++adVersion);
    versions.set(a.name, { version, load: a.d ? jobLoad(attrs.CondorLoadAvg) : '' });
    return { type: 'Machine', name: a.name, instance: ctx.instance, lifetime, version, ad: { attrs } };
  };
  const sent = (list: WholeAd[]) => {
    for (const a of list) lastSent.set(a.name, { own: a.own, common, ...versions.get(a.name)! });
  };
  const updates = [...changed.map(wholeUpdate), ...renewals];
  try {
    // A released slot leaves the collector before the resources it held show as free in the partitionable
    // slot's ad: the negotiator never sees both (it would count them twice, and hand a preempted slot's
    // resources to whoever comes first rather than to the job they were freed for).
    const now = new Set(dslots.map((d) => d.name));
    const gone = [...advertisedDslots].filter((n) => !now.has(n));
    if (gone.length) await c.invalidate('Machine', gone, ctx.instance);
    for (const n of gone) lastSent.delete(n);
    advertisedDslots = now;
    if (updates.length) {
      const reply = await c.advertise(updates);
      sent(changed);
      // an older collector ignores renewals (and says nothing of them): then each was refused
      const stale = new Set(
        (reply.renewals ? (reply.stale ?? []) : renewals.map((r) => r.name!)).map((n) => n.toLowerCase()),
      );
      collectorRenews = !!reply.renewals;
      collectorRenewsLoads = !!reply.renewal_loads;
      const again: WholeAd[] = [];
      // (not a slot released meanwhile: its ad would come back after its invalidation)
      for (const d of renewed)
        if (stale.has(d.name.toLowerCase()) && machine.dslots.get(d.claim) === d)
          again.push({ name: d.name, own: machine.dslotOwn(d), d });
      if (again.length) {
        await c.advertise(again.map(wholeUpdate));
        sent(again);
      }
    }
    nameRefusedLogged = false;
    if (!adsTakenWritten) {
      adsTakenWritten = true;
      writeFileSync(adsTaken, `${new Date().toISOString()}\n`);
    }
  } catch (e) {
    lastSent.clear();
    collectorRenews = false;
    collectorRenewsLoads = false;
    const err = e as { code?: string; message: string };
    if (err.code === 'NAME_IN_USE') {
      if (!nameRefusedLogged)
        log.error({ name }, `the collector refused this startd: ${err.message}. Set STARTD_NAME to a unique name.`);
      nameRefusedLogged = true;
    } else if (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED') {
      // a credential problem (a revoked host, a certificate of another pool) does not cure itself: say so once
      if (!nameRefusedLogged)
        log.error({ err: err.message }, `the collector refused this startd's credential: ${err.message}`);
      nameRefusedLogged = true;
    } else log.debug({ err: err.message }, 'collector update failed (will retry)');
    // Until the collector has our ads, retry every second: any start order works.
    scheduleAdvertise(1000);
  }
}
let lastAdvertise = 0;
/** Soon after a change on a quiet machine; at most every 20 ms on a busy one. */
function scheduleAdvertise(delayMs = 2) {
  if (adTimer) return;
  adTimer = setTimeout(() => void advertise(), Math.max(delayMs, lastAdvertise + 20 - performance.now()));
}
startd.onChange = (claim) => {
  if (claim) dirty.add(claim);
  scheduleAdvertise();
};
void advertise(true);
void containers?.then(() => advertise(true));
const periodic = setInterval(() => void advertise(true), config.int('UPDATE_INTERVAL') * 1000);
// a new START expression or label shows in the pool at once
onReconfig(() => {
  try {
    machine.reloadAttrs();
  } catch (e) {
    log.error({ err: (e as Error).message }, 'STARTD_ATTRS has an error: the slot ads keep the previous attributes');
  }
  machine.invalidate();
  void advertise(true);
});
const leases = setInterval(() => startd.checkLeases(), 1000);
/**
 * The part of its graceful stop (onShutdown ends it at 15 s) by which a stopping startd has delivered the
 * evictions of its jobs, or given up on the schedds that do not take them.
 */
const SHUTDOWN_DELIVERED_BY_MS = 13_000;

onShutdown(ctx, async () => {
  const stopBegan = performance.now();
  for (const t of [periodic, leases]) clearInterval(t);
  clearTimeout(churnTimer);
  monitor.stop();
  await startd.shutdown(config.int('KILL_GRACE') * 1000);
  tracker.close();
  // the evictions reach the schedd before the startd goes (the master stops the schedd after the startds), so
  // the jobs are idle there, with their 004, rather than found lost at its next start; an exit that waits is
  // journaled and sent again by the next startd, an eviction is not
  const until = stopBegan + SHUTDOWN_DELIVERED_BY_MS;
  while (!reporter.settled() && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  const c = collector.get();
  await c?.invalidate('Machine', [machine.pslotName, ...advertisedDslots], ctx.instance).catch(() => {});
  await server.shutdown();
  reporter.close();
  collector.close();
});
