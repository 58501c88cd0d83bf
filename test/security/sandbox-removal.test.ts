// A job's sandbox is removed by the startd, as root, while its owner can still change it from a login shell
// beside the job. The owner fills a folder of the sandbox with files named like root's, and once the removal
// has listed that folder swaps it for a link to root's folder: a removal that goes on by path (fs.rmSync's
// recursion) removed root's files of those names. Root's files stay, and the sandbox still goes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder, scriptAsNobody } from './nobody.js';

const isRoot = process.getuid?.() === 0;
/** Files in the folder the job fills, and among them the names of root's files, spread through. */
const FILLER = 20_000;
const ROOT_FILES = 200;

describe('removing a sandbox its owner changes meanwhile', { skip: !isRoot && 'needs root' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test("a folder swapped for a link to root's folder during the removal: root's files stay", async () => {
    const rootDir = join(pool.work, 'rootonly');
    mkdirSync(rootDir, { mode: 0o700 });
    const names = Array.from({ length: ROOT_FILES }, (_, i) => `keep${String(i).padStart(3, '0')}`);
    for (const n of names) writeFileSync(join(rootDir, n), 'root data\n', { mode: 0o600 });

    const user = nobodyFolder(pool.work);
    const where = join(user.dir, 'where');
    // the job (node, wherever it is installed) fills d/ and says where its sandbox is
    user.put(
      'fill.mjs',
      `#!${process.execPath}
import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('d');
const root = ${JSON.stringify(names)};
for (let i = 0; i < ${FILLER}; i++) {
  writeFileSync('d/f' + i, '');
  if (i % ${FILLER / ROOT_FILES} === 0) writeFileSync('d/' + root[i / ${FILLER / ROOT_FILES}], '');
}
writeFileSync('done.txt', 'ok\\n');
writeFileSync(${JSON.stringify(where)}, process.cwd() + '\\n');
`,
      0o755,
    );
    const sub = user.put(
      'job.sub',
      [
        'executable = fill.mjs',
        'should_transfer_files = YES',
        'when_to_transfer_output = ON_EXIT',
        'transfer_output_files = done.txt',
        'queue',
        '',
      ].join('\n'),
    );
    const racer = scriptAsNobody(pool, join(ROOT, 'test', 'security', 'fixtures', 'sandbox-swap.mjs'), [
      where,
      rootDir,
    ]);
    const cluster = await pool.submit(sub, [], { ...NOBODY, cwd: user.dir });
    const [h] = await pool.waitForHistory(cluster, 1);
    assert.equal(h!.ExitCode, 0, JSON.stringify(h));
    const { swapped } = await racer;
    assert.ok(swapped !== false, 'the owner swapped the folder while the startd removed it');

    // the removal goes on after the swap: done when the sandbox is gone, or when root's files are touched
    const sandbox = readFileSync(where, 'utf8').trim();
    await pool.waitFor(
      'the startd to be done with the sandbox',
      () => !existsSync(sandbox) || readdirSync(rootDir).length !== ROOT_FILES,
    );
    assert.deepEqual(readdirSync(rootDir).sort(), names, "root's files are all there");
    assert.ok(!existsSync(sandbox), 'the sandbox is removed');
  });
});
