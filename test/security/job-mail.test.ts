// Job mail is sent by the schedd, as root, through the MAIL command with the job's notify_user (PBS's -M) as an
// argument. A local user (uid 65534) whose address starts with '-' would hand that root command an option
// (GNU mail's --exec runs commands), and one that starts with '/' or '|' a file to write or a command to run.
// Such an address is refused at submit and by dqedit, and mail to one a job chirped into its own ad is not
// sent; a plain address still gets its mail.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';
const HOSTILE = ['--exec=!touch /tmp/owned', '-oQ/tmp', '/root/.bashrc', '|/bin/sh', 'a@b,-X/tmp/log', 'a b'];

describe('security – job mail addresses', { skip: needsRoot }, () => {
  let pool: TestPool;
  let dir: string; // nobody's
  let put: ReturnType<typeof nobodyFolder>['put'];
  const mails = () => (pool.exists('mail.txt') ? pool.read('mail.txt') : '');
  before(async () => {
    pool = await TestPool.start();
    // the mail command is the external edge: a script that records the arguments it was given
    const mail = pool.file(
      'fake-mail.sh',
      '#!/bin/sh\nfor a; do echo "ARG: $a"; done >> "$(dirname "$0")/mail.txt"\n',
      0o755,
    );
    await pool.reconfigure(`MAIL = ${mail}\n`, ['schedd']);
    ({ dir, put } = nobodyFolder(pool.work));
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – job mail: an address the mail command would take as an option, file or command is refused', async () => {
    for (const to of HOSTILE) {
      const sub = put('mail.sub', `executable = /bin/true\nnotification = Always\nnotify_user = ${to}\nqueue\n`);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(r.code, 2, `${to}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[SUBMIT_INVALID\]: NotifyUser: '.*' is not a mail address/, `${to}: ${r.stderr}`);
    }
    const pbs = put('mail.sh', '#!/bin/sh\n#PBS -m abe\n#PBS -M -oQ/tmp\ntrue\n', 0o755);
    const p = await pool.run('dsubmit', [pbs], { ...NOBODY, cwd: dir });
    assert.equal(p.code, 2, p.stdout + p.stderr);
    assert.match(p.stderr, /error\[SUBMIT_INVALID\]: NotifyUser: '-oQ\/tmp' is not a mail address/, p.stderr);
    assert.deepEqual(await pool.json('dq', ['-allusers']), [], 'nothing was queued');
    // dqedit: the same refusal, and the job keeps its address
    const held = put('held.sub', 'executable = /bin/true\nhold = true\nnotify_user = me@example.org\nqueue\n');
    const h = await pool.run('dsubmit', [held], { ...NOBODY, cwd: dir });
    assert.equal(h.code, 0, h.stderr);
    const cluster = Number(/cluster (\d+)/.exec(h.stdout)![1]);
    const e = await pool.run('dqedit', [String(cluster), 'NotifyUser', '"--exec=!id"'], NOBODY);
    assert.equal(e.code, 2, e.stdout + e.stderr);
    assert.match(e.stderr, /error\[USAGE\]: NotifyUser: '--exec=!id' is not a mail address/, e.stderr);
    assert.equal((await pool.json('dq', [String(cluster)]))[0]!.NotifyUser, 'me@example.org');
    await pool.run('drm', [String(cluster)], NOBODY);
    assert.equal(mails(), '', 'no mail was sent');
  });

  test('security – job mail: an address a job chirps into its own ad gets no mail; a plain one does', async () => {
    put('chirp.sh', '#!/bin/sh\ndchirp set_job_attr NotifyUser \'"--exec=!touch /tmp/owned"\'\n', 0o755);
    const bad = put('chirp.sub', 'executable = chirp.sh\nnotification = Always\nnotify_user = me@example.org\nqueue\n');
    const r = await pool.run('dsubmit', [bad], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.NotifyUser, '--exec=!touch /tmp/owned', 'the job did chirp it');
    await pool.waitFor('the schedd to refuse the mail', () =>
      pool.logs().includes('"job mail not sent"') ? true : undefined,
    );
    const good = put(
      'good.sub',
      'executable = /bin/true\nnotification = Always\nnotify_user = me@example.org\nqueue\n',
    );
    const g = await pool.run('dsubmit', [good], { ...NOBODY, cwd: dir });
    assert.equal(g.code, 0, g.stderr);
    const ok = Number(/cluster (\d+)/.exec(g.stdout)![1]);
    await pool.waitFor('the mail of the plain address', () => (mails().includes(`job ${ok}.0`) ? true : undefined));
    assert.doesNotMatch(mails(), /ARG: -(?!s$)/m, mails());
    assert.doesNotMatch(mails(), new RegExp(`job ${cluster}\\.0`), mails());
  });

  test('security – job mail: a removal reason with a line of its own is no command to a mailx-like MAIL', async () => {
    // mail programs of the Heirloom mailx family run a message line `~!cmd` as a shell command even when their
    // input is no terminal; this one does only that
    const mailx = pool.file(
      'mailx.sh',
      '#!/bin/sh\nwhile IFS= read -r line; do case "$line" in "~!"*) sh -c "${line#??}";; esac; done\n' +
        'echo sent >> "$(dirname "$0")/mailx.txt"\n',
      0o755,
    );
    await pool.reconfigure(`MAIL = ${mailx}\n`, ['schedd']);
    const owned = `${pool.work}/owned-by-root`;
    const sub = put('reason.sub', 'executable = /bin/true\nhold = true\nnotification = Always\nqueue\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const rm = await pool.run('drm', [String(cluster), '-reason', `done\n~!touch ${owned}`], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitFor('the removal mail', () => pool.exists('mailx.txt'));
    assert.equal(pool.exists('owned-by-root'), false, 'the line of the reason was not run');
  });
});
