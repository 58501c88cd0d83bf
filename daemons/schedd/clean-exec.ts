// libexec/dsched-clean-exec.c for what the schedd starts beside jobs (a DAG's scripts, the MAIL command, the
// `rm -rf` of a challenge left behind): a session keyring of its own and no descriptor but stdio, whatever the
// schedd was given. Started by `dsched start`, the schedd has neither keys nor stray descriptors of the admin's;
// run in the foreground (`dsched master`, `dsched schedd`) it keeps those of the login it was started from.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The helper, beside the bundle (dist/daemons/schedd/main.js) or built from a checkout. */
export const CLEAN_EXEC_PATH = ((here) =>
  [join(here, '..', '..', 'libexec'), resolve(here, '..', '..', 'dist', 'libexec')]
    .map((dir) => join(dir, 'dsched-clean-exec'))
    .find(existsSync) ?? join(here, '..', '..', 'libexec', 'dsched-clean-exec'))(
  dirname(fileURLToPath(import.meta.url)),
);

/** The helper's arguments to run `argv` (a path first), as `as` (uid, gid and groups) when given. */
export function cleanExecArgs(argv: string[], as?: { uid: number; gid: number; groups: number[] }): string[] {
  return [...(as ? ['--as', `${as.uid}:${as.gid}:${as.groups.join(',')}`] : []), ...argv];
}
