// The pool's daemons by name, in one list: the master starts and stops them, `dsched` runs and finds them, and
// those that serve gRPC hold a certificate naming their role.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';

/** The daemons that serve gRPC, each holding its role in its host certificate. */
export const DAEMON_ROLES = ['collector', 'negotiator', 'schedd', 'startd', 'master'] as const;
export type DaemonRole = (typeof DAEMON_ROLES)[number];

/** Every daemon program (daemons/<name>/main.js): the gRPC daemons, and the web daemon and the provisioner,
 *  clients of them. */
export const DAEMON_NAMES = [...DAEMON_ROLES, 'web', 'provisioner'] as const;
export type DaemonName = (typeof DAEMON_NAMES)[number];

/**
 * The stages in which the master stops its daemons, each once the one before has exited: first the
 * negotiator (no new matches) and the web daemon (its users); then the startds, which evict their jobs back
 * to idle at the schedd, as an execute host stopped alone does; then the schedd, which has recorded those
 * evictions (the jobs idle, 004 in their logs: stopped first, it found them lost at its next start, 022 and
 * 024 written as though the pool had failed); the collector last. A daemon named in no stage stops in the first.
 */
export const STOP_STAGES: ReadonlyArray<readonly DaemonName[]> = [
  ['web', 'negotiator'],
  ['startd'],
  ['schedd'],
  ['collector'],
];

/**
 * The name of the lock of a home's master: an abstract Unix socket (this name after a NUL byte), which the
 * kernel frees however the master dies. The node master and the native one take the same lock.
 */
export function masterLockName(home: string): string {
  return `dsched-master-${createHash('sha256').update(realpathSync(home)).digest('hex').slice(0, 40)}`;
}

/**
 * The exit code of a daemon that cannot run until an admin acts (a damaged job queue): its master does not
 * start it again (HTCondor's masters keep such a daemon down alike), and `dsched status` shows it failed with
 * the reason it left in `failedReasonFile`.
 */
export const DAEMON_NO_RESTART = 99;

/** run/<daemon>.failed: one line, why a daemon exited with DAEMON_NO_RESTART (what an admin must do). */
export function failedReasonFile(runDir: string, daemon: string): string {
  return join(runDir, `${daemon}.failed`);
}
