process.env.TZ = 'UTC';
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  activityCode,
  countSlots,
  formatSlotCompact,
  formatSlotSummary,
  formatSlotTable,
  formatSlotsJson,
  formatSlotsJsonl,
  formatSlotsLong,
  renderSlots,
} from '../../../cli/shared/output/slots.js';
import { slot, T } from './fixtures.js';

const now = T + 75;
const slots = [
  slot('slot1_1@node1', { State: 'Claimed', Activity: 'Busy', LoadAvg: 1, Memory: 1024, SlotType: 'Dynamic', Cpus: 2 }),
  slot('slot1@node1', {
    LoadAvg: 0.04,
    Memory: 999,
    EnteredCurrentActivity: T - 812,
    SlotType: 'Partitionable',
    Cpus: 6,
  }),
  slot('slot1@node2', { Arch: 'aarch64', State: 'Drained', Activity: 'Retiring', Memory: 4096, Cpus: 4 }),
  slot('slot2@node2', { Arch: 'aarch64', State: 'Owner', Memory: 4096, Cpus: 4 }),
];

describe('output/slots – condor_status default view', () => {
  test('output/slots – Name OpSys Arch State Activity LoadAv Mem ActvtyTime, a blank line under the heading', () => {
    assert.deepEqual(formatSlotTable(slots, { now }), [
      'Name          OpSys      Arch    State     Activity LoadAv  Mem  ActvtyTime',
      '',
      'slot1@node1   LINUX      X86_64  Unclaimed Idle      0.040  999  0+00:14:47',
      'slot1_1@node1 LINUX      X86_64  Claimed   Busy      1.000 1024  0+00:01:15',
      'slot1@node2   LINUX      aarch64 Drained   Retiring  0.000 4096  0+00:01:15',
      'slot2@node2   LINUX      aarch64 Owner     Idle      0.000 4096  0+00:01:15',
    ]);
  });
  test('output/slots – counts by platform and state', () => {
    const { byPlatform, total } = countSlots(slots);
    assert.deepEqual([...byPlatform.keys()], ['X86_64/LINUX', 'aarch64/LINUX']);
    assert.deepEqual(total, { total: 4, Owner: 1, Claimed: 1, Unclaimed: 1, Matched: 0, Preempting: 0, Drained: 1 });
  });
  test('output/slots – the summary block by Arch/OpSys with a Total row', () => {
    assert.deepEqual(formatSlotSummary(slots), [
      '                Total Owner Claimed Unclaimed Matched Preempting Drain',
      '',
      '   X86_64/LINUX     2     0       1         1       0          0     0',
      '  aarch64/LINUX     2     1       0         0       0          0     1',
      '',
      '          Total     4     1       1         1       0          0     1',
    ]);
  });
  test('output/slots – the whole screen: table, blank line, summary; -total is the summary alone', () => {
    const out = renderSlots(slots, { now });
    assert.ok(out.startsWith('Name '));
    assert.ok(out.includes('0+00:01:15\n\n                Total Owner'));
    assert.ok(out.endsWith('     1\n'));
    assert.equal(renderSlots(slots, { now, view: 'total' }), formatSlotSummary(slots).join('\n') + '\n');
    assert.equal(renderSlots([], { now }), '');
  });
  test('output/slots – state colours only with colour on', () => {
    const colored = formatSlotTable(slots, { now, color: true });
    assert.ok(colored.some((l) => l.includes('\x1b[32mClaimed\x1b[39m')));
    assert.ok(!formatSlotTable(slots, { now }).join('').includes('\x1b['));
  });
});

describe('output/slots – -compact', () => {
  test('output/slots – one line per machine with totals and what is free', () => {
    assert.deepEqual(formatSlotCompact(slots), [
      'Machine Platform    Slots Cpus Gpus TotalGb FreCpu FreeGb CpuLoad ST',
      'node1   x64/LINUX       2    8    0    1.98      6   0.98    1.04 Cb',
      'node2   arm64/LINUX     2    8    0    8.00      0   0.00    0.00 **',
    ]);
    assert.equal(activityCode(slots[0]!), 'Cb');
  });
  test("output/slots – a machine's load is counted once, not once per slot that carries it (TotalLoadAvg)", () => {
    const busy = [1, 2, 3].map((i) =>
      slot(`slot1_${i}@node3`, {
        State: 'Claimed',
        Activity: 'Busy',
        SlotType: 'Dynamic',
        Cpus: 1,
        LoadAvg: 2.5,
        TotalLoadAvg: 2.5,
      }),
    );
    const [, line] = formatSlotCompact(busy);
    assert.match(line!, / 2\.50 Cb$/);
  });
});

describe('output/slots – -long and JSON', () => {
  test('output/slots – -json array and -jsonl with the slot schema', () => {
    const arr = JSON.parse(formatSlotsJson(slots.slice(0, 1))) as Record<string, unknown>[];
    assert.equal(arr[0]!.Name, 'slot1_1@node1');
    assert.equal(Object.keys(arr[0]!)[0], 'Activity');
    const line = JSON.parse(formatSlotsJsonl(slots.slice(0, 1))) as Record<string, unknown>;
    assert.equal(line.$schema, 'dsched.slot.v1');
  });
  test('output/slots – -long', () => {
    const text = formatSlotsLong(slots.slice(0, 2));
    assert.ok(text.includes('Name = "slot1_1@node1"\n'));
    assert.ok(text.includes('\n\nActivity = "Idle"\n'));
  });
});
