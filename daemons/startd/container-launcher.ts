// The container launcher: `universe = container` jobs (a `ContainerImage`) through podman, run by root.
//
// A job starts in two steps through the same spawner as any job (starter.ts), so no fork happens here:
// 1. as its owner: the sandbox is made the owner's, the job's files are written into it, its initial
//    directory entered and its stdin/stdout/stderr opened (created the owner's), exactly as for a process
//    job; what runs is the container init helper's `--check` (it exits at once);
// 2. as root: `podman run` in a root-only control directory (the job's environment file, podman's pid file
//    and its stderr, where the reason of a failed start is read). Inside, the init helper
//    (spawner/container-init.c, mounted read-only) runs as the owner with no capabilities: it opens the
//    job's files with the owner's rights, runs the job and passes on signals (podman proxies those it gets).
// Only the sandbox is mounted: a container job runs on transferred files (HTCondor's docker universe does
// the same), so no path the owner names is mounted by root. The image name is checked and passed after
// `--`. Containers carry this startd's label: what a killed startd left is removed when it starts again.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { HoldCode } from '../../lib/job-status.js';
import {
  jobUsage,
  type LaunchHandle,
  type LaunchRecord,
  type Launcher,
  type JobUsage,
  type PreviousEnds,
} from './launcher.js';
import type { LaunchRefusal, LaunchSpec } from './launch-spec.js';
import { cgroupProcs, measureJobs } from './proc-usage.js';
import { SPAWNER_PATH } from './spawner-protocol.js';
import { removeSandbox, type JobOutcome, type StartedJob, type StartOptions, type Starter } from './starter.js';

/** The init helper, built beside the spawner (scripts/build-spawner.mjs). */
export const CONTAINER_INIT_PATH = join(dirname(SPAWNER_PATH), 'dsched-container-init');
/** Where the helper is mounted inside the container. */
const INIT_IN_CONTAINER = '/.dsched-init';
/** podman's exit code for "the container did not run" (and the helper's, with its reason on stderr) */
const NOT_RUN = 125;
const PODMAN_NPROC = 32768;
const PODMAN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' };

/** How this host runs containers, as found at start (`probePodman`). */
export interface PodmanSetup {
  /** the podman program */
  podman: string;
  /** options before `run` (PODMAN_ARGS, and the OCI runtime the probe found working) */
  globalArgs: string[];
  /** `podman run --pull` */
  pull: string;
  /** `podman --version`, e.g. "podman version 4.3.1" */
  version: string;
  /** the startd's resource limits, passed on (a root without CAP_SYS_RESOURCE cannot raise them) */
  ulimits: string[];
  /** whether a memory limit can be set (a memory cgroup controller) */
  memoryLimit: boolean;
  /** the label value marking this startd's containers */
  instance: string;
  /** where the control directories go (the startd's execute directory) */
  controlDir: string;
}

/** podman's image transports (containers-transports(5)) besides registry references. */
const TRANSPORTS = new Set([
  'docker',
  'docker-archive',
  'docker-daemon',
  'oci',
  'oci-archive',
  'dir',
  'containers-storage',
  'sif',
  'ostree',
]);

/**
 * An image name as podman takes it: a registry reference (`registry/name:tag@digest`, optionally
 * `docker://`); no option, no space or control character, no transport that reads a path of this host.
 * Hostile names never reach podman's option parser (and the name goes after `--`).
 */
export function checkImage(image: string | undefined): string | undefined {
  if (!image) return 'The job names no container image (container_image)';
  if (image.length > 1024) return 'The container image name is longer than 1024 characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/.test(image))
    return `The container image name ${JSON.stringify(image.slice(0, 200))} is not valid (letters, digits and . _ : / @ + - only, not starting with -)`;
  // podman's other transports read a path of this host as root (an archive, a directory): registries only
  const transport = /^([a-z-]+):/.exec(image)?.[1];
  if (transport && TRANSPORTS.has(transport) && !image.startsWith('docker://'))
    return `The container image ${JSON.stringify(image.slice(0, 200))} names podman's ${transport}: transport; only registry images (NAME[:TAG] or docker://NAME) run here`;
  return undefined;
}

/** Why a mount source cannot go into podman's `--mount` syntax, if it cannot. */
function badMountPath(p: string): string | undefined {
  return /[,:\n\0=]/.test(p)
    ? `the path ${JSON.stringify(p)} holds a character a container mount cannot take`
    : undefined;
}

interface ContainerJob extends LaunchHandle {
  name: string;
  /** root's directory for this run: env file, pid file, podman's stderr */
  control: string;
  spec?: LaunchSpec;
  /** the owner's step (sandbox and files), then podman's */
  prepJob?: StartedJob;
  podmanJob?: StartedJob;
  cancelled?: boolean;
  /** its removal was asked of podman */
  killed?: boolean;
  /** podman itself was killed (or its spawner died): its container may be left */
  clientGone?: boolean;
  /** the startd signalled it: podman may have gone before its container ran (a stop during its start) */
  signalled?: boolean;
  run?: string;
  pid?: number;
  cgroup?: string;
  running?: boolean;
  files?: StartedJob['files'];
  stdout?: string;
  stderr?: string;
}

/** Run a podman command in the background; its failure only logs (the container may be gone already). */
type Runner = (args: string[]) => void;

export class ContainerLauncher implements Launcher {
  readonly kind = 'container' as const;
  private seq = 0;

  constructor(
    private starter: Starter,
    readonly setup: PodmanSetup,
    private onError: (msg: string) => void = () => {},
    private runPodman: Runner = (args) =>
      execFile(setup.podman, [...setup.globalArgs, ...args], { env: PODMAN_ENV, timeout: 60_000 }, (e) => {
        if (e && !/no such container|no container with name/i.test(String(e.message)))
          onError(`podman ${args[0]} failed: ${e.message}`);
      }),
  ) {}

  private job(h: LaunchHandle): ContainerJob {
    return h as ContainerJob;
  }

  start(opts: StartOptions): LaunchHandle {
    let resolve!: (o: JobOutcome) => void;
    const id = `${basename(opts.sandbox)}_${++this.seq}`;
    const j: ContainerJob = {
      sandbox: opts.sandbox,
      done: new Promise<JobOutcome>((r) => (resolve = r)),
      name: `dsched_${this.setup.instance}_${id}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
      control: join(this.setup.controlDir, `ctl_${id}`),
    };
    const fail = (holdCode: number, message: string) =>
      resolve({ kind: 'failed', exitCode: holdCode, holdCode, message });
    // step 1: the owner's sandbox and files, as for any job
    const prep = this.starter.start({
      ...opts,
      journal: undefined,
      onRunning: undefined,
      rewrite: (spec) => {
        const refusal = this.refuse(spec);
        if (refusal) return refusal;
        j.spec = spec;
        j.stdout = spec.stdout;
        j.stderr = spec.stderr;
        return { ...spec, executable: CONTAINER_INIT_PATH, argv: ['--check'], keepSandbox: true };
      },
    });
    j.prepJob = prep;
    void prep.done.then((o) => {
      const spec = j.spec;
      if (o.kind !== 'exited' || o.exitCode !== 0 || o.signal !== undefined || !spec || j.cancelled) {
        if (spec && !spec.keepSandbox) removeSandbox(opts.sandbox);
        if (o.kind === 'failed' || o.kind === 'lost') return resolve(o);
        if (j.cancelled) return resolve({ kind: 'exited', exitCode: 0, signal: 9 });
        return fail(
          HoldCode.FailedToCreateProcess,
          `The container job's sandbox could not be prepared (${o.exitCode})`,
        );
      }
      // step 2: podman, as root, in its own directory
      const run = this.starter.start({
        ad: opts.ad,
        sandbox: j.control,
        slotName: opts.slotName,
        extraEnv: {},
        journal: opts.journal,
        onRunning: () => {
          j.running = true;
          j.files = prep.files;
          opts.onRunning?.();
        },
        rewrite: () => this.podmanRun(j, spec),
      });
      j.podmanJob = run;
      j.run = run.run; // its end's key in the spawner's journal
      void run.done.then((r) => {
        j.clientGone = r.kind === 'lost' || r.signal !== undefined;
        resolve(this.outcome(j, r));
      });
    });
    return j;
  }

  /** Why this job cannot run in a container here, if it cannot. */
  private refuse(spec: LaunchSpec): LaunchRefusal | undefined {
    const code = HoldCode.FailedToCreateProcess;
    const bad = checkImage(spec.image);
    if (bad) return { holdCode: code, message: bad };
    if (!spec.keepSandbox)
      return {
        holdCode: code,
        message:
          'A container job runs on transferred files: set should_transfer_files = YES (its sandbox is the only directory mounted into the container)',
      };
    for (const p of [spec.sandbox, spec.cwd, spec.stdin, spec.stdout, spec.stderr]) {
      if (p === '/dev/null') continue;
      if (p !== spec.sandbox && !p.startsWith(`${spec.sandbox}/`))
        return { holdCode: code, message: `The container job's file ${p} is outside its sandbox` };
      const why = badMountPath(p);
      if (why) return { holdCode: code, message: `Cannot run the job in a container: ${why}` };
    }
    for (const k of Object.keys(spec.env))
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k))
        return {
          holdCode: code,
          message: `The environment variable name ${JSON.stringify(k)} cannot be passed into a container`,
        };
    for (const [k, v] of Object.entries(spec.env))
      if (/[\n\0]/.test(v))
        return {
          holdCode: code,
          message: `The environment variable ${k} holds a line break, which cannot be passed into a container`,
        };
    return undefined;
  }

  /** The `podman run` of a prepared job: its spec in the control directory's terms. */
  private podmanRun(j: ContainerJob, spec: LaunchSpec): LaunchSpec {
    const s = this.setup;
    const owner = spec.owner;
    // the arguments after the program (the spawner puts it first)
    const args = [
      ...s.globalArgs,
      'run',
      '--rm',
      '--name',
      j.name,
      '--label',
      `dsched.startd=${s.instance}`,
      `--pull=${s.pull}`,
      '--network=host',
      '--cap-drop=all',
      '--security-opt=no-new-privileges',
      '--pidfile',
      join(j.control, 'pid'),
      '--env-file',
      join(j.control, 'env'),
      ...s.ulimits.flatMap((u) => ['--ulimit', u]),
      '--mount',
      `type=bind,src=${CONTAINER_INIT_PATH},dst=${INIT_IN_CONTAINER},ro`,
      '--mount',
      `type=bind,src=${spec.sandbox},dst=${spec.sandbox}`,
      '--entrypoint',
      INIT_IN_CONTAINER,
    ];
    if (owner) {
      args.push('--user', `${owner.uid}:${owner.gid}`);
      for (const g of owner.groups ?? []) if (g !== owner.gid) args.push('--group-add', String(g));
    }
    // the submitter's umask inside the container, as the spawner gives it to a process job (podman's is 0022)
    if (spec.umask !== undefined) args.push(`--umask=0${spec.umask.toString(8).padStart(3, '0')}`);
    // the job's core file size limit, as the spawner sets a process job's (podman's -1 is unlimited)
    if (spec.coreSize !== undefined) {
      const core = spec.coreSize === 'unlimited' ? '-1' : BigInt(spec.coreSize).toString();
      args.push('--ulimit', `core=${core}:${core}`);
    }
    if (s.memoryLimit && spec.limits.memoryMb > 0)
      args.push(`--memory=${spec.limits.memoryMb}m`, `--memory-swap=${spec.limits.memoryMb}m`);
    args.push('--', spec.image!, spec.cwd, spec.stdin, spec.stdout, spec.stderr, spec.executable, ...spec.argv);
    const envFile = Object.entries(spec.env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    return {
      ...spec,
      executable: s.podman,
      argv: args,
      cwd: j.control,
      env: { ...PODMAN_ENV },
      umask: undefined,
      coreSize: undefined,
      stdin: '/dev/null',
      stdout: '/dev/null',
      stderr: join(j.control, 'podman.err'),
      sandbox: j.control,
      // the execute folder's room is judged by the job's sandbox, not by podman's control folder
      watch: spec.sandbox,
      files: { env: envFile },
      execFiles: undefined,
      // the control directory is removed once its reason for a failure is read (cleanUp)
      keepSandbox: true,
      owner: undefined,
    };
  }

  /** podman's end as the job's: its status, or why the container did not run. */
  private outcome(j: ContainerJob, r: JobOutcome): JobOutcome {
    if (r.kind !== 'exited' || r.signal !== undefined) return r;
    if (r.exitCode === NOT_RUN) {
      const why = this.reason(j);
      if (why) return { kind: 'failed', exitCode: why.code, holdCode: why.code, message: why.message };
    }
    // the init helper (and podman) give a job killed by signal N as 128 + N
    if (r.exitCode > 128 && r.exitCode <= 128 + 64) return { ...r, exitCode: 0, signal: r.exitCode - 128 };
    return r;
  }

  /** The reason podman or the init helper gave for not running the job (their stderr). */
  private reason(j: ContainerJob): { code: number; message: string } | undefined {
    let text: string;
    try {
      text = readFileSync(join(j.control, 'podman.err'), 'utf8').slice(-8192);
    } catch {
      return undefined;
    }
    const held = /^dsched-container-init: hold (\d+): (.*)$/m.exec(text);
    if (held) return { code: Number(held[1]), message: held[2]! };
    const err = text
      .split('\n')
      .filter((l) => /^Error: /.test(l))
      .pop();
    if (!err) return undefined;
    return {
      code: HoldCode.FailedToCreateProcess,
      message: `Cannot run the job's container (image ${j.spec?.image}): ${err.slice('Error: '.length).slice(0, 1000)}`,
    };
  }

  /** The container's first process (the init helper), from podman's pid file. */
  private containerPid(j: ContainerJob): number | undefined {
    if (j.pid) return j.pid;
    try {
      const pid = Number(readFileSync(join(j.control, 'pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1) {
        j.pid = pid;
        j.cgroup = containerCgroup(pid);
      }
    } catch {
      /* not written yet */
    }
    return j.pid;
  }

  private pids(j: ContainerJob): number[] {
    const pid = this.containerPid(j);
    if (!pid) return [];
    return measureJobs([{ pgid: pid, also: [pid, ...(j.cgroup ? cgroupProcs(j.cgroup) : [])] }])[0]!.pids;
  }

  signal(h: LaunchHandle, sig: NodeJS.Signals): void {
    const j = this.job(h);
    if (!j.podmanJob) {
      // still preparing: it ends before podman ever runs
      j.cancelled = true;
      if (j.prepJob) this.starter.signal(j.prepJob, 'SIGKILL');
      return;
    }
    // podman passes every signal it gets on to the container, but for SIGKILL, which ends podman alone
    if (sig !== 'SIGSTOP' && sig !== 'SIGCONT') j.signalled = true;
    this.starter.signal(j.podmanJob, sig);
    if (sig === 'SIGKILL') this.remove(j);
  }

  /** Kill and remove the container (podman's own --rm may not have run); `again` even if asked before. */
  private remove(j: ContainerJob, again = false) {
    if (j.killed && !again) return;
    j.killed = true;
    this.runPodman(['rm', '--force', '--ignore', '--time=0', j.name]);
  }

  suspend(h: LaunchHandle): number {
    const pids = this.pids(this.job(h));
    for (const p of pids) signalPid(p, 'SIGSTOP');
    return pids.length;
  }

  resume(h: LaunchHandle): void {
    for (const p of this.pids(this.job(h))) signalPid(p, 'SIGCONT');
  }

  usage(hs: readonly LaunchHandle[]): JobUsage[] {
    const js = hs.map((h) => this.job(h));
    const live = js.filter((j) => this.containerPid(j));
    const measured = measureJobs(
      live.map((j) => ({ pgid: j.pid!, also: [j.pid!, ...(j.cgroup ? cgroupProcs(j.cgroup) : [])] })),
    );
    const by = new Map(live.map((j, i) => [j, measured[i]!]));
    return js.map((j) => jobUsage(by.get(j)));
  }

  kill(h: LaunchHandle): void {
    const j = this.job(h);
    for (const p of this.pids(j)) signalPid(p, 'SIGKILL');
    this.remove(j);
  }

  /** podman keeps the container in a cgroup of its own, with the slot's memory as its limit (`--memory`). */
  limitMemory(): void {}

  /** The container's cgroup is gone with it: an OOM kill shows as the job killed by SIGKILL. */
  memoryKilled(): undefined {
    return undefined;
  }

  hasEnded(h: LaunchHandle): boolean {
    const j = this.job(h);
    return j.podmanJob ? this.starter.hasEnded(j.podmanJob) : false;
  }

  list(hs: readonly LaunchHandle[]): LaunchRecord[] {
    return hs.map((h) => {
      const j = this.job(h);
      return { launcher: this.kind, sandbox: j.sandbox, ref: { name: j.name, control: j.control } };
    });
  }

  previousEnds(): Promise<PreviousEnds> {
    return Promise.resolve({ ends: [], drop: () => {} });
  }

  /**
   * Remove every container of this startd that a previous run left (its records, and any other container
   * carrying this startd's label), with their control directories.
   */
  recover(records: readonly LaunchRecord[]): number {
    const s = this.setup;
    let names: string[] = [];
    try {
      const out = execFileSync(
        s.podman,
        [...s.globalArgs, 'ps', '--all', '--filter', `label=dsched.startd=${s.instance}`, '--format', '{{.Names}}'],
        { env: PODMAN_ENV, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      names = out.split('\n').filter(Boolean);
    } catch (e) {
      this.onError(`cannot list the containers a previous startd left: ${(e as Error).message}`);
    }
    if (names.length)
      try {
        execFileSync(s.podman, [...s.globalArgs, 'rm', '--force', '--ignore', '--time=0', ...names], {
          env: PODMAN_ENV,
          timeout: 120_000,
          stdio: 'ignore',
        });
      } catch (e) {
        this.onError(`cannot remove the containers a previous startd left: ${(e as Error).message}`);
      }
    for (const r of records)
      if (r.launcher === this.kind && typeof r.ref.control === 'string' && r.ref.control.startsWith(s.controlDir))
        rmSync(r.ref.control, { recursive: true, force: true });
    return names.length;
  }

  cleanUp(h: LaunchHandle): Promise<void> {
    const j = this.job(h);
    // once podman has ended: nothing can create the container any more
    if (j.clientGone || j.signalled) this.remove(j, true);
    if (j.spec && !j.spec.keepSandbox) removeSandbox(j.sandbox);
    rmSync(j.control, { recursive: true, force: true });
    return Promise.resolve();
  }

  /** The spawner journals podman's end as any job's. */
  journaled(h: LaunchHandle): void {
    const j = this.job(h);
    if (j.podmanJob) this.starter.journaled(j.podmanJob);
  }
}

/** The cgroup directory a process is in: its memory controller's (cgroup v1), else the unified one. */
function containerCgroup(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(text);
  if (v1 && existsSync('/sys/fs/cgroup/memory')) return join('/sys/fs/cgroup/memory', v1[1]!);
  const v2 = /^0::(.*)$/m.exec(text);
  if (v2) return join(existsSync('/sys/fs/cgroup/cgroup.procs') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified', v2[1]!);
  return undefined;
}

function signalPid(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** The slot ad attributes of a host whose container launcher runs (HTCondor's names, and dsched's list). */
export function launcherAttrs(kinds: readonly string[], setup?: PodmanSetup): Record<string, string> {
  const attrs: Record<string, string> = { StartdLaunchers: JSON.stringify(kinds.join(' ')) };
  if (!setup) return { ...attrs, HasContainer: 'false' };
  // podman is the docker-compatible runtime here, as when HTCondor's DOCKER knob names podman
  return {
    ...attrs,
    HasContainer: 'true',
    HasDocker: 'true',
    DockerVersion: JSON.stringify(setup.version),
    HasDockerURL: String(setup.pull !== 'never'),
  };
}

/** The launcher names STARTD_LAUNCHERS gives (process is always there), or what is wrong with it. */
export function launcherNames(text: string): string[] | string {
  const names = text
    .split(/[\s,]+/)
    .map((n) => n.toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => n !== 'process' && n !== 'container');
  if (unknown.length)
    return `STARTD_LAUNCHERS names unknown launchers: ${unknown.join(', ')} (expected process, container)`;
  return ['process', ...names.filter((n) => n === 'container').slice(0, 1)];
}

const run = promisify(execFile);

/** The startd's resource limits as podman --ulimit values (a root without CAP_SYS_RESOURCE cannot raise them). */
function ownLimits(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const [name, label] of [
    ['nofile', 'Max open files'],
    ['nproc', 'Max processes'],
  ] as const) {
    const m = new RegExp(`^${label}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    // podman's conmon holds at most its default of 32768 processes, which the container cannot exceed
    const cap = name === 'nproc' ? PODMAN_NPROC : Infinity;
    const v = (x: string) => String(Math.min(x === 'unlimited' ? Infinity : Number(x), cap)).replace('Infinity', '-1');
    if (m) out.push(`${name}=${v(m[1]!)}:${v(m[2]!)}`);
  }
  return out;
}

/** Whether a cgroup memory controller is there for podman's --memory. */
function hasMemoryController(): boolean {
  try {
    if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) return true;
    return readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('memory');
  } catch {
    return false;
  }
}

/**
 * Find out whether podman runs containers here, and how: it runs the init helper from a directory root
 * file system (no image, no registry) with podman's default OCI runtime, then with runc (crun refuses a
 * hybrid cgroup v1/v2 host), and with and without a memory limit. The setup that worked, or why none did.
 */
export async function probePodman(opts: {
  podman: string;
  args: string;
  pull: string;
  instance: string;
  controlDir: string;
}): Promise<PodmanSetup | string> {
  const podman = opts.podman.includes('/')
    ? opts.podman
    : ['/usr/local/bin', '/usr/bin', '/bin'].map((d) => join(d, opts.podman)).find(existsSync);
  if (!podman || !existsSync(podman)) return `podman was not found (PODMAN = ${opts.podman})`;
  if (!existsSync(CONTAINER_INIT_PATH)) return `the container init helper ${CONTAINER_INIT_PATH} was not built`;
  if (!['missing', 'never', 'always', 'newer'].includes(opts.pull))
    return `CONTAINER_PULL = ${opts.pull}: expected missing, never, always or newer`;
  const args = opts.args.split(/\s+/).filter(Boolean);
  const env = PODMAN_ENV;
  let version: string;
  try {
    version = (await run(podman, ['--version'], { env, timeout: 30_000 })).stdout.trim();
  } catch (e) {
    return `${podman} --version failed: ${(e as Error).message}`;
  }
  // control directories of a previous run of this startd are gone with their containers (recover)
  mkdirSync(opts.controlDir, { recursive: true });
  for (const n of readdirSync(opts.controlDir))
    if (n.startsWith('ctl_')) rmSync(join(opts.controlDir, n), { recursive: true, force: true });
  const root = join(opts.controlDir, `ctl_probe_${process.pid}`);
  const ulimits = ownLimits();
  const errors: string[] = [];
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    copyFileSync(CONTAINER_INIT_PATH, join(root, 'init'));
    chmodSync(join(root, 'init'), 0o755);
    const runtimes =
      args.includes('--runtime') || args.some((a) => a.startsWith('--runtime=')) ? [[]] : [[], ['--runtime', 'runc']];
    const memory = hasMemoryController() ? [true, false] : [false];
    for (const rt of runtimes)
      for (const mem of memory) {
        const globalArgs = [...args, ...rt];
        try {
          await run(
            podman,
            [
              ...globalArgs,
              'run',
              '--rm',
              '--network=host',
              ...ulimits.flatMap((u) => ['--ulimit', u]),
              ...(mem ? ['--memory=64m'] : []),
              '--rootfs',
              root,
              '/init',
              '--check',
            ],
            { env, timeout: 60_000 },
          );
          return {
            podman,
            globalArgs,
            pull: opts.pull,
            version,
            ulimits,
            memoryLimit: mem,
            instance: opts.instance,
            controlDir: opts.controlDir,
          };
        } catch (e) {
          const err = e as { stderr?: string; message: string };
          errors.push(
            `${[podman, ...globalArgs, 'run'].join(' ')}: ${(err.stderr || err.message).trim().split('\n').pop()}`,
          );
        }
      }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return `podman cannot run a container here: ${errors.join('; ')}`;
}
