// What root's daemons start on a user's behalf beside jobs (a DAG's PRE and POST scripts, the MAIL command a
// job's notification sets off), attacked by a local user (uid 65534) of a root pool started from a root login
// (ssh, su, sudo with pam_keyinit) that has a session keyring with the admin's keys in it, and a descriptor of
// a root-only file open without close-on-exec (a shell's redirection, a wrapper's pipe). Every daemon had both,
// and passed them on: a DAG script, running as its owner, read the admin's key and the file, and a key one
// script put in the session keyring was read by the next (of any user). The master now starts in a session
// keyring of its own with no descriptor but stdio, and each DAG script in a keyring of its owner's.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';
import { KEYS_PY, keyringsUntestable, PYTHON, startFromRootLogin } from './root-login.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';
/** The descriptor `dsched start` is given, of a file only root may read (a high one, as `exec 200<file` makes). */
const FD = 200;

describe(
  "security – what a DAG's scripts and the mail command inherit from root's daemons",
  {
    skip: needsRoot || keyringsUntestable,
  },
  () => {
    let pool: TestPool;
    const secret = randomBytes(12).toString('hex');
    const fileSecret = randomBytes(12).toString('hex');
    before(async () => {
      pool = TestPool.create();
      // the mail command (the external edge) records what its session keyring holds
      const mail = pool.file(
        'fake-mail.py',
        `#!${PYTHON}\n${KEYS_PY}\nsys.stdin.read()\nopen(os.path.join(os.path.dirname(sys.argv[0]), "mail.txt"), "a").write(read_key(b"admin-key") + "\\n")\n`,
        0o755,
      );
      writeFileSync(join(pool.home, 'config'), `MAIL = ${mail}\n`, { flag: 'a' });
      const rootOnly = pool.file('root-only.txt', fileSecret, 0o600);
      // dsched start from a login session of root's with a key in it, and a root-only file open on a descriptor
      // it passes on
      await startFromRootLogin(pool, secret, { fd: FD, path: rootOnly });
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
    out.write("fd read " + os.read(${FD}, 64).decode() + "\\n")
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
      const { dir, put } = nobodyFolder(pool.work, 'mailer');
      const sub = put(
        'mail.sub',
        'executable = /bin/true\nnotification = Always\nnotify_user = me@example.org\nqueue\n',
      );
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      await pool.waitForHistory(Number(/cluster (\d+)/.exec(r.stdout)![1]), 1);
      // the mail is sent once the job's end is recorded, by a command of its own
      const said = await pool.waitFor('the mail of the job', () =>
        pool.exists('mail.txt') && pool.read('mail.txt').endsWith('\n') ? pool.read('mail.txt') : undefined,
      );
      assert.doesNotMatch(said, new RegExp(secret), "the admin's key was read by the mail command");
      assert.match(said, /^refused /m, said);
    });
  },
);
