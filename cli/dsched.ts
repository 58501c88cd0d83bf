#!/usr/bin/env node
// dsched: start, stop and inspect a pool on this host; run one daemon in the foreground; evaluate ClassAd
// expressions; show configuration.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../lib/config/load.js';
import { addressFile } from '../lib/config/paths.js';
import { PARAMS } from '../lib/config/params.js';
import { DschedError } from '../lib/errors.js';
import { loadSecret, signToken } from '../lib/rpc/auth.js';
import { readAddressFile } from '../lib/rpc/address-file.js';
import { MasterClient } from '../lib/rpc/clients/master.js';
import { StartdClient } from '../lib/rpc/clients/startd.js';
import { ClassAd } from '../grammar/classad/index.js';
import { openSession } from './shared/session.js';
import { evalCommand } from './eval-command.js';
import { EXIT, runCli } from './shared/run-cli.js';

const USAGE = `usage: dsched <command>
  start                 start the pool of $DSCHED_HOME (default ~/.dsched) in the background
  stop                  stop it
  status                show its daemons
  reconfig              make every daemon re-read its configuration
  collector|negotiator|schedd|startd|master
                        run one daemon in the foreground (for pools spread over hosts)
  eval [--my AD] [--target AD] EXPR...
                        evaluate ClassAd expressions (like classad_eval)
  config [NAME] [-v]    show configuration values (and where they came from)
  drain NAME [-cancel] [-reason TEXT]
                        a machine takes no new jobs; running ones finish (admins)`;

const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd', 'master'];
const here = dirname(fileURLToPath(import.meta.url));
const daemonMain = (name: string) => join(here, '..', 'daemons', name, 'main.js');

function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function masterPid(config: Config): number {
  try {
    return Number(readFileSync(join(config.paths.run, 'master.pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
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
async function freePort(host: string): Promise<number> {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    /* not Linux: the usual range */
  }
  const lo = 10_000;
  for (let i = 0; ephemeralLow - lo > 1000 && i < 50; i++) {
    const p = await tryPort(host, lo + Math.floor(Math.random() * (ephemeralLow - lo)));
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
  if (!config.str('COLLECTOR_HOST') && config.int('COLLECTOR_PORT') === 0) lines.push(`COLLECTOR_PORT = ${await freePort(host)}`);
  if (config.int('SCHEDD_PORT') === 0 && config.list('DAEMON_LIST').some((d) => d.toLowerCase() === 'schedd'))
    lines.push(`SCHEDD_PORT = ${await freePort(host)}`);
  if (!lines.length) return config;
  appendFileSync(config.paths.config, `# chosen by dsched start on ${new Date().toISOString()}\n${lines.join('\n')}\n`);
  return loadConfig();
}

async function start(): Promise<number> {
  let config = loadConfig();
  const { paths } = config;
  mkdirSync(paths.home, { recursive: true, mode: 0o755 });
  for (const d of [paths.run, paths.log, paths.execute]) mkdirSync(d, { recursive: true, mode: 0o755 });
  mkdirSync(paths.spool, { recursive: true, mode: 0o700 });
  loadSecret(paths.secret, true);
  const running = masterPid(config);
  if (pidAlive(running)) {
    process.stdout.write(`dsched: the pool of ${paths.home} is already running (master pid ${running})\n`);
    return EXIT.ok;
  }
  if (!existsSync(paths.config)) appendFileSync(paths.config, `# dsched configuration of this pool (NAME = value); see docs/config.md\n`);
  config = await recordPorts(config);
  const out = openSync(join(paths.log, 'master.out'), 'a');
  const child = spawn(process.execPath, [daemonMain('master')], { detached: true, stdio: ['ignore', out, out], env: process.env });
  closeSync(out);
  child.unref();
  const want = ['master', ...config.list('DAEMON_LIST').map((d) => d.toLowerCase())];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const missing = want.filter((d) => {
      const a = readAddressFile(addressFile(paths, d));
      return !a || !pidAlive(a.pid);
    });
    if (!missing.length) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new DschedError('POOL_NOT_RUNNING', `the pool did not come up (${missing.join(', ')} not serving)`, {
        hint: `see ${join(paths.log, 'master.out')} and the daemon logs in ${paths.log}`,
      });
    }
    await sleep(50);
  }
  const coll = readAddressFile(addressFile(paths, 'collector'))?.address;
  const schedd = readAddressFile(addressFile(paths, 'schedd'))?.address;
  process.stdout.write(`dsched: pool started in ${paths.home}${coll ? ` (collector ${coll}` : ''}${schedd ? `, schedd ${schedd})` : coll ? ')' : ''}\n`);
  return EXIT.ok;
}

async function stop(): Promise<number> {
  const config = loadConfig();
  const pid = masterPid(config);
  if (!pidAlive(pid)) {
    process.stdout.write(`dsched: no pool is running for ${config.paths.home}\n`);
    return EXIT.ok;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 40_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (pidAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    throw new DschedError('TIMEOUT', `the master (pid ${pid}) did not stop in 40 s; killed it`);
  }
  process.stdout.write(`dsched: pool stopped (${config.paths.home})\n`);
  return EXIT.ok;
}

function masterClient(config: Config): MasterClient {
  const a = readAddressFile(addressFile(config.paths, 'master'));
  if (!a || !pidAlive(a.pid)) throw new DschedError('POOL_NOT_RUNNING', `no pool is running for ${config.paths.home}`);
  const secret = loadSecret(config.paths.secret);
  const token = signToken(secret, { sub: `user:${process.env.USER ?? 'admin'}`, ttl: 300, admin: true });
  return new MasterClient(a.address, () => token);
}

async function status(): Promise<number> {
  const config = loadConfig();
  const m = masterClient(config);
  try {
    const s = await m.status();
    process.stdout.write(`pool ${s.home}  master pid ${s.pid}\n`);
    process.stdout.write(`${'DAEMON'.padEnd(12)} ${'STATE'.padEnd(9)} ${'PID'.padStart(7)} ${'RESTARTS'.padStart(8)}  ADDRESS / LAST EXIT\n`);
    for (const d of s.daemons) {
      const addr = readAddressFile(addressFile(config.paths, d.name))?.address ?? '';
      process.stdout.write(`${d.name.padEnd(12)} ${d.state.padEnd(9)} ${String(d.pid || '-').padStart(7)} ${String(d.restarts).padStart(8)}  ${addr}${d.last_exit ? `  (last exit: ${d.last_exit})` : ''}\n`);
    }
    return EXIT.ok;
  } finally {
    m.close();
  }
}

async function reconfig(): Promise<number> {
  const config = loadConfig();
  const m = masterClient(config);
  try {
    await m.reconfig();
    process.stdout.write('dsched: sent reconfig to every daemon\n');
    return EXIT.ok;
  } finally {
    m.close();
  }
}

function config(args: string[]): number {
  const verbose = args.includes('-v') || args.includes('--verbose');
  const names = args.filter((a) => !a.startsWith('-'));
  const c = loadConfig();
  const list = names.length ? names : c.names();
  let code: number = EXIT.ok;
  for (const n of list) {
    const v = c.lookup(n);
    if (!v) {
      process.stderr.write(`dsched: ${n} is not defined\n`);
      code = EXIT.failed;
      continue;
    }
    if (names.length === 1 && !verbose) process.stdout.write(`${v.raw}\n`);
    else process.stdout.write(`${n.toUpperCase()} = ${v.raw}${verbose ? `\n  # from ${v.source}${n.toUpperCase() in PARAMS ? ` — ${(PARAMS as Record<string, { description: string }>)[n.toUpperCase()]!.description}` : ''}` : ''}\n`);
  }
  return code;
}

/** dsched drain NAME [-cancel] [-reason TEXT]: the startd takes no new jobs; running ones finish. */
async function drain(args: string[]): Promise<number> {
  const cancel = args.includes('-cancel') || args.includes('--cancel');
  const ri = args.findIndex((a) => a === '-reason' || a === '--reason');
  const reason = ri >= 0 ? (args[ri + 1] ?? '') : '';
  const names = args.filter((a, i) => !a.startsWith('-') && (ri < 0 || i !== ri + 1));
  if (names.length !== 1) throw new DschedError('USAGE', 'usage: dsched drain NAME [-cancel] [-reason TEXT]');
  const session = openSession();
  try {
    const ads = await (await session.collector()).query('Machine', `StartdName == ${JSON.stringify(names[0])} || Machine == ${JSON.stringify(names[0])}`);
    const addr = [...new Set(ads.map((a) => ClassAd.fromRecord(a).lookupJS('MyAddress')).filter((v): v is string => typeof v === 'string'))];
    if (!addr.length) throw new DschedError('JOB_NOT_FOUND', `no machine named ${names[0]} is in the pool`, { hint: 'dstatus lists the machines' });
    const secret = loadSecret(session.config.paths.secret);
    const token = signToken(secret, { sub: `user:${session.user}`, ttl: 300, admin: true });
    for (const a of addr) {
      const c = new StartdClient(a, () => token);
      try {
        const r = await c.drain(cancel, reason);
        process.stdout.write(cancel ? `${names[0]}: drain cancelled\n` : `${names[0]}: draining (${r.running} job(s) still running will finish)\n`);
      } finally {
        c.close();
      }
    }
    return EXIT.ok;
  } finally {
    session.close();
  }
}

function evalCmd(args: string[]): number {
  let my: string | undefined;
  let target: string | undefined;
  const exprs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--my' || a === '-my') my = args[++i];
    else if (a === '--target' || a === '-target') target = args[++i];
    else exprs.push(a);
  }
  if (!exprs.length) throw new DschedError('USAGE', 'usage: dsched eval [--my AD] [--target AD] EXPR...');
  for (const line of evalCommand({ my, target, exprs })) process.stdout.write(line + '\n');
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return start();
    case 'stop':
      return stop();
    case 'status':
      return status();
    case 'reconfig':
      return reconfig();
    case 'config':
      return config(rest);
    case 'drain':
      return drain(rest);
    case 'eval':
      return evalCmd(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? EXIT.usage : EXIT.ok;
    default:
      if (DAEMONS.includes(cmd)) {
        const cfg = loadConfig();
        loadSecret(cfg.paths.secret, true);
        chmodSync(cfg.paths.secret, 0o600);
        await import(daemonMain(cmd));
        return new Promise<number>(() => {}); // the daemon runs until signalled
      }
      throw new DschedError('USAGE', `unknown command ${cmd}\n${USAGE}`);
  }
}

runCli('dsched', main);
