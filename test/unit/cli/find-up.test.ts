// cli – yargs' find-up: the commands' bundles give yargs a find-up that asks each folder only whether it
// holds a package.json (scripts/shims/escalade-sync.cjs) instead of listing it whole (escalade: a job's
// output folder of 100,000 files was listed at every command's start); for the question yargs asks, its
// answers are escalade's.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import escalade from 'escalade/sync';

const findUp = createRequire(import.meta.url)('../../../scripts/shims/escalade-sync.cjs') as typeof escalade;

// the callback yargs passes (yargs-factory's kPkgUp)
const yargsAsks = (_dir: string, names: string[]) => (names.includes('package.json') ? 'package.json' : undefined);

const root = mkdtempSync(join(tmpdir(), 'find-up-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('cli – yargs’ find-up: the same package.json as escalade, from a folder or a file below it', () => {
  const top = join(root, 'a');
  const deep = join(top, 'b', 'c');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(top, 'package.json'), '{}');
  writeFileSync(join(deep, 'x.sub'), '');
  for (let i = 0; i < 50; i++) writeFileSync(join(deep, `out.${i}`), '');
  // every walk ends inside this test's folder, whatever other tests make above it
  writeFileSync(join(root, 'package.json'), '{}');
  // a folder named package.json counts for both
  mkdirSync(join(top, 'b', 'package.json'));
  for (const start of [deep, join(deep, 'x.sub'), top, join(top, 'b'), root])
    assert.equal(findUp(start, yargsAsks), escalade(start, yargsAsks), start);
  assert.equal(findUp(deep, yargsAsks), join(top, 'b', 'package.json'));
});

test('cli – yargs’ find-up: a start that does not exist fails as with escalade', () => {
  const gone = join(root, 'gone');
  assert.throws(() => escalade(gone, yargsAsks), { code: 'ENOENT' });
  assert.throws(() => findUp(gone, yargsAsks), { code: 'ENOENT' });
});
