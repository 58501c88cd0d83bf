// What every daemon's main does the same way: config, log, this host's credential (its certificate is the
// daemon's identity, client and server), the gRPC server with its address file, and an orderly shutdown on SIGTERM/SIGINT (SIGQUIT forces exit).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import chokidar from 'chokidar';
import { loadConfig, type Config } from './config/load.js';
import { PARAMS, type ParamInfo } from './config/params.js';
import { addressFile } from './config/paths.js';
import { trimHeapAfterBursts } from './heap-trim.js';
import { createLogger, type LogRotation, type Logger } from './log.js';
import type { KeyObject } from 'node:crypto';
import { hostTls, Revocations, tokenPublicKey, type ClientCredentials, type TlsMaterial } from './rpc/tls.js';
import { collectorAddress, removeAddressFile, writeAddressFile, writeFileAtomic } from './rpc/address-file.js';
import { REQUEST_ELEMENTS, requestElements } from './rpc/request-elements.js';
import { startServer, type RunningServer, type ServiceImpl } from './rpc/server.js';
import type { AnonymousLimits } from './rpc/anonymous-budget.js';
import type { ConnectionLimits } from './rpc/connection-limit.js';
import { CollectorClient } from './rpc/clients/collector.js';

export interface DaemonContext {
  name: string;
  config: Config;
  log: Logger;
  /** This host's certificate, key and the pool CA. */
  tls: Required<TlsMaterial>;
  /** What this daemon's clients present: the host certificate, no token. */
  creds: ClientCredentials;
  tokenPub: KeyObject;
  /** spool/revoked.json of this home (present on the central host). */
  revoked: Revocations;
  /** Stable across restarts of this daemon in this home, different on another host: the collector's
   *  duplicate-name check tells a restart from an impostor by it. */
  instance: string;
  hostName: string;
}

let masterPipeFd = NaN;

export function daemonContext(daemon: string): DaemonContext {
  masterPipeFd = Number(process.env[MASTER_PIPE_ENV]);
  // the daemon's own children (the spawner, jobs, mail) are not the master's
  delete process.env[MASTER_PIPE_ENV];
  const config = loadConfig();
  for (const d of [config.paths.run, config.paths.log, config.paths.spool]) mkdirSync(d, { recursive: true });
  const rotation = logRotation(config);
  const log = createLogger(daemon, config.paths.log, undefined, rotation);
  onReconfig(() => {
    try {
      Object.assign(rotation, logRotation(config));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'log rotation settings not changed');
    }
  });
  const tls = hostTls(config.paths);
  const tokenPub = tokenPublicKey(config.paths);
  const revoked = new Revocations(config.paths.revoked);
  const creds: ClientCredentials = { tls, revoked };
  // the host its ads name (HOSTNAME): the collector and the schedd check a daemon's ads and claims against
  // the host its certificate names
  const hostName = config.str('HOSTNAME') || hostname();
  const instFile = join(config.paths.run, `${daemon}.instance`);
  let instance = existsSync(instFile) ? readFileSync(instFile, 'utf8').trim() : '';
  if (!instance) {
    instance = randomBytes(12).toString('hex');
    writeFileAtomic(instFile, instance);
  }
  const ctx = { name: daemon, config, log, tls, creds, tokenPub, revoked, instance, hostName };
  watchConfig(ctx);
  // a burst's heap given back once it is over: every MB a daemon keeps is taken from its host's jobs
  trimHeapAfterBursts();
  return ctx;
}

function anonymousBudget(config: Config): AnonymousLimits {
  return {
    total: config.int('ANONYMOUS_REQUEST_BUDGET') * 1024,
    perHost: config.int('ANONYMOUS_REQUEST_BUDGET_PER_HOST') * 1024,
    bodySeconds: config.int('ANONYMOUS_REQUEST_TIMEOUT'),
  };
}

/** MAX_CONNECTIONS_PER_CLIENT and MAX_CONNECTIONS (lib/rpc/connection-limit.ts). */
export function connectionBounds(config: Config): ConnectionLimits {
  return { perPeer: config.int('MAX_CONNECTIONS_PER_CLIENT'), total: config.int('MAX_CONNECTIONS') };
}

function logRotation(config: Config): LogRotation {
  return { maxBytes: config.int('MAX_DAEMON_LOG') * 1024, keep: config.int('MAX_NUM_DAEMON_LOG') };
}

export async function serveDaemon(
  ctx: DaemonContext,
  port: number,
  services: Array<{ definition: grpc.ServiceDefinition; impl: ServiceImpl }>,
): Promise<RunningServer> {
  const anonymousLimits = anonymousBudget(ctx.config);
  const userRequestLimit = { bytes: ctx.config.int('USER_REQUEST_BUDGET') * 1024 };
  // the schedd takes the counted requests (submissions, edits): a whole submission of as many procs as one may
  // queue still goes in one
  const elements = () => ({
    max: ctx.name === 'schedd' ? requestElements(ctx.config.int('MAX_JOBS_PER_SUBMISSION')) : REQUEST_ELEMENTS,
  });
  const requestElementLimit = elements();
  const connectionLimits = connectionBounds(ctx.config);
  onReconfig(() => {
    try {
      Object.assign(anonymousLimits, anonymousBudget(ctx.config));
      userRequestLimit.bytes = ctx.config.int('USER_REQUEST_BUDGET') * 1024;
      Object.assign(requestElementLimit, elements());
      Object.assign(connectionLimits, connectionBounds(ctx.config));
    } catch (e) {
      ctx.log.error({ err: (e as Error).message }, 'request budgets not changed');
    }
  });
  const server = await startServer({
    anonymousLimits,
    userRequestLimit,
    requestElements: requestElementLimit,
    connectionLimits,
    daemon: ctx.name,
    log: ctx.log,
    tls: ctx.tls,
    tokenPub: ctx.tokenPub,
    revoked: ctx.revoked,
    host: ctx.config.str('BIND_ADDRESS'),
    port,
    services,
  });
  writeAddressFile(addressFile(ctx.config.paths, ctx.name), server.address);
  ctx.log.info({ address: server.address }, `${ctx.name} serving`);
  return server;
}

/** Set by the master for its daemons: the fd of a pipe whose other end the master holds. */
export const MASTER_PIPE_ENV = 'DSCHED_MASTER_PIPE';

/**
 * A daemon started by a master shuts down when the master is gone: the master's end of the pipe closes
 * when it dies, however it dies, and the daemon reads end of file. Left running, such a daemon would hold
 * the pool's ports against the next master and could not be stopped by `dsched stop` through it.
 */
function watchMaster(ctx: DaemonContext): void {
  const fd = masterPipeFd;
  if (!Number.isInteger(fd) || fd < 3) return;
  let pipe: Socket;
  try {
    pipe = new Socket({ fd, readable: true, writable: false });
  } catch (e) {
    ctx.log.warn({ err: (e as Error).message }, 'cannot watch the master pipe');
    return;
  }
  let gone = false;
  const masterGone = () => {
    if (gone) return;
    gone = true;
    ctx.log.warn('the master is gone: shutting down');
    process.kill(process.pid, 'SIGTERM');
  };
  pipe.on('data', () => {}); // the master sends nothing; reading is how its end of file is seen
  pipe.once('end', masterGone);
  pipe.once('error', masterGone);
  pipe.unref();
}

/**
 * The shutdown signals, as HTCondor's daemons take them: SIGTERM (or SIGINT, a terminal's ^C) runs `stop` once
 * and exits (a graceful shutdown: the startd evicts its jobs back to their schedds); the same signals again
 * while it runs are logged and ignored, since a wrapper or batch system that passes signals on (Slurm sends
 * every process of a job SIGTERM, and a shell may forward it) must not turn a graceful stop into a hard one.
 * SIGQUIT (Ctrl-\ on a terminal) exits at once, during a graceful stop too (HTCondor's fast shutdown: nothing is
 * evicted; the jobs of a startd die with its spawner and run again). A graceful stop ends after `forceMs`
 * (15 s) anyway.
 */
export function onShutdown(ctx: DaemonContext, stop: () => Promise<void>, forceMs = 15_000): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) {
      ctx.log.warn({ signal: sig }, 'already shutting down gracefully; SIGQUIT stops at once');
      return;
    }
    stopping = true;
    ctx.log.info({ signal: sig }, `${ctx.name} shutting down`);
    const force = setTimeout(() => process.exit(1), forceMs);
    force.unref();
    stop()
      .catch((e) => ctx.log.error({ err: e }, 'error during shutdown'))
      .finally(() => {
        removeAddressFile(addressFile(ctx.config.paths, ctx.name));
        ctx.log.info(`${ctx.name} stopped`);
        process.exit(0);
      });
  };
  process.on('SIGQUIT', (sig) => {
    ctx.log.warn({ signal: sig }, `${ctx.name}: fast shutdown, exiting now`);
    process.exit(1);
  });
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  watchMaster(ctx);
  // SIGHUP is `dsched reconfig`: never a reason to die.
  process.on('SIGHUP', () => reconfigure(ctx, 'SIGHUP'));
  process.on('uncaughtException', (e) => {
    ctx.log.fatal({ err: e }, 'uncaught exception');
    process.exit(70);
  });
}

const reconfigChecks: Array<(config: Config) => void> = [];
/**
 * Refuse a re-read configuration unless `check` passes (it throws CONFIG_INVALID): a daemon's checks of what
 * only it can read (ClassAd knobs), so an edit it would die on is never taken.
 */
export function checkOnReconfig(check: (config: Config) => void): void {
  reconfigChecks.push(check);
}

type ReconfigListener = (changed: string[]) => void;
const reconfigListeners: ReconfigListener[] = [];
/** Be told after the configuration was re-read (live knobs apply at once). */
export function onReconfig(fn: ReconfigListener): void {
  reconfigListeners.push(fn);
}

/** Re-read the configuration; knobs marked `restart` are reported as needing a restart, not half-applied. */
export function reconfigure(ctx: DaemonContext, why: string): void {
  let changed: string[];
  try {
    changed = ctx.config.reload((c) => reconfigChecks.forEach((check) => check(c)));
  } catch (e) {
    ctx.log.error(
      { err: (e as Error).message, why },
      'configuration not reloaded: it has an error (the old values stay)',
    );
    return;
  }
  if (!changed.length) return;
  // only knobs this daemon reads: every daemon of the pool warning that NUM_CPUS needs its restart sent admins
  // restarting the collector and the schedd for the startd's knob
  const restart = changed.filter((n) => {
    const p = (PARAMS as Record<string, ParamInfo>)[n];
    return p?.reload === 'restart' && (p.daemons as string[]).includes(ctx.name);
  });
  ctx.log.info({ changed, why }, 'configuration reloaded');
  if (restart.length)
    ctx.log.warn(
      { knobs: restart },
      `these settings need a restart of the ${ctx.name} to take effect (it keeps their old values until then)`,
    );
  for (const l of reconfigListeners) l(changed);
}

/** Watch the configuration files (an editor's rename-on-save included) and reload on change. */
export function watchConfig(ctx: DaemonContext): void {
  let timer: NodeJS.Timeout | undefined;
  const w = chokidar.watch(ctx.config.files(), {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 },
  });
  w.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => reconfigure(ctx, 'config file changed'), 50);
  });
  w.on('error', (e) => ctx.log.warn({ err: (e as Error).message }, 'cannot watch the configuration files'));
  // an edit made between reading the configuration at start and the watch being in place would otherwise
  // go unnoticed until the next one: read it again once the watch is ready (no change, nothing happens)
  w.on('ready', () => reconfigure(ctx, 'config file changed while the daemon started'));
  process.once('exit', () => void w.close());
}

// in address-file.ts, which commands load without the daemon machinery
export { collectorAddress } from './rpc/address-file.js';

/** A collector client that follows the collector's address when it changes. */
export class CollectorLink {
  private client: CollectorClient | undefined;
  constructor(
    private config: Config,
    private creds: ClientCredentials,
  ) {}
  get(): CollectorClient | undefined {
    const addr = collectorAddress(this.config);
    if (!addr) return undefined;
    if (this.client && this.client.rpc.address === addr) return this.client;
    this.client?.close();
    this.client = new CollectorClient(addr, this.creds);
    return this.client;
  }
  close() {
    this.client?.close();
  }
}
