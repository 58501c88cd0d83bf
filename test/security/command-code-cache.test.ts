// A command's V8 code cache is code the command runs: it is read only from a folder and file of the user
// running the command that no one else can write. Root running with another user's cache home (sudo -E)
// neither reads what that user left there nor writes into it; a cache someone else could have written is
// not used.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DIST } from '../integration/harness/pool.js';

const work = mkdtempSync(join(tmpdir(), 'dsched-code-cache-sec-'));
chmodSync(work, 0o755);
writeFileSync(join(work, 'job.sub'), 'executable = /bin/true\nqueue\n');

function dryRun(cacheHome: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: work, XDG_CACHE_HOME: cacheHome };
  delete env.DSCHED_CODE_CACHE;
  const r = spawnSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), '--dry-run', 'job.sub'], {
    cwd: work,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Cmd = "\/bin\/true"$/m);
}
const listing = (d: string) => (existsSync(d) ? readdirSync(d, { recursive: true }).map(String).sort() : []);

describe('command code cache trust', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  test("code cache – root with another user's cache home reads and writes nothing there", () => {
    const home = join(work, 'nobody-cache');
    mkdirSync(join(home, 'dsched', 'code-cache'), { recursive: true });
    for (const d of [home, join(home, 'dsched'), join(home, 'dsched', 'code-cache')]) {
      chmodSync(d, 0o700);
      chownSync(d, 65534, 65534);
    }
    const before = listing(home);
    dryRun(home);
    assert.deepEqual(listing(home), before, "nothing written into the other user's folder");
  });

  test('code cache – a cache folder or file others may write is not used', () => {
    const home = mkdtempSync(join(work, 'cache-'));
    chmodSync(home, 0o700);
    dryRun(home);
    const dir = join(home, 'dsched', 'code-cache');
    const [name] = readdirSync(dir);
    const file = join(dir, name!);
    // a file anyone may write: garbled after the header, and still the command works (it never read it)
    const data = readFileSync(file);
    const headerEnd = data.indexOf(10) + 1;
    data.fill(1, headerEnd);
    writeFileSync(file, data);
    chmodSync(file, 0o666);
    dryRun(home);
    // it was replaced by the command's own, private cache
    assert.equal(
      readFileSync(file)
        .subarray(headerEnd)
        .every((b) => b === 1),
      false,
    );
    // a folder anyone may write: no cache is read from it or written to it
    chmodSync(dir, 0o777);
    rmSync(file);
    dryRun(home);
    assert.deepEqual(readdirSync(dir), []);
  });
});
