// A real personal pool in a temporary $DSCHED_HOME for one test: started with the real `dsched start`,
// driven with the real CLIs as child processes, stopped (and its processes checked gone) at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NAMES } from '../../../lib/daemons.js';
import { isRunning, readPidFile } from '../../../lib/pid-file.js';
import { loadTokenKey, signToken } from '../../../lib/rpc/auth.js';
import type { ClientCredentials } from '../../../lib/rpc/tls.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DIST = join(ROOT, 'dist');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: Record<string, string | undefined>;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

/** Intervals cut to about a second so tests see events quickly (HTCondor's ornithology does the same). */
const TEST_CONFIG: Record<string, string> = {
  UPDATE_INTERVAL: '2',
  NEGOTIATOR_INTERVAL: '5',
  JOB_LEASE_DURATION: '20',
  KILL_GRACE: '2',
  PERIODIC_EXPR_INTERVAL: '1',
  NUM_CPUS: '4',
  MEMORY: '4096',
  // no podman test container at each start: container tests ask for the container launcher themselves
  STARTD_LAUNCHERS: 'process',
};

/**
 * The live processes whose environment names `home` as their DSCHED_HOME: a pool's master, daemons, job
 * spawner and keeper (a home is a fresh temporary folder, so no other pool's).
 */
export function homeProcesses(home: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`DSCHED_HOME=${home}`)) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      out.push({ pid: Number(e), cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/** Whether a process still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A shell command line run in the pool's work folder with `bin` (where `dsched shims install` wrote the
 * HTCondor and PBS names) first on PATH, as a user's script runs it.
 */
export function shimShell(
  pool: TestPool,
  bin: string,
  line: string,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', line], {
    cwd: pool.work,
    env: { ...pool.env, PATH: `${bin}:${process.env.PATH}` },
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A program run to its end, its output collected; `cwd` when opts has none. */
export function runChild(
  file: string,
  args: string[],
  opts: RunOptions & {
    /** Leave standard input open (after opts.input). */
    keepStdin?: boolean;
    onSpawn?: (pid: number) => void;
    /** Told the standard error so far at each piece of it. */
    onStderr?: (text: string) => void;
  },
  cwd: string,
): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd ?? cwd,
      env: opts.env,
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    // a command that never reads its input closes the pipe
    child.stdin.on('error', () => undefined);
    if (child.pid) opts.onSpawn?.(child.pid);
    if (!opts.keepStdin) child.stdin.end(opts.input ?? '');
    else if (opts.input) child.stdin.write(opts.input);
  });
}

/**
 * How long the harness lets `dsched start` run: it waits on by itself while a daemon is slow to serve on a
 * loaded machine and fails by itself when one keeps dying; this only ends a start that hangs.
 */
export const START_BACKSTOP_MS = 300_000;

export class TestPool {
  readonly home: string;
  readonly work: string;
  private foreground: ChildProcess[] = [];

  private constructor(readonly config: Record<string, string>) {
    this.home = mkdtempSync(join(tmpdir(), 'dsched-home-'));
    this.work = mkdtempSync(join(tmpdir(), 'dsched-work-'));
    // other users (the permission tests) must reach the address files and the auth directory
    chmodSync(this.home, 0o755);
    chmodSync(this.work, 0o777);
    writeFileSync(
      join(this.home, 'config'),
      Object.entries({ ...TEST_CONFIG, ...config })
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') + '\n',
    );
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: this.home };
    // the test's own DSCHED_* settings must not leak into the pool under test
    for (const k of Object.keys(env)) if (k.startsWith('DSCHED_') && k !== 'DSCHED_HOME') delete env[k];
    // commands a test runs through the launcher (the shims, an installed package) leave no command agent
    // behind; the agent's own tests turn it on (harness/agent.ts)
    env.DSCHED_AGENT = '0';
    return env;
  }

  /** Make a pool home without starting it (for tests that start daemons one by one). */
  static create(config: Record<string, string> = {}): TestPool {
    return new TestPool(config);
  }

  /** Make a pool home (`prepare` may put files in it first) and `dsched start` it. */
  static async start(config: Record<string, string> = {}, prepare?: (pool: TestPool) => void): Promise<TestPool> {
    const pool = new TestPool(config);
    prepare?.(pool);
    await pool.startOrStop(() => pool.run('dsched', ['start'], { timeoutMs: START_BACKSTOP_MS }));
    return pool;
  }

  /**
   * Run `start` (a `dsched start`); should it fail or hang, stop whatever it started before throwing: a failed
   * start leaves its master running (restarting what failed until `dsched stop`, as the CLI says), and the
   * caller, given no pool, would never stop it.
   */
  private async startOrStop(start: () => Promise<RunResult>): Promise<void> {
    let failure: string;
    try {
      const r = await start();
      if (r.code === 0) return;
      failure = `dsched start failed (${r.code}): ${r.stderr}${r.stdout}`;
    } catch (e) {
      failure = (e as Error).message;
    }
    const logs = this.logs();
    const left = await this.stopAll();
    rmSync(this.home, { recursive: true, force: true });
    rmSync(this.work, { recursive: true, force: true });
    throw new Error(
      `${failure}\n${logs}${left.length ? `\nleft running after dsched stop (killed): ${left.join(', ')}` : ''}`,
    );
  }

  /**
   * `dsched stop`, then SIGKILL to any process of this home still there (by DSCHED_HOME in its environment:
   * a master a hung start had spawned before it wrote its lock, daemons it was starting), until none is.
   * Returns what had to be killed.
   */
  private async stopAll(): Promise<string[]> {
    // dsched stop returns once the master has removed its pid file, which it does just before its process
    // ends: wait for that end too, or a loaded machine has the scan below find the master still exiting
    const master = readPidFile(join(this.home, 'run', 'master.pid'));
    await this.run('dsched', ['stop']).catch(() => undefined);
    for (let i = 0; master && isRunning(master) && i < 200; i++) await sleep(50);
    const killed: string[] = [];
    for (let round = 0; round < 50; round++) {
      const left = homeProcesses(this.home);
      if (!left.length) break;
      for (const p of left) {
        if (round === 0) killed.push(`pid ${p.pid} ${p.cmdline}`);
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
      await sleep(100);
    }
    return killed;
  }

  /**
   * An execute host of this (central) pool in a home of its own on this machine: DAEMON_LIST = STARTD and
   * COLLECTOR_HOST this pool's collector. It shares this pool's CA (a second host on one machine would be
   * refused a join token: its host name already has a certificate), so its `dsched start` makes its host
   * credential, then starts its master.
   */
  async startExecuteHost(
    config: Record<string, string> = {},
    opts: { withoutAccounts?: string[] } = {},
  ): Promise<TestPool> {
    const exec = new TestPool({ DAEMON_LIST: 'STARTD', COLLECTOR_HOST: this.daemonAddress('collector'), ...config });
    cpSync(join(this.home, 'ca'), join(exec.home, 'ca'), { recursive: true });
    await exec.startOrStop(() =>
      opts.withoutAccounts
        ? exec.startWithout(opts.withoutAccounts)
        : exec.run('dsched', ['start'], { timeoutMs: START_BACKSTOP_MS }),
    );
    return exec;
  }

  /**
   * `dsched start` in a mount namespace of its own whose /etc/passwd lacks `users`: the host's daemons see
   * no account for them, as on a host whose user directory differs from the submit host's.
   */
  private startWithout(users: string[]): Promise<RunResult> {
    const passwd = join(this.home, 'passwd');
    writeFileSync(
      passwd,
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .filter((l) => !users.includes(l.split(':')[0]!))
        .join('\n'),
    );
    return runChild(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" /etc/passwd && exec "$2" "$3" start',
        'sh',
        passwd,
        process.execPath,
        join(DIST, 'cli', 'dsched.js'),
      ],
      { env: this.env, timeoutMs: START_BACKSTOP_MS },
      this.work,
    ).then(({ code, stdout, stderr }) => ({ code, stdout, stderr }));
  }

  /** Run a CLI (dist/cli/<cmd>.js) with this pool's environment. */
  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return runChild(
      process.execPath,
      [join(DIST, 'cli', `${cmd}.js`), ...args],
      { ...opts, env: { ...this.env, ...opts.env } },
      this.work,
    ).then(({ code, stdout, stderr }) => ({ code, stdout, stderr }));
  }

  /** Run one daemon in the foreground (`dsched <daemon>`), as a separate process this pool stops at the end. */
  startDaemon(name: string): ChildProcess {
    const child = spawn(process.execPath, [join(DIST, 'cli', 'dsched.js'), name], { env: this.env, stdio: 'ignore' });
    this.foreground.push(child);
    return child;
  }

  /** Credentials of a client that trusts this pool's CA and sends `token` (none: anonymous). */
  creds(token?: string): ClientCredentials {
    return { tls: { ca: readFileSync(join(this.home, 'ca', 'ca.crt')) }, token: () => token };
  }

  /** A user token signed with this pool's token key (as the pool's owner can make one). */
  token(user: string, admin = false): string {
    return signToken(loadTokenKey(join(this.home, 'ca', 'token.key')), { user, admin });
  }

  /** Write a file into the test's work directory. */
  file(name: string, text: string, mode = 0o644): string {
    const p = join(this.work, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    return p;
  }

  read(name: string): string {
    return readFileSync(join(this.work, name), 'utf8');
  }

  exists(name: string): boolean {
    return existsSync(join(this.work, name));
  }

  /** pid of a daemon from its address file. */
  daemonPid(name: string): number {
    const [, pid] = readFileSync(join(this.home, 'run', `${name}.address`), 'utf8').split('\n');
    return Number(pid);
  }

  /** Wait until the master has restarted a daemon killed with pid `oldPid`; returns the new pid. */
  async waitForRestart(name: string, oldPid: number): Promise<number> {
    return this.waitFor(`the master to restart the ${name}`, () => {
      try {
        const pid = this.daemonPid(name);
        return pid !== oldPid && alive(pid) && pid;
      } catch {
        return false;
      }
    });
  }

  daemonAddress(name: string): string {
    return readFileSync(join(this.home, 'run', `${name}.address`), 'utf8').split('\n')[0]!;
  }

  /** dsubmit a file (extra `args` before it); fails the test unless it is accepted. Returns the cluster id. */
  async submit(file: string, args: string[] = [], opts: RunOptions = {}): Promise<number> {
    const r = await this.run('dsubmit', [...args, file], opts);
    if (r.code !== 0) throw new Error(`dsubmit ${file} failed (${r.code}): ${r.stderr}${r.stdout}`);
    // a submit file prints "... submitted to cluster N."; a #PBS script prints qsub's "N.host"
    const m = /cluster (\d+)/.exec(r.stdout) ?? /^(\d+)/m.exec(r.stdout);
    if (!m) throw new Error(`dsubmit printed no cluster id: ${r.stdout}`);
    return Number(m[1]);
  }

  /** What a command prints on stdout; fails the test unless it exits 0. */
  async output(cmd: string, args: string[]): Promise<string> {
    const r = await this.run(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async json(cmd: string, args: string[]): Promise<Array<Record<string, unknown>>> {
    const r = await this.run(cmd, [...args, '-json']);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>) : [];
  }

  /** Wait (bounded) until `check` returns a truthy value; fail with `what` and the daemon logs. */
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
      await sleep(200);
    }
    throw new Error(
      `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n${this.logs()}`,
    );
  }

  /** Wait until the given jobs are all in history; returns their history ads. */
  async waitForHistory(cluster: number, count: number, timeoutMs = 90_000): Promise<Array<Record<string, unknown>>> {
    return this.waitFor(
      `${count} job(s) of cluster ${cluster} to finish`,
      async () => {
        const h = await this.json('dhistory', [String(cluster)]);
        return h.length >= count ? h : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Add settings to the pool's config file and wait until each of `daemons` has reloaded them (its
   * 'configuration reloaded' log entry names every knob set here): a live change is in force, not merely written.
   */
  async reconfigure(text: string, daemons: string[]): Promise<void> {
    const knobs = [...text.matchAll(/^\s*([A-Za-z_][\w.]*)\s*=/gm)].map((m) => m[1]!.toUpperCase());
    const reloads = (daemon: string): Array<{ changed?: string[] }> => {
      const p = join(this.home, 'log', `${daemon}.log`);
      if (!existsSync(p)) return [];
      return readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"configuration reloaded"'))
        .map((l) => JSON.parse(l) as { changed?: string[] });
    };
    const before = new Map(daemons.map((d) => [d, reloads(d).length]));
    appendFileSync(join(this.home, 'config'), text);
    for (const d of daemons) {
      await this.waitFor(`the ${d} to reload ${knobs.join(', ')}`, () => {
        const seen = new Set(
          reloads(d)
            .slice(before.get(d))
            .flatMap((e) => (e.changed ?? []).map((k) => k.toUpperCase())),
        );
        return knobs.every((k) => seen.has(k));
      });
    }
  }

  logs(): string {
    const out: string[] = [];
    for (const d of DAEMON_NAMES) {
      for (const f of [`${d}.log`, `${d}.out`]) {
        const p = join(this.home, 'log', f);
        if (!existsSync(p)) continue;
        const lines = readFileSync(p, 'utf8').trim().split('\n');
        out.push(`--- ${f} (last 15 lines)`, ...lines.slice(-15));
      }
    }
    return out.join('\n');
  }

  async stop(): Promise<void> {
    for (const c of this.foreground) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(
      this.foreground.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
    );
    await this.run('dsched', ['stop']).catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
    rmSync(this.work, { recursive: true, force: true });
  }
}
