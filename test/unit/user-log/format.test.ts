process.env.TZ = 'UTC';
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  classAdString,
  formatEvent,
  formatLogTime,
  formatResources,
  formatRusage,
  jobAdAttributes,
  type UserLogEvent,
} from '../../../lib/user-log/index.js';

const T = 1763906700; // 2025-11-23 14:05:00 UTC

describe('user-log/format – header', () => {
  test('user-log/format – NNN (CCC.PPP.SSS) YYYY-MM-DD HH:MM:SS text', () => {
    const text = formatEvent({ type: 'submit', cluster: 7, proc: 0, time: T, host: '127.0.0.1:9618' });
    assert.equal(text, '000 (007.000.000) 2025-11-23 14:05:00 Job submitted from host: <127.0.0.1:9618>\n...\n');
  });
  test('user-log/format – ids wider than three digits are not cut', () => {
    const text = formatEvent({
      type: 'execute',
      cluster: 123456,
      proc: 1000,
      subproc: 2,
      time: T,
      host: '<10.0.0.1:9618>',
    });
    assert.ok(text.startsWith('001 (123456.1000.002) 2025-11-23 14:05:00 Job executing on host: <10.0.0.1:9618>\n'));
  });
  test('user-log/format – UTC and legacy dates', () => {
    assert.equal(formatLogTime(T, { utc: true }), '2025-11-23 14:05:00Z');
    assert.equal(formatLogTime(T, { legacy: true }), '11/23 14:05:00');
  });
  test('user-log/format – local time follows TZ', () => {
    const old = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      assert.equal(formatLogTime(T), '2025-11-23 23:05:00');
    } finally {
      process.env.TZ = old;
    }
  });
});

describe('user-log/format – every event as HTCondor writes it', () => {
  const cases: [string, UserLogEvent, string][] = [
    [
      '000 submitted, with a DAG node note',
      { type: 'submit', cluster: 12, proc: 0, time: T, host: '127.0.0.1:9618?sock=schedd', logNotes: 'DAG Node: A' },
      '000 (012.000.000) 2025-11-23 14:05:00 Job submitted from host: <127.0.0.1:9618?sock=schedd>\n    DAG Node: A\n...\n',
    ],
    [
      '001 executing, with the slot name',
      { type: 'execute', cluster: 12, proc: 0, time: T, host: '127.0.0.1:40000', slotName: 'slot1_1@node1' },
      '001 (012.000.000) 2025-11-23 14:05:00 Job executing on host: <127.0.0.1:40000>\n\tSlotName: slot1_1@node1\n...\n',
    ],
    [
      '004 evicted, with code and reason',
      {
        type: 'evicted',
        cluster: 12,
        proc: 0,
        time: T,
        reason: 'The startd went away',
        reasonCode: 21,
        reasonSubCode: 0,
      },
      '004 (012.000.000) 2025-11-23 14:05:00 Job was evicted. Code 21 Subcode 0\n' +
        '\t(0) CPU times\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Remote Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n' +
        '\t0  -  Run Bytes Sent By Job\n' +
        '\t0  -  Run Bytes Received By Job\n' +
        '\tReason: The startd went away\n' +
        '...\n',
    ],
    [
      '005 terminated normally with exit code 2',
      {
        type: 'terminated',
        cluster: 12,
        proc: 0,
        time: T,
        normal: true,
        returnValue: 2,
        runRemoteUsage: { user: 81, sys: 2 },
        totalRemoteUsage: { user: 90061, sys: 0 },
        sentBytes: 306,
        receivedBytes: 683,
        totalSentBytes: 306,
        totalReceivedBytes: 683,
      },
      '005 (012.000.000) 2025-11-23 14:05:00 Job terminated.\n' +
        '\t(1) Normal termination (return value 2)\n' +
        '\t\tUsr 0 00:01:21, Sys 0 00:00:02  -  Run Remote Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n' +
        '\t\tUsr 1 01:01:01, Sys 0 00:00:00  -  Total Remote Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage\n' +
        '\t306  -  Run Bytes Sent By Job\n' +
        '\t683  -  Run Bytes Received By Job\n' +
        '\t306  -  Total Bytes Sent By Job\n' +
        '\t683  -  Total Bytes Received By Job\n' +
        '...\n',
    ],
    [
      '005 terminated by a signal',
      { type: 'terminated', cluster: 12, proc: 1, time: T, normal: false, signal: 11 },
      '005 (012.001.000) 2025-11-23 14:05:00 Job terminated.\n' +
        '\t(0) Abnormal termination (signal 11)\n' +
        '\t(0) No core file\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Remote Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Remote Usage\n' +
        '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage\n' +
        '\t0  -  Run Bytes Sent By Job\n' +
        '\t0  -  Run Bytes Received By Job\n' +
        '\t0  -  Total Bytes Sent By Job\n' +
        '\t0  -  Total Bytes Received By Job\n' +
        '...\n',
    ],
    [
      '006 image size',
      { type: 'image_size', cluster: 5739, proc: 0, time: T, imageSizeKb: 72, memoryUsageMb: 1, residentSetSizeKb: 72 },
      '006 (5739.000.000) 2025-11-23 14:05:00 Image size of job updated: 72\n\t1  -  MemoryUsage of job (MB)\n\t72  -  ResidentSetSize of job (KB)\n...\n',
    ],
    [
      '009 aborted',
      { type: 'aborted', cluster: 12, proc: 0, time: T, reason: 'via drm (by user alice)' },
      '009 (012.000.000) 2025-11-23 14:05:00 Job was aborted.\n\tvia drm (by user alice)\n...\n',
    ],
    [
      '010 suspended and 011 unsuspended',
      { type: 'suspended', cluster: 12, proc: 0, time: T, numPids: 3 },
      '010 (012.000.000) 2025-11-23 14:05:00 Job was suspended.\n\tNumber of processes actually suspended: 3\n...\n',
    ],
    [
      '011 unsuspended',
      { type: 'unsuspended', cluster: 12, proc: 0, time: T },
      '011 (012.000.000) 2025-11-23 14:05:00 Job was unsuspended.\n...\n',
    ],
    [
      '012 held, reason and code/subcode',
      { type: 'held', cluster: 12, proc: 0, time: T, reason: 'via dhold (by user alice)', code: 1, subCode: 0 },
      '012 (012.000.000) 2025-11-23 14:05:00 Job was held.\n\tvia dhold (by user alice)\n\tCode 1 Subcode 0\n...\n',
    ],
    [
      '012 held without a reason',
      { type: 'held', cluster: 12, proc: 0, time: T, code: 0, subCode: 0 },
      '012 (012.000.000) 2025-11-23 14:05:00 Job was held.\n\tReason unspecified\n\tCode 0 Subcode 0\n...\n',
    ],
    [
      '013 released',
      { type: 'released', cluster: 12, proc: 0, time: T, reason: 'via drelease (by user alice)' },
      '013 (012.000.000) 2025-11-23 14:05:00 Job was released.\n\tvia drelease (by user alice)\n...\n',
    ],
    [
      '028 job ad information',
      {
        type: 'job_ad',
        cluster: 12,
        proc: 0,
        time: T,
        attributes: jobAdAttributes({ ExitCode: 2, Owner: 'alice', Ratio: 1, Ok: false }),
      },
      '028 (012.000.000) 2025-11-23 14:05:00 Job ad information event triggered.\nExitCode = 2\nOwner = "alice"\nRatio = 1\nOk = false\n...\n',
    ],
    [
      'an unknown event kept verbatim',
      {
        type: 'other',
        cluster: 12,
        proc: 0,
        time: T,
        code: 40,
        text: 'Started transferring input files',
        body: ['\tTransferring to host: <10.0.0.1:9618>'],
      },
      '040 (012.000.000) 2025-11-23 14:05:00 Started transferring input files\n\tTransferring to host: <10.0.0.1:9618>\n...\n',
    ],
  ];
  for (const [name, event, text] of cases)
    test(`user-log/format – ${name}`, () => assert.equal(formatEvent(event), text));

  test('user-log/format – a reason with newlines stays on one line', () => {
    const text = formatEvent({
      type: 'held',
      cluster: 1,
      proc: 0,
      time: T,
      reason: 'line one\nline two\r',
      code: 3,
      subCode: 0,
    });
    assert.ok(text.includes('\tline one|line two\n'));
  });
  test('user-log/format – a job that exits non-zero is never written as return value 0', () => {
    for (const code of [1, 2, 127, 255]) {
      const text = formatEvent({ type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: code });
      assert.ok(text.includes(`(1) Normal termination (return value ${code})`));
      assert.ok(!text.includes('return value 0'));
    }
  });
});

describe('user-log/format – parts', () => {
  test('user-log/format – rusage as Usr d hh:mm:ss, Sys d hh:mm:ss', () => {
    assert.equal(formatRusage({ user: 0, sys: 0 }), '\tUsr 0 00:00:00, Sys 0 00:00:00');
    assert.equal(formatRusage({ user: 86400 + 3661, sys: 59 }), '\tUsr 1 01:01:01, Sys 0 00:00:59');
  });
  test('user-log/format – the partitionable resources table as HTCondor lays it out', () => {
    const table = formatResources([
      { name: 'Memory', usage: 3, request: 1, allocated: 1983 },
      { name: 'Cpus', request: 1, allocated: 1 },
      { name: 'Disk', usage: 2643, request: 17, allocated: 16705076 },
    ]);
    assert.equal(
      table,
      '\tPartitionable Resources :    Usage  Request Allocated \n' +
        '\t   Cpus                 :                 1         1 \n' +
        '\t   Disk (KB)            :     2643       17  16705076 \n' +
        '\t   Memory (MB)          :        3        1      1983 \n',
    );
  });
  test('user-log/format – fractional usage lines up integers with the decimal point', () => {
    const table = formatResources([
      { name: 'Cpus', usage: 0.25, request: 1, allocated: 1 },
      { name: 'Memory', usage: 3, request: 1, allocated: 1 },
    ]);
    assert.ok(table.includes('\t   Cpus                 :     0.25        1         1 \n'));
    assert.ok(table.includes('\t   Memory (MB)          :     3           1         1 \n'));
  });
  test('user-log/format – ClassAd string literals', () => {
    assert.equal(classAdString('a "b"\\c\n'), '"a \\"b\\"\\\\c\\n"');
  });
});
