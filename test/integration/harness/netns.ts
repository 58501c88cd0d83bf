// A pool spread over several hosts, made of Linux network namespaces: one "central" host (collector,
// negotiator, schedd) and execute hosts (one startd each), wired to a bridge that lives in a fourth,
// "switch" namespace, on a private /24 made here (10.231.0.0/24). Nothing is added to the machine's own
// network namespace, so the pool's traffic never leaves the namespaces this harness makes, and two runs at
// once do not see each other (each has its own namespaces, links and bridge).
//
// Each host has its own DSCHED_HOME and its own host credential (key and certificate signed by central's
// pool CA); every channel between hosts is TLS. Daemons run in the foreground inside their host's
// namespace (`ip netns exec NS node dist/cli/dsched.js <daemon>`, one process per name in the host's
// DAEMON_LIST); CLIs run in central's namespace with central's home. `stop()` removes every process,
// namespace, link and directory made here, and the same happens (synchronously) if the test process exits
// or is interrupted first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, sleep, type RunOptions, type RunResult } from './pool.js';

/** The private network of every namespaced pool: hosts get .1 (central), .2, .3, … */
export const SUBNET = '10.231.0';
const COLLECTOR_PORT = 9618; // each namespace has its own ports: a fixed port cannot collide with anything
const NS_PREFIX = 'dsmh';
/** How long stop() waits for a daemon that took SIGTERM: far past its own 15 s bound, for a hung one only. */
const STOP_BACKSTOP_MS = 120_000;
/** How long a daemon may take to serve: the wait is for its address file or its exit, this only ends a hang. */
const SERVE_BACKSTOP_MS = 120_000;
/**
 * The bound of a test on a namespaced pool: a hang backstop only. Each of its waits (a pool's start waits on
 * each daemon, each join and the slots) has its own bound and fails by itself, saying what it waited for; a
 * test's bound below the sum of theirs could fail a test whose every step was within its own.
 */
export const NETNS_TEST_BACKSTOP_MS = 1_200_000;

/** What every host's config holds: intervals cut for tests (as harness/pool.ts) and a short lease. */
const HOST_CONFIG: Record<string, string> = {
  UPDATE_INTERVAL: '2',
  NEGOTIATOR_INTERVAL: '5',
  JOB_LEASE_DURATION: '10',
  KILL_GRACE: '2',
};

export interface Host {
  /** central, exec1, exec2, … (also its HOSTNAME, and STARTD_NAME on execute hosts) */
  name: string;
  ns: string;
  address: string;
  home: string;
  daemons: string[];
  /** The switch-side end of this host's link: taking it down cuts the host off the network. */
  port: string;
  procs: Map<string, ChildProcess>;
  /** A daemon of this host was killed on purpose: what it leaves behind is expected, not a leak. */
  crashed: boolean;
}

export interface NetnsPoolOptions {
  /** Execute hosts, each with one startd (default 2). */
  execHosts?: number;
  /** Settings for every host's config (on top of the test defaults). */
  config?: Record<string, string>;
  /** Settings for the execute hosts only. */
  execConfig?: Record<string, string>;
  /** Execute hosts joined but not started (a test starts them later with startDaemon). */
  notStarted?: string[];
}

function ip(args: string[], timeoutMs = 10_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: timeoutMs });
  return {
    ok: r.status === 0,
    out: r.stdout ?? '',
    err: (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim(),
  };
}

function mustIp(args: string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function nsPids(ns: string): number[] {
  const r = ip(['netns', 'pids', ns], 5000);
  return r.ok
    ? r.out
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((p) => p > 0 && p !== process.pid)
    : [];
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '(gone)';
  }
}

/** Direct children of a process (from /proc: this kernel has no /proc/PID/task/TID/children). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      /* the process ended meanwhile */
    }
  }
  return out;
}

/** Kill every process in a namespace and wait (bounded) until it is empty. Returns what was there. */
function emptyNamespaceSync(ns: string): Array<{ pid: number; cmd: string }> {
  const found = nsPids(ns).map((pid) => ({ pid, cmd: cmdline(pid) }));
  for (let round = 0; round < 50; round++) {
    const pids = nsPids(ns);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    spawnSync('sleep', ['0.1']);
  }
  return found;
}

/** Why namespaces cannot be made here (a reason to print with the skip), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return `making network namespaces needs root (the tests run as uid ${uid})`;
  const v = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (v.error || v.status !== 0) return 'the `ip` command (iproute2) is missing: apt-get install iproute2';
  const probe = `${NS_PREFIX}${process.pid}probe`;
  const add = ip(['netns', 'add', probe]);
  if (!add.ok) return `\`ip netns add\` failed: ${add.err}`;
  try {
    const veth = ip(['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    if (!veth.ok) return `cannot make a veth pair in a namespace: ${veth.err}`;
    const br = ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    if (!br.ok) return `cannot make a bridge in a namespace: ${br.err}`;
    return undefined;
  } finally {
    ip(['netns', 'del', probe]);
  }
}

/** Namespaces left by an earlier run of this harness whose process died before cleaning up (kill -9). */
function sweepStale(): void {
  const r = ip(['netns', 'list']);
  if (!r.ok) return;
  const re = new RegExp(`^${NS_PREFIX}(\\d+)(?:n\\d+-\\w+|probe)\\b`);
  for (const line of r.out.split('\n')) {
    const name = line.split(/\s+/)[0] ?? '';
    const m = re.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    emptyNamespaceSync(name);
    ip(['netns', 'del', name]);
  }
}

const live = new Set<NetnsPool>();
let exitHooks = false;
function installExitHooks() {
  if (exitHooks) return;
  exitHooks = true;
  process.on('exit', () => {
    for (const p of live) p.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const p of live) p.destroySync();
      process.kill(process.pid, sig);
    });
  }
}

let poolSeq = 0;

export class NetnsPool {
  readonly root: string;
  /** The submit side's working directory (on central). */
  readonly work: string;
  readonly hosts: Host[] = [];
  /** The namespace of the bridge every host is plugged into (a provisioner plugs new hosts there). */
  readonly switchNs: string;
  private readonly namespaces: string[] = [];
  private destroyed = false;

  private constructor(private opts: NetnsPoolOptions) {
    const tag = `${NS_PREFIX}${process.pid}n${++poolSeq}`;
    this.switchNs = `${tag}-switch`;
    this.root = mkdtempSync(join(tmpdir(), 'dsched-multihost-'));
    chmodSync(this.root, 0o755);
    this.work = join(this.root, 'work');
    mkdirSync(this.work, { mode: 0o755 });
    const names = ['central', ...Array.from({ length: opts.execHosts ?? 2 }, (_, i) => `exec${i + 1}`)];
    names.forEach((name, i) => {
      const home = join(this.root, name);
      mkdirSync(home, { mode: 0o755 });
      this.hosts.push({
        name,
        ns: `${tag}-${name}`,
        address: `${SUBNET}.${i + 1}`,
        home,
        daemons: name === 'central' ? ['collector', 'negotiator', 'schedd'] : ['startd'],
        port: `p-${name}`,
        procs: new Map(),
        crashed: false,
      });
    });
  }

  get central(): Host {
    return this.hosts[0]!;
  }

  get execs(): Host[] {
    return this.hosts.slice(1);
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} in this pool`);
    return h;
  }

  /** Make the namespaces and the network, write each host's config, start central, copy the secret,
   *  start the execute hosts, and wait until every startd's slot shows in `dstatus`. */
  static async start(opts: NetnsPoolOptions = {}): Promise<NetnsPool> {
    sweepStale();
    installExitHooks();
    const pool = new NetnsPool(opts);
    live.add(pool);
    try {
      pool.makeNetwork();
      pool.writeConfigs();
      // `dsched collector` makes central's CA and host credential before it loads the daemon. Once it
      // serves, each execute host joins as an administrator would have it: a one-time join token made on
      // central, `dsched join` on the host (its key is made there), then its daemons start.
      const c = pool.central;
      await pool.startDaemon(c, 'collector');
      for (const h of pool.execs) await pool.join(h);
      const started = pool.hosts.filter((h) => !opts.notStarted?.includes(h.name));
      for (const h of started) for (const d of h.daemons) if (!h.procs.has(d)) pool.spawnDaemon(h, d);
      await Promise.all(started.flatMap((h) => h.daemons.map((d) => pool.waitServing(h, d))));
      await pool.waitFor(
        'every execute host to show its slot in dstatus',
        async () => {
          const names = new Set((await pool.json('dstatus', [])).map((a) => String(a.Name)));
          return pool.execs.every((h) => !started.includes(h) || names.has(`slot1@${h.name}`));
        },
        30_000,
      );
      return pool;
    } catch (e) {
      // whatever was started goes before the failure is thrown: the caller gets no pool to stop
      await pool.stop().catch(() => pool.destroySync());
      throw e;
    }
  }

  private makeNetwork() {
    for (const ns of [this.switchNs, ...this.hosts.map((h) => h.ns)]) {
      mustIp(['netns', 'add', ns]);
      this.namespaces.push(ns);
      mustIp(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    mustIp(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    mustIp(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    for (const h of this.hosts) {
      // one cable per host: eth0 in the host, its peer plugged into the switch's bridge
      mustIp(['-n', this.switchNs, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
      mustIp(['-n', this.switchNs, 'link', 'set', h.port, 'master', 'br0']);
      mustIp(['-n', this.switchNs, 'link', 'set', h.port, 'up']);
      mustIp(['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      mustIp(['-n', h.ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  private writeConfigs() {
    const c = this.central;
    for (const h of this.hosts) {
      const cfg: Record<string, string> = {
        ...HOST_CONFIG,
        DAEMON_LIST: h.daemons.map((d) => d.toUpperCase()).join(', '),
        HOSTNAME: h.name,
        BIND_ADDRESS: h.address,
        COLLECTOR_HOST: `${c.address}:${COLLECTOR_PORT}`,
        ...(h === c ? { COLLECTOR_PORT: String(COLLECTOR_PORT) } : { STARTD_NAME: h.name, ...this.opts.execConfig }),
        ...this.opts.config,
      };
      writeFileSync(
        join(h.home, 'config'),
        Object.entries(cfg)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n') + '\n',
      );
    }
  }

  /** The environment of a process on host `h`: its home, and none of the test's own DSCHED_* settings
   *  (nor the machine's /etc/dsched/config). */
  env(h: Host): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('DSCHED_')) delete env[k];
    env.DSCHED_HOME = h.home;
    env.DSCHED_CONFIG = '/dev/null';
    return env;
  }

  /** Start one daemon of a host in the foreground inside its namespace and wait until it serves; one that
   *  hangs is killed before the failure is thrown. */
  async startDaemon(h: Host, daemon: string): Promise<void> {
    const child = this.spawnDaemon(h, daemon);
    try {
      await this.waitServing(h, daemon);
    } catch (e) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw e;
    }
  }

  private spawnDaemon(h: Host, daemon: string): ChildProcess {
    mkdirSync(join(h.home, 'log'), { recursive: true });
    const out = openSync(join(h.home, 'log', `${daemon}.out`), 'a');
    // `ip netns exec` enters the namespace and execs the command: the child's pid is the daemon's
    const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, join(DIST, 'cli', 'dsched.js'), daemon], {
      cwd: h.home,
      env: this.env(h),
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.on('error', () => {}); // reported by waitServing as "exited before serving"
    h.procs.set(daemon, child);
    return child;
  }

  /**
   * Wait until a daemon has written its address file, or has exited. A daemon slow to start on a loaded
   * machine (a schedd reading its queue again) is no failure: only one that hangs meets the backstop.
   */
  private async waitServing(h: Host, daemon: string): Promise<void> {
    const child = h.procs.get(daemon)!;
    const file = join(h.home, 'run', `${daemon}.address`);
    const deadline = Date.now() + SERVE_BACKSTOP_MS;
    for (;;) {
      try {
        const [addr, pid] = readFileSync(file, 'utf8').split('\n');
        if (addr && Number(pid) === child.pid) return;
      } catch {
        /* not written yet */
      }
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `${daemon} on ${h.name} exited before serving (${child.exitCode ?? child.signalCode})\n${this.logs()}`,
        );
      if (Date.now() > deadline)
        throw new Error(`${daemon} on ${h.name} did not serve within ${SERVE_BACKSTOP_MS / 1000} s\n${this.logs()}`);
      await sleep(50);
    }
  }

  /** pid of a daemon of a host (the foreground process). */
  daemonPid(host: string, daemon: string): number {
    const p = this.host(host).procs.get(daemon);
    if (!p?.pid) throw new Error(`${daemon} on ${host} was not started`);
    return p.pid;
  }

  /** kill -9 a daemon and its children (for the startd: its job spawner), as a crash would. The daemon
   *  is killed first so the children never see it go and cannot clean up after it. Returns the pids. */
  async kill9(host: string, daemon: string): Promise<number[]> {
    const h = this.host(host);
    const child = h.procs.get(daemon);
    if (!child?.pid) throw new Error(`${daemon} on ${host} is not running`);
    const kids = childrenOf(child.pid);
    h.crashed = true;
    process.kill(child.pid, 'SIGKILL');
    for (const k of kids) process.kill(k, 'SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    return [child.pid, ...kids];
  }

  /** Cut a host off the network (its cable, at the switch): packets both ways are dropped. */
  cutNetwork(host: string): void {
    mustIp(['-n', this.switchNs, 'link', 'set', this.host(host).port, 'down']);
  }

  restoreNetwork(host: string): void {
    mustIp(['-n', this.switchNs, 'link', 'set', this.host(host).port, 'up']);
  }

  /** Make a one-time join token on central and join host `h` with it (`dsched join`, in h's namespace). */
  async join(h: Host): Promise<void> {
    const t = await this.run('dsched', ['token', 'create', '--join', '--ttl', '5m']);
    if (t.code !== 0) throw new Error(`dsched token create --join failed (${t.code}): ${t.stderr}`);
    const r = await this.runOn(h, 'dsched', ['join', `${this.central.address}:${COLLECTOR_PORT}`, t.stdout.trim()], {
      cwd: h.home,
    });
    if (r.code !== 0)
      throw new Error(`dsched join on ${h.name} failed (${r.code}): ${r.stderr}${r.stdout}\n${this.logs()}`);
  }

  /** Run a CLI (dist/cli/<cmd>.js) on central, with central's home, in the submit directory. */
  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.runOn(this.central, cmd, args, opts);
  }

  /** Run a CLI on host `h`, with its home, inside its namespace. */
  runOn(h: Host, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, join(DIST, 'cli', `${cmd}.js`), ...args], {
        cwd: opts.cwd ?? this.work,
        env: { ...this.env(h), ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${cmd} ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  async json(cmd: string, args: string[]): Promise<Array<Record<string, unknown>>> {
    const r = await this.run(cmd, [...args, '-json']);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>) : [];
  }

  /** Write a submit file or a #PBS script (executable) into the submit directory, submit it, return the
   *  cluster id (a submit file prints "submitted to cluster N.", a script qsub's "N.central"). */
  async submit(name: string, text: string): Promise<number> {
    writeFileSync(join(this.work, name), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
    const r = await this.run('dsubmit', [name]);
    if (r.code !== 0) throw new Error(`dsubmit ${name} failed (${r.code}): ${r.stderr}${r.stdout}`);
    const m = /cluster (\d+)/.exec(r.stdout) ?? /^(\d+)\.\S+$/m.exec(r.stdout.trim());
    if (!m) throw new Error(`dsubmit printed no cluster id: ${r.stdout}`);
    return Number(m[1]);
  }

  /** Wait (bounded) until `check` returns a truthy value; fail with `what` and every host's logs. */
  async waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await check();
        if (v) return v as T;
      } catch (e) {
        last = e;
      }
      await sleep(250);
    }
    throw new Error(
      `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n${this.logs()}`,
    );
  }

  /** Wait until `count` jobs of the cluster are in history; returns their history ads. */
  waitForHistory(cluster: number, count: number, timeoutMs = 60_000): Promise<Array<Record<string, unknown>>> {
    return this.waitFor(
      `${count} job(s) of cluster ${cluster} in dhistory`,
      async () => {
        const h = await this.json('dhistory', [String(cluster)]);
        return h.length >= count ? h : undefined;
      },
      timeoutMs,
    );
  }

  /** A daemon's log on a host, one parsed pino record per line. */
  logRecords(host: string, daemon: string): Array<Record<string, unknown>> {
    const p = join(this.host(host).home, 'log', `${daemon}.log`);
    if (!existsSync(p)) return [];
    const out: Array<Record<string, unknown>> = [];
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* a line cut by kill -9 */
      }
    }
    return out;
  }

  /** The last lines of every daemon's log on every host (for failure messages). */
  logs(lines = 15): string {
    const out: string[] = [];
    for (const h of this.hosts) {
      for (const d of h.daemons) {
        for (const f of [`${d}.log`, `${d}.out`]) {
          const p = join(h.home, 'log', f);
          if (!existsSync(p)) continue;
          const text = readFileSync(p, 'utf8').trim();
          if (!text) continue;
          out.push(`--- ${h.name}: ${f} (last ${lines} lines)`, ...text.split('\n').slice(-lines));
        }
      }
    }
    return out.join('\n');
  }

  /**
   * Stop everything: links back up (a cut-off startd must reach the collector to say goodbye), SIGTERM to
   * every daemon (execute hosts first, the collector last) and a wait for each to exit, then whatever is
   * still in a namespace (a crashed host's orphaned job) is killed, the namespaces (with their links and the
   * bridge) are deleted and the directories removed. Returns the leaks: daemons that needed SIGKILL and processes
   * left in the namespace of a host none of whose daemons was killed on purpose.
   */
  async stop(): Promise<string[]> {
    if (this.destroyed) return [];
    const leaks: string[] = [];
    for (const h of this.hosts) ip(['-n', this.switchNs, 'link', 'set', h.port, 'up']);
    const order = [...this.execs, this.central];
    const stopOne = async (h: Host, d: string) => {
      const p = h.procs.get(d);
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      // A daemon ends its own graceful stop after 15 s (lib/daemon.ts onShutdown), by its clock: a bound of
      // ours a few seconds longer raced that timer on a loaded machine. Only a daemon whose own bound cannot
      // fire (its event loop blocked) is still there long after it.
      const t = setTimeout(() => {
        leaks.push(`${d} on ${h.name} did not stop on SIGTERM, not even by its own 15 s bound (killed)`);
        p.kill('SIGKILL');
      }, STOP_BACKSTOP_MS);
      await exited;
      clearTimeout(t);
    };
    for (const h of order) await Promise.all(h.daemons.filter((d) => d !== 'collector').map((d) => stopOne(h, d)));
    await stopOne(this.central, 'collector');
    for (const h of this.hosts) {
      const left = emptyNamespaceSync(h.ns);
      if (left.length && !h.crashed) leaks.push(...left.map((l) => `left running on ${h.name}: pid ${l.pid} ${l.cmd}`));
    }
    this.destroySync();
    return leaks;
  }

  /** Remove everything at once (also from an exit or signal handler): no waiting on anything but `ip`. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const h of this.hosts)
      for (const p of h.procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of [...this.namespaces].reverse()) {
      emptyNamespaceSync(ns);
      ip(['netns', 'del', ns]);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
