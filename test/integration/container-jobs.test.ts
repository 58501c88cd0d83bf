// universe = container through podman (the startd's container launcher): a job runs inside a locally built
// image as its owner, its output comes back the owner's; an image that does not exist holds the job with
// podman's reason; removal leaves no container behind; the slot ads say the host runs containers.
// The image is made here from busybox-static (no registry is reached): .ci/run installs podman, runc and
// busybox-static.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { unmountWhenFree } from './harness/small-spool.js';

const IMAGE = `localhost/dsched-test-${process.pid}`;
const BUSYBOX = '/bin/busybox';

/** A busybox image, imported from a directory: /etc/os-release names it. */
function buildImage() {
  const root = mkdtempSync(join(tmpdir(), 'dsched-image-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'etc'));
    mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
    copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    for (const c of ['sh', 'cat', 'id', 'echo', 'sleep', 'ls']) symlinkSync('busybox', join(root, 'bin', c));
    writeFileSync(join(root, 'etc', 'os-release'), 'NAME="dsched test image"\nID=dsched-test\n');
    const tar = `${root}.tar`;
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    execFileSync('podman', ['import', tar, IMAGE], { stdio: 'ignore' });
    rmSync(tar, { force: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function containersOf(label: string): string[] {
  return execFileSync('podman', ['ps', '--all', '--filter', `label=${label}`, '--format', '{{.Names}}'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

const isRoot = process.getuid?.() === 0;
const asNobody = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('container jobs', () => {
  let pool: TestPool;
  before(async () => {
    buildImage();
    pool = await TestPool.start({ STARTD_LAUNCHERS: 'process, container' });
    // the container launcher comes once podman ran its test container
    await pool.waitFor('the slot ad to say HasContainer', async () =>
      (await pool.json('dstatus', [])).some((a) => a.HasContainer === true),
    );
  });
  after(async () => {
    await pool?.stop();
    execFileSync('podman', ['rmi', '--force', IMAGE], { stdio: 'ignore' });
  });

  const submit = (name: string, text: string) => {
    const path = pool.file(name, text);
    chmodSync(dirname(path), 0o777);
    return pool.submit(path, [], { ...asNobody, cwd: dirname(path) });
  };

  test('container jobs – the slot ads advertise the container launcher', async () => {
    const [ad] = await pool.json('dstatus', []);
    assert.equal(ad!.HasContainer, true);
    assert.equal(ad!.HasDocker, true);
    assert.match(String(ad!.DockerVersion), /podman/);
    assert.equal(ad!.StartdLaunchers, 'process container');
  });

  test('container jobs – a job runs inside its image as its owner; its output is the owner’s', async () => {
    mkdirSync(join(pool.work, 'c1'), { recursive: true });
    const c = await submit(
      'c1/c1.sub',
      [
        'universe = container',
        `container_image = ${IMAGE}`,
        'executable = /bin/sh',
        'arguments = "-c \'cat /etc/os-release; id -u; id -g; echo home=$GREETING; grep -e ^CapEff -e ^NoNewPrivs /proc/self/status; exit 3\'"',
        'environment = "GREETING=hello"',
        'output = c1.out',
        'error = c1.err',
        'log = c1.log',
        'queue',
      ].join('\n') + '\n',
    );
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 3, JSON.stringify(ad));
    const out = pool.read('c1/c1.out');
    assert.match(out, /NAME="dsched test image"/);
    assert.match(out, /^65534\n65534\nhome=hello$/m);
    // no capabilities, and none to gain through a setuid program of the image
    assert.match(out, /^CapEff:\s+0+$/m);
    assert.match(out, /^NoNewPrivs:\s+1$/m);
    const st = statSync(join(pool.work, 'c1/c1.out'));
    assert.equal(st.uid, 65534);
    assert.equal(st.gid, 65534);
  });

  test('container jobs – an image that does not exist holds the job with podman’s reason', async () => {
    mkdirSync(join(pool.work, 'c2'), { recursive: true });
    const c = await submit(
      'c2/c2.sub',
      `universe = container\ncontainer_image = localhost/dsched-no-such-image-${process.pid}\nexecutable = /bin/true\nqueue\n`,
    );
    const ad = await pool.waitFor('the job to be held', async () =>
      (await pool.json('dq', [String(c), '-allusers'])).find((a) => a.JobStatus === 5),
    );
    assert.equal(ad.HoldReasonCode, 6);
    assert.match(String(ad.HoldReason), /container.*dsched-no-such-image/);
    await pool.run('drm', [String(c)]);
  });

  test('container jobs – an image name that looks like an option is refused', async () => {
    mkdirSync(join(pool.work, 'c3'), { recursive: true });
    const c = await submit(
      'c3/c3.sub',
      'universe = container\ncontainer_image = --privileged\nexecutable = /bin/true\nqueue\n',
    );
    const ad = await pool.waitFor('the job to be held', async () =>
      (await pool.json('dq', [String(c), '-allusers'])).find((a) => a.JobStatus === 5),
    );
    assert.equal(ad.HoldReasonCode, 6);
    assert.match(String(ad.HoldReason), /not valid/);
    await pool.run('drm', [String(c)]);
  });

  test('container jobs – removal kills the container and leaves none behind', async () => {
    mkdirSync(join(pool.work, 'c4'), { recursive: true });
    const c = await submit(
      'c4/c4.sub',
      `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sleep\narguments = 600\nqueue\n`,
    );
    await pool.waitFor('the job to run', async () =>
      (await pool.json('dq', [String(c), '-allusers'])).find((a) => a.JobStatus === 2),
    );
    await pool.waitFor('its container to exist', () => containersOf('dsched.startd').length > 0);
    const r = await pool.run('drm', [String(c)], asNobody);
    assert.equal(r.code, 0, r.stderr);
    await pool.waitForHistory(c, 1);
    await pool.waitFor('no container of the pool to be left', () => containersOf('dsched.startd').length === 0);
  });

  test('container jobs – a job killed by a signal inside its container is reported killed by it', async () => {
    mkdirSync(join(pool.work, 'c5'), { recursive: true });
    const c = await submit(
      'c5/c5.sub',
      `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sh\narguments = "-c 'kill -SEGV $$'"\nqueue\n`,
    );
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitBySignal, true, JSON.stringify(ad));
    assert.equal(ad!.ExitSignal, 11);
  });

  test('container jobs – a restarted startd removes the container a killed one left', async () => {
    mkdirSync(join(pool.work, 'c6'), { recursive: true });
    const c = await submit(
      'c6/c6.sub',
      `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sleep\narguments = 600\nqueue\n`,
    );
    const [left] = await pool.waitFor('its container to run', () => {
      const names = containersOf('dsched.startd');
      return names.length ? names : undefined;
    });
    const pid = pool.daemonPid('startd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('startd', pid);
    // the job may run again meanwhile, in a new container
    await pool.waitFor('the left container to be removed', () => !containersOf('dsched.startd').includes(left!));
    await pool.run('drm', [String(c)]);
    await pool.waitForHistory(c, 1);
    await pool.waitFor('no container of the pool to be left', () => containersOf('dsched.startd').length === 0);
  });

  test('container jobs – a job runs with its submitter’s umask', async () => {
    mkdirSync(join(pool.work, 'c8'), { recursive: true });
    // the command inherits the umask it is started with
    const old = process.umask(0o027);
    let c: number;
    try {
      c = await submit(
        'c8/c8.sub',
        `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sh\narguments = "-c umask"\noutput = c8.out\nqueue\n`,
      );
    } finally {
      process.umask(old);
    }
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
    assert.equal(pool.read('c8/c8.out').trim(), '0027');
  });

  test('container jobs – a #PBS script with -v CONTAINER_IMAGE runs in that image', async () => {
    mkdirSync(join(pool.work, 'c7'), { recursive: true });
    const path = pool.file(
      'c7/boxed.sh',
      `#PBS -N boxed\n#PBS -v CONTAINER_IMAGE=${IMAGE}\ncat /etc/os-release\nid -u\n`,
    );
    chmodSync(dirname(path), 0o777);
    const c = await pool.submit(path, [], { ...asNobody, cwd: dirname(path) });
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
    const out = pool.read(`c7/boxed.o${c}`);
    assert.match(out, /NAME="dsched test image"\n[^]*^65534$/m);
  });
});

describe(
  'container jobs with the execute folder full',
  { skip: !isRoot && 'needs root to mount a small file system' },
  () => {
    let pool: TestPool;
    let execute: string;
    before(async () => {
      buildImage();
      pool = TestPool.create({ STARTD_LAUNCHERS: 'process, container' });
      execute = join(pool.home, 'execute');
      mkdirSync(execute, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'tmpfs', execute]);
      const r = await pool.run('dsched', ['start']);
      assert.equal(r.code, 0, r.stderr + pool.logs());
      await pool.waitFor('the slot ad to say HasContainer', async () =>
        (await pool.json('dstatus', [])).some((a) => a.HasContainer === true),
      );
    });
    after(async () => {
      await pool?.run('dsched', ['stop']);
      if (execute) await unmountWhenFree(execute);
      await pool?.stop();
      execFileSync('podman', ['rmi', '--force', IMAGE], { stdio: 'ignore' });
    });

    test('container jobs – a job whose output fills the execute folder and that exits 0 is held (34, subcode 28), not a success', async () => {
      const path = pool.file(
        'full/full.sub',
        `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sh\narguments = "-c 'head -c 20000000 /dev/zero; exit 0'"\noutput = full.out\nqueue\n`,
      );
      chmodSync(dirname(path), 0o777);
      const c = await pool.submit(path, [], { ...asNobody, cwd: dirname(path) });
      const ad = await pool.waitFor(`job ${c} to be held`, async () => {
        const [h] = await pool.json('dhistory', [String(c)]);
        assert.equal(h, undefined, `the job finished: ${JSON.stringify(h)}`);
        const [job] = await pool.json('dq', [String(c), '-allusers']);
        return job?.JobStatus === 5 && job;
      });
      assert.equal(ad.HoldReasonCode, 34);
      assert.equal(ad.HoldReasonSubCode, 28);
      assert.ok(String(ad.HoldReason).includes(execute), String(ad.HoldReason));
      await pool.run('drm', [String(c)]);
    });

    test('container jobs – a job that wrote nothing in its sandbox while the execute folder was full completes', async () => {
      // under a MiB left: full, as the startd counts it, with room for the job's small files and podman's
      const filler = join(execute, 'filler');
      const fs = statfsSync(execute);
      writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 512 * 1024)));
      try {
        const path = pool.file(
          'idle/idle.sub',
          `universe = container\ncontainer_image = ${IMAGE}\nexecutable = /bin/sh\narguments = "-c 'exit 0'"\nqueue\n`,
        );
        chmodSync(dirname(path), 0o777);
        const c = await pool.submit(path, [], { ...asNobody, cwd: dirname(path) });
        const [ad] = await pool.waitForHistory(c, 1);
        assert.equal(ad!.ExitCode, 0, JSON.stringify(ad));
      } finally {
        rmSync(filler, { force: true });
      }
    });
  },
);

describe('container jobs without a container launcher', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ STARTD_LAUNCHERS: 'process' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('container jobs – STARTD_LAUNCHERS = process: no HasContainer, and a container job is held with why', async () => {
    const ad = await pool.waitFor('the slot ad', async () => (await pool.json('dstatus', []))[0]);
    assert.equal(ad.HasContainer, false);
    assert.equal(ad.StartdLaunchers, 'process');
    assert.match(pool.logs(), /jobs are started by the launchers: process/);
    // a job that does not ask for HasContainer itself still matches, and is held by the startd
    const path = pool.file(
      'n1/n1.sub',
      'executable = /bin/true\n+ContainerImage = "busybox"\nshould_transfer_files = YES\nqueue\n',
    );
    const c = await pool.submit(path, [], { cwd: dirname(path) });
    const held = await pool.waitFor('the job to be held', async () =>
      (await pool.json('dq', [String(c)])).find((a) => a.JobStatus === 5),
    );
    assert.equal(held.HoldReasonCode, 6);
    assert.match(String(held.HoldReason), /this execute host has no container launcher/);
  });
});
