// daemon node flags – every daemon's flags are ones this node takes without a word (a warning would land in the
// daemon's .out file at each start, a refused flag would keep it from starting), and the master runs in lite
// mode, where nothing can compile WebAssembly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DAEMON_NAMES } from '../../../lib/daemons.js';
import { daemonNodeFlags } from '../../../lib/node-flags.js';

test('node starts quietly with each daemon’s flags', () => {
  for (const name of ['master', ...DAEMON_NAMES]) {
    const r = spawnSync(process.execPath, [...daemonNodeFlags(name), '-e', 'process.stdout.write("up")'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${name} warns`);
    assert.equal(r.stdout, 'up');
  }
});

test('the master runs in lite mode, without WebAssembly', () => {
  const flags = daemonNodeFlags('master');
  assert.ok(flags.includes('--lite-mode'));
  const r = spawnSync(process.execPath, [...flags, '-p', 'typeof WebAssembly'], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'undefined');
});
