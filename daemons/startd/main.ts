// dsched startd: one per execute node. Advertises its slots and runs the jobs schedds claim them for.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adsTakenFile } from '../../lib/config/paths.js';
import { CollectorLink, daemonContext, onReconfig, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { proto } from '../../lib/rpc/proto.js';
import { qualifiedName } from '../../lib/rpc/authz.js';
import { EventReporter } from './reporter.js';
import { detectResources, Machine } from './slots.js';
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
const { config, log } = ctx;
const name = qualifiedName(config.str('STARTD_NAME'), ctx.hostName);
/** The machine as configured and detected; a configuration error (a bad MACHINE_RESOURCE_ value) stops the startd. */
async function describeMachine(): Promise<Machine> {
  try {
    const custom = await detectCustomResources(config, log);
    const benchmarks = runBenchmarks();
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
 * Each slot's ad as last sent: whole (`key`), without what changes as a claim's jobs come and go, and the
 * version the collector holds it as (renewals name it).
 */
const lastSent = new Map<string, { key: string; claim: string; version: string; load: string }>();
/**
 * A dynamic slot's job load as a renewal compares it: to a tenth of a cpu, so that a job's load shows in the
 * collector once measured (and as it moves by that much) while the readings' jitter does not undo renewals.
 */
const jobLoad = (attrs: Record<string, string>) =>
  attrs.CondorLoadAvg === undefined ? '' : Number(attrs.CondorLoadAvg).toFixed(1);
/** Bumped for each ad sent whole: a renewal of an ad the collector does not hold as that version is refused. */
let adVersion = 0;
/** The collector said it applies renewals: until it does (an older one, or not yet asked), ads go whole. */
let collectorRenews = false;
/** Dynamic slots whose ads may have changed since the last update. */
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
/** The attributes only a claim's next job changes; the load averages move all the time: never a reason alone. */
const CHURN = new Set(['EnteredCurrentActivity', 'JobId', 'RemoteOwner', 'RemoteUser']);
const LOAD = new Set(['LoadAvg', 'TotalLoadAvg', 'CondorLoadAvg', 'TotalCondorLoadAvg']);
/**
 * An ad as compared with the one last sent: whole but for the load averages (`key`), and without what a
 * claim's next job changes (`claimKey`; Busy and Idle are a claim between its jobs, while Suspended,
 * Vacating or Killing go out at once). One pass and no copies: it runs for every slot that changed.
 */
function adKeys(attrs: Record<string, string>): { key: string; claimKey: string } {
  let key = '';
  let claimKey = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (LOAD.has(k)) continue;
    const part = `${k}\0${v}\0`;
    key += part;
    if (!CHURN.has(k) && !(k === 'Activity' && (v === '"Busy"' || v === '"Idle"'))) claimKey += part;
  }
  return { key, claimKey };
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
  const dslots = [...machine.dslots.values()];
  const ads = [
    { name: machine.pslotName, claim: '', attrs: machine.pslotAd() },
    ...dslots
      .filter((d) => everything || dirty.has(d.claim))
      .map((d) => ({ name: d.name, claim: d.claim, attrs: machine.dslotAd(d) })),
  ];
  dirty.clear();
  const keyed = ads.map((a) => ({ ...a, ...adKeys(a.attrs) }));
  const changed = everything
    ? keyed
    : keyed.filter((a) => {
        const last = lastSent.get(a.name);
        if (last?.key === a.key) return false;
        if (churn || last?.claim !== a.claimKey || !a.claim) return true;
        churned.add(a.claim);
        churnTimer ??= setTimeout(() => {
          churnTimer = undefined;
          for (const cl of churned) dirty.add(cl);
          churned.clear();
          churnDue = true;
          scheduleAdvertise(0);
        }, CHURN_AD_DELAY_MS);
        return false;
      });
  for (const a of changed) if (a.claim) churned.delete(a.claim);
  const sentAt = String(nowSeconds());
  // A dynamic slot's ad unchanged since the collector took it is renewed (name and version, no attributes)
  // rather than sent, encoded, decoded and compared again; the partitionable slot's goes whole, with the
  // machine's load averages (a dynamic slot's copies of them are as last sent whole). Ads the collector cannot renew (restarted, invalidated) go whole at once.
  const whole: typeof changed = [];
  const renewals: AdUpdate[] = [];
  for (const a of changed) {
    const last = lastSent.get(a.name);
    if (
      everything &&
      collectorRenews &&
      last?.key === a.key &&
      last.load === jobLoad(a.attrs) &&
      a.name !== machine.pslotName
    )
      renewals.push({
        type: 'Machine',
        name: a.name,
        instance: ctx.instance,
        lifetime,
        version: last.version,
        renew: true,
      });
    else whole.push(a);
  }
  const versions = new Map<string, string>();
  const wholeUpdate = (a: (typeof changed)[number]): AdUpdate => {
    // its clock as it sends, so that readers can tell how far it is from the collector's (onPoolClock); set
    // on the ad made for this update (its keys are taken), not on a copy of it
    a.attrs.MyCurrentTime = sentAt;
    const version = String(++adVersion);
    versions.set(a.name, version);
    return { type: 'Machine', name: a.name, instance: ctx.instance, lifetime, version, ad: { attrs: a.attrs } };
  };
  const sent = (list: typeof changed) => {
    for (const a of list)
      lastSent.set(a.name, { key: a.key, claim: a.claimKey, version: versions.get(a.name)!, load: jobLoad(a.attrs) });
  };
  const updates = [...whole.map(wholeUpdate), ...renewals];
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
      sent(whole);
      // an older collector ignores renewals (and says nothing of them): then each was refused
      const stale = new Set(
        (reply.renewals ? (reply.stale ?? []) : renewals.map((r) => r.name!)).map((n) => n.toLowerCase()),
      );
      collectorRenews = !!reply.renewals;
      const again = stale.size ? changed.filter((a) => stale.has(a.name.toLowerCase())) : [];
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

onShutdown(ctx, async () => {
  for (const t of [periodic, leases]) clearInterval(t);
  clearTimeout(churnTimer);
  monitor.stop();
  await startd.shutdown(config.int('KILL_GRACE') * 1000);
  tracker.close();
  await new Promise((r) => setTimeout(r, 300)); // let the evictions reach the schedd
  const c = collector.get();
  await c?.invalidate('Machine', [machine.pslotName, ...advertisedDslots], ctx.instance).catch(() => {});
  await server.shutdown();
  reporter.close();
  collector.close();
});
