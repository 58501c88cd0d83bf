// A job's sandbox is a new folder made for its owner: one that is there already (another job's, kept for its
// output, named alike by a startd whose pid was reused; or a link) is never handed to the next owner.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fetchInput } from '../../../daemons/startd/transfer.js';

describe('startd sandbox', () => {
  const execute = mkdtempSync(join(tmpdir(), 'dsched-sandbox-'));
  after(() => rmSync(execute, { recursive: true, force: true }));
  const noFiles = (async function* () {})();
  const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

  test('sandbox – a fresh folder is made, its owner’s', async () => {
    const sandbox = join(execute, 'dir_1_1_1_a');
    assert.deepEqual(await fetchInput(noFiles, sandbox, nobody), []);
    assert.equal(statSync(sandbox).isDirectory(), true);
    if (nobody) assert.equal(statSync(sandbox).uid, 65534);
  });

  test('sandbox – a folder that is there already, or a link, is refused and left as it was', async () => {
    const kept = join(execute, 'dir_2_1_1_b');
    mkdirSync(kept, { mode: 0o700 });
    writeFileSync(join(kept, 'result.dat'), 'another job’s output\n');
    const uid = statSync(kept).uid;
    await assert.rejects(fetchInput(noFiles, kept, nobody), /exists already/);
    assert.equal(statSync(kept).uid, uid);
    const link = join(execute, 'dir_3_1_1_c');
    symlinkSync(kept, link);
    await assert.rejects(fetchInput(noFiles, link, nobody), /exists already/);
    assert.equal(statSync(kept).uid, uid);
  });
});
