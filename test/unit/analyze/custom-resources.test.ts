// dq -analyze with custom resources (GPUs, MACHINE_RESOURCE_<name>): a request above every slot's total is named
// with its Total<name>; GPUs that are all in use make the job wait (busy), not "match no slot".
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { analyzeJob, diagnoseJob } from '../../../cli/shared/analyze.js';
import { DEFAULT_REQUIREMENTS, T, dslot, job, pslot } from './fixtures.js';

const GPU_REQUIREMENTS = `${DEFAULT_REQUIREMENTS} && (TARGET.GPUs >= RequestGPUs)`;
const gpuSlot = (free: number) =>
  pslot({
    host: 'gpu1',
    values: {
      MachineResources: 'Cpus Memory Disk GPUs',
      GPUs: free,
      TotalGPUs: 2,
      TotalSlotGPUs: 2,
      AssignedGPUs: free ? 'GPU-bbbb' : undefined,
    },
  });
const plainSlot = pslot({ host: 'cpu1', values: { MachineResources: 'Cpus Memory Disk' } });
const gpuJob = (n: number) => job({ requirements: GPU_REQUIREMENTS, values: { RequestGPUs: n } });

describe('analyze – custom resources', () => {
  test('analyze – RequestGPUs above every TotalGPUs: the clause and the suggestion name the totals', () => {
    const text = analyzeJob(gpuJob(3), [gpuSlot(2), plainSlot], { now: T, priorities: [] });
    assert.match(
      text,
      /^Why: no slot matches its Requirements; clause \[5\] TARGET\.GPUs >= RequestGPUs rules out the most\.$/m,
    );
    assert.match(text, /slot1@gpu1: free .*, 2 of 2 GPUs$/m);
    assert.match(text, /big enough for RequestCpus 1, RequestMemory 128 MB, RequestDisk 43 KB, RequestGPUs 3$/m);
    assert.match(text, /RequestGPUs 3 exceeds the largest slot \(TotalGPUs 2\): ask for 2 or less \(request_gpus\)\./);
    assert.doesNotMatch(text, /Clause \[5\] .* is true for no slot/, 'said once, as a request');
  });

  test('analyze – all GPUs in use: the job matches at full size and waits for one', () => {
    const d = diagnoseJob(gpuJob(1), [gpuSlot(0), dslot('gpu1', 1, 'bob'), plainSlot]);
    assert.deepEqual(d.customRequests, { GPUs: 1 });
    assert.deepEqual([d.counts.requirements, d.counts.start, d.counts.bigEnough, d.counts.available], [1, 1, 1, 0]);
    const text = analyzeJob(gpuJob(1), [gpuSlot(0), dslot('gpu1', 1, 'bob'), plainSlot], { now: T, priorities: [] });
    assert.match(text, /^Why: every slot that can run it is busy/m);
    assert.match(text, /0 of 2 GPUs/);
  });

  test('analyze – a custom resource no slot has at all', () => {
    const lic = job({
      requirements: `${DEFAULT_REQUIREMENTS} && (TARGET.Licenses >= RequestLicenses)`,
      values: { RequestLicenses: 1 },
    });
    const slot = pslot({
      host: 'lic1',
      values: { MachineResources: 'Cpus Memory Disk Licenses', Licenses: 0, TotalLicenses: 0 },
    });
    assert.match(analyzeJob(lic, [slot], { now: T, priorities: [] }), /RequestLicenses 1: no slot has any Licenses\./);
  });
});
