// Opens the queue database: WAL, synchronous FULL (an acknowledged submit survives kill -9 and power loss),
// and the numbered migrations recorded in PRAGMA user_version.
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type DB = Database.Database;

function migrationsDir(): string {
  // dist/ holds no .sql files: look beside the source when running from the build output (the schedd's
  // bundle, dist/daemons/schedd/main.js, or a test importing this file from the source tree).
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, 'migrations'), join(here, 'store', 'migrations'), join(here, '..', '..', '..', 'daemons', 'schedd', 'store', 'migrations')]) {
    if (existsSync(d)) return d;
  }
  throw new Error('schedd migrations folder not found');
}

export function openQueueDb(file: string): DB {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const dir = migrationsDir();
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-.*\.sql$/.test(f))
    .sort();
  const version = db.pragma('user_version', { simple: true }) as number;
  for (const f of files) {
    const n = Number(f.slice(0, 4));
    if (n <= version) continue;
    db.transaction(() => {
      db.exec(readFileSync(join(dir, f), 'utf8'));
      db.pragma(`user_version = ${n}`);
    })();
  }
  return db;
}
