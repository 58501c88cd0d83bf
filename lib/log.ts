// Daemon logs: pino, one JSON object per line, ISO-8601 UTC time, base fields {daemon, host, pid}.
// Written synchronously so the last lines before a crash are on disk.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(daemon: string, logDir?: string, level = process.env.DSCHED_LOG_LEVEL ?? 'info'): Logger {
  let dest;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    dest = pino.destination({ dest: join(logDir, `${daemon}.log`), sync: true, mkdir: true });
  } else {
    dest = pino.destination({ dest: 2, sync: true });
  }
  return pino(
    {
      level,
      base: { daemon, host: hostname(), pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['token', 'claim', 'secret', '*.token', '*.claim', '*.secret'],
    },
    dest,
  );
}
