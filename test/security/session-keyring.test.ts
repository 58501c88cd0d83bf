// What a job inherits from root's startd and spawner, attacked by a local user (uid 65534) of a root pool. A
// root login (ssh, su, sudo with pam_keyinit) has a session keyring of its own, where its keys live (a Kerberos
// ticket's cache `KEYRING:session`, the persistent keyring linked in, AFS tokens), and `dsched start` run there
// gave it to every daemon. A session keyring is kept across setuid and exec, and whoever has it in their session
// holds every key in it with the possessor's rights: each job, of any user, read the admin's keys, and each
// other's. A job now starts in a session keyring of its own.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';
import { KEYS_PY, keyringsUntestable, PYTHON, startFromRootLogin } from './root-login.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – the session keyring a job inherits', { skip: needsRoot || keyringsUntestable }, () => {
  let pool: TestPool;
  const secret = randomBytes(12).toString('hex');
  before(async () => {
    // dsched start from a login session of root's with a key in it, as pam_keyinit makes one
    pool = TestPool.create();
    await startFromRootLogin(pool, secret);
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – a user's job cannot read the keys of the session root started the pool in", async () => {
    const { dir, put } = nobodyFolder(pool.work);
    put(
      'keys.py',
      `${KEYS_PY}
print(read_key(b"admin-key"))
k = libc.syscall(SYS_add_key, b"user", b"own-key", b"mine", 4, SESSION)
if k < 0: sys.exit("add_key: " + os.strerror(ctypes.get_errno()))
buf = ctypes.create_string_buffer(16)
n = keyctl(11, k, buf, 16)
print("own", buf.raw[:n].decode())
`,
    );
    const sub = put(
      'keys.sub',
      `executable = ${PYTHON}\narguments = keys.py\noutput = keys.out\nerror = keys.err\nqueue\n`,
    );
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [done] = await pool.waitForHistory(cluster, 1, 120_000);
    assert.equal(done!.ExitCode, 0, readFileSync(join(dir, 'keys.err'), 'utf8'));
    const said = readFileSync(join(dir, 'keys.out'), 'utf8');
    assert.doesNotMatch(said, new RegExp(secret), 'the admin key was read by the job');
    assert.match(said, /^refused /m, said);
    assert.match(said, /^own mine$/m, 'the job keeps keys of its own in its session keyring');
  });
});
