// Opens the queue database: WAL, synchronous FULL (an acknowledged submit survives kill -9 and power loss),
// and the numbered migrations recorded in PRAGMA user_version.
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DschedError, type ErrorCode } from '../../../lib/errors.js';
import { checkQueueFiles } from './queue-files.js';

export type DB = Database.Database;

function migrationsDir(): string {
  // dist/ holds no .sql files: look beside the source when running from the build output (the schedd's
  // bundle, dist/daemons/schedd/main.js, or a test importing this file from the source tree).
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [
    join(here, 'migrations'),
    join(here, 'store', 'migrations'),
    join(here, '..', '..', '..', 'daemons', 'schedd', 'store', 'migrations'),
  ]) {
    if (existsSync(d)) return d;
  }
  throw new Error('schedd migrations folder not found');
}

export function openQueueDb(file: string): DB {
  if (file !== ':memory:') checkQueueFiles(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  const dir = migrationsDir();
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-.*\.sql$/.test(f))
    .sort();
  const version = db.pragma('user_version', { simple: true }) as number;
  const newest = Number(files.at(-1)?.slice(0, 4) ?? 0);
  if (version > newest) {
    // a queue a newer release wrote (this one installed over it, a downgrade): its tables may hold what this
    // schedd would not read, or would drop as it writes. It is left as it is, for the release that wrote it.
    db.close();
    throw new DschedError(
      'QUEUE_TOO_NEW',
      `the job queue ${file} was written by a newer dsched (queue schema ${version}; this release knows up to ${newest}): the schedd will not start on it; install that release again (the queue is left as it was)`,
    );
  }
  for (const f of files) {
    const n = Number(f.slice(0, 4));
    if (n <= version) continue;
    db.transaction(() => {
      db.exec(readFileSync(join(dir, f), 'utf8'));
      db.pragma(`user_version = ${n}`);
    })();
  }
  dontWaitWhileLocked(db);
  return db;
}

/** How long a write waits for another process's short write (an admin's one-line `sqlite3` update). */
const BUSY_WAIT_MS = 5000;

/**
 * better-sqlite3 is synchronous: a write waiting for a lock another process holds (an admin's open
 * `BEGIN EXCLUSIVE`, a backup tool) blocks the schedd's whole event loop for the busy timeout, so with
 * writes retried every second every request, reads included, would be answered only between waits. Once
 * a transaction finds the lock taken, writes try without waiting (and fail with QUEUE_BUSY at once) until
 * one gets through; WAL readers need no lock and are served meanwhile.
 */
function dontWaitWhileLocked(db: DB): void {
  let locked = false;
  const guard =
    <A extends unknown[], R>(run: (...a: A) => R) =>
    (...a: A): R => {
      try {
        const r = run(...a);
        if (locked) {
          locked = false;
          db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
        }
        return r;
      } catch (e) {
        if (!locked && /^SQLITE_BUSY/.test(String((e as { code?: unknown })?.code))) {
          locked = true;
          db.pragma('busy_timeout = 0');
        }
        throw e;
      }
    };
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const t = transaction(fn);
    return Object.assign(guard(t), {
      default: guard(t.default),
      deferred: guard(t.deferred),
      immediate: guard(t.immediate),
      exclusive: guard(t.exclusive),
    });
  }) as DB['transaction'];
}

/**
 * The typed error for a failed read or write of the queue database (SQLite's result code, extended codes
 * included: SQLITE_IOERR_WRITE is an IOERR), so a user is told the disk is full rather than "internal
 * error". Anything that is not an SQLite error is returned unchanged.
 */
export function storeError(e: unknown, doing: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (e instanceof DschedError || typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  const base = /^SQLITE_[A-Z]+/.exec(code)![0];
  const what: Record<string, [ErrorCode, string]> = {
    SQLITE_FULL: ['DISK_FULL', 'the disk holding the job queue is full'],
    SQLITE_BUSY: ['QUEUE_BUSY', 'the job queue database is locked by another process'],
    SQLITE_LOCKED: ['QUEUE_BUSY', 'the job queue database is locked'],
    SQLITE_IOERR: ['QUEUE_IO_ERROR', `the job queue database could not be read or written (${code})`],
    SQLITE_CORRUPT: ['QUEUE_CORRUPT', 'the job queue database is damaged'],
    SQLITE_NOTADB: ['QUEUE_CORRUPT', 'the job queue database is not an SQLite database'],
    SQLITE_READONLY: ['QUEUE_READONLY', 'the job queue database is read-only'],
    SQLITE_CANTOPEN: ['QUEUE_IO_ERROR', 'the job queue database cannot be opened'],
  };
  const [typed, text] = what[base] ?? (['INTERNAL', `the job queue database failed (${code})`] as [ErrorCode, string]);
  return new DschedError(typed, `${doing}: ${text}; nothing was changed`, { cause: e });
}

/** Whether an error opening or reading the queue says the file itself is damaged (not the disk or a lock). */
export function isQueueDamaged(e: unknown): boolean {
  return e instanceof DschedError && e.code === 'QUEUE_CORRUPT';
}

/**
 * Moves a damaged queue aside, kept whole for recovery: `job_queue.db` becomes `job_queue.db.damaged-TIME`,
 * and its `-wal` and `-shm` follow under the names SQLite looks for beside it, so `sqlite3 FILE` (`.recover`)
 * opens the set as the schedd left it. Returns the new name and the cluster id the damaged queue would have
 * given next when it can still be read (a new queue goes on from there, so no user sees an id twice).
 */
export function setAsideDamagedQueue(file: string, now = new Date()): { movedTo: string; nextCluster?: number } {
  const movedTo = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  let nextCluster: number | undefined;
  try {
    const old = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = old.prepare("SELECT value FROM counters WHERE name = 'next_cluster'").get() as
        { value: number } | undefined;
      if (row && Number.isSafeInteger(row.value) && row.value > 0) nextCluster = row.value;
    } finally {
      old.close();
    }
  } catch {
    // too damaged to read even that: the new queue starts at cluster 1
  }
  // the main file last: until it moves, a schedd started meanwhile still finds the damaged set, never half of it
  for (const suffix of ['-wal', '-shm', '']) {
    try {
      renameSync(file + suffix, movedTo + suffix);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return { movedTo, nextCluster };
}
