// Runs one job as a real process: its own process group (so removal kills the whole tree), stdin/stdout/
// stderr files, environment, working directory and a fresh scratch sandbox; reports exit code or signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ClassAd } from '../../grammar/classad/index.js';
// The startd needs only the argument/environment syntaxes, not the whole submit language.
import { parseEnv, splitArgs } from '../../grammar/submit/args-env.js';

export interface JobOutcome {
  kind: 'exited' | 'failed';
  exitCode: number;
  signal?: number;
  /** for failed: the HTCondor hold reason code, and the message */
  holdCode?: number;
  message?: string;
}

export interface RunAs {
  uid: number;
  gid: number;
}

export interface StartedJob {
  pid: number;
  sandbox: string;
  child: ChildProcess;
  /** Resolves once the process ended (or could not start). */
  done: Promise<JobOutcome>;
}

const SIGNALS = constants.signals as Record<string, number>;
export const signalNumber = (name: string | null | undefined): number | undefined => (name ? SIGNALS[name] : undefined);
export function signalByName(s: unknown, dflt: NodeJS.Signals): NodeJS.Signals {
  if (typeof s === 'number') {
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === s);
    return (name as NodeJS.Signals) ?? dflt;
  }
  if (typeof s === 'string' && s) {
    const up = s.toUpperCase();
    const name = up.startsWith('SIG') ? up : `SIG${up}`;
    if (name in SIGNALS) return name as NodeJS.Signals;
  }
  return dflt;
}

function str(ad: ClassAd, name: string): string | undefined {
  const v = ad.lookupJS(name);
  return typeof v === 'string' ? v : undefined;
}

export interface StartOptions {
  ad: ClassAd;
  sandbox: string;
  slotName: string;
  runAs?: RunAs;
  extraEnv: Record<string, string>;
}

/** Start the job described by `ad`. Never throws: a job that cannot start resolves `done` as failed. */
export function startJob(opts: StartOptions): StartedJob {
  const { ad, sandbox } = opts;
  const fail = (holdCode: number, message: string): StartedJob => ({
    pid: 0,
    sandbox,
    child: undefined as unknown as ChildProcess,
    done: Promise.resolve({ kind: 'failed', exitCode: holdCode, holdCode, message }),
  });
  mkdirSync(sandbox, { recursive: true, mode: 0o700 });
  if (opts.runAs) chownSync(sandbox, opts.runAs.uid, opts.runAs.gid);

  const transfer = (str(ad, 'ShouldTransferFiles') ?? '').toUpperCase() === 'YES';
  const iwd = str(ad, 'Iwd') ?? sandbox;
  const cwd = transfer ? sandbox : iwd;
  try {
    if (!statSync(cwd).isDirectory()) return fail(14, `Failed to change to initial directory ${cwd}: not a directory`);
  } catch (e) {
    return fail(14, `Failed to change to initial directory ${cwd}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  const cmd = str(ad, 'Cmd');
  if (!cmd) return fail(6, 'The job has no executable (Cmd)');
  const exe = isAbsolute(cmd) ? cmd : resolve(iwd, cmd);

  let argv: string[];
  let env: Record<string, string>;
  try {
    argv = splitArgs(str(ad, 'Args'), str(ad, 'Arguments'));
    env = parseEnv(str(ad, 'Env'), str(ad, 'Environment'));
  } catch (e) {
    return fail(6, `Invalid job arguments or environment: ${(e as Error).message}`);
  }
  env = { ...env, ...opts.extraEnv, _CONDOR_SCRATCH_DIR: sandbox, TMPDIR: sandbox, _CONDOR_SLOT: opts.slotName, _CONDOR_JOB_AD: join(sandbox, '.job.ad') };
  if (ad.lookupJS('IsPbsJob') === true) env.PBS_TMPDIR = sandbox;
  try {
    writeFileSync(join(sandbox, '.job.ad'), ad.toLong());
  } catch {
    /* informational only */
  }

  const fds: number[] = [];
  const openFile = (name: string | undefined, write: boolean, code: number, what: string): number | string => {
    const p = !name || name === '/dev/null' ? '/dev/null' : isAbsolute(name) ? name : resolve(cwd, name);
    try {
      const fd = openSync(p, write ? 'w' : 'r', 0o644);
      if (write && opts.runAs && p !== '/dev/null') chownSync(p, opts.runAs.uid, opts.runAs.gid);
      fds.push(fd);
      return fd;
    } catch (e) {
      return `Failed to open '${p}' as ${what}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`;
    }
  };
  const closeAll = () => fds.forEach((fd) => closeSync(fd));
  const stdin = openFile(str(ad, 'In'), false, 8, 'standard input');
  if (typeof stdin === 'string') return (closeAll(), fail(8, stdin));
  const outName = str(ad, 'Out');
  const errName = str(ad, 'Err');
  const stdout = openFile(outName, true, 7, 'standard output');
  if (typeof stdout === 'string') return (closeAll(), fail(7, stdout));
  const stderr = errName && errName === outName && errName !== '/dev/null' ? stdout : openFile(errName, true, 7, 'standard error');
  if (typeof stderr === 'string') return (closeAll(), fail(7, stderr));

  let child: ChildProcess;
  try {
    child = spawn(exe, argv, {
      cwd,
      env,
      stdio: [stdin, stdout, stderr],
      detached: true,
      argv0: exe,
      ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    });
  } catch (e) {
    closeAll();
    return fail(6, `Failed to execute '${exe}': ${(e as Error).message}`);
  }
  closeAll();
  const done = new Promise<JobOutcome>((resolveDone) => {
    let settled = false;
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'EACCES' ? 'Permission denied' : e.message;
      resolveDone({ kind: 'failed', exitCode: 6, holdCode: 6, message: `Failed to execute '${exe}': ${why}` });
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      if (signal) resolveDone({ kind: 'exited', exitCode: 0, signal: signalNumber(signal) ?? 0 });
      else resolveDone({ kind: 'exited', exitCode: code ?? 0 });
    });
  });
  return { pid: child.pid ?? 0, sandbox, child, done };
}

/** Signal a job's whole process group. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

export function removeSandbox(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
