// asUser: a synchronous call with another user's effective credentials, and root's back afterwards whatever
// happens. Needs root (the tests of a pool run by root do too); skipped otherwise.
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { asUser } from '../../../lib/as-user.js';

const root = process.geteuid?.() === 0;
const nobody = { uid: 65534, gid: 65534, groups: [65534] };

test(
  "asUser: the kernel decides as the user, new files are the user's, root comes back",
  { skip: !root && 'needs root' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'as-user-'));
    chmodSync(dir, 0o777);
    try {
      writeFileSync(join(dir, 'secret'), 'x', { mode: 0o600 });
      const groups = process.getgroups!();
      assert.throws(() => asUser(nobody, () => openSync(join(dir, 'secret'), 'r')), { code: 'EACCES' });
      assert.equal(process.geteuid!(), 0);
      assert.equal(process.getegid!(), 0);
      assert.deepEqual(process.getgroups!(), groups);
      closeSync(asUser(nobody, () => openSync(join(dir, 'mine'), 'w')));
      assert.equal(statSync(join(dir, 'mine')).uid, 65534);
      assert.equal(
        asUser(nobody, () => process.geteuid!()),
        65534,
      );
      // the same user again inside is fine; another user inside is not
      assert.equal(
        asUser(nobody, () => asUser({ ...nobody }, () => process.geteuid!())),
        65534,
      );
      assert.throws(() => asUser(nobody, () => asUser({ uid: 1, gid: 1 }, () => 0)), /already acting/);
      // an async function would run its rest as root later: refused
      assert.throws(() => asUser(nobody, (async () => 0) as () => unknown), /synchronous/);
      assert.equal(process.geteuid!(), 0);
      // without an owner it runs as the daemon itself
      assert.equal(
        asUser(undefined, () => process.geteuid!()),
        0,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
