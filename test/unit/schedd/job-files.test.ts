// checkJobFiles: a user's job may not name a file inside the pool's own directories, whether lexically, with
// "..", or through a link; checkEventLogs: a log the owner cannot open refuses the submission.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkEventLogs, checkJobFiles } from '../../../daemons/schedd/job-files.js';

const base = mkdtempSync(join(tmpdir(), 'job-files-'));
const home = join(base, 'home');
const user = join(base, 'user');
mkdirSync(join(home, 'run', 'auth'), { recursive: true });
mkdirSync(user);
symlinkSync(join(home, 'run'), join(user, 'sneaky'));
after(() => rmSync(base, { recursive: true, force: true }));

const q = (s: string) => JSON.stringify(s);
const check = (attrs: Record<string, string>) => checkJobFiles({ Iwd: q(user) }, [attrs], undefined, [home]);

test('files outside the pool directory are accepted', () => {
  check({
    Cmd: q('/bin/echo'),
    Out: q('out.txt'),
    Err: q(join(user, 'err.txt')),
    In: q('/dev/null'),
    UserLog: q(join(user, 'x.log')),
    TransferInput: q('a, b/'),
  });
});

test('files inside the pool directory are refused: by name, with .., through a link, in lists and remaps', () => {
  const refused = /JOB_FILE_REFUSED|pool's own directory/;
  assert.throws(() => check({ UserLog: q(join(home, 'run', 'auth', 'auth-x')) }), refused);
  assert.throws(() => check({ Out: q(`../home/secret`) }), refused);
  assert.throws(() => check({ Err: q('sneaky/auth/auth-y') }), refused);
  assert.throws(() => check({ Iwd: q(home) }), refused);
  assert.throws(() => check({ TransferInput: q(`a, ${join(home, 'secret')}`) }), refused);
  assert.throws(() => check({ TransferOutputRemaps: q(`out = ${join(home, 'spool', 'x')}`) }), refused);
  assert.throws(() => check({ DAGManDagFile: q('sneaky/x.dag') }), refused);
});

test('a relative initialdir is refused', () => {
  assert.throws(() => checkJobFiles({}, [{ Iwd: q('relative/dir') }], undefined, [home]), /not an absolute path/);
});

test('an event log that cannot be opened refuses the submission', () => {
  checkEventLogs([{ UserLog: q(join(user, 'ok.log')) }], undefined);
  assert.throws(
    () => checkEventLogs([{ UserLog: q(join(user, 'missing', 'x.log')) }], undefined),
    /cannot open the event log .*No such file/,
  );
  assert.throws(() => checkEventLogs([{ UserLog: q('x.log') }], undefined), /not an absolute path/);
});
