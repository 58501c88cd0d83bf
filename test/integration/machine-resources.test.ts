// Machine resources on a real pool: GPUs configured as ids (MACHINE_RESOURCE_GPUs = GPU-aaaa, GPU-bbbb) are
// handed out one per job and shown to it in CUDA_VISIBLE_DEVICES; a custom count (MACHINE_RESOURCE_Licenses = 1)
// limits how many jobs run at once; a job asking more GPUs than the machine has stays idle and dq -analyze says
// why; KFlops, Mips and STARTD_ATTRS labels are in the slot ads; a bad MACHINE_RESOURCE_ value stops the startd.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

/** The 001 (started) and 005 (terminated) events of a user log, in order, as [code, proc]. */
function startsAndEnds(log: string): Array<[string, number]> {
  return [...log.matchAll(/^(001|005) \(\d+\.(\d+)\.\d+\)/gm)].map((m) => [m[1]!, Number(m[2])]);
}

/** The most jobs running at once, from a user log. */
function peak(log: string): number {
  let running = 0;
  let most = 0;
  for (const [code] of startsAndEnds(log)) {
    running += code === '001' ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

describe('machine resources', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({
      NUM_CPUS: '4',
      MACHINE_RESOURCE_GPUs: 'GPU-aaaa, GPU-bbbb',
      MACHINE_RESOURCE_Licenses: '1',
      Labels: '"gpu,learner"',
      STARTD_ATTRS: 'Labels',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string) => pool.submit(file);
  const af = async (attrs: string[], constraint = 'PartitionableSlot') => {
    const r = await pool.run('dstatus', ['-constraint', constraint, '-af', ...attrs]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  test('machine resources – the partitionable slot shows GPUs, licenses, benchmarks and labels', async () => {
    await pool.waitFor('the slot with both GPUs free', async () => (await af(['GPUs', 'TotalGPUs'])) === '2 2');
    assert.equal(await af(['Licenses', 'TotalLicenses']), '1 1');
    assert.equal(await af(['MachineResources']), 'Cpus Memory Disk GPUs Licenses');
    assert.equal(await af(['DetectedGPUs']), 'GPU-aaaa, GPU-bbbb');
    const [kflops, mips] = (await af(['KFlops', 'Mips'])).split(/\s+/).map(Number);
    assert.ok(kflops! > 0 && Number.isInteger(kflops), `KFlops ${kflops}`);
    assert.ok(mips! > 0 && Number.isInteger(mips), `Mips ${mips}`);
    assert.equal(await af(['Labels']), 'gpu,learner');
  });

  test('GPUs – three jobs asking one GPU each: two at a time, with different ids; the third gets a freed one', async () => {
    // each runs until the test opens the gate, once it has seen two run at once: no length of a job is
    // long enough for that on a loaded machine
    const gate = join(pool.work, 'gpu.go');
    pool.file(
      'gpu.sh',
      `#!/bin/sh\necho "$CUDA_VISIBLE_DEVICES|$_CONDOR_AssignedGPUs"\nwhile [ ! -e ${gate} ]; do sleep 0.2; done\n`,
      0o755,
    );
    pool.file(
      'gpu.sub',
      'executable = gpu.sh\nrequest_gpus = 1\noutput = gpu.$(Process).out\nlog = gpu.log\nqueue 3\n',
    );
    const c = await submit('gpu.sub');
    // while two run, the partitionable slot has no GPU left and each dynamic slot shows its own
    await pool.waitFor('both GPUs in use', async () => (await af(['GPUs', 'TotalGPUs'])) === '0 2');
    const busy = await pool.waitFor('two dynamic slots with a GPU each', async () => {
      const ids = (await af(['AssignedGPUs'], 'DynamicSlot && GPUs > 0')).split('\n').filter(Boolean).sort();
      return ids.length === 2 ? ids : undefined;
    });
    assert.deepEqual(busy, ['GPU-aaaa', 'GPU-bbbb']);
    // both started (001 in the log) before either may end
    await pool.waitFor(
      'two jobs to run',
      async () => (await pool.json('dq', [String(c)])).filter((a) => a.JobStatus === 2).length === 2,
    );
    pool.file('gpu.go', '');
    await pool.waitForHistory(c, 3);

    const log = pool.read('gpu.log');
    assert.equal(peak(log), 2, log);
    const seen = [0, 1, 2].map((p) => pool.read(`gpu.${p}.out`).trim());
    for (const s of seen) {
      const [visible, assigned] = s.split('|');
      assert.equal(visible, assigned, 'CUDA_VISIBLE_DEVICES is the assigned id');
      assert.ok(['GPU-aaaa', 'GPU-bbbb'].includes(visible!), s);
    }
    // the two that ran together saw different ids; the one that started after an end waited for a freed GPU
    const events = startsAndEnds(log);
    const firstEnd = events.findIndex(([code]) => code === '005');
    const together = events
      .slice(0, firstEnd)
      .filter(([code]) => code === '001')
      .map(([, p]) => p);
    assert.equal(together.length, 2, log);
    assert.notEqual(seen[together[0]!]!, seen[together[1]!]!);
    const waited = [0, 1, 2].find((p) => !together.includes(p))!;
    assert.ok(
      events.findIndex(([code, p]) => code === '001' && p === waited) > firstEnd,
      'the third job started only after one ended',
    );
    await pool.waitFor('both GPUs free again', async () => (await af(['GPUs', 'TotalGPUs'])) === '2 2');
  });

  test('GPUs – a job asking three GPUs of a two-GPU pool never matches, and dq -analyze says why', async () => {
    pool.file('three.sub', 'executable = /bin/true\nrequest_gpus = 3\nqueue\n');
    const c = await submit('three.sub');
    // a job that fits, submitted after it, runs to the end: the negotiator had its cycles meanwhile
    pool.file('after.sub', 'executable = /bin/true\nrequest_gpus = 1\nqueue\n');
    const later = await submit('after.sub');
    await pool.waitForHistory(later, 1);
    const [ad] = await pool.json('dq', [String(c)]);
    assert.equal(ad!.JobStatus, 1, 'still idle');
    assert.equal(ad!.NumJobStarts ?? 0, 0);
    await pool.waitFor('both GPUs free', async () => (await af(['GPUs', 'TotalGPUs'])) === '2 2');
    const r = await pool.run('dq', ['-analyze', String(c)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Why: no slot matches its Requirements; clause \[\d+\] TARGET\.GPUs >= RequestGPUs rules out the most/,
    );
    assert.match(r.stdout, /free .*, 2 of 2 GPUs, 1 of 1 Licenses/);
    assert.match(
      r.stdout,
      /RequestGPUs 3 exceeds the largest slot \(TotalGPUs 2\): ask for 2 or less \(request_gpus\)\./,
    );
    await pool.run('drm', [String(c)]);
  });

  test('custom resources – two jobs asking the only license never overlap; a job without GPUs sees none', async () => {
    pool.file('lic.sh', '#!/bin/sh\necho "[$CUDA_VISIBLE_DEVICES]"\nsleep 2\n', 0o755);
    pool.file(
      'lic.sub',
      'executable = lic.sh\nrequest_Licenses = 1\noutput = lic.$(Process).out\nlog = lic.log\nqueue 2\n',
    );
    const c = await submit('lic.sub');
    await pool.waitForHistory(c, 2);
    const log = pool.read('lic.log');
    assert.equal(peak(log), 1, log);
    assert.equal(pool.read('lic.0.out'), '[]\n');
  });

  test("machine resources – a busy job's slot advertises a non-zero CondorLoadAvg, and the machine TotalCondorLoadAvg", async () => {
    const stop = `${pool.work}/busy.stop`;
    pool.file('busy.sub', `executable = /bin/sh\narguments = "-c 'while [ ! -e ${stop} ]; do :; done'"\nqueue\n`);
    const c = await submit('busy.sub');
    try {
      // the startd's usage readings of the job (every STARTER_UPDATE_INTERVAL) make its slot's load
      const load = await pool.waitFor(
        'the busy slot to advertise its load',
        async () => {
          const v = Number(await af(['CondorLoadAvg'], `JobId == "${c}.0"`));
          return v > 0 ? v : undefined;
        },
        90_000,
      );
      assert.ok(load <= 1.05, `one busy cpu: CondorLoadAvg ${load}`);
      const total = Number(await af(['TotalCondorLoadAvg']));
      assert.ok(total > 0, `TotalCondorLoadAvg ${total}`);
      assert.equal(Number(await af(['CondorLoadAvg'])), 0, 'the partitionable slot runs no job itself');
    } finally {
      pool.file('busy.stop', '');
    }
    await pool.waitForHistory(c, 1);
  });
});

describe('machine resources – configuration errors', () => {
  let pool: TestPool | undefined;
  after(async () => {
    await pool?.stop();
  });

  test('machine resources – a bad MACHINE_RESOURCE_ value stops the startd with a clear error in its log', async () => {
    pool = TestPool.create({ MACHINE_RESOURCE_GPUs: '1.5' });
    const startd = pool.startDaemon('startd');
    const { code } = await pool.waitFor(
      'the startd to exit',
      () => (startd.exitCode !== null ? { code: startd.exitCode } : undefined),
      30_000,
    );
    assert.equal(code, 2);
    const lines = readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.find((l) => l.level === 60);
    assert.ok(fatal, lines.map((l) => l.msg).join('\n'));
    assert.equal(fatal.code, 'CONFIG_INVALID');
    assert.match(String(fatal.err), /MACHINE_RESOURCE_GPUs = 1\.5 \(from .*config\): a count must be a whole number/);
  });
});
