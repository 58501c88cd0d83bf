// A CLI that keeps running (dq -watch, dtail -f, dwait) as a child process whose output a test reads as it
// comes: wait for a line, then act, then wait for the next; and its exit code at the end. Every wait is
// bounded, and fails with what the command printed so far.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DIST, type RunOptions, type TestPool } from './pool.js';

export class LiveCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private exit: Promise<number>;
  private waiters = new Set<() => void>();
  /** it exited and all its output has been read */
  private closed = false;

  constructor(pool: TestPool, cmd: string, args: string[], opts: RunOptions = {}) {
    this.child = spawn(process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], {
      cwd: opts.cwd ?? pool.work,
      env: { ...pool.env, ...opts.env },
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const wake = () => this.waiters.forEach((w) => w());
    this.child.stdout!.on('data', (d) => ((this.stdout += d), wake()));
    this.child.stderr!.on('data', (d) => ((this.stderr += d), wake()));
    this.exit = new Promise((resolve) =>
      this.child.on('close', (code) => ((this.closed = true), wake(), resolve(code ?? -1))),
    );
  }

  private until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        } else if (this.closed) {
          cleanup();
          reject(
            new Error(
              `exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
            ),
          );
        }
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(t);
        this.waiters.delete(done);
      };
      this.waiters.add(done);
      done();
    });
  }

  /** Resolves with the first match of `re` in stdout (from `from` on), once it has been printed. */
  output(re: RegExp, timeoutMs = 60_000, from = 0): Promise<RegExpExecArray> {
    return this.until(`${re} in the output`, () => re.exec(this.stdout.slice(from)) ?? undefined, timeoutMs);
  }

  /** The exit code, once it has exited. */
  async code(timeoutMs = 60_000): Promise<number> {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exit,
        new Promise<number>(
          (_, reject) =>
            (t = setTimeout(
              () => reject(new Error(`did not exit in time\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)),
              timeoutMs,
            )),
        ),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
