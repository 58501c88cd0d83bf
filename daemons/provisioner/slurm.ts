// Execute hosts as Slurm pilot jobs (glideinWMS's pilots, on the cluster a site already runs): each is an
// `sbatch` job whose script joins the pool as an execute host with its one-time join token and runs a
// startd until the allocation ends. Slurm ends it with SIGTERM (time limit, scancel, preemption): the
// startd then evicts what still runs, the schedd puts those jobs back to idle, and the pilot's home is
// removed. The token travels inside the batch script (sbatch reads it from stdin, so it is never in a file
// or an argument list here; Slurm keeps job scripts readable only by SlurmUser and the job's user) and the
// pilot hands it to `dsched join` on stdin.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { nowSeconds } from '../../lib/time.js';
import { hostConfigLines, sq, type HostHandle, type JoinSpec, type Provider } from './provider.js';

export interface SlurmOptions {
  /** Extra sbatch options (--partition, --time, --cpus-per-task, --account …). */
  sbatchArgs: string[];
  /** slurm.conf for the commands (SLURM_CONF); empty = Slurm's default. */
  slurmConf: string;
  /** A directory on the compute nodes, writable by no one else, for the pilots' output and startd logs;
   *  empty = none kept. */
  pilotDir: string;
  /** Host names (and job names) start with it. */
  prefix: string;
  /** `node dsched.js` as found on the compute nodes. */
  dsched: string[];
  hostConfig: string;
}

const JOB_NAME = 'dsched-pilot';

export class SlurmProvider implements Provider {
  readonly name = 'slurm';
  constructor(private o: SlurmOptions) {}

  private run(cmd: string, args: string[], input?: string): string {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (this.o.slurmConf) env.SLURM_CONF = this.o.slurmConf;
    const r = spawnSync(cmd, args, { env, input, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /** The batch script of one pilot. */
  script(host: string, j: JoinSpec): string {
    const dsched = this.o.dsched.map(sq).join(' ');
    const cfg = [
      `HOSTNAME = ${host}`,
      `STARTD_NAME = ${host}`,
      `COLLECTOR_HOST = ${j.collector}`,
      'DAEMON_LIST = STARTD',
      ...hostConfigLines(this.o.hostConfig),
    ];
    const setsCpus = cfg.some((l) => l.startsWith('NUM_CPUS '));
    return [
      '#!/bin/sh',
      `# dsched pilot: join the pool as execute host ${host} and run a startd until the allocation ends`,
      'set -u',
      'umask 022',
      // a fresh directory (mktemp -d: no name another user of the node can plant first), open like any
      // pool home so jobs running as their owners reach their sandboxes; the host key in it is 0600
      'home=$(mktemp -d "${TMPDIR:-/tmp}/dsched-pilot.XXXXXXXX") && chmod 755 "$home" || exit 1',
      'export DSCHED_HOME="$home" DSCHED_CONFIG=/dev/null',
      `cat > "$home/config" <<'DSCHED_PILOT_CONFIG'`,
      ...cfg,
      'DSCHED_PILOT_CONFIG',
      // the startd offers what Slurm allocated, not the whole node
      ...(setsCpus ? [] : ['echo "NUM_CPUS = ${SLURM_CPUS_ON_NODE:-0}" >> "$home/config"']),
      `token=${sq(j.token)}`,
      `printf '%s\\n' "$token" | ${dsched} join ${sq(j.collector)} - || { rm -rf "$home"; exit 1; }`,
      'unset token',
      `${dsched} startd &`,
      'pid=$!',
      // Slurm's SIGTERM at the end of the allocation (or scancel) goes to every process of the job, the
      // startd too, which then evicts its jobs back to the schedd's queue and withdraws its ads. The shell
      // must not die of it (a daemon ignores a repeated SIGTERM; only SIGQUIT stops it at once): it waits
      // for the startd, keeps its log beside the job's output and removes the home.
      "trap ':' TERM INT",
      'wait "$pid"; status=$?',
      'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done',
      ...(this.o.pilotDir
        ? [`cp "$home/log/startd.log" ${sq(`${this.o.pilotDir}/${host}.startd.log`)} 2>/dev/null`]
        : []),
      'rm -rf "$home"',
      'exit "$status"',
      '',
    ].join('\n');
  }

  async start(joins: JoinSpec[]): Promise<HostHandle[]> {
    const handles: HostHandle[] = [];
    for (const j of joins) {
      const host = `${this.o.prefix}${randomBytes(3).toString('hex')}`;
      const dir = this.o.pilotDir;
      const out = dir ? [`--chdir=${dir}`, `--output=${dir}/${host}.out`] : ['--chdir=/', '--output=/dev/null'];
      const args = ['--parsable', `--job-name=${JOB_NAME}:${host}`, ...out, ...this.o.sbatchArgs];
      const id = this.run('sbatch', args, this.script(host, j)).trim().split(';')[0]!;
      if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${id}`);
      handles.push({ id, host, provider: this.name, started: nowSeconds() });
    }
    return handles;
  }

  async stop(handle: HostHandle): Promise<void> {
    if (!/^\d+$/.test(handle.id)) throw new Error(`not a Slurm job id: ${handle.id}`);
    // SIGTERM to the pilot's processes, SIGKILL after Slurm's KillWait
    this.run('scancel', [handle.id]);
  }

  async list(): Promise<HostHandle[]> {
    const out = this.run('squeue', [
      '-h',
      '-u',
      userInfo().username,
      '-t',
      'PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED',
      '-o',
      '%i|%j',
    ]);
    const now = nowSeconds();
    const handles: HostHandle[] = [];
    for (const line of out.split('\n')) {
      const [id, name] = line.trim().split('|');
      if (!id || !name?.startsWith(`${JOB_NAME}:`)) continue;
      handles.push({ id, host: name.slice(JOB_NAME.length + 1), provider: this.name, started: now });
    }
    return handles;
  }
}
