// Running the installed commands (the launcher, dist/cli/dcmd) for the command agent's tests: each test gets
// its own socket folder (XDG_RUNTIME_DIR) and kills the agents it started, so none outlives the suite.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, type RunOptions, type RunResult, type TestPool } from './pool.js';

export const HOT = ['dsubmit', 'dq', 'drm', 'dhold', 'drelease', 'dhistory', 'dstatus'];

export interface LauncherRun extends RunResult {
  signal: NodeJS.Signals | null;
}

/** The pids of agents whose socket lies under `dir`. */
export function agentPids(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('dsched-agent.js')) && cmd.some((a) => a.startsWith(dir))) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

export class Launcher {
  /** Symlinks named as the commands, to the launcher (as npm installs them). */
  readonly bin = mkdtempSync(join(tmpdir(), 'dsched-bin-'));
  /** XDG_RUNTIME_DIR for the commands: the agent's socket goes in runtime/dsched. */
  readonly runtime = mkdtempSync(join(tmpdir(), 'dsched-run-'));

  constructor(
    readonly pool: TestPool,
    launcher = join(DIST, 'cli', 'dcmd'),
  ) {
    chmodSync(this.runtime, 0o700);
    chmodSync(this.bin, 0o755);
    for (const c of HOT) symlinkSync(launcher, join(this.bin, c));
  }

  get socketDir(): string {
    return join(this.runtime, 'dsched');
  }

  /** Run `cmd` through the launcher; `onSpawn` gets the child (to signal it). */
  run(
    cmd: string,
    args: string[],
    opts: RunOptions & {
      keepStdin?: boolean;
      onSpawn?: (pid: number) => void;
      /** Told the standard error so far at each piece of it. */
      onStderr?: (text: string) => void;
    } = {},
  ): Promise<LauncherRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.bin, cmd), args, {
        cwd: opts.cwd ?? this.pool.work,
        env: { ...this.pool.env, XDG_RUNTIME_DIR: this.runtime, DSCHED_AGENT_IDLE: '60', ...opts.env },
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
        reject(new Error(`${cmd} ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, signal, stdout, stderr });
      });
      // a command that never reads its input (or ran with the agent, which asks for it) closes the pipe
      child.stdin.on('error', () => undefined);
      if (child.pid) opts.onSpawn?.(child.pid);
      if (!opts.keepStdin) child.stdin.end(opts.input ?? '');
      else if (opts.input) child.stdin.write(opts.input);
    });
  }

  /** Wait until a command runs through an agent (the first ones start it and run without); bounded. */
  async waitForAgent(opts: RunOptions = {}): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await this.run('dq', ['-af', 'ClusterId', '--debug'], opts);
      if (/the agent at .* runs the command/.test(r.stderr)) return;
      if (Date.now() > deadline) throw new Error(`no agent came up: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  agents(): number[] {
    return agentPids(this.runtime);
  }

  /** Kill this launcher's agents and remove its folders. */
  close(): void {
    for (const pid of this.agents()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(this.bin, { recursive: true, force: true });
    rmSync(this.runtime, { recursive: true, force: true });
  }
}
