// Starts the host's daemons and keeps them running: a daemon that dies is restarted with exponential
// backoff (reset once it has stayed up for a minute), and why it died is logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MASTER_PIPE_ENV } from '../../lib/daemon.js';
import { DAEMON_NO_RESTART, failedReasonFile, STOP_STAGES } from '../../lib/daemons.js';
import { daemonNodeFlags } from '../../lib/node-flags.js';
import type { Logger } from '../../lib/log.js';
import { readPidFile, removePidFile, writePidFile, type PidRecord } from '../../lib/pid-file.js';

/** What a stage reached after the grace time of a stop still gets: a quarter of it, at most 5 s. */
const stageFloorMs = (graceMs: number) => Math.min(5_000, graceMs / 4);

/** The longest `Supervisor.stop(graceMs)` takes: the grace, then the floor of each later stage. */
export function stopBoundMs(graceMs: number): number {
  return graceMs + (STOP_STAGES.length - 1) * stageFloorMs(graceMs);
}

export interface DaemonState {
  name: string;
  child?: ChildProcess;
  pid: number;
  /** failed: it exited with DAEMON_NO_RESTART, and stays down until an admin acts (lastExit says why) */
  state: 'starting' | 'running' | 'backoff' | 'stopped' | 'failed';
  restarts: number;
  lastExit: string;
  startedAt: number;
  backoffMs: number;
  timer?: NodeJS.Timeout;
}

/** dist/daemons/<name>/main.js beside this file's own folder. */
export function daemonScript(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', name, 'main.js');
}

export class Supervisor {
  readonly daemons = new Map<string, DaemonState>();
  private stopping = false;

  constructor(
    private log: Logger,
    private logDir: string,
    private maxBackoffSec: () => number,
    /** where run/<daemon>.pid files go: `dsched stop` finds daemons a dead master left behind by them */
    private runDir: string,
    /** MAX_DAEMON_LOG in bytes: a .out file past it is renamed .out.old when its daemon starts again */
    private maxOutBytes: () => number = () => 0,
    /** the script a daemon runs */
    private scriptOf: (name: string) => string = daemonScript,
  ) {}

  start(names: string[]): void {
    for (const n of names) {
      const name = n.toLowerCase();
      if (this.daemons.has(name)) continue;
      const d: DaemonState = {
        name,
        pid: 0,
        state: 'starting',
        restarts: 0,
        lastExit: '',
        startedAt: 0,
        backoffMs: 1000,
      };
      this.daemons.set(name, d);
      this.spawn(d);
    }
  }

  private spawn(d: DaemonState): void {
    if (this.stopping) return;
    // stdout/stderr of a daemon go to its own .out file: a crash before its logger exists is still seen.
    const outFile = join(this.logDir, `${d.name}.out`);
    // a daemon that keeps dying adds its last words at each start: kept to about the size of a log
    try {
      const max = this.maxOutBytes();
      if (max > 0 && statSync(outFile).size >= max) renameSync(outFile, `${outFile}.old`);
    } catch {
      // none yet
    }
    let out: number | 'ignore' = 'ignore';
    try {
      out = openSync(outFile, 'a');
    } catch (e) {
      // a full disk: the daemon runs without its .out file rather than not at all
      this.log.warn({ child: d.name, file: outFile, err: (e as Error).message }, 'cannot open the daemon output file');
    }
    // DSCHED_DAEMON_NODE_ARGS passes flags node refuses in NODE_OPTIONS (e.g. --cpu-prof) to every daemon.
    const nodeArgs = (process.env.DSCHED_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // fd 3 is a pipe the daemon watches: when this master dies (even by SIGKILL) the daemon reads its end
    // of file and shuts down, so no daemon outlives its master
    const child = spawn(process.execPath, [...daemonNodeFlags(d.name), ...nodeArgs, this.scriptOf(d.name)], {
      stdio: ['ignore', out, out, 'pipe'],
      env: { ...process.env, [MASTER_PIPE_ENV]: '3' },
    });
    if (out !== 'ignore') closeSync(out);
    d.child = child;
    d.pid = child.pid ?? 0;
    const pidFile = join(this.runDir, `${d.name}.pid`);
    let rec: PidRecord | undefined;
    if (d.pid) {
      try {
        writePidFile(pidFile, d.pid);
        rec = readPidFile(pidFile);
      } catch (e) {
        // a full disk: the master still knows its child (and stops it); only `dsched stop` without a
        // master would miss it
        this.log.warn({ child: d.name, file: pidFile, err: (e as Error).message }, 'cannot write the daemon pid file');
      }
    }
    d.state = 'running';
    d.startedAt = Date.now();
    this.log.info({ child: d.name, childPid: d.pid }, 'started daemon');
    child.on('exit', (code, signal) => {
      if (rec) removePidFile(pidFile, rec);
      d.child = undefined;
      d.pid = 0;
      d.lastExit = signal ? `signal ${signal}` : `exit code ${code}`;
      if (this.stopping) {
        d.state = 'stopped';
        return;
      }
      if (code === DAEMON_NO_RESTART) {
        // restarting cannot help (a damaged job queue): it stays down, and says why, until an admin acts
        d.state = 'failed';
        const why = this.failedReason(d.name);
        if (why) d.lastExit += `: ${why}`;
        this.log.error({ child: d.name, exit: d.lastExit }, 'daemon cannot run until an admin acts; not restarting');
        return;
      }
      if (Date.now() - d.startedAt > 60_000) d.backoffMs = 1000;
      d.state = 'backoff';
      d.restarts++;
      this.log.warn({ child: d.name, exit: d.lastExit, restartInMs: d.backoffMs }, 'daemon died; restarting');
      d.timer = setTimeout(() => this.spawn(d), d.backoffMs);
      d.backoffMs = Math.min(this.maxBackoffSec() * 1000, d.backoffMs * 2);
    });
    child.on('error', (e) => this.log.error({ child: d.name, err: e.message }, 'could not start daemon'));
  }

  /**
   * Start a daemon again now: one that failed (DAEMON_NO_RESTART: an admin has mended what it refused), or
   * one waiting out its backoff. A running or starting one is left alone. Its state before, or undefined
   * when this master runs no daemon of that name.
   */
  revive(name: string): DaemonState['state'] | undefined {
    const d = this.daemons.get(name.toLowerCase());
    if (!d) return undefined;
    const before = d.state;
    if (before !== 'failed' && before !== 'backoff') return before;
    if (d.timer) clearTimeout(d.timer);
    d.timer = undefined;
    d.backoffMs = 1000;
    this.log.info({ child: d.name, was: before }, "starting daemon again at an admin's request");
    this.spawn(d);
    return before;
  }

  /** The first line of run/<daemon>.failed, at most 1000 characters (the daemon's own words). */
  private failedReason(name: string): string {
    const buf = Buffer.alloc(1000);
    let fd: number | undefined;
    try {
      fd = openSync(failedReasonFile(this.runDir, name), 'r');
      const n = readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString('utf8').split('\n')[0]!.trim();
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  signalAll(sig: NodeJS.Signals): void {
    for (const d of this.daemons.values()) d.child?.kill(sig);
  }

  /**
   * Stop every daemon in the stages of STOP_STAGES, each stage once the one before has exited: SIGTERM, then
   * SIGKILL for any still alive `graceMs` after the stop began. A stage reached later than that still gets a
   * quarter of the grace (at most 5 s), so the startds can evict their jobs even after a slow schedd.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const d of this.daemons.values()) if (d.timer) clearTimeout(d.timer);
    const deadline = performance.now() + graceMs;
    const floorMs = stageFloorMs(graceMs);
    const stageOf = (name: string) =>
      Math.max(
        0,
        STOP_STAGES.findIndex((s) => (s as readonly string[]).includes(name)),
      );
    for (let stage = 0; stage < STOP_STAGES.length; stage++) {
      const members = [...this.daemons.values()].filter((d) => stageOf(d.name) === stage);
      const exits = members.map(
        (d) =>
          new Promise<void>((resolve) => {
            if (!d.child) return resolve();
            d.child.once('exit', () => resolve());
            d.child.kill('SIGTERM');
          }),
      );
      const t = setTimeout(
        () => {
          for (const d of members) d.child?.kill('SIGKILL');
        },
        Math.max(floorMs, deadline - performance.now()),
      );
      await Promise.all(exits);
      clearTimeout(t);
    }
  }
}
