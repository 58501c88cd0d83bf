// dsched master: one per host. Starts the daemons of DAEMON_LIST, restarts any that dies, stops them all.
import { readFileSync, rmSync, openSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { DschedError } from '../../lib/errors.js';
import { proto } from '../../lib/rpc/proto.js';
import type { CallContext } from '../../lib/rpc/server.js';
import { Supervisor } from './supervisor.js';

const ctx = daemonContext('master');
const { config, log } = ctx;

// One master per home: the pid file is taken with O_EXCL, and a stale one (dead pid) is replaced.
const pidFile = join(config.paths.run, 'master.pid');
function takePidFile() {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(pidFile, 'utf8'));
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = pid !== process.pid;
      } catch {
        alive = false;
      }
      if (alive) throw new DschedError('POOL_ALREADY_RUNNING', `a master (pid ${pid}) already runs for ${config.paths.home}`);
      rmSync(pidFile, { force: true });
    }
  }
}
takePidFile();

const supervisor = new Supervisor(log, config.paths.log, () => config.int('RESTART_BACKOFF_MAX'));
let shuttingDown: Promise<void> | undefined;
const stopAll = () => (shuttingDown ??= supervisor.stop(20_000));

const server = await serveDaemon(ctx, config.int('MASTER_PORT'), [
  {
    definition: proto().Master.service,
    impl: {
      unary: {
        Status() {
          return {
            pid: process.pid,
            home: config.paths.home,
            daemons: [...supervisor.daemons.values()].map((d) => ({ name: d.name, pid: d.pid, state: d.state, restarts: d.restarts, last_exit: d.lastExit, address: '' })),
          };
        },
        async Shutdown(_req: unknown, ctx: CallContext) {
          // stopping the pool is the pool's owner's (or root's) decision, not any user's with a token
          if (ctx.identity.kind !== 'daemon' && !ctx.identity.admin) throw new DschedError('PERMISSION_DENIED', 'only an admin may stop the pool');
          setImmediate(() => process.kill(process.pid, 'SIGTERM'));
          return {};
        },
        Reconfig(_req: unknown, ctx: CallContext) {
          if (ctx.identity.kind !== 'daemon' && !ctx.identity.admin) throw new DschedError('PERMISSION_DENIED', 'only an admin may reconfigure the pool');
          supervisor.signalAll('SIGHUP');
          return {};
        },
      },
    },
  },
]);

supervisor.start(config.list('DAEMON_LIST'));
process.on('SIGHUP', () => supervisor.signalAll('SIGHUP'));

onShutdown(ctx, async () => {
  await stopAll();
  await server.shutdown();
  rmSync(pidFile, { force: true });
});
