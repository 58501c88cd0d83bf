// Running the installed commands (the launcher, dist/cli/dcmd) for the command agent's tests: each test gets
// its own socket folder (XDG_RUNTIME_DIR) and kills the agents it started, so none outlives the suite.
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, runChild, type RunOptions, type RunResult, type TestPool } from './pool.js';

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

  /** The commands' environment: the pool's, this socket folder, and an agent that ends a minute after its last command. */
  get env(): NodeJS.ProcessEnv {
    const { DSCHED_AGENT: _off, ...env } = this.pool.env;
    return { ...env, XDG_RUNTIME_DIR: this.runtime, DSCHED_AGENT_IDLE: '60' };
  }

  get socketDir(): string {
    return join(this.runtime, 'dsched');
  }

  /** Run `cmd` through the launcher. */
  run(cmd: string, args: string[], opts: Parameters<typeof runChild>[2] = {}): Promise<LauncherRun> {
    return runChild(
      join(this.bin, cmd),
      args,
      {
        ...opts,
        env: { ...this.env, ...opts.env },
      },
      this.pool.work,
    );
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
