process.env.TZ = 'Europe/Berlin';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  appendEvent,
  appendEvents,
  appendEventsSync,
  describeTermination,
  eventSucceeded,
  formatEvent,
  formatEventJson,
  formatEvents,
  isFinalEvent,
  normalizeEvent,
  parseEventJson,
  parseHeader,
  parseUserLog,
  parseUserLogJsonl,
  readUserLog,
  readUserLogSync,
  UserLogFollower,
  UserLogParser,
  UserLogWriter,
  type TerminatedEvent,
  type UserLogEvent,
} from '../../../lib/user-log/index.js';

const T = 1763906700; // 2025-11-23 14:05:00 UTC

/** One event of every kind, with every field that the text form keeps. */
const EVERY_EVENT: UserLogEvent[] = [
  {
    type: 'submit',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T,
    host: '127.0.0.1:9618?addrs=127.0.0.1-9618&sock=schedd_1',
    logNotes: 'DAG Node: A',
    userNotes: 'my note',
  },
  {
    type: 'submit',
    cluster: 12,
    proc: 1,
    subproc: 0,
    time: T,
    host: 'node1',
    userNotes: 'only user notes',
    warnings: 'request_disk has no units',
  },
  { type: 'execute', cluster: 12, proc: 0, subproc: 0, time: T + 1, host: '10.0.0.2:40000', slotName: 'slot1_1@node2' },
  {
    type: 'evicted',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 2,
    checkpointed: false,
    terminatedAndRequeued: false,
    runRemoteUsage: { user: 10, sys: 1 },
    runLocalUsage: { user: 0, sys: 0 },
    sentBytes: 10,
    receivedBytes: 20,
    reason: 'The startd went away',
    reasonCode: 21,
    reasonSubCode: 4,
    resources: [
      { name: 'Cpus', request: 1, allocated: 1 },
      { name: 'Memory', usage: 3, request: 128, allocated: 128 },
    ],
  },
  {
    type: 'evicted',
    cluster: 12,
    proc: 2,
    subproc: 0,
    time: T + 2,
    checkpointed: false,
    terminatedAndRequeued: true,
    normal: false,
    signal: 15,
    coreFile: '/tmp/core.123',
    runRemoteUsage: { user: 0, sys: 0 },
    runLocalUsage: { user: 0, sys: 0 },
    sentBytes: 0,
    receivedBytes: 0,
    reason: 'on_exit_remove was false',
  },
  {
    type: 'terminated',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 5,
    normal: true,
    returnValue: 2,
    runRemoteUsage: { user: 81, sys: 2 },
    runLocalUsage: { user: 1, sys: 0 },
    totalRemoteUsage: { user: 90061, sys: 3 },
    totalLocalUsage: { user: 0, sys: 0 },
    sentBytes: 306,
    receivedBytes: 683,
    totalSentBytes: 612,
    totalReceivedBytes: 1366,
    resources: [
      { name: 'Cpus', usage: 0.25, request: 1, allocated: 1 },
      { name: 'Disk', usage: 15, request: 1, allocated: 1234567 },
      { name: 'Memory', usage: 3, request: 1, allocated: 1024 },
    ],
  },
  {
    type: 'terminated',
    cluster: 12,
    proc: 1,
    subproc: 0,
    time: T + 5,
    normal: false,
    signal: 9,
    runRemoteUsage: { user: 0, sys: 0 },
    runLocalUsage: { user: 0, sys: 0 },
    totalRemoteUsage: { user: 0, sys: 0 },
    totalLocalUsage: { user: 0, sys: 0 },
    sentBytes: 0,
    receivedBytes: 0,
    totalSentBytes: 0,
    totalReceivedBytes: 0,
  },
  {
    type: 'image_size',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 3,
    imageSizeKb: 2500,
    memoryUsageMb: 3,
    residentSetSizeKb: 2188,
    proportionalSetSizeKb: 2000,
  },
  { type: 'aborted', cluster: 12, proc: 3, subproc: 0, time: T + 6, reason: 'via drm (by user alice)' },
  { type: 'aborted', cluster: 12, proc: 4, subproc: 0, time: T + 6 },
  { type: 'suspended', cluster: 12, proc: 0, subproc: 0, time: T + 7, numPids: 2 },
  { type: 'unsuspended', cluster: 12, proc: 0, subproc: 0, time: T + 8 },
  {
    type: 'held',
    cluster: 12,
    proc: 5,
    subproc: 0,
    time: T + 9,
    reason: 'memory usage exceeded request_memory',
    code: 34,
    subCode: 0,
  },
  { type: 'held', cluster: 12, proc: 6, subproc: 0, time: T + 9, code: 1, subCode: 0 },
  { type: 'released', cluster: 12, proc: 5, subproc: 0, time: T + 10, reason: 'via drelease (by user alice)' },
  {
    type: 'disconnected',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 10,
    reason: 'the startd did not answer the lease renewal',
    startdName: 'slot1@node13',
    startdAddress: '10.0.0.23:9618',
  },
  {
    type: 'reconnected',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 10,
    startdName: 'slot1@node13',
    startdAddress: '10.0.0.23:9618',
  },
  {
    type: 'reconnect_failed',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 10,
    reason: 'the job lease ran out',
    startdName: 'slot1@node13',
  },
  {
    type: 'job_ad',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 11,
    attributes: { ExitCode: '2', Owner: '"alice"', TriggerEventTypeNumber: '5', Expr: 'a + b' },
  },
  {
    type: 'other',
    cluster: 12,
    proc: 0,
    subproc: 0,
    time: T + 12,
    code: 40,
    text: 'Started transferring input files',
    body: ['\tTransferring to host: <10.0.0.1:9618>'],
  },
];

describe('user-log/parse – round trip format → parse of every event', () => {
  for (const e of EVERY_EVENT) {
    test(`user-log/parse – ${String(e.type)} (${e.cluster}.${e.proc}) survives text`, () => {
      const r = parseUserLog(formatEvent(e));
      assert.deepEqual(r.problems, []);
      assert.equal(r.rest, '');
      assert.deepEqual(r.events, [e]);
    });
    test(`user-log/parse – ${String(e.type)} (${e.cluster}.${e.proc}) survives JSON lines`, () => {
      const line = formatEventJson(e);
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
      assert.deepEqual(
        normalizeEvent(parseEventJson(line)),
        e.type === 'job_ad' ? { ...e, attributes: { ...e.attributes } } : e,
      );
    });
  }
  test('user-log/parse – the same in UTC and legacy dates', () => {
    const text = formatEvents(EVERY_EVENT, { utc: true });
    assert.deepEqual(parseUserLog(text).events, EVERY_EVENT);
    const legacy = formatEvents(EVERY_EVENT, { legacy: true });
    assert.deepEqual(parseUserLog(legacy, { year: 2025 }).events, EVERY_EVENT);
  });
  test('user-log/parse – minimal events come back normalized (defaults filled)', () => {
    const minimal: UserLogEvent = { type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: 0 };
    const [back] = parseUserLog(formatEvent(minimal)).events;
    assert.deepEqual(back, normalizeEvent(minimal));
    assert.deepEqual((back as TerminatedEvent).runRemoteUsage, { user: 0, sys: 0 });
  });
  test('user-log/parse – round trip of generated events (property)', () => {
    const text = fc
      .string({ maxLength: 30 })
      .map((s) => s.replace(/[\r\n]/g, ' ').trim())
      .filter((s) => s !== '' && s !== 'Reason unspecified');
    const base = {
      cluster: fc.nat(1e6),
      proc: fc.nat(1e4),
      subproc: fc.constant(0),
      // the text form writes local time, as HTCondor does: the hour a clock goes back is written twice and
      // reads back as its first pass, so times within an hour of a change of offset cannot round-trip
      time: fc.integer({ min: 1e9, max: 2e9 }).filter((t) => {
        const offset = (s: number) => new Date(s * 1000).getTimezoneOffset();
        return offset(t - 3600) === offset(t) && offset(t + 3600) === offset(t);
      }),
    };
    const event = fc.oneof(
      fc.record({ ...base, type: fc.constant('held' as const), reason: text, code: fc.nat(60), subCode: fc.nat(300) }),
      fc.record({ ...base, type: fc.constant('aborted' as const), reason: text }),
      fc.record({ ...base, type: fc.constant('execute' as const), host: text.filter((s) => !/\s/.test(s)) }),
      fc.record({
        ...base,
        type: fc.constant('terminated' as const),
        normal: fc.constant(true),
        returnValue: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        ...base,
        type: fc.constant('terminated' as const),
        normal: fc.constant(false),
        signal: fc.integer({ min: 1, max: 64 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), (events) => {
        const r = parseUserLog(formatEvents(events));
        assert.deepEqual(r.problems, []);
        assert.deepEqual(r.events, events.map(normalizeEvent));
      }),
    );
  });
});

describe('user-log/parse – reading HTCondor-written logs', () => {
  test('user-log/parse – a log as HTCondor 23 writes it (ISO dates, partitionable resources)', () => {
    const log =
      '000 (5739.000.000) 2025-04-28 10:44:50 Job submitted from host: <128.104.100.43:9618?addrs=128.104.100.43-9618&alias=ap40.uw.osg-htc.org&noUDP&sock=schedd_1_2>\n' +
      '...\n' +
      '040 (5739.000.000) 2025-04-28 10:45:12 Started transferring input files\n' +
      '\tTransferring to host: <10.0.0.1:9618?addrs=10.0.0.1-9618&noUDP&sock=slot1_1_1_2>\n' +
      '...\n' +
      '001 (5739.000.000) 2025-04-28 10:45:13 Job executing on host: <10.0.0.1:9618?addrs=10.0.0.1-9618&noUDP&sock=startd_1_2>\n' +
      '\tSlotName: slot1_1@e001.chtc.wisc.edu\n' +
      '\tCondorScratchDir = "/var/lib/condor/execute/dir_1"\n' +
      '\tCpus = 1\n' +
      '...\n' +
      '006 (5739.000.000) 2025-04-28 10:45:20 Image size of job updated: 72\n' +
      '\t1  -  MemoryUsage of job (MB)\n' +
      '\t72  -  ResidentSetSize of job (KB)\n' +
      '...\n' +
      '005 (5739.000.000) 2025-04-28 10:46:11 Job terminated.\n' +
      '\t(1) Normal termination (return value 0)\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Remote Usage\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Remote Usage\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage\n' +
      '\t306  -  Run Bytes Sent By Job\n' +
      '\t683  -  Run Bytes Received By Job\n' +
      '\t306  -  Total Bytes Sent By Job\n' +
      '\t683  -  Total Bytes Received By Job\n' +
      '\tPartitionable Resources :    Usage  Request Allocated \n' +
      '\t   Cpus                 :        0        1         1 \n' +
      '\t   Disk (KB)            :       40     1024   1840404 \n' +
      '\t   Memory (MB)          :        1     1024      1024 \n' +
      '\n' +
      '\tJob terminated of its own accord at 2025-04-28T15:46:11Z with exit-code 0.\n' +
      '...\n';
    const r = parseUserLog(log);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['submit', 'other', 'execute', 'image_size', 'terminated'],
    );
    const submit = r.events[0]!;
    assert.equal(
      submit.type === 'submit' && submit.host,
      '128.104.100.43:9618?addrs=128.104.100.43-9618&alias=ap40.uw.osg-htc.org&noUDP&sock=schedd_1_2',
    );
    assert.equal(
      submit.time,
      Math.floor(new Date(2025, 3, 28, 10, 44, 50).getTime() / 1000),
      'header times are local time',
    );
    const exec = r.events[2]!;
    assert.equal(exec.type === 'execute' && exec.slotName, 'slot1_1@e001.chtc.wisc.edu');
    const term = r.events[4] as TerminatedEvent;
    assert.equal(term.normal, true);
    assert.equal(term.returnValue, 0);
    assert.equal(term.sentBytes, 306);
    assert.deepEqual(term.resources, [
      { name: 'Cpus', usage: 0, request: 1, allocated: 1 },
      { name: 'Disk', usage: 40, request: 1024, allocated: 1840404 },
      { name: 'Memory', usage: 1, request: 1024, allocated: 1024 },
    ]);
    assert.equal(eventSucceeded(term), true);
  });
  test('user-log/parse – a pre-8.8 log (MM/DD dates, old resource table)', () => {
    const log =
      '000 (085.000.000) 08/29 08:46:15 Job submitted from host: <10.178.6.3:43563>\n...\n' +
      '001 (085.000.000) 08/29 08:46:18 Job executing on host: <10.178.7.46:42177>\n...\n' +
      '005 (085.000.000) 08/29 08:46:20 Job terminated.\n' +
      '\t(0) Abnormal termination (signal 6)\n' +
      '\t(1) Corefile in: /scratch/core.85.0\n' +
      '\t\tUsr 0 00:00:01, Sys 0 00:00:00  -  Run Remote Usage\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n' +
      '\t\tUsr 0 00:00:01, Sys 0 00:00:00  -  Total Remote Usage\n' +
      '\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage\n' +
      '\t2681743  -  Run Bytes Sent By Job\n' +
      '\t16470  -  Run Bytes Received By Job\n' +
      '\t2681743  -  Total Bytes Sent By Job\n' +
      '\t16470  -  Total Bytes Received By Job\n' +
      '...\n';
    const r = parseUserLog(log, { year: 2013 });
    assert.deepEqual(r.problems, []);
    assert.equal(r.events.length, 3);
    const term = r.events[2] as TerminatedEvent;
    assert.deepEqual(
      [term.normal, term.signal, term.coreFile, term.runRemoteUsage?.user, term.sentBytes],
      [false, 6, '/scratch/core.85.0', 1, 2681743],
    );
    assert.equal(r.events[0]!.time, Math.floor(new Date(2013, 7, 29, 8, 46, 15).getTime() / 1000));
    assert.equal(eventSucceeded(term), false);
  });
  test('user-log/parse – disconnect, reconnect and reconnect-failed events as HTCondor writes them', () => {
    const text =
      '022 (058.000.000) 2025-11-24 14:42:56 Job disconnected, attempting to reconnect\n' +
      '    Socket between submit and execute hosts closed unexpectedly\n' +
      '    Trying to reconnect to slot1@node13.example.org <10.4.104.23:50176>\n...\n' +
      '023 (058.000.000) 2025-11-24 14:43:10 Job reconnected to slot1@node13.example.org\n' +
      '    startd address: <10.4.104.23:50176>\n    starter address: <10.4.104.23:50180>\n...\n' +
      '024 (058.000.000) 2025-11-24 14:50:00 Job reconnection failed\n' +
      '    Job not found at execution machine\n' +
      '    Can not reconnect to slot1@node13.example.org, rescheduling job\n...\n';
    const r = parseUserLog(text);
    assert.deepEqual(r.problems, []);
    const [d, c, f] = r.events;
    assert.deepEqual(d, {
      type: 'disconnected',
      cluster: 58,
      proc: 0,
      subproc: 0,
      time: new Date(2025, 10, 24, 14, 42, 56).getTime() / 1000,
      reason: 'Socket between submit and execute hosts closed unexpectedly',
      startdName: 'slot1@node13.example.org',
      startdAddress: '10.4.104.23:50176',
    });
    assert.equal(c?.type === 'reconnected' && c.starterAddress, '10.4.104.23:50180');
    assert.equal(c?.type === 'reconnected' && c.startdName, 'slot1@node13.example.org');
    assert.equal(f?.type === 'reconnect_failed' && f.reason, 'Job not found at execution machine');
    assert.equal(f?.type === 'reconnect_failed' && f.startdName, 'slot1@node13.example.org');
  });
  test('user-log/parse – header variants: Z, offsets, sub-seconds, T separator', () => {
    const utc = Date.UTC(2025, 10, 23, 14, 5, 0) / 1000;
    assert.equal(parseHeader('005 (1.0.0) 2025-11-23 14:05:00Z Job terminated.')!.time, utc);
    assert.equal(parseHeader('005 (1.0.0) 2025-11-23 14:05:00.123Z Job terminated.')!.time, utc);
    assert.equal(parseHeader('005 (1.0.0) 2025-11-23T15:05:00+01:00 Job terminated.')!.time, utc);
    assert.equal(parseHeader('005 (1.0.0) 2025-11-23 09:05:00-0500 Job terminated.')!.text, 'Job terminated.');
    assert.equal(parseHeader('not a header'), undefined);
    assert.equal(parseHeader('005 (1.0.0) 2025-13-23 14:05:00 x'), undefined);
  });
});

describe('user-log/parse – tolerance', () => {
  test('user-log/parse – an unfinished event stays in rest until its ... arrives', () => {
    const text = formatEvents(EVERY_EVENT.slice(0, 3));
    const cut = text.length - 10;
    const p = new UserLogParser();
    const first = p.push(text.slice(0, cut));
    assert.equal(first.length, 2);
    assert.ok(p.rest.startsWith('001 '));
    const second = p.push(text.slice(cut));
    assert.deepEqual([...first, ...second], EVERY_EVENT.slice(0, 3));
    assert.equal(p.rest, '');
  });
  test('user-log/parse – byte-by-byte feeding gives the same events', () => {
    const text = formatEvents(EVERY_EVENT);
    const p = new UserLogParser();
    const got: UserLogEvent[] = [];
    for (const ch of text) got.push(...p.push(ch));
    assert.deepEqual(got, EVERY_EVENT);
  });
  test('user-log/parse – a broken event is skipped and reported; the rest is read', () => {
    const good = formatEvent(EVERY_EVENT[0]!);
    const bad = '005 (012.000.000) 2025-11-23 14:05:00 Job terminated.\n\tgarbage\n...\n';
    const r = parseUserLog(bad + good + 'random words\n...\n' + good);
    assert.equal(r.events.length, 2);
    assert.equal(r.problems.length, 2);
    assert.equal(r.problems[0]!.line, 1);
    assert.match(r.problems[0]!.message, /Normal termination/);
    assert.equal(r.problems[1]!.line, 8); // the good event before it has four lines
  });
  test('user-log/parse – CRLF line ends are read', () => {
    const text = formatEvents(EVERY_EVENT.slice(0, 5)).replace(/\n/g, '\r\n');
    assert.deepEqual(parseUserLog(text).events, EVERY_EVENT.slice(0, 5));
  });
  test('user-log/parse – JSON lines: a partial last line is left for later, bad lines reported', () => {
    const lines = EVERY_EVENT.slice(0, 3).map(formatEventJson).join('');
    const r = parseUserLogJsonl(lines + '{"EventTypeNumber": 5, "EventTi');
    assert.deepEqual(r.events, EVERY_EVENT.slice(0, 3));
    assert.equal(r.rest, '{"EventTypeNumber": 5, "EventTi');
    const bad = parseUserLogJsonl('{"a":1}\n[1]\n');
    assert.equal(bad.problems.length, 2);
  });
});

describe('user-log/parse – outcomes', () => {
  test('user-log/parse – a non-zero exit, a signal, an abort or a hold is never a success', () => {
    const cases: [UserLogEvent, boolean][] = [
      [{ type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: 0 }, true],
      [{ type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: 2 }, false],
      [{ type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: 255 }, false],
      [{ type: 'terminated', cluster: 1, proc: 0, time: T, normal: false, signal: 9 }, false],
      [{ type: 'aborted', cluster: 1, proc: 0, time: T }, false],
      [{ type: 'held', cluster: 1, proc: 0, time: T, code: 1, subCode: 0 }, false],
    ];
    for (const [e, ok] of cases) {
      // Through the text log and back, the verdict does not change.
      const [back] = parseUserLog(formatEvent(e)).events;
      assert.equal(eventSucceeded(back!), ok, JSON.stringify(e));
      const [backJson] = parseUserLogJsonl(formatEventJson(e)).events;
      assert.equal(eventSucceeded(backJson!), ok);
    }
  });
  test('user-log/parse – termination described for messages', () => {
    assert.equal(
      describeTermination({ type: 'terminated', cluster: 1, proc: 0, time: T, normal: true, returnValue: 2 }),
      'exited with code 2',
    );
    assert.equal(
      describeTermination({ type: 'terminated', cluster: 1, proc: 0, time: T, normal: false, signal: 9 }),
      'killed by signal 9',
    );
    assert.equal(isFinalEvent(EVERY_EVENT[5]!), true);
    assert.equal(isFinalEvent(EVERY_EVENT[2]!), false);
  });
  test('user-log/parse – JSON lines use HTCondor event attribute names', () => {
    const o = JSON.parse(
      formatEventJson({ type: 'terminated', cluster: 3, proc: 1, time: T, normal: true, returnValue: 2 }),
    ) as Record<string, unknown>;
    assert.deepEqual(
      [
        o.$schema,
        o.MyType,
        o.EventTypeNumber,
        o.EventTime,
        o.Cluster,
        o.Proc,
        o.Subproc,
        o.TerminatedNormally,
        o.ReturnValue,
      ],
      ['dsched.userlog.v1', 'JobTerminatedEvent', 5, '2025-11-23T14:05:00Z', 3, 1, 0, true, 2],
    );
    const held = JSON.parse(
      formatEventJson({ type: 'held', cluster: 3, proc: 1, time: T, reason: 'r', code: 34, subCode: 2 }),
    ) as Record<string, unknown>;
    assert.deepEqual([held.HoldReason, held.HoldReasonCode, held.HoldReasonSubCode], ['r', 34, 2]);
  });
});

describe('user-log/parse – files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-userlog-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('user-log/parse – append then read, text and JSON lines', async () => {
    const text = join(dir, 'job.log');
    await appendEvent(text, EVERY_EVENT[0]!);
    await appendEvents(text, EVERY_EVENT.slice(1, 4), { fsync: true });
    appendEventsSync(text, EVERY_EVENT.slice(4));
    assert.deepEqual((await readUserLog(text)).events, EVERY_EVENT);
    assert.ok(readFileSync(text, 'utf8').startsWith('000 (012.000.000) 2025-11-23 15:05:00 Job submitted'));

    const jsonl = join(dir, 'job.jsonl');
    await appendEvents(jsonl, EVERY_EVENT, { format: 'jsonl' });
    const back = readUserLogSync(jsonl);
    assert.deepEqual(back.problems, []);
    assert.deepEqual(back.events.map(normalizeEvent), EVERY_EVENT);
  });
  test('user-log/parse – a missing file has no events', () => {
    assert.deepEqual(readUserLogSync(join(dir, 'nope.log')).events, []);
  });
  test('user-log/parse – a follower sees events as they are completed, across a split multi-byte character', () => {
    const path = join(dir, 'follow.log');
    const f = new UserLogFollower(path);
    assert.deepEqual(f.read(), []);
    const e: UserLogEvent = {
      type: 'held',
      cluster: 1,
      proc: 0,
      time: T,
      reason: 'Fehler: Speicher überschritten 数据',
      code: 34,
      subCode: 0,
    };
    const bytes = Buffer.from(formatEvent(e));
    const cut = bytes.indexOf(Buffer.from('数')) + 1; // in the middle of a 3-byte character
    writeFileSync(path, bytes.subarray(0, cut));
    assert.deepEqual(f.read(), []);
    appendFileSync(path, bytes.subarray(cut));
    assert.deepEqual(f.read(), [normalizeEvent(e)]);
    assert.deepEqual(f.read(), []);
    // Truncated and rewritten shorter: starts over.
    writeFileSync(path, formatEvent({ type: 'unsuspended', cluster: 2, proc: 0, time: T }));
    assert.deepEqual(f.read(), [{ type: 'unsuspended', cluster: 2, proc: 0, subproc: 0, time: T }]);
    // Replaced by another (longer) file, as an editor or logrotate does: starts over too.
    const other = join(dir, 'follow.new');
    writeFileSync(other, formatEvents(EVERY_EVENT.slice(0, 3)));
    renameSync(other, path);
    assert.deepEqual(f.read(), EVERY_EVENT.slice(0, 3));
  });
  test('user-log/parse – a follower reads a large log a piece at a time, every event once', () => {
    const path = join(dir, 'pieces.log');
    const all = Array.from({ length: 300 }, () => EVERY_EVENT).flat();
    writeFileSync(path, formatEvents(all));
    const f = new UserLogFollower(path);
    const got: UserLogEvent[] = [];
    let reads = 0;
    for (let before = -1; f.bytesRead !== before; reads++) {
      before = f.bytesRead;
      got.push(...f.read(64 * 1024));
    }
    assert.deepEqual(got, all);
    assert.ok(reads > 3, `read in pieces (${reads} reads of ${f.bytesRead} bytes)`);
  });
  test('user-log/parse – the batching writer groups events per file and reports write errors', async () => {
    const errors: string[] = [];
    const w = new UserLogWriter({ onError: (p) => errors.push(p) });
    const a = join(dir, 'a.log');
    w.write(a, EVERY_EVENT[0]!);
    w.write(a, EVERY_EVENT[2]!);
    w.write(undefined, EVERY_EVENT[2]!);
    w.write(join(dir, 'no-such-dir', 'x.log'), EVERY_EVENT[2]!);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(readUserLogSync(a).events, [EVERY_EVENT[0], EVERY_EVENT[2]]);
    assert.equal(errors.length, 1);
  });
});
