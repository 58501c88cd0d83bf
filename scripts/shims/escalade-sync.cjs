// What the bundles give yargs for escalade/sync, its find-up: the same walk from a folder towards the root,
// where each folder's names are only whether it holds a package.json, the one name yargs asks about (a
// package.json it looks for to guess a version, which every command then sets itself). escalade read each
// folder whole, starting from the working folder: in a job's output folder of 100,000 files every command
// listed them all at start (about 100 ms of CPU each).
const { existsSync, statSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

module.exports = function findUp(start, callback) {
  let dir = resolve('.', start);
  if (!statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    const found = callback(dir, existsSync(join(dir, 'package.json')) ? ['package.json'] : []);
    if (found) return resolve(dir, found);
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
};
