// A real single-host Slurm cluster for tests, from Debian's slurm-wlm and munge: munged, slurmctld and one
// slurmd (node `dsnode`, 2 cpus, one partition) in the foreground, with a munge key, a slurm.conf, state and
// logs all in a temp directory made here, on free ports below the ephemeral range. Clients find it through
// SLURM_CONF. stop() cancels every job, waits for them to end, stops the daemons and removes the directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './pool.js';

const BINARIES = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'];

function which(cmd: string): boolean {
  return (
    spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0 || existsSync(`/usr/sbin/${cmd}`)
  );
}

/** Why a Slurm cluster cannot be started here (a reason to print with the skip), or undefined. */
export function slurmUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => !which(b));
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install slurm-wlm munge; .ci/run does)`;
  if (process.getuid?.() !== 0) return 'slurmd must run as root';
  return undefined;
}

const bin = (cmd: string) => (existsSync(`/usr/sbin/${cmd}`) ? `/usr/sbin/${cmd}` : cmd);

/** Whether nothing listens on `port` (any address) now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/**
 * Ports for slurmctld and slurmd, which must be written in slurm.conf before they bind them: taken below the
 * kernel's ephemeral range (ip_local_port_range), where no socket bound to port 0 or connecting out (every
 * daemon of the other tests) can be given one between this check and Slurm's bind, as a port picked with
 * listen(0) and closed could be; and distinct.
 */
async function slurmPorts(count: number): Promise<number[]> {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const from = Math.max(1024, Math.floor(low / 2));
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 1000) throw new Error(`no free port below the ephemeral range (from ${from} to ${low - 1})`);
    const port = from + Math.floor(Math.random() * (low - from));
    if (!ports.includes(port) && (await bindable(port))) ports.push(port);
  }
  return ports;
}

export class SlurmCluster {
  readonly conf: string;
  private procs: ChildProcess[] = [];
  private constructor(readonly dir: string) {
    this.conf = join(dir, 'slurm.conf');
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SLURM_CONF: this.conf };
  }

  /** Run a Slurm client command against this cluster. */
  cmd(cmd: string, args: string[]): { code: number; out: string; err: string } {
    const r = spawnSync(cmd, args, { env: this.env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
  }

  /** Job ids in the queue (any state but ended). */
  jobs(): string[] {
    return this.cmd('squeue', ['-h', '-o', '%i']).out.split(/\s+/).filter(Boolean);
  }

  static async start(): Promise<SlurmCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'dsched-slurm-'));
    chmodSync(dir, 0o755); // jobs' output and the pilots' homes go under it
    const c = new SlurmCluster(dir);
    try {
      await c.boot();
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  private spawnDaemon(name: string, args: string[]) {
    const out = openSync(join(this.dir, 'log', `${name}.out`), 'a');
    const p = spawn(bin(name), args, { env: this.env, stdio: ['ignore', out, out] });
    closeSync(out);
    p.on('error', () => {});
    this.procs.push(p);
  }

  private async boot() {
    const d = this.dir;
    for (const sub of ['state', 'spool', 'log', 'pilots']) mkdirSync(join(d, sub), { mode: 0o755 });
    const key = join(d, 'munge.key');
    const mk = spawnSync(bin('mungekey'), ['-c', '-k', key, '-b', '1024'], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`mungekey failed: ${mk.stderr}`);
    chmodSync(key, 0o600);
    const sock = join(d, 'munge.sock');
    this.spawnDaemon('munged', [
      '-F',
      '-f',
      '-S',
      sock,
      `--key-file=${key}`,
      `--log-file=${join(d, 'log', 'munged.log')}`,
      `--pid-file=${join(d, 'munged.pid')}`,
      `--seed-file=${join(d, 'munged.seed')}`,
    ]);
    const [ctldPort, dPort] = await slurmPorts(2);
    const host = hostname();
    writeFileSync(
      this.conf,
      [
        'ClusterName=dschedtest',
        `SlurmctldHost=${host}(127.0.0.1)`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${sock}`,
        `StateSaveLocation=${d}/state`,
        `SlurmdSpoolDir=${d}/spool`,
        `SlurmctldPidFile=${d}/slurmctld.pid`,
        `SlurmdPidFile=${d}/slurmd.pid`,
        `SlurmctldLogFile=${d}/log/slurmctld.log`,
        `SlurmdLogFile=${d}/log/slurmd.log`,
        // no cgroup plugins: the test host's cgroups are not Slurm's to take
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'SchedulerType=sched/builtin',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'ReturnToService=2',
        'MpiDefault=none',
        'KillWait=30',
        `NodeName=dsnode NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
        'PartitionName=dsq Nodes=dsnode Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const deadline = Date.now() + 30_000;
    while (!existsSync(sock)) {
      if (Date.now() > deadline) throw new Error(`munged did not make its socket\n${this.logs()}`);
      await sleep(50);
    }
    this.spawnDaemon('slurmctld', ['-D', '-f', this.conf]);
    this.spawnDaemon('slurmd', ['-D', '-N', 'dsnode', '-f', this.conf]);
    for (;;) {
      const r = this.cmd('sinfo', ['-h', '-n', 'dsnode', '-o', '%t']);
      if (r.code === 0 && r.out.trim() === 'idle') return;
      if (Date.now() > deadline)
        throw new Error(`the Slurm node did not become idle (${r.out.trim()} ${r.err.trim()})\n${this.logs()}`);
      await sleep(250);
    }
  }

  logs(): string {
    const out: string[] = [];
    for (const f of ['slurmctld.log', 'slurmd.log', 'munged.log', 'slurmctld.out', 'slurmd.out']) {
      const p = join(this.dir, 'log', f);
      if (existsSync(p)) out.push(`--- ${f}`, ...readFileSync(p, 'utf8').trim().split('\n').slice(-15));
    }
    return out.join('\n');
  }

  async stop(): Promise<void> {
    if (this.procs.length > 1) {
      this.cmd('scancel', ['--full', '-u', 'root']);
      const deadline = Date.now() + 60_000;
      while (this.jobs().length && Date.now() < deadline) await sleep(250);
    }
    for (const p of [...this.procs].reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
