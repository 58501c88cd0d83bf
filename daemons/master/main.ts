// dsched master: one per host. Starts the daemons of DAEMON_LIST, restarts any that dies, stops them all.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { masterLockName } from '../../lib/daemons.js';
import { DschedError } from '../../lib/errors.js';
import {
  MASTER_HEARTBEAT_MS,
  otherHostMaster,
  poolOnOtherHost,
  readPidFile,
  removePidFile,
  renewPidFile,
  writePidFile,
} from '../../lib/pid-file.js';
import { proto } from '../../lib/rpc/proto.js';
import type { CallContext } from '../../lib/rpc/server.js';
import { stopBoundMs, Supervisor } from './supervisor.js';

const ctx = daemonContext('master');
const { config, log } = ctx;

// One master per home. The lock is an abstract Unix socket named after the home: the kernel frees it
// when the master dies, however it dies, so a stale lock never blocks a restart and two masters starting
// at once cannot both take it. run/master.pid (pid, start time and host) tells `dsched` which process it is.
// That lock is this host's: a home shared with another host (NFS) is held by whichever host's master has
// run/master.pid and keeps its time recent (MASTER_HEARTBEAT_MS), since two masters would share one queue.
const pidFile = join(config.paths.run, 'master.pid');
async function takeMasterLock(): Promise<void> {
  const name = `\0${masterLockName(config.paths.home)}`;
  const lock = createServer();
  await new Promise<void>((resolve, reject) => {
    lock.once('error', (e: NodeJS.ErrnoException) => {
      const holder = readPidFile(pidFile);
      reject(
        e.code === 'EADDRINUSE'
          ? new DschedError(
              'POOL_ALREADY_RUNNING',
              `a master${holder ? ` (pid ${holder.pid})` : ''} already runs for ${config.paths.home}`,
              { hint: 'dsched status shows its daemons, dsched stop stops them' },
            )
          : e,
      );
    });
    lock.listen(name, () => resolve());
  });
  lock.unref();
  const other = otherHostMaster(pidFile);
  if (other?.live) throw poolOnOtherHost(config.paths.home, other);
  if (other)
    log.warn(
      { host: other.host, masterPid: other.rec.pid, heartbeatAgeS: Math.round(other.ageMs / 1000) },
      'taking over the home from the master of another host, whose heartbeat has stopped',
    );
  writePidFile(pidFile);
}
try {
  await takeMasterLock();
} catch (e) {
  // a second master (`dsched master` run by hand beside the pool's) says so and exits, as the native master
  // does: thrown from here it printed "internal error", and the config watcher kept the process alive for good
  const err = e instanceof DschedError ? e : new DschedError('INTERNAL', (e as Error).message, { cause: e });
  log.error({ code: err.code, err: err.message }, 'this master does not start');
  process.stderr.write(`dsched master: error[${err.code}]: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
  process.exit(err.exitCode);
}
const myRecord = readPidFile(pidFile)!;
// the heartbeat; a master of another host that took the home over meanwhile (this one was stopped or cut
// off longer than the heartbeat's staleness) keeps it, and this one stops
setInterval(() => {
  const taker = renewPidFile(pidFile, myRecord);
  if (!taker) return;
  log.error(
    { host: taker.host?.host, masterPid: taker.pid },
    'another master has taken this home over; stopping this pool',
  );
  process.kill(process.pid, 'SIGTERM');
}, MASTER_HEARTBEAT_MS).unref();

const supervisor = new Supervisor(
  log,
  config.paths.log,
  () => config.int('RESTART_BACKOFF_MAX'),
  config.paths.run,
  () => config.int('MAX_DAEMON_LOG') * 1024,
);
let shuttingDown: Promise<void> | undefined;
const STOP_GRACE_MS = 20_000;
const stopAll = () => (shuttingDown ??= supervisor.stop(STOP_GRACE_MS));

const server = await serveDaemon(ctx, config.int('MASTER_PORT'), [
  {
    definition: proto().Master.service,
    impl: {
      unary: {
        Status() {
          return {
            pid: process.pid,
            home: config.paths.home,
            daemons: [...supervisor.daemons.values()].map((d) => ({
              name: d.name,
              pid: d.pid,
              state: d.state,
              restarts: d.restarts,
              last_exit: d.lastExit,
              address: '',
            })),
          };
        },
        async Shutdown(_req: unknown, ctx: CallContext) {
          // stopping the pool is the pool's owner's (or root's) decision, not any user's with a token
          if (ctx.identity.kind !== 'daemon' && !ctx.identity.admin)
            throw new DschedError('PERMISSION_DENIED', 'only an admin may stop the pool');
          setImmediate(() => process.kill(process.pid, 'SIGTERM'));
          return {};
        },
        StartDaemon(req: { name: string }, ctx: CallContext) {
          if (ctx.identity.kind !== 'daemon' && !ctx.identity.admin)
            throw new DschedError('PERMISSION_DENIED', 'only an admin may start a daemon');
          const was = supervisor.revive(req.name);
          if (!was)
            throw new DschedError(
              'USAGE',
              `this master runs no daemon named ${JSON.stringify(req.name.slice(0, 100))}: DAEMON_LIST is ${config.list('DAEMON_LIST').join(', ')}`,
            );
          const d = supervisor.daemons.get(req.name.toLowerCase())!;
          return { name: d.name, pid: d.pid, state: was, restarts: d.restarts, last_exit: d.lastExit, address: '' };
        },
        Reconfig(_req: unknown, ctx: CallContext) {
          if (ctx.identity.kind !== 'daemon' && !ctx.identity.admin)
            throw new DschedError('PERMISSION_DENIED', 'only an admin may reconfigure the pool');
          supervisor.signalAll('SIGHUP');
          return {};
        },
      },
    },
  },
]);

supervisor.start(config.list('DAEMON_LIST'));
process.on('SIGHUP', () => supervisor.signalAll('SIGHUP'));

// the master outlasts its stop's stages (a hung schedd is killed at the grace, then the collector still
// stops): exiting at a daemon's usual 15 s would leave them running with no master
onShutdown(
  ctx,
  async () => {
    await stopAll();
    await server.shutdown();
    const me = readPidFile(pidFile);
    if (me?.pid === process.pid) removePidFile(pidFile, me);
  },
  stopBoundMs(STOP_GRACE_MS) + 2_000,
);
