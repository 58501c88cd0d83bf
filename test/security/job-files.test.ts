// A job's files are handled with its owner's rights. A pool run by root, and a user (uid 65534) on the same
// file system who names root's files as a job's input, output, error, log, initial directory or transferred
// files, writes through a symlink to a root file, or names the file of an authentication challenge as a log.
// Each attack is refused (the job held with HTCondor's code and a reason naming the file, or the submission
// refused), root's files stay byte for byte as they were and root's, and nothing appears in root's folders.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ROOT, TestPool } from '../integration/harness/pool.js';
import { scriptAsNobody } from './nobody.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe("job files are opened with the owner's rights", () => {
  let pool: TestPool;
  let rootDir: string; // root's, 0755: owned.txt (0644), secret.txt (0600)
  let rootOnly: string; // root's, 0700
  let userDir: string; // nobody's: link -> rootDir/owned.txt, the submit files
  let before_: string;

  /** Everything about root's folders a successful attack would change. */
  const snapshot = () =>
    JSON.stringify(
      [rootDir, rootOnly].map((d) => {
        const st = statSync(d);
        return {
          d,
          uid: st.uid,
          mode: st.mode,
          files: readdirSync(d)
            .sort()
            .map((f) => {
              const s = lstatSync(join(d, f));
              return { f, uid: s.uid, gid: s.gid, mode: s.mode, ino: s.ino, text: readFileSync(join(d, f), 'base64') };
            }),
        };
      }),
    );

  before(async () => {
    pool = await TestPool.start();
    rootDir = join(pool.work, 'rootdir');
    mkdirSync(rootDir, { mode: 0o755 });
    writeFileSync(join(rootDir, 'owned.txt'), 'root data\n', { mode: 0o644 });
    writeFileSync(join(rootDir, 'secret.txt'), 'top secret\n', { mode: 0o600 });
    rootOnly = join(pool.work, 'rootonly');
    mkdirSync(rootOnly, { mode: 0o700 });
    writeFileSync(join(rootOnly, 'inside.txt'), 'hidden\n', { mode: 0o644 });
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    chownSync(userDir, NOBODY.uid, NOBODY.gid);
    symlinkSync(join(rootDir, 'owned.txt'), join(userDir, 'link'));
    before_ = snapshot();
  });
  afterEach(() => {
    assert.equal(snapshot(), before_, "root's files and folders are unchanged");
  });
  after(async () => {
    await pool?.stop();
  });

  /** dsubmit a submit file as nobody from nobody's folder. */
  const submitAsNobody = (name: string, text: string) => {
    const p = join(userDir, name);
    writeFileSync(p, text);
    chownSync(p, NOBODY.uid, NOBODY.gid);
    return pool.run('dsubmit', [p], { ...NOBODY, cwd: userDir });
  };
  const submitted = async (name: string, text: string) => {
    const r = await submitAsNobody(name, text);
    assert.equal(r.code, 0, r.stderr);
    return Number(/cluster (\d+)/.exec(r.stdout)![1]);
  };
  const held = (cluster: number) =>
    pool.waitFor(`job ${cluster} to be held`, async () =>
      (await pool.json('dq', [String(cluster), '-allusers'])).find((a) => a.JobStatus === 5),
    );
  const heldWith = async (cluster: number, code: number, subCode: number, file: string) => {
    const ad = await held(cluster);
    assert.equal(ad.HoldReasonCode, code, String(ad.HoldReason));
    assert.equal(ad.HoldReasonSubCode, subCode, String(ad.HoldReason));
    assert.ok(String(ad.HoldReason).includes(file), `the hold reason names ${file}: ${ad.HoldReason}`);
    await pool.run('drm', [String(cluster)]);
    return ad;
  };

  test('output = a root-owned 0644 file: held with code 7 (errno 13), the file untouched', async () => {
    const target = join(rootDir, 'owned.txt');
    const c = await submitted('a.sub', `executable = /bin/echo\narguments = overwritten\noutput = ${target}\nqueue\n`);
    await heldWith(c, 7, 13, target);
  });

  test('input = a root-only 0600 file with skip_filechecks: held with code 8 (errno 13), nothing read', async () => {
    const target = join(rootDir, 'secret.txt');
    const c = await submitted(
      'b.sub',
      `executable = /bin/cat\ninput = ${target}\noutput = ${join(userDir, 'b.out')}\nskip_filechecks = true\nqueue\n`,
    );
    await heldWith(c, 8, 13, target);
    let leaked = '';
    try {
      leaked = readFileSync(join(userDir, 'b.out'), 'utf8');
    } catch {
      /* never created */
    }
    assert.doesNotMatch(leaked, /top secret/);
  });

  test("output = a symlink in the user's folder to a root file: held with code 7, the root file untouched", async () => {
    const link = join(userDir, 'link');
    const c = await submitted(
      'c.sub',
      `executable = /bin/echo\narguments = through the link\noutput = ${link}\nqueue\n`,
    );
    await heldWith(c, 7, 13, link);
  });

  test('error = a new file in a root-owned folder: held with code 7, nothing created there', async () => {
    const target = join(rootDir, 'new.err');
    const c = await submitted('d.sub', `executable = /bin/echo\nerror = ${target}\nqueue\n`);
    await heldWith(c, 7, 13, target);
  });

  test('log = a new file in a root-owned folder: the submission is refused, nothing created there', async () => {
    const target = join(rootDir, 'new.log');
    const r = await submitAsNobody('e.sub', `executable = /bin/echo\nlog = ${target}\nqueue\n`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error\[JOB_FILE_REFUSED\]/);
    assert.ok(r.stderr.includes(target), r.stderr);
    assert.match(r.stderr, /Permission denied/);
  });

  test('initialdir = a root-only 0700 folder: held with code 14 (errno 13), the job never runs there', async () => {
    const out = join(userDir, 'f.out');
    const c = await submitted(
      'f.sub',
      `executable = /bin/pwd\ninitialdir = ${rootOnly}\noutput = ${out}\nskip_filechecks = true\nqueue\n`,
    );
    await heldWith(c, 14, 13, rootOnly);
    let text = '';
    try {
      text = readFileSync(out, 'utf8');
    } catch {
      /* never created */
    }
    assert.equal(text, '');
  });

  test('transferred output into a root file or a root folder: held with code 12, nothing written', async () => {
    const target = join(rootDir, 'owned.txt');
    const c = await submitted(
      'g.sub',
      `executable = /bin/echo\narguments = transferred\nshould_transfer_files = YES\noutput = ${target}\nqueue\n`,
    );
    await heldWith(c, 12, 0, 'owned.txt');
    const made = join(rootDir, 'made.txt');
    writeFileSync(join(userDir, 'make.sh'), '#!/bin/sh\necho made > made.txt\n', { mode: 0o755 });
    chownSync(join(userDir, 'make.sh'), NOBODY.uid, NOBODY.gid);
    const c2 = await submitted(
      'g2.sub',
      `executable = make.sh\nshould_transfer_files = YES\ntransfer_output_remaps = "made.txt = ${made}"\nqueue\n`,
    );
    await heldWith(c2, 12, 0, rootDir);
  });

  test('transferred output of a folder holding links to itself: held with code 12, the transfer ends', async () => {
    // each link leads back into the folder: followed, the folder held 2^N copies of itself N levels down, and
    // root's startd sent them (and the schedd wrote them into nobody's folder) without end
    writeFileSync(
      join(userDir, 'loops.sh'),
      '#!/bin/sh\nmkdir out && echo x > out/f && ln -s . out/a && ln -s .. out/b && ln -s f out/g\n',
      { mode: 0o755 },
    );
    chownSync(join(userDir, 'loops.sh'), NOBODY.uid, NOBODY.gid);
    const c = await submitted(
      'loops.sub',
      'executable = loops.sh\nshould_transfer_files = YES\ntransfer_output_files = out\nqueue\n',
    );
    const ad = await heldWith(c, 12, 0, 'out/a');
    assert.match(String(ad.HoldReason), /is a link to a folder/);
  });

  test('transferred input of a root-only file: held with code 13, nothing sent', async () => {
    const target = join(rootDir, 'secret.txt');
    const c = await submitted(
      'h.sub',
      `executable = /bin/cat\nshould_transfer_files = YES\ntransfer_input_files = ${target}\nqueue\n`,
    );
    await heldWith(c, 13, 0, target);
  });

  test('transfer_input_files = $$([ "root\'s secret" ]): the filled-in name is read as the owner, held with code 13', async () => {
    // the startd fills in $$() and the schedd fetches what it names: still with the job owner's rights
    const target = join(rootDir, 'secret.txt');
    const c = await submitted(
      'h2.sub',
      `executable = /bin/cat\nshould_transfer_files = YES\ntransfer_input_files = $$([ "${target}" ])\nqueue\n`,
    );
    await heldWith(c, 13, 0, target);
  });

  test('log = the file of an authentication challenge for root: refused, and no token for root', async () => {
    const client = join(pool.work, 'challenge.mjs');
    writeFileSync(
      client,
      [
        `import { readFileSync } from 'node:fs';`,
        `import { ScheddClient } from ${JSON.stringify(join(ROOT, 'lib/rpc/clients/schedd.ts'))};`,
        `const c = new ScheddClient(process.argv[2], { tls: { ca: readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))}) } });`,
        `try {`,
        `  const r = process.argv[3] === 'begin' ? await c.beginAuth('root') : await c.finishAuth(process.argv[4]);`,
        `  console.log(JSON.stringify(r));`,
        `} catch (e) { console.log(JSON.stringify({ error: e.message })); }`,
        `process.exit(0);`,
      ].join('\n'),
    );
    chmodSync(client, 0o644);
    const hostile = (args: string[]) => scriptAsNobody(pool, client, [pool.daemonAddress('schedd'), ...args]);
    const begun = await hostile(['begin']);
    assert.equal(typeof begun.path, 'string', JSON.stringify(begun));
    const r = await submitAsNobody('i.sub', `executable = /bin/echo\nlog = ${String(begun.path)}\nqueue\n`);
    assert.notEqual(r.code, 0, 'the submission is refused');
    assert.match(r.stderr, /error\[JOB_FILE_REFUSED\].*pool's own directory/);
    const finished = await hostile(['finish', String(begun.nonce)]);
    assert.equal(finished.token, undefined, `no token: ${JSON.stringify(finished)}`);
    assert.match(String(finished.error), /was not created/);
  });

  test("a DAG of the user: its status file and jobstate log in root's folder are not written, its own files are the user's", async () => {
    const own = (name: string, text: string, mode = 0o644) => {
      writeFileSync(join(userDir, name), text, { mode });
      chownSync(join(userDir, name), NOBODY.uid, NOBODY.gid);
    };
    own('n.sub', 'executable = /bin/false\nlog = n.log\nqueue\n');
    own('pre.sh', '#!/bin/sh\npwd > pre.out\n', 0o755);
    own(
      'x.dag',
      `JOB N n.sub\nSCRIPT PRE N pre.sh\nNODE_STATUS_FILE ${join(rootDir, 'status.txt')}\nJOBSTATE_LOG ${join(rootDir, 'jobstate.log')}\n`,
    );
    const r = await pool.run('dsubmit-dag', ['--wait', 'x.dag'], { ...NOBODY, cwd: userDir, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0, 'the node fails, so does the DAG');
    for (const f of ['x.dag.dagman.out', 'x.dag.rescue001', 'pre.out', 'n.log'])
      assert.equal(statSync(join(userDir, f)).uid, NOBODY.uid, `${f} belongs to the user`);
    assert.equal(
      readFileSync(join(userDir, 'pre.out'), 'utf8'),
      `${userDir}\n`,
      'the PRE script ran in the DAG folder',
    );
    assert.match(readFileSync(join(userDir, 'x.dag.dagman.out'), 'utf8'), /cannot write the node status file/);
  });

  test("a normal job of the user: its output, error and log files are the user's", async () => {
    const c = await submitted(
      'ok.sub',
      `executable = /bin/sh\narguments = "-c 'echo out; echo err >&2'"\noutput = ok.out\nerror = ok.err\nlog = ok.log\nqueue\n`,
    );
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(readFileSync(join(userDir, 'ok.out'), 'utf8'), 'out\n');
    assert.equal(readFileSync(join(userDir, 'ok.err'), 'utf8'), 'err\n');
    assert.match(readFileSync(join(userDir, 'ok.log'), 'utf8'), /^005 /m);
    for (const f of ['ok.out', 'ok.err', 'ok.log'])
      assert.equal(statSync(join(userDir, f)).uid, NOBODY.uid, `${f} belongs to the user`);
    const t = await submitted(
      'okt.sub',
      `executable = /bin/echo\narguments = moved\nshould_transfer_files = YES\noutput = okt.out\nlog = okt.log\nqueue\n`,
    );
    await pool.waitForHistory(t, 1);
    assert.equal(readFileSync(join(userDir, 'okt.out'), 'utf8'), 'moved\n');
    for (const f of ['okt.out', 'okt.log'])
      assert.equal(statSync(join(userDir, f)).uid, NOBODY.uid, `${f} belongs to the user`);
  });
});
