// A uid with no passwd entry (4242 here) was given a token named `uid4242`, and the schedd and startd ran
// its jobs and handled its files as nobody (uid 65534): its job could write nobody's files and signal
// nobody's processes, and nobody's jobs could do as much to its. dsched runs jobs only as named accounts,
// as HTCondor does (a job whose owner has no account cannot be run): such a uid gets no token, and a token
// that names no account (one kept from before) submits nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { lookupUser, userNameOf } from '../../lib/users.js';
import { ROOT, TestPool, type RunOptions } from '../integration/harness/pool.js';

const UID = 4242;
const STRANGER: RunOptions = { uid: UID, gid: UID, env: { USER: `uid${UID}`, HOME: '/tmp' } };

describe('a uid with no account', () => {
  let pool: TestPool;
  let victim: string;

  before(async () => {
    assert.equal(userNameOf(UID), `uid${UID}`, `uid ${UID} must have no passwd entry for this test`);
    assert.equal(lookupUser(`uid${UID}`), undefined);
    pool = await TestPool.start();
    // a file of nobody's that only nobody may write
    const dir = join(pool.work, 'nobody');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, 65534, 65534);
    victim = join(dir, 'notes');
    writeFileSync(victim, 'mine\n', { mode: 0o600 });
    chownSync(victim, 65534, 65534);
  });
  after(() => pool.stop());

  /** The handshake and a submission as uid 4242, by hand (its own client): what it got, as JSON. */
  function handshakeAs4242(): Promise<Record<string, unknown>> {
    const script = join(pool.work, 'handshake.mjs');
    writeFileSync(
      script,
      [
        `import { mkdirSync, readFileSync } from 'node:fs';`,
        `import { ScheddClient } from ${JSON.stringify(join(ROOT, 'lib/rpc/clients/schedd.ts'))};`,
        `const tls = { ca: readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))}) };`,
        `const out = {};`,
        `try {`,
        `  const anon = new ScheddClient(process.argv[2], { tls });`,
        `  const { path, nonce } = await anon.beginAuth('uid${UID}');`,
        `  mkdirSync(path, { mode: 0o700 });`,
        `  const { token, user } = await anon.finishAuth(nonce);`,
        `  out.user = user;`,
        `  const c = new ScheddClient(process.argv[2], { tls, token: () => token });`,
        `  const { cluster } = await c.newCluster();`,
        `  await c.submit(Number(cluster), { Cmd: '"/bin/sh"', Arguments: ${JSON.stringify(`"-c 'echo written >> ${victim}'"`)}, Iwd: '"/tmp"' }, [{}]);`,
        `  out.cluster = cluster;`,
        `} catch (e) { out.error = e.message; }`,
        `console.log(JSON.stringify(out));`,
        `process.exit(0);`,
      ].join('\n'),
      { mode: 0o644 },
    );
    const loader = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    return new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', loader, script, pool.daemonAddress('schedd')],
        { uid: UID, gid: UID, env: { ...pool.env, ...STRANGER.env }, cwd: '/tmp' },
        (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').pop()!))),
      ),
    );
  }

  test("security – a uid with no account gets no token: its job never runs as nobody, nor writes nobody's files", async () => {
    const got = await handshakeAs4242();
    assert.equal(got.user, undefined, `given a token for ${String(got.user)}`);
    assert.match(String(got.error), /uid 4242 has no account/);
    // nothing of its is queued, so nothing runs as nobody for it
    const q = await pool.run('dq', ['-allusers', '-af', 'Owner']);
    assert.doesNotMatch(q.stdout, /uid4242/);
    assert.equal(readFileSync(victim, 'utf8'), 'mine\n');
  });

  test('security – the commands tell a uid with no account so, with no internal error', async () => {
    const r = await pool.run('dq', [], { ...STRANGER, cwd: '/tmp' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /uid 4242 has no account/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  test('security – a token naming no account submits nothing', async () => {
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token(`uid${UID}`)));
    try {
      const err = await (async () => {
        const { cluster } = await schedd.newCluster();
        await schedd.submit(
          Number(cluster),
          { Cmd: '"/bin/sh"', Arguments: `"-c 'echo written >> ${victim}'"`, Iwd: `"${pool.work}"` },
          [{}],
        );
      })().then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(err, 'the submission was refused');
      assert.match(err.message, /uid4242 has no account/);
      assert.equal(readFileSync(victim, 'utf8'), 'mine\n');
    } finally {
      schedd.close();
    }
  });
});
