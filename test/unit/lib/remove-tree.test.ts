// removeTree: a whole tree goes, names that are not UTF-8 included, and no link in it is followed: what a link
// names, file or folder, stays.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { removeTree } from '../../../lib/remove-tree.js';

const work = mkdtempSync(join(tmpdir(), 'remove-tree-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('a tree with links out of it: the tree goes, what the links name stays', () => {
  const outside = join(work, 'outside');
  mkdirSync(join(outside, 'sub'), { recursive: true });
  writeFileSync(join(outside, 'keep'), 'x');
  writeFileSync(join(outside, 'sub', 'keep'), 'x');

  const tree = join(work, 'tree');
  let deep = join(tree, 'a');
  for (let i = 0; i < 40; i++) deep = join(deep, 'd');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'f'), 'x');
  symlinkSync(outside, join(tree, 'dir-link'));
  symlinkSync(join(outside, 'keep'), join(tree, 'a', 'file-link'));
  symlinkSync(join(outside, 'sub'), join(deep, 'deep-link'));
  // a name that is not UTF-8
  writeFileSync(Buffer.concat([Buffer.from(join(tree, 'a') + '/'), Buffer.from([0xff, 0xfe])]), 'x');

  removeTree(tree);
  assert.equal(existsSync(tree), false, 'the tree is gone');
  assert.deepEqual(readdirSync(outside).sort(), ['keep', 'sub']);
  assert.deepEqual(readdirSync(join(outside, 'sub')), ['keep']);
});

test('a missing path, a file and a link are each removed or left without an error', () => {
  removeTree(join(work, 'missing'));
  const file = join(work, 'file');
  writeFileSync(file, 'x');
  removeTree(file);
  assert.equal(existsSync(file), false);
  const target = join(work, 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'keep'), 'x');
  symlinkSync(target, join(work, 'link'));
  removeTree(join(work, 'link'));
  assert.deepEqual(readdirSync(target), ['keep'], 'a link given is removed, not followed');
});
