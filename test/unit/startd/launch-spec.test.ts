// The job ad → launch spec translation (launch-spec.ts) and the choice of a launcher per job (launcher.ts):
// pure, so every launcher reads a job the same way.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { isRefusal, launchSpec, type LaunchContext, type LaunchSpec } from '../../../daemons/startd/launch-spec.js';
import { Launchers, ProcessLauncher } from '../../../daemons/startd/launcher.js';
import type { StartOptions, Starter } from '../../../daemons/startd/starter.js';

const ctx: LaunchContext = {
  sandbox: '/var/lib/dsched/execute/dir_1_1_1',
  slotName: 'slot1_1',
  extraEnv: { CUDA_VISIBLE_DEVICES: '' },
  jobBin: '/opt/dsched/libexec',
};

function ad(attrs: Record<string, string>): ClassAd {
  return ClassAd.fromRecord(attrs);
}

function spec(attrs: Record<string, string>, more: Partial<LaunchContext> = {}): LaunchSpec {
  const s = launchSpec(ad(attrs), { ...ctx, ...more });
  if (isRefusal(s)) assert.fail(s.message);
  return s;
}

describe('launch spec – from the job ad', () => {
  test('a job on a shared file system: Iwd, argv, its environment under the scratch variables', () => {
    const s = spec({
      Cmd: '"bin/run"',
      Iwd: '"/home/alice/work"',
      Arguments: '"a \'b c\'"',
      Environment: '"FOO=1 TMPDIR=/mine _CONDOR_SLOT=forged"',
      Out: '"out.txt"',
      Err: '"/tmp/err.txt"',
      Owner: '"alice"',
      RequestMemory: '512',
      RequestCpus: '2',
      AllowedJobDuration: '60',
    });
    assert.equal(s.executable, '/home/alice/work/bin/run');
    assert.deepEqual(s.argv, ['a', 'b c']);
    assert.equal(s.cwd, '/home/alice/work');
    assert.equal(s.stdin, '/dev/null');
    assert.equal(s.stdout, '/home/alice/work/out.txt');
    assert.equal(s.stderr, '/tmp/err.txt');
    assert.equal(s.env.FOO, '1');
    assert.equal(s.env.TMPDIR, ctx.sandbox, 'the scratch variables are the startd’s, not the job’s');
    assert.equal(s.env._CONDOR_SLOT, 'slot1_1');
    assert.equal(s.env._CONDOR_SCRATCH_DIR, ctx.sandbox);
    assert.equal(s.env.CUDA_VISIBLE_DEVICES, '');
    assert.equal(s.env.PATH, '/opt/dsched/libexec:/usr/local/bin:/usr/bin:/bin');
    assert.deepEqual(s.limits, { memoryMb: 512, cpus: 2, maxSeconds: 60 });
    assert.equal(s.sandboxKind, 'process');
    assert.equal(s.keepSandbox, false);
  });

  test('with file transfer everything lives in the sandbox; the slot’s size is the limit', () => {
    const s = spec(
      { Cmd: '"/home/alice/run.sh"', In: '"data/in.txt"', Out: '"o"', Err: '"o"', RequestMemory: '100' },
      { transfer: true, slot: { memoryMb: 256, cpus: 1 }, runAs: { uid: 1000, gid: 1000 } },
    );
    assert.equal(s.executable, `${ctx.sandbox}/run.sh`);
    assert.equal(s.cwd, ctx.sandbox);
    assert.equal(s.stdin, `${ctx.sandbox}/in.txt`);
    assert.equal(s.stdout, s.stderr, 'Out = Err: one file');
    assert.ok(s.stdout.startsWith(`${ctx.sandbox}/`));
    assert.equal(s.keepSandbox, true);
    assert.equal(s.limits.memoryMb, 256);
    assert.deepEqual(s.owner, { uid: 1000, gid: 1000 });
  });

  test('a PBS job runs its spooled script from the sandbox', () => {
    const s = spec({
      Cmd: '"/home/bob/job.sh"',
      IsPbsJob: 'true',
      PbsScript: '"#!/bin/sh\\necho hi\\n"',
      PbsScriptPath: '"/home/bob/job.sh"',
    });
    assert.equal(s.executable, `${ctx.sandbox}/.pbs_script`);
    assert.deepEqual(Object.keys(s.execFiles ?? {}), ['.pbs_script']);
    assert.equal(s.env.PBS_TMPDIR, ctx.sandbox);
  });

  test('CoreSize is the core file size limit: bytes, a negative one unlimited, none the spawner’s', () => {
    assert.equal(spec({ Cmd: '"/bin/true"', CoreSize: '1048576' }).coreSize, 1048576);
    assert.equal(spec({ Cmd: '"/bin/true"', CoreSize: '-1' }).coreSize, 'unlimited');
    assert.equal(spec({ Cmd: '"/bin/true"', CoreSize: '512 * 2' }).coreSize, 1024);
    assert.equal(spec({ Cmd: '"/bin/true"' }).coreSize, undefined);
    assert.equal(spec({ Cmd: '"/bin/true"', CoreSize: '"big"' }).coreSize, undefined);
  });

  test('no executable: refused with hold code 6', () => {
    const none = launchSpec(ad({ Iwd: '"/tmp"' }), ctx);
    assert.ok(isRefusal(none) && none.holdCode === 6 && /executable/.test(none.message));
  });

  test('a job naming a container image asks for a container', () => {
    const s = spec({ Cmd: '"/bin/true"', ContainerImage: '"docker://alpine"' });
    assert.equal(s.sandboxKind, 'container');
    assert.equal(s.image, 'docker://alpine');
    assert.equal(spec({ Cmd: '"/bin/true"', WantContainer: 'true' }).sandboxKind, 'container');
  });
});

describe('launchers – one per job, by what it asks to run in', () => {
  const started: StartOptions[] = [];
  const starter = {
    start: (o: StartOptions) => (started.push(o), { id: '1', pid: 0, sandbox: o.sandbox, done: new Promise(() => {}) }),
  } as unknown as Starter;
  const launchers = new Launchers(new ProcessLauncher(starter));
  const opts = (attrs: Record<string, string>): StartOptions => ({
    ad: ad(attrs),
    sandbox: '/nonexistent/sandbox',
    slotName: 'slot1_1',
    extraEnv: {},
  });

  test('a plain job goes to the process launcher', () => {
    const h = launchers.start(opts({ Cmd: '"/bin/true"' }));
    assert.equal(started.length, 1);
    assert.equal(launchers.of(h), launchers.process);
  });

  test('a container job without a container launcher is held with the reason, and nothing starts', async () => {
    const h = launchers.start(opts({ Cmd: '"/bin/true"', ContainerImage: '"docker://alpine"' }));
    const o = await h.done;
    assert.equal(o.kind, 'failed');
    assert.equal(o.holdCode, 6);
    assert.match(o.message ?? '', /no container launcher/);
    assert.equal(started.length, 1, 'the process launcher was not asked');
    assert.deepEqual(launchers.list([h]), [], 'nothing of it to recover after a restart');
  });
});
