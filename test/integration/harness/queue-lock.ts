// Another process holding a pool's job queue locked, as an admin's open `sqlite3 job_queue.db 'BEGIN EXCLUSIVE;'`
// or a backup tool would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type TestPool } from './pool.js';

/** A child process holding the pool's queue write lock; it lets go (and exits) when its standard input ends. */
export function holdQueueLock(pool: TestPool): Promise<ChildProcess> {
  const file = join(pool.home, 'spool', 'job_queue.db');
  const script = `
    const Database = require(${JSON.stringify(join(ROOT, 'node_modules', 'better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)}, { timeout: 60000 });
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(child);
    });
  });
}

/** Let go of the lock; resolves once the holder has exited. */
export async function releaseQueueLock(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null) return;
  const exited = new Promise((r) => holder.once('exit', r));
  holder.stdin!.end();
  await exited;
}

/** How many times the schedd has logged that it cannot write its queue (once each time writes start failing). */
export function queueWriteFailures(pool: TestPool): number {
  const log = join(pool.home, 'log', 'schedd.log');
  return existsSync(log) ? (readFileSync(log, 'utf8').match(/cannot write the job queue/g) ?? []).length : 0;
}
