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
 * The stages in which the master stops its daemons, each once the one before has exited: first the daemons
 * that change the queue (the negotiator's matches, the schedd, the web daemon's users), so the schedd records
 * nothing half-way while the startds go down; then the startds, which evict their jobs back to idle; the
 * collector last. A daemon named in no stage stops in the first.
 */
export const STOP_STAGES: ReadonlyArray<readonly DaemonName[]> = [
  ['web', 'negotiator', 'schedd'],
  ['startd'],
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
