// Shared query answers (daemons/schedd/query-share.ts) against a pool run by root: the schedd renders one
// answer per view and hands it to every query of that view, so a view must never cross users. A user
// (uid 65534) querying at the same moment as root, or right after root with the queue unchanged, gets the
// listing without root's private attributes (Environment, PRIVATE_JOB_ATTRS) and with their own; root,
// right after that user, still gets everything.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';

const asRoot = process.getuid?.() === 0;
const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const ROOT_JOBS = 500;
const ROOT_SECRET = 'ROOT_TOKEN=r00t-s3cret';
const ROOT_NOTE = "root's private note";
const NOBODY_SECRET = 'NOBODY_TOKEN=n0b0dy-s3cret';

describe('query sharing', { skip: !asRoot && 'needs root (runs the CLIs as uid 65534)' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ PRIVATE_JOB_ATTRS: 'PrivateNote' });
    pool.file(
      'root.sub',
      `executable = /bin/true\nhold = true\nenvironment = "${ROOT_SECRET}"\n+PrivateNote = "${ROOT_NOTE}"\nqueue ${ROOT_JOBS}\n`,
    );
    await pool.submit('root.sub');
    const dir = join(pool.work, 'nobody');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, 65534, 65534);
    const f = join(dir, 'mine.sub');
    writeFileSync(f, `executable = /bin/true\nhold = true\nenvironment = "${NOBODY_SECRET}"\nqueue 3\n`);
    chownSync(f, 65534, 65534);
    const r = await pool.run('dsubmit', [f], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pool?.stop();
  });

  const listing = async (opts: RunOptions = {}) => {
    const r = await pool.run('dq', ['-json', '-allusers'], { ...opts, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const ads = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(ads.length, ROOT_JOBS + 3);
    return r.stdout;
  };
  const seesOnlyOwn = (text: string) => {
    assert.doesNotMatch(
      text,
      /r00t-s3cret|root's private note|"PrivateNote"/,
      "another user's private attributes were sent to nobody",
    );
    assert.match(text, /n0b0dy-s3cret/, "nobody's own Environment is missing");
  };
  const seesAll = (text: string) => {
    assert.match(text, /r00t-s3cret/);
    assert.match(text, /root's private note/);
    assert.match(text, /n0b0dy-s3cret/);
  };

  test('query sharing – queries of root and of another user at the same moment each get their own view', async () => {
    // interleaved, so each user's queries arrive while the other's answer is being made
    const runs = Array.from({ length: 8 }, (_, i) =>
      (i % 2 ? listing(NOBODY) : listing()).then((text) => ({ nobody: i % 2 === 1, text })),
    );
    for (const r of await Promise.all(runs)) (r.nobody ? seesOnlyOwn : seesAll)(r.text);
  });

  test("query sharing – right after root, with the queue unchanged, another user is not given root's answer, nor root theirs", async () => {
    seesAll(await listing());
    seesOnlyOwn(await listing(NOBODY));
    seesAll(await listing());
    // the same user twice gets the same bytes (the second from the kept answer)
    const a = await listing(NOBODY);
    seesOnlyOwn(a);
    assert.equal(await listing(NOBODY), a);
  });
});
