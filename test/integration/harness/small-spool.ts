// A pool whose spool is a small file system that a test can fill (the queue's writes then fail with ENOSPC).
// Needs root (mount -t tmpfs).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
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

/** Start a pool with an 8 MB spool; `stop` stops it and unmounts the spool. */
export async function startOnSmallSpool(): Promise<{ pool: TestPool; spool: string; stop: () => Promise<void> }> {
  const pool = TestPool.create();
  const spool = join(pool.home, 'spool');
  mkdirSync(spool, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', spool]);
  const stop = async () => {
    await pool.run('dsched', ['stop']).catch(() => undefined);
    execFileSync('umount', [spool]);
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
