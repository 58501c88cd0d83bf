// A pool whose spool is a small file system that a test can fill (the queue's writes then fail with ENOSPC).
// Needs root (mount -t tmpfs).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool } from './pool.js';

/** Write zeros into `file` until the file system has no room left. */
export function fill(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, block);
    throw new Error('the file system never filled up');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

/** The processes with a folder or open file under `dir` (what keeps its file system busy), for a message. */
function holders(dir: string): string[] {
  const found: string[] = [];
  const under = (p: string) => p === dir || p.startsWith(`${dir}/`);
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const links = ['cwd', 'root', ...readdirSync(`/proc/${pid}/fd`).map((fd) => `fd/${fd}`)];
      const held = links.filter((l) => {
        try {
          return under(readlinkSync(`/proc/${pid}/${l}`));
        } catch {
          return false;
        }
      });
      if (held.length) found.push(`${pid} (${held.join(', ')})`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/**
 * Unmount `dir` once nothing holds it: a process that has just ended (another test's, or one of the pool's
 * reaped by its parent as `dsched stop` returned) can keep it busy for a moment. Fails naming what still
 * holds it after `boundMs`, a process of the pool left behind.
 */
export async function unmountWhenFree(dir: string, boundMs = 30_000): Promise<void> {
  const until = Date.now() + boundMs;
  for (;;) {
    const r = spawnSync('umount', [dir], { encoding: 'utf8' });
    if (r.status === 0) return;
    if (!/busy/i.test(r.stderr) || Date.now() > until)
      throw new Error(`umount ${dir}: ${r.stderr.trim()}; held by: ${holders(dir).join('; ') || 'nothing found'}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Start a pool with an 8 MB spool; `stop` stops it and unmounts the spool. */
export async function startOnSmallSpool(): Promise<{ pool: TestPool; spool: string; stop: () => Promise<void> }> {
  const pool = TestPool.create();
  const spool = join(pool.home, 'spool');
  mkdirSync(spool, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', spool]);
  const stop = async () => {
    await pool.run('dsched', ['stop']).catch(() => undefined);
    await unmountWhenFree(spool);
    await pool.stop();
  };
  const r = await pool.run('dsched', ['start']);
  if (r.code !== 0) {
    const logs = pool.logs();
    await stop();
    throw new Error(`dsched start failed: ${r.stderr}${logs}`);
  }
  return { pool, spool, stop };
}
