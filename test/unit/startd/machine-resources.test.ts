// Machine resources: MACHINE_RESOURCE_<name> values (counts, id lists, errors), nvidia-smi and inventory output,
// the id hand-out of a partitionable slot (lowest free first, given back exactly), the slot ads and the job's
// environment, STARTD_ATTRS in both forms, and the benchmarks.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ClassAd } from '../../../grammar/classad/index.js';
import { Config, parseConfigText } from '../../../lib/config/load.js';
import { DschedError } from '../../../lib/errors.js';
import {
  configuredResources,
  cudaVisibleDevices,
  detectCustomResources,
  IdInventory,
  JobLoad,
  parseInventoryOutput,
  parseNvidiaSmi,
  parseResourceValue,
  runBenchmarks,
  shortGpuId,
  type CustomResource,
} from '../../../daemons/startd/resources.js';
import { detectResources, Machine, startdAttrs } from '../../../daemons/startd/slots.js';

const silent = pino({ level: 'silent' });

/** A configuration from config-file text, as the startd reads it (names keep their spelling). */
function config(text: string, home = '/nonexistent-dsched-home'): Config {
  return new Config(home, [{ source: '/etc/test-config', entries: parseConfigText(text, '/etc/test-config') }]);
}

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DschedError, `expected a DschedError, got ${String(e)}`);
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, message);
    return true;
  });
}

describe('machine resources – MACHINE_RESOURCE_<name> values', () => {
  const ok: Array<[string, { count: number; ids?: string[] }]> = [
    ['2', { count: 2 }],
    [' 0 ', { count: 0 }],
    ['GPU-0a1b, GPU-2c3d', { count: 2, ids: ['GPU-0a1b', 'GPU-2c3d'] }],
    ['GPU-0a1b,GPU-2c3d', { count: 2, ids: ['GPU-0a1b', 'GPU-2c3d'] }],
    ['fpga0 fpga1  fpga2', { count: 3, ids: ['fpga0', 'fpga1', 'fpga2'] }],
    ['0, 1', { count: 2, ids: ['0', '1'] }],
    ['CUDA0', { count: 1, ids: ['CUDA0'] }],
    ['/dev/nvidia0, 0000:3b:00.0', { count: 2, ids: ['/dev/nvidia0', '0000:3b:00.0'] }],
  ];
  for (const [raw, want] of ok)
    test(`machine resources – ${JSON.stringify(raw)} is ${want.ids ? `the ids ${want.ids.join(' ')}` : `a count of ${want.count}`}`, () => {
      assert.deepEqual(parseResourceValue('MACHINE_RESOURCE_X', raw, 'test'), want);
    });

  const bad: Array<[string, RegExp]> = [
    ['-1', /MACHINE_RESOURCE_X = -1 \(from test\): a count must be a whole number/],
    ['2.5', /a count must be a whole number/],
    ['GPU-1, GPU-1', /the id GPU-1 is listed twice/],
    ['"GPU-1", "GPU-2"', /"\\"GPU-1\\"" is not a resource id/],
    ['a=b', /is not a resource id/],
    ['99999999999999999999', /too large/],
  ];
  for (const [raw, message] of bad)
    test(`machine resources – ${JSON.stringify(raw)} is a config error`, () =>
      configError(() => parseResourceValue('MACHINE_RESOURCE_X', raw, 'test'), message));

  test('machine resources – names keep their spelling; GPUs is spelled GPUs whatever the case', () => {
    const c = configuredResources(
      config(
        'MACHINE_RESOURCE_gpus = GPU-a, GPU-b\nMACHINE_RESOURCE_Licenses = 4\nMACHINE_RESOURCE_Fpga = fpga0, fpga1\nMACHINE_RESOURCE_Zero = 0\n',
      ),
    );
    assert.deepEqual(
      c.resources.map((r) => [r.name, r.count, r.ids]),
      [
        ['Fpga', 2, ['fpga0', 'fpga1']],
        ['GPUs', 2, ['GPU-a', 'GPU-b']],
        ['Licenses', 4, undefined],
      ],
    );
    assert.equal(c.gpusConfigured, true);
    assert.match(c.resources[0]!.source, /^MACHINE_RESOURCE_Fpga \(from \/etc\/test-config\)$/);
  });

  test('machine resources – MACHINE_RESOURCE_NAMES keeps only the resources it names', () => {
    const c = configuredResources(
      config('MACHINE_RESOURCE_NAMES = Licenses\nMACHINE_RESOURCE_Licenses = 4\nMACHINE_RESOURCE_Fpga = fpga0\n'),
    );
    assert.deepEqual(
      c.resources.map((r) => r.name),
      ['Licenses'],
    );
  });

  test('machine resources – a bad value, a standard name or two definitions of one resource are config errors', () => {
    configError(
      () => configuredResources(config('MACHINE_RESOURCE_GPUs = 1.5\n')),
      /MACHINE_RESOURCE_GPUs = 1\.5 \(from \/etc\/test-config\)/,
    );
    configError(() => configuredResources(config('MACHINE_RESOURCE_Cpus = 4\n')), /Cpus is a standard resource/);
    configError(
      () =>
        configuredResources(
          config('MACHINE_RESOURCE_GPUs = 2\nMACHINE_RESOURCE_INVENTORY_GPUs = echo DetectedGPUs=2\n'),
        ),
      /both define the resource GPUs/,
    );
  });

  test('machine resources – nothing configured and no nvidia-smi on PATH: no custom resources', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-dsched-bin';
    try {
      assert.deepEqual(await detectCustomResources(config(''), silent), []);
    } finally {
      process.env.PATH = path;
    }
  });

  test('machine resources – an inventory command is run and its Detected<name> line read', async () => {
    const got = await detectCustomResources(
      config(
        `MACHINE_RESOURCE_INVENTORY_Fpga = echo 'OtherThing=1'; echo 'DetectedFpga="fpga0, fpga1"'\nSTARTD_DETECT_GPUS = false\n`,
      ),
      silent,
    );
    assert.deepEqual(
      got.map((r) => [r.name, r.count, r.ids]),
      [['Fpga', 2, ['fpga0', 'fpga1']]],
    );
    await assert.rejects(
      detectCustomResources(config('MACHINE_RESOURCE_INVENTORY_Fpga = exit 3\nSTARTD_DETECT_GPUS = false\n'), silent),
      /the command failed/,
    );
  });

  test('machine resources – inventory output: a count, a quoted list, or an error naming the missing line', () => {
    assert.deepEqual(parseInventoryOutput('Licenses', 'DetectedLicenses=3\n', 'inv'), { count: 3 });
    assert.deepEqual(parseInventoryOutput('GPUs', 'detectedgpus = "GPU-1,GPU-2"\n', 'inv'), {
      count: 2,
      ids: ['GPU-1', 'GPU-2'],
    });
    configError(
      () => parseInventoryOutput('GPUs', 'Something=1\n', 'MACHINE_RESOURCE_INVENTORY_GPUs'),
      /printed no DetectedGPUs = … line/,
    );
  });

  test('machine resources – nvidia-smi output becomes GPUs with HTCondor short ids, in index order', () => {
    const text = [
      '1, GPU-60f2c95a-c564-a078-2a14-b4ff488806ca, Tesla V100-SXM2-32GB, 32768 MiB',
      '0, GPU-dae76d0e-3414-958a-8f3e-fc6682b36f31, Tesla V100-SXM2-32GB, 32768 MiB',
      '',
    ].join('\n');
    const gpus = parseNvidiaSmi(text)!;
    assert.equal(gpus.name, 'GPUs');
    assert.deepEqual(gpus.ids, ['GPU-dae76d0e', 'GPU-60f2c95a']);
    assert.deepEqual(gpus.properties, { GPUs_DeviceName: '"Tesla V100-SXM2-32GB"', GPUs_GlobalMemoryMb: '32768' });
    assert.equal(parseNvidiaSmi('No devices were found\n'), undefined);
    assert.equal(shortGpuId('GPU-DAE76D0E-3414'), 'GPU-dae76d0e');
  });

  test('machine resources – CUDA_VISIBLE_DEVICES: ids as they are, a CUDA prefix dropped (CUDA1 → 1)', () => {
    assert.equal(cudaVisibleDevices(['GPU-0a1b', 'GPU-2c3d']), 'GPU-0a1b,GPU-2c3d');
    assert.equal(cudaVisibleDevices(['CUDA0', 'CUDA3']), '0,3');
    assert.equal(cudaVisibleDevices([]), '');
  });
});

describe('machine resources – id hand-out', () => {
  test('id hand-out – lowest free first; a given-back id is free again at once and handed out next', () => {
    const inv = new IdInventory('GPUs', ['g0', 'g1', 'g2']);
    assert.deepEqual(inv.take(1), ['g0']);
    assert.deepEqual(inv.take(1), ['g1']);
    inv.give(['g0']);
    assert.deepEqual(inv.freeIds(), ['g0', 'g2']);
    assert.deepEqual(inv.take(2), ['g0', 'g2']);
    assert.equal(inv.freeCount, 0);
    assert.throws(() => inv.take(1), /only 0 of 3 GPUs free, asked 1/);
  });

  test('id hand-out – giving back an unknown id or one already free is refused', () => {
    const inv = new IdInventory('GPUs', ['g0', 'g1']);
    assert.throws(() => inv.give(['g0']), /given back twice/);
    inv.take(1);
    assert.throws(() => inv.give(['zz']), /not one of the GPUs/);
    assert.deepEqual(inv.freeIds(), ['g1'], 'a refused give-back changes nothing');
  });
});

describe('machine resources – slots', () => {
  const gpus: CustomResource = { name: 'GPUs', count: 2, ids: ['GPU-aaaa', 'GPU-bbbb'], source: 'test' };
  const licenses: CustomResource = { name: 'Licenses', count: 1, source: 'test' };
  function machine(text = '', custom: CustomResource[] = [gpus, licenses]) {
    const c = config(text);
    return new Machine(
      'node1',
      'node1.example.org',
      c,
      { cpus: 4, memory: 4096, disk: 100000, custom: Object.fromEntries(custom.map((r) => [r.name, r.count])) },
      'addr:1',
      {
        custom,
        benchmarks: { kflops: 1234567, mips: 4321, durationMs: 100 },
      },
    );
  }
  const job = (attrs: Record<string, string>) =>
    ClassAd.fromRecord({ RequestCpus: '1', RequestMemory: '128', RequestDisk: '1024', ...attrs });

  test('slots – the partitionable slot advertises free, total and detected counts and the free ids', () => {
    const m = machine();
    const ad = m.pslotAd();
    assert.equal(ad.MachineResources, '"Cpus Memory Disk GPUs Licenses"');
    assert.equal(ad.GPUs, '2');
    assert.equal(ad.TotalGPUs, '2');
    assert.equal(ad.DetectedGPUs, '"GPU-aaaa, GPU-bbbb"');
    assert.equal(ad.AssignedGPUs, '"GPU-aaaa,GPU-bbbb"');
    assert.equal(ad.Licenses, '1');
    assert.equal(ad.TotalLicenses, '1');
    assert.equal(ad.AssignedLicenses, undefined, 'a plain count has no ids');
    assert.equal(ad.KFlops, '1234567');
    assert.equal(ad.Mips, '4321');
  });

  test('slots – a dynamic slot gets its ids, the next one the others; a released one gives them back exactly', () => {
    const m = machine();
    const a = m.carve(m.requests(job({ RequestGPUs: '1' })), 'claim-a', 'schedd', 'addr', 60);
    const b = m.carve(m.requests(job({ RequestGPUs: '1', RequestLicenses: '1' })), 'claim-b', 'schedd', 'addr', 60);
    assert.deepEqual(a.assigned, { GPUs: ['GPU-aaaa'] });
    assert.deepEqual(b.assigned, { GPUs: ['GPU-bbbb'] });
    assert.equal(m.dslotAd(a).AssignedGPUs, '"GPU-aaaa"');
    assert.equal(m.dslotAd(a).GPUs, '1');
    assert.equal(m.dslotAd(a).Licenses, '0');
    assert.equal(m.dslotAd(b).Licenses, '1');
    assert.equal(m.pslotAd().GPUs, '0');
    assert.equal(m.pslotAd().AssignedGPUs, undefined);
    assert.throws(
      () => m.carve(m.requests(job({ RequestGPUs: '1' })), 'claim-c', 'schedd', 'addr', 60),
      /not enough resources left/,
    );
    assert.throws(
      () => m.carve(m.requests(job({ RequestLicenses: '1' })), 'claim-d', 'schedd', 'addr', 60),
      /not enough resources left/,
    );
    m.release('claim-a');
    assert.equal(m.pslotAd().GPUs, '1');
    assert.equal(m.pslotAd().AssignedGPUs, '"GPU-aaaa"');
    const c = m.carve(m.requests(job({ RequestGPUs: '1' })), 'claim-c', 'schedd', 'addr', 60);
    assert.deepEqual(c.assigned, { GPUs: ['GPU-aaaa'] }, 'the freed id is handed out again');
    m.release('claim-b');
    m.release('claim-c');
    assert.equal(m.pslotAd().AssignedGPUs, '"GPU-aaaa,GPU-bbbb"');
    assert.equal(m.pslotAd().Licenses, '1');
  });

  test('slots – the job environment: CUDA_VISIBLE_DEVICES and _CONDOR_AssignedGPUs; no GPU asked, none visible', () => {
    const m = machine();
    const two = m.carve(m.requests(job({ RequestGPUs: '2' })), 'claim-a', 'schedd', 'addr', 60);
    assert.deepEqual(m.assignedEnv(two), {
      _CONDOR_AssignedGPUs: 'GPU-aaaa,GPU-bbbb',
      CUDA_VISIBLE_DEVICES: 'GPU-aaaa,GPU-bbbb',
    });
    const none = m.carve(m.requests(job({})), 'claim-b', 'schedd', 'addr', 60);
    assert.deepEqual(m.assignedEnv(none), { CUDA_VISIBLE_DEVICES: '' });
    const fpga = machine('', [{ name: 'Fpga', count: 2, ids: ['fpga0', 'fpga1'], source: 'test' }]);
    const f = fpga.carve(fpga.requests(job({ RequestFpga: '1' })), 'claim-f', 'schedd', 'addr', 60);
    assert.deepEqual(
      fpga.assignedEnv(f),
      { _CONDOR_AssignedFpga: 'fpga0' },
      'no GPUs on the machine: CUDA_VISIBLE_DEVICES is left alone',
    );
  });

  test('slots – CondorLoadAvg: absent until a reading arrives, then per job and in total; a finished job counts no more', () => {
    const m = machine();
    const d = m.carve(m.requests(job({})), 'claim-a', 'schedd', 'addr', 60);
    assert.equal(m.dslotAd(d).CondorLoadAvg, undefined);
    assert.equal(m.pslotAd().TotalCondorLoadAvg, undefined);
    const started = { sandbox: '/nonexistent', done: new Promise(() => {}) } as NonNullable<typeof d.job>['started'];
    d.job = { cluster: 1, proc: 0, owner: 'alice', started };
    m.noteJobCpu(started, 0, 1000);
    m.noteJobCpu(started, 5, 6000); // one cpu busy for 5 s
    m.invalidate();
    assert.ok(Number(m.dslotAd(d).CondorLoadAvg) > 0, m.dslotAd(d).CondorLoadAvg);
    assert.equal(m.pslotAd().TotalCondorLoadAvg, m.dslotAd(d).CondorLoadAvg);
    assert.equal(m.pslotAd().CondorLoadAvg, '0.00');
    d.job = undefined;
    m.invalidate();
    assert.equal(m.pslotAd().TotalCondorLoadAvg, '0.00');
  });

  test("slots – a slot ad is the shared attributes, the slot's own and its load; the shared ones' version moves only as they change", () => {
    const m = machine();
    const d = m.carve(m.requests(job({ RequestGPUs: '1' })), 'claim-a', 'schedd', 'addr', 60);
    const own = m.dslotOwn(d);
    const ad = m.dslotAd(d);
    for (const [k, v] of Object.entries(own)) assert.equal(ad[k], v, k);
    assert.equal(own.AssignedGPUs, '"GPU-aaaa"');
    assert.equal(own.Machine, undefined, 'the shared attributes are not its own');
    assert.equal(ad.Machine, '"node1.example.org"');
    assert.equal(own.LoadAvg, undefined, 'nor the load averages');
    assert.equal(m.loads(d).LoadAvg, ad.LoadAvg);
    assert.equal(m.loads(d).CondorLoadAvg, undefined, 'no job load until measured');
    // recomputed (the load averages read again), the shared attributes are the same version
    const v = m.commonVersion();
    m.invalidate();
    assert.equal(m.commonVersion(), v);
    // what changes them (a launcher ready, a reconfig) makes a new version
    m.launcherAttrs = { HasContainer: 'true' };
    m.invalidate();
    assert.ok(m.commonVersion() > v);
    assert.equal(m.dslotAd(d).HasContainer, 'true');
    // a job's start changes the slot's own attributes, not the shared ones
    const after = m.commonVersion();
    const started = { sandbox: '/nonexistent', done: new Promise(() => {}) } as NonNullable<typeof d.job>['started'];
    d.job = { cluster: 7, proc: 0, owner: 'alice', started };
    assert.equal(m.dslotOwn(d).JobId, '"7.0"');
    m.noteJobCpu(started, 0, 1000);
    m.noteJobCpu(started, 5, 6000);
    m.invalidate();
    assert.equal(m.commonVersion(), after, "the jobs' total load is a load average");
    assert.equal(m.loads(d).CondorLoadAvg, m.dslotAd(d).CondorLoadAvg);
    assert.equal(m.loads(d).TotalCondorLoadAvg, m.dslotAd(d).TotalCondorLoadAvg);
  });

  test('slots – detectResources carries the custom counts', () => {
    const home = mkdtempSync(join(tmpdir(), 'dsched-startd-test-'));
    try {
      const c = config('NUM_CPUS = 3\nMEMORY = 2048\nDISK = 5000\n', home);
      assert.deepEqual(detectResources(c, [gpus, licenses]), {
        cpus: 3,
        memory: 2048,
        disk: 5000,
        custom: { GPUs: 2, Licenses: 1 },
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('machine resources – STARTD_ATTRS', () => {
  test('STARTD_ATTRS – `Name = expr` parts, e.g. Labels = "gpu,learner"', () => {
    assert.deepEqual(startdAttrs(config('STARTD_ATTRS = Labels = "gpu,learner"; Rack = 12\n')), {
      Labels: '"gpu,learner"',
      Rack: '12',
    });
  });

  test("STARTD_ATTRS – HTCondor's list of names whose values are config macros; undefined names are left out", () => {
    const c = config('Labels = "gpu,learner"\nRack = 3 * 4\nSTARTD_ATTRS = Labels, Rack Nowhere\n');
    assert.deepEqual(startdAttrs(c), { Labels: '"gpu,learner"', Rack: '3 * 4' });
  });

  test('STARTD_ATTRS – something that is neither form is a config error', () => {
    configError(
      () => startdAttrs(config('STARTD_ATTRS = Labels "x"\n')),
      /is neither `Name = expression` nor an attribute name/,
    );
  });
});

describe('machine resources – benchmarks and load', () => {
  test('benchmarks – KFlops and Mips are positive whole numbers', async () => {
    const b = await runBenchmarks(5);
    assert.ok(Number.isInteger(b.kflops) && b.kflops > 0, `KFlops ${b.kflops}`);
    assert.ok(Number.isInteger(b.mips) && b.mips > 0, `Mips ${b.mips}`);
  });

  test('CondorLoadAvg – a job using one cpu for a minute averages about 0.63 (one time constant)', () => {
    const l = new JobLoad();
    assert.equal(l.measured, false);
    for (let t = 0; t <= 60; t += 5) l.record(42, t, t * 1000);
    assert.ok(Math.abs(l.of(42) - (1 - Math.exp(-1))) < 1e-9, String(l.of(42)));
    assert.equal(l.total(), l.of(42));
    l.forget(42);
    assert.equal(l.total(), 0);
  });
});
