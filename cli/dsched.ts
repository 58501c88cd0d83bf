#!/usr/bin/env node
// dsched: start, stop and inspect a pool on this host; run one daemon in the foreground; evaluate ClassAd
// expressions; show configuration.
import { spawn } from 'node:child_process';
import {
  accessSync,
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  constants,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, whereFrom, type Config } from '../lib/config/load.js';
import { addressFile, adsTakenFile } from '../lib/config/paths.js';
import { PARAMS } from '../lib/config/params.js';
import { DAEMON_NAMES, failedReasonFile, masterLockName } from '../lib/daemons.js';
import { daemonNodeFlags } from '../lib/node-flags.js';
import {
  isRunning,
  otherHostMaster,
  parentPid,
  poolOnOtherHost,
  processStartTime,
  readPidFile,
} from '../lib/pid-file.js';
import { DschedError, isErrorCode, type ErrorCode } from '../lib/errors.js';
import { loadTokenKey, signToken } from '../lib/rpc/auth.js';
import { cliTls, describeCertificate, pinnedCa } from '../lib/rpc/tls.js';
import { readAddressFile } from '../lib/rpc/address-file.js';
import { ClassAd } from '../grammar/classad/index.js';
import { ensurePoolCredentials, installHostCredential, makeHostKey } from '../lib/pki/ca.js';
import { CollectorClient } from '../lib/rpc/clients/collector.js';
import { collectorAddress } from '../lib/daemon.js';
import type { DaemonRole } from '../lib/rpc/auth.js';
import type { MasterClient } from '../lib/rpc/clients/master.js';
import { userNameOf } from '../lib/users.js';
import { asAdmin } from './shared/admin.js';
import { openSession, type Session } from './shared/session.js';
import { evalCommand } from './eval-command.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { importModule } from './shared/import-module.js';
import { cli } from './shared/yargs.js';
import { completion } from './shared/completion.js';
import { installShims } from './shared/shims.js';
import { io } from './shared/io.js';

const USAGE = `usage: dsched <command> [options]

  Start, stop and inspect a pool on this host; run one daemon in the foreground (for pools spread over
  hosts: dsched collector|negotiator|schedd|startd|master|web); evaluate ClassAd expressions; show configuration.`;

const DAEMONS: readonly string[] = DAEMON_NAMES;
const here = dirname(fileURLToPath(import.meta.url));
const daemonMain = (name: string) => join(here, '..', 'daemons', name, 'main.js');
/** Starts the master in a session keyring of its own with no descriptor of ours but stdio (libexec/dsched-clean-exec.c). */
const cleanExec = join(here, '..', 'libexec', 'dsched-clean-exec');

/** This host's name in the pool (its certificate's CN). */
const hostName = (config: Config) => config.str('HOSTNAME') || hostname();

function pidAlive(pid: number): boolean {
  if (!pid) return false;
  // a daemon killed a moment ago may linger as a zombie until reaped: it serves nothing
  if (existsSync('/proc/self/stat') && processStartTime(pid) === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether this process may signal `pid` (its owner, or root). */
function maySignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running master of this home (its pid file checked against the process's start time), or 0. */
function masterPid(config: Config): number {
  const rec = readPidFile(join(config.paths.run, 'master.pid'));
  return isRunning(rec) ? rec.pid : 0;
}

/**
 * Refuse to act on a home whose pool another host runs (a DSCHED_HOME shared over NFS): its pids mean
 * nothing here, and a second master would run a second pool on the same queue.
 */
function refuseOtherHost(config: Config): void {
  const other = otherHostMaster(join(config.paths.run, 'master.pid'));
  if (other?.live) throw poolOnOtherHost(config.paths.home, other);
}

/** What the native master of an execute host says in run/master.state (daemons/master/native-master.c). */
interface NativeMasterState {
  pid: number;
  daemons: Array<{ name: string; pid: number; state: string; restarts: number; last_exit: string; address: string }>;
}

/** The state of this home's master when it is the native one and runs, else undefined. */
function nativeMasterState(config: Config): NativeMasterState | undefined {
  let text: string;
  try {
    text = readFileSync(join(config.paths.run, 'master.state'), 'utf8');
  } catch {
    return undefined;
  }
  const [head, ...lines] = text.split('\n');
  const [kind, pid, start] = (head ?? '').split(' ');
  // a file left by a native master that died names another process than the running master
  if (kind !== 'master' || !isRunning({ pid: Number(pid), start: start ?? '' }) || masterPid(config) !== Number(pid))
    return undefined;
  const daemons = lines.flatMap((l) => {
    const [what, name, p, state, restarts, ...lastExit] = l.split(' ');
    return what === 'daemon' && name
      ? [
          {
            name,
            pid: Number(p),
            state: state ?? '?',
            restarts: Number(restarts),
            last_exit: lastExit.join(' '),
            address: '',
          },
        ]
      : [];
  });
  return { pid: Number(pid), daemons };
}

/**
 * The native master's program when this host's master should be it: DAEMON_LIST is STARTD alone (an
 * execute host) and MASTER_NATIVE is on. It does there all a node master does but serve RPCs, without the
 * node process (docs/architecture.md).
 */
function nativeMaster(config: Config): string | undefined {
  const list = config.list('DAEMON_LIST').map((d) => d.toLowerCase());
  const program = join(here, '..', 'daemons', 'master', 'dsched-master');
  return config.bool('MASTER_NATIVE') && list.length === 1 && list[0] === 'startd' && existsSync(program)
    ? program
    : undefined;
}

/** The native master's command line: its lock, folders and backoff, then each daemon's name and node command. */
function nativeMasterArgs(config: Config): string[] {
  const { paths } = config;
  // what the node master's supervisor adds for each daemon
  const nodeArgs = (io().env.DSCHED_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return [
    masterLockName(paths.home),
    paths.run,
    paths.log,
    String(config.int('RESTART_BACKOFF_MAX')),
    ...config.list('DAEMON_LIST').flatMap((d, i) => {
      const name = d.toLowerCase();
      return [...(i ? ['--'] : []), name, process.execPath, ...daemonNodeFlags(name), ...nodeArgs, daemonMain(name)];
    }),
  ];
}

/**
 * Daemons of this home still running by their run/<daemon>.pid files (written by the master): a pid
 * counts only while it is the same process (start time) running that daemon's program, so a pid the
 * kernel gave to someone else is never signalled.
 */
function runningDaemons(config: Config): Array<{ name: string; pid: number }> {
  const out: Array<{ name: string; pid: number }> = [];
  // a master that came up meanwhile (another `dsched start`) keeps its own daemons
  const master = masterPid(config);
  for (const name of DAEMONS.filter((d) => d !== 'master')) {
    const rec = readPidFile(join(config.paths.run, `${name}.pid`));
    if (!isRunning(rec) || (master && parentPid(rec.pid) === master)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    } catch {
      cmdline = `${name}/main.js`; // no /proc: the start time check is all there is
    }
    if (cmdline.includes(join(name, 'main.js'))) out.push({ name, pid: rec.pid });
  }
  return out;
}

/** Stop daemons a dead master left behind: SIGTERM, then SIGKILL for any alive after the grace time. */
async function stopOrphans(config: Config): Promise<Array<{ name: string; pid: number }>> {
  const orphans = runningDaemons(config);
  if (!orphans.length) return orphans;
  const signal = (sig: NodeJS.Signals) => {
    for (const d of runningDaemons(config)) {
      try {
        process.kill(d.pid, sig);
      } catch {
        /* exited meanwhile */
      }
    }
  };
  signal('SIGTERM');
  for (const [sig, waitMs] of [
    [undefined, 20_000],
    ['SIGKILL', 5_000],
  ] as const) {
    if (sig) signal(sig);
    const deadline = Date.now() + waitMs;
    while (runningDaemons(config).length && Date.now() < deadline) await sleep(50);
  }
  const left = runningDaemons(config);
  if (left.length)
    throw new DschedError(
      'TIMEOUT',
      `daemons of ${config.paths.home} did not stop: ${left.map((d) => `${d.name} (pid ${d.pid})`).join(', ')}`,
    );
  for (const d of orphans) rmSync(join(config.paths.run, `${d.name}.pid`), { force: true });
  return orphans;
}

/**
 * Why `port` cannot be listened on (EADDRINUSE, EACCES for a privileged port, ...), or undefined: it can.
 */
function portRefusal(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.listen(port, host, () => s.close(() => resolve(undefined)));
  });
}

/** The daemons' fixed ports (a knob other than 0), with the address each listens on. */
const PORT_KNOBS = [
  ['COLLECTOR_PORT', 'collector'],
  ['SCHEDD_PORT', 'schedd'],
  ['NEGOTIATOR_PORT', 'negotiator'],
  ['STARTD_PORT', 'startd'],
  ['MASTER_PORT', 'master'],
  ['WEB_PORT', 'web'],
] as const;

/**
 * A fixed port of a daemon this start would run that something already listens on. Its daemon would fail
 * to bind it and be restarted over and over by the master, and `dsched start` would wait 30 s and leave the
 * rest of the pool running: refused before anything starts, naming the port and its knob.
 */
async function checkPorts(config: Config, native: boolean): Promise<void> {
  const daemons = new Set([...config.list('DAEMON_LIST').map((d) => d.toLowerCase()), ...(native ? [] : ['master'])]);
  for (const [knob, daemon] of PORT_KNOBS) {
    const port = config.int(knob);
    if (!port || !daemons.has(daemon)) continue;
    const host = daemon === 'web' ? config.str('WEB_ADDRESS') : config.str('BIND_ADDRESS');
    const why = await portRefusal(host, port);
    if (why)
      throw new DschedError(
        'PORT_IN_USE',
        `the ${daemon} cannot listen on ${host}:${port} (${knob}): ${why === 'EADDRINUSE' ? 'something already listens there' : why === 'EACCES' ? 'a privileged port, for root only' : why}`,
      );
  }
}

/**
 * The knobs of this host's daemons whose values the daemon would refuse (`NUM_CPUS = four`): found before
 * anything starts (or a restart stops the running pool), where the daemon would exit at once and the master
 * restart it over and over.
 */
function checkConfigValues(config: Config): void {
  const daemons = new Set(['master', 'tools', ...config.list('DAEMON_LIST').map((d) => d.toLowerCase())]);
  const problems: string[] = [];
  for (const [name, info] of Object.entries(PARAMS)) {
    if (!['int', 'size-mb', 'size-kb'].includes(info.type)) continue;
    if (!info.daemons.some((d) => daemons.has(d)) || config.lookup(name)?.source === 'default') continue;
    try {
      config.int(name as keyof typeof PARAMS);
    } catch (e) {
      problems.push(e instanceof DschedError ? e.message : String(e));
    }
  }
  if (problems.length)
    throw new DschedError('CONFIG_INVALID', problems.join('\n'), {
      hint: '`dsched config NAME -v` shows where a value comes from; docs/config.md lists what each knob takes',
    });
}

/** The pool's folders, or why they cannot be made (a home this user may not write, a full disk). */
function makePoolFolders(paths: Config['paths']): void {
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o755 });
    for (const d of [paths.run, paths.log, paths.execute]) mkdirSync(d, { recursive: true, mode: 0o755 });
    mkdirSync(paths.spool, { recursive: true, mode: 0o700 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = err.path ?? paths.home;
    if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS')
      throw new DschedError(
        'PERMISSION_DENIED',
        `cannot make the pool's folder ${where}: ${err.code === 'EROFS' ? 'read-only file system' : 'permission denied'}`,
        { hint: "DSCHED_HOME names the pool's home (~/.dsched when unset): choose a folder you may write", cause: e },
      );
    if (err.code === 'ENOSPC')
      throw new DschedError('DISK_FULL', `cannot make the pool's folder ${where}: no space left on the device`, {
        cause: e,
      });
    if (err.code === 'ENOTDIR' || err.code === 'EEXIST')
      throw new DschedError('CONFIG_INVALID', `cannot make the pool's folder ${where}: a file is in the way`, {
        hint: 'DSCHED_HOME must name a folder',
        cause: e,
      });
    throw e;
  }
}

/**
 * The pool's home and the folders its daemons trust (run/: addresses, pids, the token handshake; spool/: the
 * queue and the pool's keys; log/) belong to whoever starts the pool and only they may write them: one another
 * user owns or may write would let that user put words in root's mouth (an address file that sends every
 * command to them, a queue of their making). Refused before anything starts, naming the folder and the fix.
 */
function checkPoolFolders(paths: Config['paths']): void {
  const uid = process.geteuid?.() ?? 0;
  for (const dir of [paths.home, paths.run, paths.spool, paths.log]) {
    const st = statSync(dir);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    if (st.uid !== uid)
      throw new DschedError(
        'PERMISSION_DENIED',
        `the pool's folder ${dir} belongs to ${userNameOf(st.uid)}, not to ${userNameOf(uid)} who starts the pool: another user's folder is no place for what the daemons trust`,
        { hint: `chown ${userNameOf(uid)} ${dir}, or name a home of your own in DSCHED_HOME` },
      );
    if (st.mode & 0o022)
      throw new DschedError(
        'PERMISSION_DENIED',
        `the pool's folder ${dir} may be written by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${mode}): only ${userNameOf(uid)}, who starts the pool, may write it`,
        { hint: `chmod go-w ${dir}` },
      );
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      // a read-only mount (or a mode without w for the owner): the master failed on its first log file, untyped
      const ro = (e as NodeJS.ErrnoException).code === 'EROFS';
      throw new DschedError(
        'PERMISSION_DENIED',
        `the pool's folder ${dir} cannot be written (${ro ? 'read-only file system' : `mode ${mode}`}): the daemons write their queue, logs and addresses there`,
        {
          hint: ro
            ? 'mount it read-write, or name a home on a writable file system in DSCHED_HOME'
            : `chmod u+w ${dir}`,
          cause: e,
        },
      );
    }
  }
}

/** The last 64 KiB of a file, if it was written at or after `since` (an ISO time). */
function tailSince(path: string, since: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (st.mtime.toISOString() < since) return undefined;
      const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
      readSync(fd, buf, 0, buf.length, st.size - buf.length);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * `dsched start -set-aside-damaged-queue`: asks the schedd's next start (this one) to move a damaged job queue
 * aside. Returns what to tell the admin once the schedd serves: where the damaged queue went, or that it was
 * not damaged (and nothing moved).
 */
function requestSetAside(paths: Config['paths']): () => string {
  const spool = paths.spool;
  const damaged = () => new Set(readdirSync(spool).filter((f) => f.startsWith('job_queue.db.damaged-')));
  const before = damaged();
  writeFileSync(paths.setAsideDamagedQueue, `asked by ${userInfo().username} on ${new Date().toISOString()}\n`, {
    mode: 0o600,
  });
  return () => {
    const moved = [...damaged()].filter((f) => !before.has(f) && !/-(wal|shm)$/.test(f));
    return moved.length
      ? `the damaged job queue was moved to ${moved.map((f) => join(spool, f)).join(', ')} (kept for recovery); the schedd started with an empty queue`
      : `the job queue ${paths.jobQueue} is not damaged: nothing was moved`;
  };
}

/** Why a daemon exited for good (run/<daemon>.failed, written by it since `sinceMs`), with its error code. */
function failedSince(runDir: string, daemon: string, sinceMs: number): { code: ErrorCode; reason: string } | undefined {
  const file = failedReasonFile(runDir, daemon);
  try {
    if (statSync(file).mtimeMs < sinceMs - 1000) return undefined;
    const line = readFileSync(file, 'utf8').split('\n')[0]!.slice(0, 2000);
    if (!line) return undefined; // being written
    const m = /^([A-Z_]+): (.*)$/.exec(line);
    return m && isErrorCode(m[1]!) ? { code: m[1], reason: m[2]! } : { code: 'POOL_NOT_RUNNING', reason: line };
  } catch {
    return undefined;
  }
}

/**
 * Why a daemon did not come up: the last fatal entry its log has from this start on ("startd: the startd
 * cannot start: its configuration has an error: NUM_CPUS = four ... is not a whole number"), else the last
 * error its standard error shows ("schedd: SqliteError: file is not a database"), or undefined.
 */
function startFailure(logDir: string, daemon: string, since: string): string | undefined {
  // the end of the log is enough: a daemon that cannot start writes its reason last
  const text = tailSince(join(logDir, `${daemon}.log`), since) ?? '';
  for (const line of text.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as { level?: number; time?: string; msg?: string; err?: unknown };
      if ((e.level ?? 0) < 50 || !e.time || e.time < since) continue;
      const err = typeof e.err === 'string' ? e.err : (e.err as { message?: string } | undefined)?.message;
      return `${daemon}: ${e.msg ?? 'failed'}${err ? `: ${err}` : ''}`;
    } catch {
      /* a line cut by the read: not an entry */
    }
  }
  // an exception the daemon did not log: node printed it and its stack on standard error
  const out = tailSince(join(logDir, `${daemon}.out`), since) ?? '';
  const thrown = out
    .split('\n')
    .reverse()
    .find((l) => /^[A-Za-z]*Error\b.*: /.test(l));
  return thrown ? `${daemon}: ${thrown.slice(0, 500)}` : undefined;
}

function tryPort(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A free port below the kernel's ephemeral range: the port stays unused between now and the daemon's
 * bind, and no daemon binding port 0 (or any outgoing connection) can be given it meanwhile.
 */
async function freePort(host: string, taken: ReadonlySet<number> = new Set()): Promise<number> {
  let ephemeralLow = 32768;
  try {
    ephemeralLow =
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    /* not Linux: the usual range */
  }
  const lo = 10_000;
  for (let i = 0; ephemeralLow - lo > 1000 && i < 50; i++) {
    const port = lo + Math.floor(Math.random() * (ephemeralLow - lo));
    const p = taken.has(port) ? undefined : await tryPort(host, port);
    if (p) return p;
  }
  const any = await tryPort(host, 0);
  if (!any) throw new DschedError('DAEMON_UNREACHABLE', `no free port on ${host}`);
  return any;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ports a personal pool must keep across restarts (peers find the collector and schedd again by them). */
async function recordPorts(config: Config): Promise<Config> {
  const lines: string[] = [];
  const host = config.str('BIND_ADDRESS');
  // each port is free when chosen, and closed again until its daemon binds it: the second choice must not
  // take the first's (the collector and the schedd both on one port: the pool never came up)
  const chosen = new Set<number>();
  const choose = async () => {
    const p = await freePort(host, chosen);
    chosen.add(p);
    return p;
  };
  if (!config.str('COLLECTOR_HOST') && config.int('COLLECTOR_PORT') === 0)
    lines.push(`COLLECTOR_PORT = ${await choose()}`);
  if (config.int('SCHEDD_PORT') === 0 && config.list('DAEMON_LIST').some((d) => d.toLowerCase() === 'schedd'))
    lines.push(`SCHEDD_PORT = ${await choose()}`);
  if (!lines.length) return config;
  appendFileSync(config.paths.config, `# chosen by dsched start on ${new Date().toISOString()}\n${lines.join('\n')}\n`);
  return loadConfig();
}

async function start(setAsideDamagedQueue = false): Promise<number> {
  let config = loadConfig();
  const { paths } = config;
  makePoolFolders(paths);
  checkPoolFolders(paths);
  if (setAsideDamagedQueue && masterPid(config))
    throw new DschedError(
      'POOL_ALREADY_RUNNING',
      `the pool of ${paths.home} is running: its job queue is set aside only as its schedd starts`,
      { hint: 'dsched stop, then dsched start -set-aside-damaged-queue' },
    );
  const refused = await ensurePoolCredentials(paths, hostName(config), config.list('DAEMON_LIST'));
  if (refused.length)
    io().stderr.write(
      `dsched: warning: this host's certificate does not allow the ${refused.join(', ')} of DAEMON_LIST, and the pool will refuse ${refused.length > 1 ? 'them' : 'it'}: only the owner of the pool's CA adds a role (dsched start on the central host), and a host that joined runs a startd only\n`,
    );
  const running = masterPid(config);
  if (running) {
    // a daemon its master keeps down is not running, whatever the rest does: said, with the way back
    const failed = await failedDaemons(config);
    if (failed.length)
      throw new DschedError(
        'POOL_NOT_RUNNING',
        `the pool of ${paths.home} is running (master pid ${running}), but its master keeps ${failed.map((d) => d.name).join(' and ')} down: ${failed.map((d) => `${d.name}: ${d.why}`).join('; ')}`,
        {
          hint: `once what it refused is mended, \`dsched on ${failed[0]!.name}\` starts it again (the rest of the pool runs on)`,
        },
      );
    process.stdout.write(`dsched: the pool of ${paths.home} is already running (master pid ${running})\n`);
    return EXIT.ok;
  }
  refuseOtherHost(config);
  // daemons of a master that died would hold the pool's ports against the new ones
  const orphans = await stopOrphans(config);
  if (orphans.length)
    process.stdout.write(
      `dsched: stopped daemons left by a master that died: ${orphans.map((d) => `${d.name} (pid ${d.pid})`).join(', ')}\n`,
    );
  if (!existsSync(paths.config))
    appendFileSync(paths.config, `# dsched configuration of this pool (NAME = value); see docs/config.md\n`);
  checkConfigValues(config);
  config = await recordPorts(config);
  const native = nativeMaster(config);
  await checkPorts(config, !!native);
  const setAside = setAsideDamagedQueue ? requestSetAside(paths) : undefined;
  // why a daemon of an earlier start exited for good is no answer for this one
  for (const d of DAEMON_NAMES) rmSync(failedReasonFile(paths.run, d), { force: true });
  const out = openSync(join(paths.log, 'master.out'), 'a');
  const startedAt = new Date().toISOString();
  const startedMs = Date.now();
  // Through the clean exec helper: no daemon, nor what it starts, holds the keys of the login `dsched start`
  // ran in (root's) or a descriptor it was given (docs/security.md)
  if (!existsSync(cleanExec)) {
    closeSync(out);
    throw new DschedError('INTERNAL', `${cleanExec} is missing, so the master cannot be started`, {
      hint: 'build dsched again (npm run build, or npm rebuild -g dsched): it builds the program',
    });
  }
  const child = native
    ? spawn(cleanExec, [native, ...nativeMasterArgs(config)], {
        detached: true,
        stdio: ['ignore', out, out],
        env: io().env,
      })
    : spawn(cleanExec, [process.execPath, ...daemonNodeFlags('master'), daemonMain('master')], {
        detached: true,
        stdio: ['ignore', out, out],
        env: process.env,
      });
  closeSync(out);
  child.unref();
  // the native master serves no RPC and so writes no address file: its daemons' files say it is up
  const want = [...(native ? [] : ['master']), ...config.list('DAEMON_LIST').map((d) => d.toLowerCase())];
  // 30 s for every daemon to serve, then as long as the missing ones are still on their first start: a
  // daemon slow to serve (a loaded machine, a large queue to read) is not a failure, one its master has had
  // to restart since this start is
  let deadline = Date.now() + START_WAIT_MS;
  let waitingSaid = false;
  for (;;) {
    const missing = want.filter((d) => {
      const a = readAddressFile(addressFile(paths, d));
      return !a || !pidAlive(a.pid);
    });
    if (!missing.length) break;
    // a daemon its master will not restart (a damaged job queue) says why at once: no use waiting
    for (const d of missing) {
      const failed = failedSince(paths.run, d, startedMs);
      if (failed)
        throw new DschedError(failed.code, `the ${d} did not start: ${failed.reason}`, {
          hint: `the other daemons run; dsched status shows the ${d} failed, and dsched stop stops them`,
        });
    }
    if (child.exitCode !== null && masterPid(config) && masterPid(config) !== child.pid) {
      // another `dsched start` got there first: its master holds the home
      process.stdout.write(`dsched: the pool of ${paths.home} is already running (master pid ${masterPid(config)})\n`);
      return EXIT.ok;
    }
    if (child.exitCode === null && Date.now() > deadline) {
      const restarted = restartedSince(paths.log, startedAt);
      if (!missing.some((d) => restarted.has(d))) {
        if (!waitingSaid)
          io().stderr.write(
            `dsched: still waiting for the ${missing.join(', ')} to serve (started ${Math.round((Date.now() - startedMs) / 1000)} s ago, none restarted); dsched stop stops the pool\n`,
          );
        waitingSaid = true;
        // the master's log is read again in a while, not at every poll
        deadline = Date.now() + 2_000;
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = missing.map((d) => startFailure(paths.log, d, startedAt)).filter(Boolean);
      throw new DschedError(
        'POOL_NOT_RUNNING',
        `the pool did not come up (${missing.join(', ')} not serving)${why.map((w) => `\n${w}`).join('')}`,
        {
          hint: `see ${join(paths.log, 'master.out')} and the daemon logs in ${paths.log}${child.exitCode === null ? '; the master keeps restarting what failed until dsched stop' : ''}`,
        },
      );
    }
    await sleep(50);
  }
  const coll = readAddressFile(addressFile(paths, 'collector'))?.address;
  const schedd = readAddressFile(addressFile(paths, 'schedd'))?.address;
  process.stdout.write(
    `dsched: pool started in ${paths.home}${coll ? ` (collector ${coll}` : ''}${schedd ? `, schedd ${schedd})` : coll ? ')' : ''}\n`,
  );
  const web = readAddressFile(addressFile(paths, 'web'))?.address;
  if (web) process.stdout.write(`dsched: dashboard and HTTP API at http://${web}/\n`);
  if (setAside) io().stdout.write(`dsched: ${setAside()}\n`);
  await waitForSlotAds(config, want, startedAt);
  return EXIT.ok;
}

/** How long `dsched start` waits for its daemons before it asks whether any of them had to be restarted. */
const START_WAIT_MS = 30_000;

/** The daemons the master has restarted since `since` (an ISO time): its log says "daemon died; restarting". */
function restartedSince(logDir: string, since: string): Set<string> {
  const out = new Set<string>();
  for (const line of (tailSince(join(logDir, 'master.log'), since) ?? '').split('\n')) {
    if (!line.includes('daemon died; restarting')) continue;
    try {
      const e = JSON.parse(line) as { time?: string; msg?: string; child?: unknown };
      if (e.msg === 'daemon died; restarting' && e.time && e.time >= since && typeof e.child === 'string')
        out.add(e.child);
    } catch {
      /* a line cut by the read: not an entry */
    }
  }
  return out;
}

/**
 * Wait (bounded) until the collector has taken the startd's slot ads, so that the machine shows in `dstatus`
 * when `dsched start` returns; a startd the collector refuses (a name in use, a credential it does not
 * take) or cannot reach is said now, rather than found later as an empty pool.
 */
async function waitForSlotAds(config: Config, started: string[], startedAt: string): Promise<void> {
  if (!started.includes('startd')) return;
  const file = adsTakenFile(config.paths);
  const taken = () => {
    try {
      return statSync(file).mtime.toISOString() >= startedAt.slice(0, 19);
    } catch {
      return false;
    }
  };
  for (const until = Date.now() + 5_000; !taken() && Date.now() < until;) await sleep(20);
  if (taken()) return;
  const why = startFailure(config.paths.log, 'startd', startedAt);
  io().stderr.write(
    `dsched: warning: the collector${config.str('COLLECTOR_HOST') ? ` at ${config.str('COLLECTOR_HOST')}` : ''} has not taken this host's slot ads yet (the startd keeps trying)${why ? `: ${why}` : ''}\n`,
  );
}

async function stop(): Promise<number> {
  const config = loadConfig();
  const pid = masterPid(config);
  if (pid && !maySignal(pid)) {
    const native = nativeMasterState(config);
    if (native) throw refuseNativeMaster(config, native);
    // another user's pool (root's): only its admins may stop it, and they ask its master
    const session = openSession();
    try {
      await asAdmin(session, `stop the pool of ${config.paths.home}`, async () => (await masterOf(session)).shutdown());
    } finally {
      session.close();
    }
    const deadline = Date.now() + 40_000;
    while (masterPid(config) === pid && Date.now() < deadline) await sleep(50);
    if (masterPid(config) === pid) throw new DschedError('TIMEOUT', `the master (pid ${pid}) did not stop in 40 s`);
    process.stdout.write(`dsched: pool stopped (${config.paths.home})\n`);
    return EXIT.ok;
  }
  if (pid) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 40_000;
    while (masterPid(config) === pid && Date.now() < deadline) await sleep(50);
    if (masterPid(config) === pid) {
      process.kill(pid, 'SIGKILL');
      await stopOrphans(config);
      throw new DschedError('TIMEOUT', `the master (pid ${pid}) did not stop in 40 s; killed it and its daemons`);
    }
  }
  // whatever a master that died left running (and anything a stopping master could not stop)
  const orphans = await stopOrphans(config);
  if (!pid && !orphans.length) {
    refuseOtherHost(config);
    process.stdout.write(`dsched: no pool is running for ${config.paths.home}\n`);
    return EXIT.ok;
  }
  if (orphans.length)
    process.stdout.write(
      `dsched: stopped daemons left by a master that died: ${orphans.map((d) => `${d.name} (pid ${d.pid})`).join(', ')}\n`,
    );
  process.stdout.write(`dsched: pool stopped (${config.paths.home})\n`);
  return EXIT.ok;
}

/** This home's master, reached with the session's token (an admin's for its owner and root). */
function masterOf(session: Session) {
  const config = session.config;
  const native = nativeMasterState(config);
  if (native) throw refuseNativeMaster(config, native);
  const a = readAddressFile(addressFile(config.paths, 'master'));
  if (!a || !pidAlive(a.pid) || !masterPid(config)) {
    refuseOtherHost(config);
    const orphans = runningDaemons(config);
    if (orphans.length)
      throw new DschedError(
        'POOL_NOT_RUNNING',
        `no master is running for ${config.paths.home}, but its daemons still run: ${orphans.map((d) => `${d.name} (pid ${d.pid})`).join(', ')}`,
        {
          hint: 'dsched stop stops them; dsched start stops them and starts the pool again',
        },
      );
    throw new DschedError('POOL_NOT_RUNNING', `no pool is running for ${config.paths.home}`);
  }
  return session.master();
}

/** An execute host's native master takes no RPC: only who may signal it (root, the pool's owner) stops it. */
function refuseNativeMaster(config: Config, native: NativeMasterState): DschedError {
  return new DschedError(
    'PERMISSION_DENIED',
    `the master of ${config.paths.home} (pid ${native.pid}) is an execute host's native master, which takes no RPC: only root or the pool's owner may stop or reconfigure it`,
  );
}

/**
 * What a daemon's health service says (grpc.health.v1: anyone may ask, no token needed), or `unreachable`.
 * Loaded only here: the other commands need no health client.
 */
async function daemonHealth(config: Config, name: string): Promise<string> {
  const a = readAddressFile(addressFile(config.paths, name));
  if (!a || !pidAlive(a.pid) || !DAEMONS.includes(name)) return 'unreachable';
  if (name === 'web') return webHealth(a.address);
  // the provisioner serves nothing: it is up while its process is
  if (name === 'provisioner') return 'SERVING';
  const { HealthClient } = await import('../lib/rpc/clients/health.js');
  const c = new HealthClient(a.address, { tls: cliTls(config.paths) }, name as DaemonRole, hostName(config));
  try {
    return await c.check('', 5_000);
  } catch {
    return 'unreachable';
  } finally {
    c.close();
  }
}

/**
 * The web daemon speaks HTTP, not gRPC: it is serving when it answers a request (any answer but a 5xx; a
 * 401 where anonymous reads are off still says it is up).
 */
async function webHealth(address: string): Promise<string> {
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request(`http://${address}/v1/whoami`, { timeout: 5_000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500 ? 'SERVING' : 'NOT_SERVING');
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('unreachable'));
    req.end();
  });
}

/** dsched status: each daemon's state at its master and its health; exit 1 unless every one is SERVING. */
/** condor_restart: the pool stopped (its running jobs evicted back to idle) and started again. */
async function restart(): Promise<number> {
  // a configuration the new daemons would refuse leaves the running pool as it is
  checkConfigValues(loadConfig());
  const code = await stop();
  return code === EXIT.ok ? start() : code;
}

async function status(): Promise<number> {
  const session = openSession();
  const config = session.config;
  try {
    // the master's view (pids, restarts) needs a token, which a user who is not an admin gets from the schedd:
    // with the schedd down, the daemons of DAEMON_LIST are still asked for their health
    let s: Awaited<ReturnType<MasterClient['status']>> | undefined;
    let why = '';
    // an execute host's native master tells its view in a file, and is serving while it runs
    const native = nativeMasterState(config);
    try {
      s = native
        ? { pid: native.pid, home: config.paths.home, daemons: native.daemons }
        : await (await masterOf(session)).status();
    } catch (e) {
      if (!(e instanceof DschedError) || e.code === 'POOL_NOT_RUNNING' || e.code === 'POOL_ON_OTHER_HOST') throw e;
      why = e.message;
    }
    const rows = s
      ? [{ name: 'master', state: 'running', pid: s.pid, restarts: 0, last_exit: '' }, ...s.daemons]
      : ['master', ...config.list('DAEMON_LIST').map((d) => d.toLowerCase())].map((name) => ({
          name,
          state: '?',
          pid: 0,
          restarts: 0,
          last_exit: '',
        }));
    const health = await Promise.all(
      rows.map((d) => (native && d.name === 'master' ? 'SERVING' : daemonHealth(config, d.name))),
    );
    process.stdout.write(
      s
        ? `pool ${s.home}  master pid ${s.pid}\n`
        : `pool ${config.paths.home}  (the master's view is unavailable: ${why})\n`,
    );
    process.stdout.write(
      `${'DAEMON'.padEnd(12)} ${'STATE'.padEnd(9)} ${'PID'.padStart(7)} ${'RESTARTS'.padStart(8)}  ${'HEALTH'.padEnd(11)}  ADDRESS / LAST EXIT\n`,
    );
    rows.forEach((d, i) => {
      const addr = readAddressFile(addressFile(config.paths, d.name))?.address ?? '';
      process.stdout.write(
        `${d.name.padEnd(12)} ${d.state.padEnd(9)} ${String(d.pid || '-').padStart(7)} ${String(d.restarts).padStart(8)}  ${health[i]!.padEnd(11)}  ${addr}${d.last_exit ? `  (last exit: ${d.last_exit})` : ''}\n`,
      );
    });
    const down = rows.flatMap((d, i) => (health[i] === 'SERVING' ? [] : [`${d.name} ${health[i]}`]));
    if (down.length) process.stderr.write(`dsched: not every daemon is serving: ${down.join(', ')}\n`);
    // a daemon that accepts connections but does not answer (stopped, hung) holds its TLS handshake open,
    // and closing the channel does not end it: exit once the answer is out
    if (health.includes('unreachable')) setTimeout(() => process.exit(), 100).unref();
    return down.length ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}

/**
 * condor_on -subsystem: start one daemon of a running pool again now, one its master keeps down (it exited
 * 99, e.g. a schedd that refused a damaged job queue the admin has since restored) or one waiting out its
 * restart backoff; the rest of the pool runs on untouched.
 */
async function on(name: string): Promise<number> {
  const daemon = name.toLowerCase();
  if (!DAEMONS.includes(daemon))
    throw new DschedError('USAGE', `dsched on: no daemon is named ${name}; the daemons: ${DAEMONS.join(', ')}`);
  const config = loadConfig();
  const native = nativeMasterState(config);
  if (native) {
    if (!maySignal(native.pid)) throw refuseNativeMaster(config, native);
    const d = native.daemons.find((x) => x.name === daemon);
    if (!d) throw notRun(config, daemon);
    if (d.state === 'failed' || d.state === 'backoff') process.kill(native.pid, 'SIGUSR1');
    io().stdout.write(onMessage(daemon, d.state));
    return EXIT.ok;
  }
  const session = openSession();
  try {
    const d = await asAdmin(session, `start the ${daemon} of the pool of ${config.paths.home}`, async () =>
      (await masterOf(session)).startDaemon(daemon),
    );
    io().stdout.write(onMessage(daemon, d.state));
    return EXIT.ok;
  } finally {
    session.close();
  }
}

const onMessage = (daemon: string, was: string) =>
  was === 'failed' || was === 'backoff'
    ? `dsched: the master starts the ${daemon} again (it was ${was}); dsched status shows how it goes\n`
    : `dsched: the ${daemon} is ${was}: nothing to do\n`;

const notRun = (config: Config, daemon: string) =>
  new DschedError('USAGE', `the master of ${config.paths.home} runs no ${daemon}`, {
    hint: `DAEMON_LIST names the daemons it runs (dsched config DAEMON_LIST); a daemon added there starts with dsched restart`,
  });

/** Daemons of a running pool its master keeps down (exited 99), with why. */
async function failedDaemons(config: Config): Promise<Array<{ name: string; why: string }>> {
  const native = nativeMasterState(config);
  let daemons = native?.daemons;
  if (!daemons) {
    const session = openSession();
    try {
      daemons = (await (await masterOf(session)).status()).daemons;
    } catch {
      return []; // a user who may not ask the master: start says the pool runs, as it did
    } finally {
      session.close();
    }
  }
  return daemons
    .filter((d) => d.state === 'failed')
    .map((d) => ({ name: d.name, why: d.last_exit || failedSince(config.paths.run, d.name, 0)?.reason || '' }));
}

async function reconfig(): Promise<number> {
  const config = loadConfig();
  // the daemons would refuse it and keep their old values: said here, not only in their logs
  checkConfigValues(config);
  (await import('../grammar/classad/config-exprs.js')).checkConfigExprs(config);
  const native = nativeMasterState(config);
  if (native) {
    if (!maySignal(native.pid)) throw refuseNativeMaster(config, native);
    process.kill(native.pid, 'SIGHUP');
    io().stdout.write('dsched: sent reconfig to every daemon\n');
    return EXIT.ok;
  }
  const session = openSession();
  try {
    await asAdmin(session, `reconfigure the pool of ${session.config.paths.home}`, async () =>
      (await masterOf(session)).reconfig(),
    );
    process.stdout.write('dsched: sent reconfig to every daemon\n');
    return EXIT.ok;
  } finally {
    session.close();
  }
}

/** What a word typed after `dsched config` as a subcommand is done with here. */
const VERBS: Record<string, string> = {
  show: 'dsched config with no name shows every value, -v where each comes from',
  list: 'dsched config with no name shows every value, -v where each comes from',
  dump: 'dsched config with no name shows every value, -v where each comes from',
  reload: 'dsched reconfig makes every daemon re-read the configuration',
  reconfig: 'dsched reconfig makes every daemon re-read the configuration',
};

function config(names: string[], verbose: boolean): number {
  const c = loadConfig();
  const list = names.length ? names : c.names();
  let code: number = EXIT.ok;
  for (const n of list) {
    const v = c.lookup(n);
    if (!v) {
      // `dsched config show` / `reload`, as other tools spell those: say what does it here
      const verb = VERBS[n.toLowerCase()];
      process.stderr.write(`dsched: ${n} is not defined${verb ? ` (${verb})` : ''}\n`);
      code = EXIT.failed;
      continue;
    }
    if (names.length === 1 && !verbose) process.stdout.write(`${v.raw}\n`);
    else
      process.stdout.write(
        `${n.toUpperCase()} = ${v.raw}${verbose ? `\n  # from ${whereFrom(v)}${n.toUpperCase() in PARAMS ? ` — ${(PARAMS as Record<string, { description: string }>)[n.toUpperCase()]!.description}` : ''}` : ''}\n`,
      );
  }
  return code;
}

/** dsched drain NAME [-cancel] [-reason TEXT]: the startd takes no new jobs; running ones finish. */
async function drain(name: string, cancel: boolean, reason: string): Promise<number> {
  const session = openSession();
  try {
    const ads = await (
      await session.collector()
    ).query('Machine', `StartdName == ${JSON.stringify(name)} || Machine == ${JSON.stringify(name)}`);
    const addr = [
      ...new Set(
        ads.map((a) => ClassAd.fromRecord(a).lookupJS('MyAddress')).filter((v): v is string => typeof v === 'string'),
      ),
    ];
    if (!addr.length) throw new DschedError('MACHINE_NOT_FOUND', `no machine named ${name} is in the pool`);
    for (const a of addr) {
      const r = await asAdmin(session, `drain a machine`, async () => (await session.startd(a)).drain(cancel, reason));
      process.stdout.write(
        cancel ? `${name}: drain cancelled\n` : `${name}: draining (${r.running} job(s) still running will finish)\n`,
      );
    }
    return EXIT.ok;
  } finally {
    session.close();
  }
}

/** `1h`, `30m`, `90s` or plain seconds. */
function parseTtl(s: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim());
  if (!m) throw new DschedError('USAGE', `--ttl ${s}: give seconds or a number with s, m, h or d`);
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!;
}

/** An administrator's credentials: a short admin token signed with the pool's token key (readable by its owner). */
function adminCreds(config: Config) {
  const token = signToken(loadTokenKey(config.paths.ca.tokenKey), { user: userInfo().username, ttl: 300, admin: true });
  return { tls: cliTls(config.paths), token: () => token };
}

async function adminCollector(config: Config): Promise<CollectorClient> {
  const addr = collectorAddress(config);
  if (!addr) throw new DschedError('COLLECTOR_UNREACHABLE', `no collector is running for ${config.paths.home}`);
  return new CollectorClient(addr, adminCreds(config));
}

/** dsched token create: the user's own token (HTTP API, dashboard); with --join [--ttl T] a one-time join token for a new execute host. */
async function token(join: boolean, ttlText: string | undefined): Promise<number> {
  if (!join) {
    // the same token the CLIs use: signed with the pool's key by its owner, else by the schedd after the file challenge
    const session = openSession();
    try {
      process.stdout.write(`${await session.token()}\n`);
    } finally {
      session.close();
    }
    return EXIT.ok;
  }
  const ttl = ttlText !== undefined ? parseTtl(ttlText) : 3600;
  const c = await adminCollector(loadConfig());
  try {
    const r = await c.createJoinToken(ttl);
    process.stdout.write(`${r.token}\n`);
    process.stderr.write(
      `dsched: join token valid once, until ${new Date(Number(r.expires) * 1000).toISOString()}; on the new host: dsched join ${c.rpc.address} TOKEN\n`,
    );
    return EXIT.ok;
  } finally {
    c.close();
  }
}

/** dsched join HOST:PORT TOKEN: this host's key is made here and never leaves it; the collector signs it. */
async function joinPool(address: string, tok: string): Promise<number> {
  // `-`: the token on stdin, so it is not in the process list (a Slurm pilot joins this way)
  if (tok === '-') tok = readFileSync(0, 'utf8').trim();
  const fingerprint = tok.split('.')[2] ?? '';
  if (!/^[0-9a-f]{64}$/i.test(fingerprint))
    throw new DschedError('USAGE', 'that is not a join token (dsched token create --join makes one)');
  const config = loadConfig();
  const { paths } = config;
  if (existsSync(paths.host.cert))
    throw new DschedError('POOL_ALREADY_RUNNING', `${paths.home} already has a host credential (${paths.host.cert})`, {
      hint: 'join from a new DSCHED_HOME, or remove host/ first',
    });
  const ca = await pinnedCa(address, fingerprint);
  const key = makeHostKey();
  const host = hostName(config);
  const c = new CollectorClient(address, { tls: { ca: Buffer.from(ca) } });
  let r;
  try {
    r = await c.join(tok, host, key.publicKey);
  } finally {
    c.close();
  }
  mkdirSync(paths.home, { recursive: true, mode: 0o755 });
  installHostCredential(paths, {
    key: key.privateKey,
    cert: r.certificate,
    ca: r.ca_certificate,
    tokenPub: r.token_public_key,
  });
  const lines = [`COLLECTOR_HOST = ${address}`];
  if (config.lookup('DAEMON_LIST')?.source === 'default') lines.push('DAEMON_LIST = STARTD');
  appendFileSync(paths.config, `# set by dsched join on ${new Date().toISOString()}\n${lines.join('\n')}\n`);
  const d = describeCertificate(r.certificate);
  process.stdout.write(
    `dsched: joined the pool of ${address} as host ${d.host} (roles ${d.roles.join(', ')}); start it with: dsched start\n`,
  );
  return EXIT.ok;
}

/** dsched revoke HOST */
async function revoke(host: string): Promise<number> {
  const c = await adminCollector(loadConfig());
  try {
    const r = await c.revoke(host);
    process.stdout.write(
      `dsched: revoked host ${host} (${r.serials.length} certificate(s)); ${r.ads_removed} ad(s) removed\n`,
    );
    return EXIT.ok;
  } finally {
    c.close();
  }
}

function evalCmd(my: string | undefined, target: string | undefined, exprs: string[]): number {
  for (const line of evalCommand({ my, target, exprs })) process.stdout.write(line + '\n');
  return EXIT.ok;
}

/** Run one daemon in the foreground until it is signalled. */
async function foreground(name: string): Promise<number> {
  const cfg = loadConfig();
  // the daemon run here needs its role even when DAEMON_LIST (what the master runs) does not name it
  await ensurePoolCredentials(cfg.paths, hostName(cfg), [...cfg.list('DAEMON_LIST'), name]);
  await importModule(daemonMain(name));
  return new Promise<number>(() => {});
}

const str = (v: unknown) => (v === undefined ? undefined : String(v));

async function main(argv: string[]): Promise<number> {
  // each command's handler leaves what to run here; yargs only parses (its handlers cannot return an exit code)
  let run: (() => Promise<number> | number) | undefined;
  const y = cli('dsched', argv, USAGE)
    .command(
      'start',
      'start the pool of $DSCHED_HOME (default ~/.dsched) in the background',
      (c) =>
        c
          .option('set-aside-damaged-queue', {
            type: 'boolean',
            describe:
              'a schedd that refused a damaged job queue (QUEUE_CORRUPT): move it aside, kept as job_queue.db.damaged-TIME, and start with an empty queue',
          })
          .example('dsched start -set-aside-damaged-queue', 'after error[QUEUE_CORRUPT], with the pool stopped'),
      (a) => void (run = () => start(!!a['set-aside-damaged-queue'])),
    )
    .command('stop', 'stop it', {}, () => void (run = stop))
    .command(
      'restart',
      'stop it and start it again, with the dsched now installed (after an upgrade)',
      {},
      () => void (run = restart),
    )
    .command(
      'status',
      'show its daemons and their health (exit 1 unless every one is SERVING)',
      {},
      () => void (run = status),
    )
    .command('reconfig', 'make every daemon re-read its configuration (admins)', {}, () => void (run = reconfig))
    .command(
      'on [daemon]',
      "start one daemon of the running pool again: one its master keeps down (`failed` in dsched status) or one waiting to restart (admins; HTCondor's condor_on -subsystem)",
      (c) =>
        c
          .positional('daemon', { type: 'string', describe: 'collector, negotiator, schedd, startd, web, …' })
          .option('subsystem', { type: 'string', describe: 'the daemon, as condor_on names it' })
          .example('dsched on schedd', 'after a damaged queue was restored'),
      (a) =>
        void (run = () => {
          const d = str(a.daemon) ?? str(a.subsystem);
          if (!d) throw new DschedError('USAGE', 'dsched on: which daemon? e.g. dsched on schedd');
          return on(d);
        }),
    )
    .command(
      'eval [exprs..]',
      'evaluate ClassAd expressions (like classad_eval); `--` ends the options, for an expression that starts with -',
      (c) =>
        c
          .positional('exprs', { type: 'string', array: true, describe: 'ClassAd expressions' })
          .option('my', { type: 'string', describe: 'the MY ad: [ a = 1; b = "x" ], a = 1; b = "x", or a file' })
          .option('target', { type: 'string', describe: 'the TARGET ad, in the same forms' })
          .example("dsched eval --target '[ Memory = 4096 ]' 'TARGET.Memory > 2048'", 'prints true')
          .example("dsched eval -- '-1 + 2'", 'an expression starting with - after --'),
      (a) => {
        // after `--` yargs leaves the words in _ (after the command's name), not in the positional
        const exprs = [...((a.exprs as unknown[]) ?? []), ...a._.slice(1)].map(String);
        if (!exprs.length) throw new DschedError('USAGE', 'usage: dsched eval [--my AD] [--target AD] EXPR...');
        run = () => evalCmd(str(a.my), str(a.target), exprs);
      },
    )
    .command(
      'config [names..]',
      'show configuration values (and with -v where they came from)',
      (c) =>
        c
          .positional('names', { type: 'string', array: true, describe: 'setting names (all by default)' })
          .option('v', { type: 'boolean', alias: 'verbose', describe: 'say where each value comes from' })
          .example('dsched config NUM_CPUS -v', 'the value, its source and what it means'),
      (a) => void (run = () => config(((a.names as unknown[]) ?? []).map(String), !!a.v)),
    )
    .command(
      'drain <NAME>',
      'a machine takes no new jobs; running ones finish (admins)',
      (c) =>
        c
          .positional('NAME', { type: 'string', describe: 'the machine (dstatus lists them)' })
          .option('cancel', { type: 'boolean', describe: 'take jobs again' })
          .option('reason', { type: 'string', describe: 'why, shown with the machine' })
          .example('dsched drain node7 -reason "kernel upgrade"', 'drain node7')
          .example('dsched drain node7 -cancel', 'take jobs again'),
      (a) => void (run = () => drain(String(a.NAME), !!a.cancel, str(a.reason) ?? '')),
    )
    .command(
      'token <action>',
      'print your user token (for the HTTP API and the dashboard), or with --join a one-time token a new execute host joins the pool with (admins)',
      (c) =>
        c
          .positional('action', { choices: ['create'], describe: 'create' })
          .option('join', { type: 'boolean', describe: 'a one-time join token for a new execute host (admins)' })
          .option('ttl', {
            type: 'string',
            describe: 'with --join: how long it is valid: seconds, or 30m, 1h, 2d (default 1h)',
          })
          .example('curl -H "Authorization: Bearer $(dsched token create)" URL/v1/jobs', 'your token for the HTTP API')
          .example('dsched token create --join --ttl 30m', 'then on the new host: dsched join HOST:PORT TOKEN'),
      (a) => void (run = () => token(!!a.join, str(a.ttl))),
    )
    .command(
      'join <ADDRESS> <TOKEN>',
      'make this host an execute host of the pool whose collector is at ADDRESS (HOST:PORT)',
      (c) =>
        c
          .positional('ADDRESS', { type: 'string', describe: "the central host's collector, HOST:PORT" })
          .positional('TOKEN', {
            type: 'string',
            describe: 'the token dsched token create --join printed there (- reads it from stdin)',
          })
          .example('dsched join central:9618 eyJ...', 'then: dsched start'),
      (a) => void (run = () => joinPool(String(a.ADDRESS), String(a.TOKEN))),
    )
    .command(
      'revoke <HOST>',
      "revoke a host's certificates: its ads go, no daemon accepts it again (admins)",
      (c) =>
        c
          .positional('HOST', { type: 'string', describe: 'the host name its certificate carries' })
          .example('dsched revoke node7', 'node7 is out of the pool at once'),
      (a) => void (run = () => revoke(String(a.HOST))),
    )
    .command(
      'completion [shell]',
      'print a shell completion script for every dsched command',
      (c) =>
        c
          .positional('shell', { type: 'string', choices: ['bash', 'zsh'], default: 'bash' })
          .example('dsched completion bash >> ~/.bashrc', 'complete options of dq, dsubmit, ... in bash')
          .example('source <(dsched completion bash)', 'in this shell only'),
      (a) => void (run = () => completion(String(a.shell))),
    )
    .command(
      'shims <action> <DIR>',
      'write the HTCondor and PBS command names (condor_submit, condor_q, qsub, qstat, ...) into DIR, for scripts that call them',
      (c) =>
        c
          .positional('action', { choices: ['install'], describe: 'install' })
          .positional('DIR', { type: 'string', describe: 'a folder, best one on your PATH' })
          .option('force', { type: 'boolean', describe: 'replace files of those names already in DIR' })
          .example('dsched shims install ~/bin', 'then condor_submit job.sub, qsub job.sh, qstat, ...'),
      (a) => void (run = () => installShims(String(a.DIR), !!a.force)),
    );
  for (const d of DAEMONS) y.command(d, `run the ${d} in the foreground`, {}, () => void (run = () => foreground(d)));
  if (!argv.length) {
    y.showHelp('log');
    return EXIT.usage;
  }
  await y
    .demandCommand(1, 'say which command (dsched --help lists them)')
    .strictCommands()
    .example('dsched start', 'a personal pool on this host')
    .example(`dsched eval 'strcat("a", "b")'`, 'prints "ab"')
    .epilogue('dsched COMMAND --help tells more about each command.')
    .parse();
  if (!run) throw new DschedError('USAGE', 'say which command (dsched --help lists them)');
  return run();
}

runCli('dsched', main);
