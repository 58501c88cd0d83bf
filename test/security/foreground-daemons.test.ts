// A pool run in the foreground (`dsched master`, as a service manager or an admin's terminal runs it) from a root
// login (ssh, su, sudo with pam_keyinit) that has a session keyring with the admin's keys in it, and a
// descriptor of a root-only file open without close-on-exec. `dsched start` starts the master clean
// (libexec/dsched-clean-exec.c); run in the foreground, the master and its daemons keep both, and the schedd
// passed them on to the MAIL command a user's job sets off. What the schedd starts beside jobs now goes through
// the same helper, whoever started the schedd.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestPool } from '../integration/harness/pool.js';
import {
  foregroundFromRootLogin,
  keyringTestsSkip,
  LOGIN_FD,
  mailOfNobodysJob,
  poolWithFakeMail,
} from './root-login.js';

describe(
  'security – what the MAIL command inherits from a pool run in the foreground',
  {
    skip: keyringTestsSkip,
  },
  () => {
    let pool: TestPool;
    let master: ChildProcess | undefined;
    let secret: string;
    let fileSecret: string;
    before(async () => {
      let rootOnly;
      ({ pool, secret, fileSecret, rootOnly } = poolWithFakeMail());
      master = foregroundFromRootLogin(pool, 'master', secret, { fd: LOGIN_FD, path: rootOnly });
      await pool.waitFor('the daemons of the foreground master to serve', () =>
        ['collector', 'negotiator', 'schedd', 'startd'].every((d) =>
          existsSync(join(pool.home, 'run', `${d}.address`)),
        ),
      );
    });
    after(async () => {
      if (master && master.exitCode === null && master.signalCode === null) {
        const exited = new Promise((resolve) => master!.once('exit', resolve));
        master.kill('SIGTERM');
        await exited;
      }
      await pool?.stop();
    });

    test("security – the mail command of a user's job holds neither the admin's keys nor a descriptor of root's", async () => {
      const said = await mailOfNobodysJob(pool);
      assert.doesNotMatch(said, new RegExp(secret), "the admin's key was read by the mail command");
      assert.doesNotMatch(said, new RegExp(fileSecret), "root's file was read through the descriptor");
      assert.match(said, /^key refused /m, said);
      assert.match(said, /^fd refused /m, said);
    });
  },
);
