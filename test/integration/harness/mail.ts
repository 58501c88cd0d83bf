// The mail command is the external edge of job mail: a script in the pool's work folder that appends what it
// was asked to send to a file there, and what the tests read of that file.
import type { TestPool } from './pool.js';

/**
 * Writes the fake mail command `<into>.sh`, which appends to `into` each message: an `ARGS: …` line, the text,
 * and a `--` line. Returns its path, for MAIL.
 */
export function fakeMailCommand(pool: TestPool, into: string): string {
  return pool.file(
    `${into}.sh`,
    `#!/bin/sh\n{ echo "ARGS: $*"; cat; echo "--"; } >> "$(dirname "$0")/${into}"\n`,
    0o755,
  );
}

/**
 * The messages the mail command has finished writing to `into`, each without its `--` line. A message is
 * appended in several writes (its ARGS line before its text): one whose `--` line is not there yet is not
 * one, so a test sees a message whole or not at all.
 */
export function mailMessages(pool: TestPool, into: string): string[] {
  if (!pool.exists(into)) return [];
  return pool.read(into).split(/^--\n/m).slice(0, -1);
}
