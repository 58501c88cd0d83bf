// The startd's spawner: a small process (no gRPC, no ClassAds, a tiny heap) that creates sandboxes, opens
// the job's files and forks the jobs. Forking from the startd itself costs milliseconds per job because the
// kernel copies the page tables of a large heap; from here it is cheap, and it runs on the other core.
//
// Protocol, one JSON object per line. In (stdin): {op:'start', id, exe, argv, cwd, env, stdin, stdout,
// stderr, sandbox, adText, uid?, gid?} and {op:'signal', id, signal}. Out (stdout): {id, event:'started',
// pid}, {id, event:'failed', holdCode, message}, {id, event:'exited', exitCode, signal?}.
import { spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

export interface StartRequest {
  op: 'start';
  id: string;
  exe: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  stdout: string;
  stderr: string;
  sandbox: string;
  adText: string;
  /** more files for the sandbox (name → content), written 0600 for the job's owner */
  files?: Record<string, string>;
  /** the same, written 0700 (a PBS job's copy of its script) */
  execFiles?: Record<string, string>;
  /** leave the sandbox when the job exits: its output is fetched from there (file transfer) */
  keepSandbox?: boolean;
  uid?: number;
  gid?: number;
}
export interface SignalRequest {
  op: 'signal';
  id: string;
  signal: NodeJS.Signals;
}
export type SpawnerReply =
  | { id: string; event: 'started'; pid: number }
  | { id: string; event: 'failed'; holdCode: number; message: string }
  | { id: string; event: 'exited'; exitCode: number; signal?: number };

const SIGNALS = constants.signals as Record<string, number>;
const pids = new Map<string, number>();
const send = (r: SpawnerReply) => process.stdout.write(JSON.stringify(r) + '\n');
const why = (e: unknown) => {
  const c = (e as NodeJS.ErrnoException).code;
  return c === 'ENOENT' ? 'No such file or directory' : c === 'EACCES' ? 'Permission denied' : (e as Error).message;
};

function start(r: StartRequest): void {
  const fail = (holdCode: number, message: string) => {
    rmSync(r.sandbox, { recursive: true, force: true });
    send({ id: r.id, event: 'failed', holdCode, message });
  };
  const owner = r.uid !== undefined ? { uid: r.uid, gid: r.gid ?? r.uid } : undefined;
  try {
    mkdirSync(r.sandbox, { recursive: true, mode: 0o700 });
    if (owner) chownSync(r.sandbox, owner.uid, owner.gid);
    writeFileSync(`${r.sandbox}/.job.ad`, r.adText);
    const write = (files: Record<string, string> | undefined, mode: number) => {
      for (const [name, text] of Object.entries(files ?? {})) {
        writeFileSync(`${r.sandbox}/${name}`, text, { mode });
        if (owner) chownSync(`${r.sandbox}/${name}`, owner.uid, owner.gid);
      }
    };
    write(r.files, 0o600);
    write(r.execFiles, 0o700);
  } catch (e) {
    return fail(6, `Failed to create the job sandbox ${r.sandbox}: ${why(e)}`);
  }
  try {
    if (!statSync(r.cwd).isDirectory()) return fail(14, `Failed to change to initial directory ${r.cwd}: not a directory`);
  } catch (e) {
    return fail(14, `Failed to change to initial directory ${r.cwd}: ${why(e)}`);
  }
  const fds: number[] = [];
  const closeAll = () => fds.forEach((fd) => closeSync(fd));
  const open = (path: string, write: boolean): number => {
    const fd = openSync(path, write ? 'w' : 'r', 0o644);
    fds.push(fd);
    if (write && owner && path !== '/dev/null') chownSync(path, owner.uid, owner.gid);
    return fd;
  };
  let stdio: number[];
  let opening = 'output';
  try {
    let inFd: number;
    try {
      inFd = open(r.stdin, false);
    } catch (e) {
      closeAll();
      return fail(8, `Failed to open '${r.stdin}' as standard input: ${why(e)}`);
    }
    const outFd = open(r.stdout, true);
    opening = 'error';
    const errFd = r.stderr === r.stdout && r.stdout !== '/dev/null' ? outFd : open(r.stderr, true);
    stdio = [inFd, outFd, errFd];
  } catch (e) {
    closeAll();
    return fail(7, `Failed to open '${opening === 'output' ? r.stdout : r.stderr}' as standard ${opening}: ${why(e)}`);
  }
  let child;
  try {
    child = spawn(r.exe, r.argv, { cwd: r.cwd, env: r.env, stdio, detached: true, argv0: r.exe, ...(owner ?? {}) });
  } catch (e) {
    closeAll();
    return fail(6, `Failed to execute '${r.exe}': ${why(e)}`);
  }
  closeAll();
  let settled = false;
  child.once('error', (e) => {
    if (settled) return;
    settled = true;
    pids.delete(r.id);
    fail(6, `Failed to execute '${r.exe}': ${why(e)}`);
  });
  child.once('spawn', () => {
    pids.set(r.id, child.pid!);
    send({ id: r.id, event: 'started', pid: child.pid! });
  });
  child.once('exit', (code, signal) => {
    if (settled) return;
    settled = true;
    // whatever the job left behind in its process group goes with it
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is already gone */
    }
    pids.delete(r.id);
    if (!r.keepSandbox) rmSync(r.sandbox, { recursive: true, force: true });
    send(signal ? { id: r.id, event: 'exited', exitCode: 0, signal: SIGNALS[signal] ?? 0 } : { id: r.id, event: 'exited', exitCode: code ?? 0 });
  });
}

function signal(r: SignalRequest): void {
  const pid = pids.get(r.id);
  if (!pid) return;
  try {
    process.kill(-pid, r.signal);
  } catch {
    /* already gone */
  }
}

// Run as the spawner process (not when imported for its types).
if (process.argv[1] && /spawner\.(js|ts)$/.test(process.argv[1])) {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const r = JSON.parse(line) as StartRequest | SignalRequest;
    if (r.op === 'start') start(r);
    else if (r.op === 'signal') signal(r);
  });
  // the startd is gone: nobody can report on the jobs, so they go too
  rl.on('close', () => {
    for (const pid of pids.values()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    process.exit(0);
  });
}
