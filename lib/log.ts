// Daemon logs: pino, one JSON object per line, ISO-8601 UTC time, base fields {daemon, host, pid}.
// Written synchronously so the last lines before a crash are on disk.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * When a daemon's log is rotated, as HTCondor's MAX_<SUBSYS>_LOG and MAX_NUM_<SUBSYS>_LOG: past maxBytes
 * (0: never) NAME.log becomes NAME.log.old (older ones NAME.log.old.2 … up to `keep`) and a new one is begun,
 * so that a pool left running for months does not fill its disk. Read at each write: the owner may change it.
 */
export interface LogRotation {
  maxBytes: number;
  keep: number;
}

/** NAME.log's rotated copies, newest first: NAME.log.old, NAME.log.old.2, … */
export function rotatedLogName(file: string, n: number): string {
  return n === 1 ? `${file}.old` : `${file}.old.${n}`;
}

/** Lines kept while a log cannot be written (its disk full), written once it can; past this, new ones are dropped. */
const BACKLOG_BYTES = 1 << 20;

/**
 * A daemon's log file, whose failures never stop the daemon: a line that cannot be written (the disk full)
 * is kept with those after it, up to BACKLOG_BYTES, and written with the next line once there is room.
 * Without a listener the write error was thrown into whatever was logging, and killed the daemon.
 */
function logFile(file: string) {
  const dest = pino.destination({ dest: file, sync: true, mkdir: true, maxLength: BACKLOG_BYTES });
  dest.on('error', () => {});
  return dest;
}

function rotatingFile(file: string, rotation: LogRotation): DestinationStream {
  const dest = logFile(file);
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // a new file
  }
  const rotate = () => {
    // counted from here whatever happens: a folder that refuses the renames is not retried at every line
    size = 0;
    for (let n = Math.max(1, rotation.keep); n >= 1; n--) {
      try {
        renameSync(n === 1 ? file : rotatedLogName(file, n - 1), rotatedLogName(file, n));
      } catch {
        // a copy not there yet
      }
    }
    try {
      dest.reopen();
    } catch {
      // the log goes on in the file it had open; logging never stops a daemon
    }
  };
  return {
    write(line: string) {
      dest.write(line);
      size += Buffer.byteLength(line);
      if (rotation.maxBytes > 0 && size >= rotation.maxBytes) rotate();
    },
  };
}

export function createLogger(
  daemon: string,
  logDir?: string,
  level = process.env.DSCHED_LOG_LEVEL ?? 'info',
  rotation?: LogRotation,
): Logger {
  let dest: DestinationStream;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = join(logDir, `${daemon}.log`);
    dest = rotation ? rotatingFile(file, rotation) : logFile(file);
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
