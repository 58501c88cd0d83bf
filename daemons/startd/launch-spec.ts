// The job ad → launch spec translation: what to run, with which arguments, environment, files, owner and
// limits, in which sandbox. Pure (no file system, no process): every launcher (launcher.ts) starts from a
// spec, so a container or pod launcher reads the same job the same way the process launcher does.
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { ClassAd } from '../../grammar/classad/index.js';
// The startd needs only the argument/environment syntaxes, not the whole submit language.
import { parseEnv, splitArgs } from '../../grammar/submit/args-env.js';
import { HoldCode } from '../../lib/job-status.js';
import { STDERR_NAME, STDOUT_NAME } from '../../lib/transfer.js';
import { jobUmask } from '../../lib/umask.js';

/** A PBS job's copy of its script in the sandbox (transfer.ts leaves it out of the output). */
export const PBS_SCRIPT_NAME = '.pbs_script';

/** The identity a job runs as (the owner's, when the startd is root). */
export interface RunAs {
  uid: number;
  gid: number;
  groups?: number[];
}

/** What the startd adds to the job ad to make a launch spec. */
export interface LaunchContext {
  sandbox: string;
  slotName: string;
  runAs?: RunAs;
  /** variables that override the job's own environment */
  extraEnv: Record<string, string>;
  /** variables the job gets unless its own environment sets them */
  defaultEnv?: Record<string, string>;
  /** The job runs on transferred files: its executable, stdin and output live in the sandbox. */
  transfer?: boolean;
  /** more files for the sandbox */
  files?: Record<string, string>;
  /** the directory of the tools jobs find on their PATH (dchirp) */
  jobBin: string;
  /** the claimed slot's size (else the job's requests) */
  slot?: { memoryMb: number; cpus: number };
  /** why the startd will not run the job on this slot after all (a `$$()` it could not fill in) */
  refusal?: LaunchRefusal;
}

export interface LaunchLimits {
  /** the slot's memory, MB (0: none) */
  memoryMb: number;
  cpus: number;
  /** AllowedJobDuration, seconds */
  maxSeconds?: number;
}

/** A job's process as a launcher hands it on; the spawner's start request carries the same fields. */
export interface JobProcess {
  argv: string[];
  /** the working directory: the sandbox with file transfer, else Iwd */
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  stdout: string;
  stderr: string;
  sandbox: string;
  /** the job ad as written to `.job.ad` in the sandbox */
  adText: string;
  /** the submitter's umask (lib/umask.ts): the job runs with it and its stdout and stderr are made under it (none: the spawner's) */
  umask?: number;
  /** the core file size limit, bytes, soft and hard (submit's coresize, CoreSize; none: the spawner's) */
  coreSize?: number | 'unlimited';
  /** the folder looked at for room when the job ends (default: the sandbox): a container job's own sandbox */
  watch?: string;
  /** more files for the sandbox (name → content), written 0600 for the job's owner */
  files?: Record<string, string>;
  /** the same, written 0700 (a PBS job's copy of its script) */
  execFiles?: Record<string, string>;
}

export interface LaunchSpec extends JobProcess {
  executable: string;
  /** the sandbox stays after the end (its output is fetched) */
  keepSandbox: boolean;
  owner?: RunAs;
  limits: LaunchLimits;
  /** what the job asks to run in, when it is not a bare process */
  sandboxKind: 'process' | 'container';
  /** ContainerImage, for a container job */
  image?: string;
}

/** A job that cannot be launched: the HTCondor hold reason code and why. */
export interface LaunchRefusal {
  holdCode: number;
  message: string;
}

function str(ad: ClassAd, name: string): string | undefined {
  const v = ad.lookupJS(name);
  return typeof v === 'string' ? v : undefined;
}

function num(ad: ClassAd, name: string): number | undefined {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** CoreSize as a limit: bytes, a negative one (or one past what a limit holds) unlimited, as HTCondor's starter takes it. */
function coreSizeOf(ad: ClassAd): LaunchSpec['coreSize'] {
  const v = num(ad, 'CoreSize');
  if (v === undefined) return undefined;
  return v < 0 || v >= 2 ** 63 ? 'unlimited' : Math.floor(v);
}

/** What the job asks to run in: a container when it names an image or wants one (HTCondor's container universe). */
export function sandboxKindOf(ad: ClassAd): LaunchSpec['sandboxKind'] {
  return str(ad, 'ContainerImage') || ad.lookupJS('WantContainer') === true ? 'container' : 'process';
}

/** Translate a job ad into a launch spec, or say why it cannot be launched (hold code 6: StartFailed). */
export function launchSpec(ad: ClassAd, ctx: LaunchContext): LaunchSpec | LaunchRefusal {
  if (ctx.refusal) return ctx.refusal;
  const { sandbox } = ctx;
  const transfer = ctx.transfer === true;
  const iwd = str(ad, 'Iwd') ?? sandbox;
  const cwd = transfer ? sandbox : iwd;
  const cmd = str(ad, 'Cmd');
  if (!cmd) return { holdCode: HoldCode.FailedToCreateProcess, message: 'The job has no executable (Cmd)' };
  let exe =
    transfer && ad.lookupJS('TransferExecutable') !== false
      ? join(sandbox, basename(cmd))
      : isAbsolute(cmd)
        ? cmd
        : resolve(iwd, cmd);
  let argv: string[];
  let env: Record<string, string>;
  try {
    argv = splitArgs(str(ad, 'Args'), str(ad, 'Arguments'));
    env = parseEnv(str(ad, 'Env'), str(ad, 'Environment'));
  } catch (e) {
    return {
      holdCode: HoldCode.FailedToCreateProcess,
      message: `Invalid job arguments or environment: ${(e as Error).message}`,
    };
  }
  env = {
    ...ctx.defaultEnv,
    ...env,
    ...ctx.extraEnv,
    _CONDOR_SCRATCH_DIR: sandbox,
    TMPDIR: sandbox,
    _CONDOR_SLOT: ctx.slotName,
    _CONDOR_JOB_AD: join(sandbox, '.job.ad'),
  };
  // dchirp on the job's PATH, as HTCondor gives jobs condor_chirp (the job's own PATH, or the usual one)
  env.PATH = `${ctx.jobBin}:${env.PATH || '/usr/local/bin:/usr/bin:/bin'}`;
  let execFiles: Record<string, string> | undefined;
  if (ad.lookupJS('IsPbsJob') === true) {
    env.PBS_TMPDIR = sandbox;
    // the script as it was submitted runs, from the sandbox (as PBS runs its spooled copy)
    const text = str(ad, 'PbsScript');
    const path = str(ad, 'PbsScriptPath');
    if (text !== undefined && path) {
      const copy = join(sandbox, PBS_SCRIPT_NAME);
      execFiles = { [PBS_SCRIPT_NAME]: text };
      if (exe === path) exe = copy;
      argv = argv.map((a) => (a === path ? copy : a));
    }
  }
  const given = (n: string) => {
    const v = str(ad, n);
    return v && v !== '/dev/null' ? v : undefined;
  };
  // with file transfer stdin arrives in the sandbox and stdout/stderr are written there, then sent back
  const file = (name: string | undefined, inSandbox: string) =>
    !name ? '/dev/null' : transfer ? join(sandbox, inSandbox) : isAbsolute(name) ? name : resolve(cwd, name);
  const inName = given('In');
  const outName = given('Out');
  const errName = given('Err');
  const stdout = file(outName, STDOUT_NAME);
  const duration = num(ad, 'AllowedJobDuration');
  const sandboxKind = sandboxKindOf(ad);
  return {
    executable: exe,
    argv,
    cwd,
    env,
    stdin: file(inName, inName ? basename(inName) : ''),
    stdout,
    stderr: errName && errName === outName ? stdout : file(errName, STDERR_NAME),
    sandbox,
    adText: ad.toLong(),
    umask: jobUmask(ad.lookupJS('Umask')),
    coreSize: coreSizeOf(ad),
    files: ctx.files,
    execFiles,
    keepSandbox: transfer,
    owner: ctx.runAs,
    limits: {
      memoryMb: Math.max(0, ctx.slot?.memoryMb ?? num(ad, 'RequestMemory') ?? 0),
      cpus: Math.max(1, ctx.slot?.cpus ?? num(ad, 'RequestCpus') ?? 1),
      ...(duration !== undefined && duration > 0 ? { maxSeconds: duration } : {}),
    },
    sandboxKind,
    ...(sandboxKind === 'container' ? { image: str(ad, 'ContainerImage') } : {}),
  };
}

export function isRefusal(s: LaunchSpec | LaunchRefusal): s is LaunchRefusal {
  return 'holdCode' in s;
}
