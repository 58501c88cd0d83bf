// What root's daemons start on a user's behalf beside jobs (a DAG's PRE and POST scripts, the MAIL command a
// job's notification sets off), attacked by a local user (uid 65534) of a root pool started from a root login
// (ssh, su, sudo with pam_keyinit) that has a session keyring with the admin's keys in it, and a descriptor of
// a root-only file open without close-on-exec (a shell's redirection, a wrapper's pipe). Every daemon had both,
// and passed them on: a DAG script, running as its owner, read the admin's key and the file, and a key one
// script put in the session keyring was read by the next (of any user). The master now starts in a session
// keyring of its own with no descriptor but stdio, and each DAG script in a keyring of its owner's.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';
import {
  KEYS_PY,
  keyringTestsSkip,
  LOGIN_FD,
  mailOfNobodysJob,
  poolWithFakeMail,
  PYTHON,
  startFromRootLogin,
} from './root-login.js';

describe(
  "security – what a DAG's scripts and the mail command inherit from root's daemons",
  {
    skip: keyringTestsSkip,
  },
  () => {
    let pool: TestPool;
    let secret: string;
    let fileSecret: string;
    before(async () => {
      let rootOnly;
      ({ pool, secret, fileSecret, rootOnly } = poolWithFakeMail());
      // dsched start from a login session of root's with a key in it, and a root-only file open on a descriptor
      // it passes on
      await startFromRootLogin(pool, secret, { fd: LOGIN_FD, path: rootOnly });
    });
    after(async () => {
      await pool?.stop();
    });

    test("security – a DAG's scripts hold neither the admin's keys, nor a descriptor of root's, nor an earlier script's keys", async () => {
      const { dir, put } = nobodyFolder(pool.work);
      put('node.sub', 'executable = /bin/true\nqueue\n');
      // A's script reads what it can and leaves a key in its session keyring; B's, run after A, looks for it
      put(
        'a.py',
        `#!${PYTHON}
${KEYS_PY}
out = open("a.out", "w")
out.write("admin " + read_key(b"admin-key") + "\\n")
try:
    out.write("fd read " + os.read(${LOGIN_FD}, 64).decode() + "\\n")
except OSError as e:
    out.write("fd refused " + e.strerror + "\\n")
k = libc.syscall(SYS_add_key, b"user", b"left-key", b"left", 4, SESSION)
if k < 0: sys.exit("add_key: " + os.strerror(ctypes.get_errno()))
out.write("own " + read_key(b"left-key") + "\\n")
`,
        0o755,
      );
      put(
        'b.py',
        `#!${PYTHON}\n${KEYS_PY}\nopen("b.out", "w").write("left " + read_key(b"left-key") + "\\n")\n`,
        0o755,
      );
      put(
        'x.dag',
        `JOB A node.sub\nJOB B node.sub\nPARENT A CHILD B\nSCRIPT PRE A ${join(dir, 'a.py')}\nSCRIPT PRE B ${join(dir, 'b.py')}\n`,
      );
      const r = await pool.run('dsubmit-dag', ['x.dag'], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
      const [done] = await pool.waitForHistory(cluster, 1, 120_000);
      assert.equal(done!.ExitCode, 0, pool.exists('user/x.dag.dagman.out') ? pool.read('user/x.dag.dagman.out') : '');
      const a = readFileSync(join(dir, 'a.out'), 'utf8');
      const b = readFileSync(join(dir, 'b.out'), 'utf8');
      assert.doesNotMatch(a, new RegExp(secret), "the admin's key was read by a DAG script");
      assert.doesNotMatch(a, new RegExp(fileSecret), "a root-only file was read through the daemons' descriptor");
      assert.match(a, /^admin refused /m, a);
      assert.match(a, /^fd refused /m, a);
      assert.match(a, /^own read left$/m, 'a script keeps keys of its own in its session keyring');
      assert.match(b, /^left refused /m, `a key an earlier script left was read: ${b}`);
    });

    test("security – the mail command a user's job sets off holds none of the admin's keys", async () => {
      const said = await mailOfNobodysJob(pool);
      assert.doesNotMatch(said, new RegExp(secret), "the admin's key was read by the mail command");
      assert.match(said, /^key refused /m, said);
    });
  },
);
