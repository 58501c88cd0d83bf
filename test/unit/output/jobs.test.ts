process.env.TZ = 'UTC';
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  countJobs,
  exitText,
  formatBatchView,
  formatHistoryView,
  formatHoldView,
  formatJobsJson,
  formatJobsJsonl,
  formatJobsLong,
  formatNobatchView,
  formatRunView,
  formatScheddBanner,
  formatTotals,
  groupBatches,
  jobDescription,
  jobSucceeded,
  renderHistory,
  renderQueue,
  runTimeSeconds,
  sizeMb,
  statusLetter,
} from '../../../cli/shared/output/jobs.js';
import { stripAnsi } from '../../../cli/shared/output/columns.js';
import { joinV2Raw, splitV2Raw } from '../../../grammar/submit/args-env.js';
import { ad, job, T } from './fixtures.js';

const now = T + 75;

describe('output/jobs – columns', () => {
  test('output/jobs – ST letters for every JobStatus', () => {
    const letters = [1, 2, 3, 4, 5, 6, 7].map((s) => statusLetter(job(1, 0, { JobStatus: s })));
    assert.deepEqual(letters, ['I', 'R', 'X', 'C', 'H', '>', 'S']);
    assert.equal(statusLetter(job(1, 0, { JobStatus: 2, TransferringInput: true })), '<');
    assert.equal(statusLetter(job(1, 0, { JobStatus: 99 })), '?');
  });
  test('output/jobs – RUN_TIME: current run while running, committed time otherwise', () => {
    assert.equal(runTimeSeconds(job(1, 0, { JobStatus: 2, JobCurrentStartDate: T + 10 }), now), 65);
    assert.equal(
      runTimeSeconds(job(1, 0, { JobStatus: 2, JobStartDate: T, RemoteWallClockTime: 100 }), now, true),
      175,
    );
    assert.equal(runTimeSeconds(job(1, 0, { JobStatus: 1, RemoteWallClockTime: 42 }), now), 42);
    assert.equal(runTimeSeconds(job(1, 0, { JobStatus: 4, JobStartDate: T, CompletionDate: T + 5 }), now), 5);
    assert.equal(runTimeSeconds(job(1, 0), now), 0);
  });
  test('output/jobs – SIZE from MemoryUsage, else ImageSize in MB', () => {
    assert.equal(sizeMb(job(1, 0, { MemoryUsage: 3 })), '3.0');
    assert.equal(sizeMb(job(1, 0, { ImageSize: 2560 })), '2.5');
    assert.equal(sizeMb(job(1, 0)), '0.0');
  });
  test('output/jobs – CMD is the executable name and its arguments', () => {
    assert.equal(jobDescription(job(1, 0)), 'sleep 60');
    assert.equal(jobDescription(job(1, 0), true), '/bin/sleep 60');
    assert.equal(jobDescription(job(1, 0, { Args: '', Arguments: "'a b' c" })), "sleep 'a b' c");
    assert.equal(jobDescription(job(1, 0, { JobDescription: 'my analysis' })), 'my analysis');
  });
  test('output/jobs – CMD shows new-syntax arguments as condor_q does: the Arguments attribute as stored', () => {
    // condor_submit stores `arguments = "sh -c 'exit 3'"` with each space quoted where it stands, and
    // condor_q prints the attribute as it is: the same words, read back by the starter as sh, -c, exit 3
    const words = ['-c', 'exit 3'];
    const stored = joinV2Raw(words);
    assert.equal(stored, "-c exit' '3");
    assert.deepEqual(splitV2Raw(stored), words);
    assert.equal(jobDescription(job(1, 0, { Cmd: '/bin/sh', Args: '', Arguments: stored })), "sh -c exit' '3");
  });
  test('output/jobs – a non-zero exit or a signal is never a success', () => {
    const ok = job(1, 0, { JobStatus: 4, ExitCode: 0, ExitBySignal: false });
    const two = job(1, 1, { JobStatus: 4, ExitCode: 2, ExitBySignal: false });
    const sig = job(1, 2, { JobStatus: 4, ExitBySignal: true, ExitSignal: 9 });
    const removed = job(1, 3, { JobStatus: 3 });
    assert.equal(jobSucceeded(ok), true);
    assert.equal(jobSucceeded(two), false);
    assert.equal(jobSucceeded(sig), false);
    assert.equal(jobSucceeded(removed), false);
    assert.deepEqual([ok, two, sig, removed].map(exitText), ['0', '2', 'SIG9', '']);
  });
});

describe('output/jobs – totals', () => {
  const jobs = [1, 2, 2, 3, 4, 5, 6, 7].map((s, i) => job(1, i, { JobStatus: s }));
  test('output/jobs – counts by state (transferring output counts as running)', () => {
    assert.deepEqual(countJobs(jobs), {
      total: 8,
      completed: 1,
      removed: 1,
      idle: 1,
      running: 3,
      held: 1,
      suspended: 1,
    });
  });
  test('output/jobs – the summary line, exactly', () => {
    assert.equal(
      formatTotals('query', countJobs(jobs)),
      'Total for query: 8 jobs; 1 completed, 1 removed, 1 idle, 3 running, 1 held, 1 suspended',
    );
  });
  test('output/jobs – the schedd banner', () => {
    assert.equal(
      formatScheddBanner('node1', '127.0.0.1:9618', T),
      '-- Schedd: node1 : <127.0.0.1:9618> @ 11/23/25 14:05:00',
    );
  });
});

describe('output/jobs – batch view (condor_q default)', () => {
  test('output/jobs – one batch per cluster, `_` for zero, no HOLD column without held jobs', () => {
    const jobs = [
      job(12, 0, { JobStatus: 2, JobCurrentStartDate: T }),
      job(12, 1),
      job(12, 2),
      job(13, 0, { Owner: 'bob', QDate: T + 60, JobStatus: 4 }),
    ];
    assert.deepEqual(formatBatchView(jobs), [
      'OWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE  TOTAL JOB_IDS',
      'alice ID: 12      11/23 14:05      _      1      2      3 12.0 ... 12.2',
      'bob   ID: 13      11/23 14:06      1      _      _      1 13.0',
    ]);
  });
  test('output/jobs – HOLD appears with held jobs; JobBatchName groups clusters; CJK names align', () => {
    const jobs = [
      job(20, 0, { JobBatchName: '数据处理', JobStatus: 5 }),
      job(21, 0, { JobBatchName: '数据处理' }),
      job(22, 0, { JobBatchName: 'plain' }),
    ];
    assert.deepEqual(formatBatchView(jobs), [
      'OWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS',
      'alice 数据处理    11/23 14:05      _      _      1      1      2 20.0 ... 21.0',
      'alice plain       11/23 14:05      _      _      1      _      1 22.0',
    ]);
  });
  test('output/jobs – the same batch name of two owners is two batches', () => {
    const b = groupBatches([job(1, 0, { JobBatchName: 'x' }), job(2, 0, { JobBatchName: 'x', Owner: 'bob' })]);
    assert.deepEqual(
      b.map((x) => [x.owner, x.name, x.total]),
      [
        ['alice', 'x', 1],
        ['bob', 'x', 1],
      ],
    );
  });
  test('output/jobs – an empty queue shows the header with HOLD', () => {
    assert.deepEqual(formatBatchView([]), ['OWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS']);
  });
  test('output/jobs – procs that left the queue count as done (TotalSubmitProcs)', () => {
    const b = groupBatches([job(5, 8, { TotalSubmitProcs: 10, JobStatus: 2 }), job(5, 9, { TotalSubmitProcs: 10 })]);
    assert.deepEqual([b[0]!.done, b[0]!.run, b[0]!.idle, b[0]!.total], [8, 1, 1, 10]);
  });
  test('output/jobs – DAG node jobs are grouped under their DAG; the DAGMan jobs are not counted as nodes', () => {
    const jobs = [
      job(100, 0, {
        Cmd: '/usr/bin/dsched-dagman',
        Args: '',
        JobBatchName: 'diamond.dag+100',
        JobStatus: 2,
        JobCurrentStartDate: T,
      }),
      job(101, 0, { DAGManJobId: 100, JobStatus: 4, Cmd: 'a.sh' }),
      job(102, 0, { DAGManJobId: 100, JobStatus: 2, Cmd: 'b.sh' }),
      job(102, 1, { DAGManJobId: 100, JobStatus: 2, Cmd: 'b.sh' }),
      // a sub-DAG and its node
      job(103, 0, { DAGManJobId: 100, Cmd: '/usr/bin/dsched-dagman', JobStatus: 2 }),
      job(104, 0, { DAGManJobId: 103, JobStatus: 1, Cmd: 'c.sh' }),
      // an unrelated job of the same owner
      job(200, 0),
    ];
    const batches = groupBatches(jobs);
    assert.equal(batches.length, 2);
    const dag = batches[0]!;
    assert.equal(dag.dag, true);
    assert.equal(dag.name, 'diamond.dag+100');
    assert.deepEqual(dag.ids, ['101.0', '102.0', '102.1', '104.0']);
    assert.deepEqual([dag.done, dag.run, dag.idle, dag.hold], [1, 2, 1, 0]);
    assert.equal(dag.total, 4, 'node clusters 101, 102, 104 and the sub-DAG 103');
    assert.deepEqual(formatBatchView(jobs), [
      'OWNER BATCH_NAME         SUBMITTED   DONE   RUN    IDLE  TOTAL JOB_IDS',
      'alice diamond.dag+100  11/23 14:05      1      2      1      4 101.0 ... 104.0',
      'alice ID: 200          11/23 14:05      _      _      1      1 200.0',
    ]);
  });
  test('output/jobs – DAGMan node totals win when the DAGMan job carries them; a nameless DAG is `DAG: id`', () => {
    const jobs = [
      job(300, 0, { Cmd: '/usr/bin/dsched-dagman', DAG_NodesTotal: 10, DAG_NodesDone: 7, JobStatus: 2 }),
      job(301, 0, { DAGManJobId: 300, JobStatus: 2 }),
    ];
    const [b] = groupBatches(jobs);
    assert.deepEqual([b!.name, b!.done, b!.total], ['DAG: 300', 7, 10]);
  });
  test('output/jobs – held counts are red with colour, and only then', () => {
    const jobs = [job(1, 0, { JobStatus: 5 })];
    const plain = formatBatchView(jobs);
    const colored = formatBatchView(jobs, { color: true });
    assert.ok(!plain.join('\n').includes('\x1b['));
    assert.ok(colored[1]!.includes('\x1b[31m1\x1b[39m'));
    assert.deepEqual(colored.map(stripAnsi), plain);
  });
});

describe('output/jobs – per-job views', () => {
  const jobs = [
    job(12, 1, { JobStatus: 1, ImageSize: 2500 }),
    job(12, 0, { JobStatus: 2, JobCurrentStartDate: T + 10, MemoryUsage: 3, RemoteHost: 'slot1_1@node1' }),
    job(13, 0, {
      Owner: 'bob',
      JobStatus: 5,
      Cmd: '/home/bob/处理数据.sh',
      Args: '',
      HoldReason: 'Error from slot1_1@node1: memory usage exceeded request_memory',
      HoldReasonCode: 34,
      HoldReasonSubCode: 0,
      EnteredCurrentStatus: T + 120,
      JobPrio: 5,
    }),
    job(1000, 17, { JobStatus: 7, JobCurrentStartDate: T }),
  ];
  test('output/jobs – -nobatch, ordered by id, dots aligned', () => {
    assert.deepEqual(formatNobatchView(jobs, { now }), [
      'ID       OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD',
      '  12.0   alice          11/23 14:05   0+00:01:05 R  0    3.0 sleep 60',
      '  12.1   alice          11/23 14:05   0+00:00:00 I  0    2.4 sleep 60',
      '  13.0   bob            11/23 14:05   0+00:00:00 H  5    0.0 处理数据.sh',
      '1000.17  alice          11/23 14:05   0+00:01:15 S  0    0.0 sleep 60',
    ]);
  });
  test('output/jobs – -nobatch cuts CMD to the terminal width', () => {
    const lines = formatNobatchView([job(1, 0, { Args: 'x'.repeat(200) })], { now, width: 80 });
    assert.equal(lines[1]!.length, 80);
  });
  test('output/jobs – -hold shows held jobs with code/subcode and reason', () => {
    assert.deepEqual(formatHoldView(jobs), [
      'ID     OWNER           HELD_SINCE CODE/SUB HOLD_REASON',
      '13.0   bob            11/23 14:07 34/0     Error from slot1_1@node1: memory usage exceeded request_memory',
    ]);
    assert.deepEqual(formatHoldView(jobs, { codes: false })[0], 'ID     OWNER           HELD_SINCE HOLD_REASON');
  });
  test('output/jobs – -run shows running jobs with their host', () => {
    assert.deepEqual(formatRunView(jobs, { now }), [
      'ID       OWNER            SUBMITTED     RUN_TIME HOST(S)',
      '  12.0   alice          11/23 14:05   0+00:01:05 slot1_1@node1',
      '1000.17  alice          11/23 14:05   0+00:01:15',
    ]);
  });
  test('output/jobs – renderQueue: table, blank line, totals; -run has none; -totals only totals', () => {
    const out = renderQueue(jobs, {
      now,
      view: 'nobatch',
      totals: { user: { name: 'alice', counts: countJobs(jobs.slice(0, 2)) }, all: countJobs(jobs) },
    });
    const lines = out.split('\n');
    assert.equal(lines.at(-1), '');
    assert.deepEqual(lines.slice(-5, -1), [
      '',
      'Total for query: 4 jobs; 0 completed, 0 removed, 1 idle, 1 running, 1 held, 1 suspended',
      'Total for alice: 2 jobs; 0 completed, 0 removed, 1 idle, 1 running, 0 held, 0 suspended',
      'Total for all users: 4 jobs; 0 completed, 0 removed, 1 idle, 1 running, 1 held, 1 suspended',
    ]);
    assert.ok(!renderQueue(jobs, { now, view: 'run' }).includes('Total for'));
    assert.equal(
      renderQueue(jobs, { now, totalsOnly: true }),
      'Total for query: 4 jobs; 0 completed, 0 removed, 1 idle, 1 running, 1 held, 1 suspended\n',
    );
    const banner = renderQueue([], { now, banner: { name: 'node1', address: '<127.0.0.1:9618>' } });
    assert.ok(banner.startsWith('\n-- Schedd: node1 : <127.0.0.1:9618> @ 11/23/25 14:06:15\nOWNER'));
  });
});

describe('output/jobs – history view (condor_history)', () => {
  const hist = [
    job(7, 0, {
      JobStatus: 4,
      ExitCode: 2,
      ExitBySignal: false,
      CompletionDate: T + 65,
      RemoteWallClockTime: 60,
      Cmd: '/home/alice/exit2.sh',
      Args: '',
    }),
    job(6, 0, {
      JobStatus: 4,
      ExitBySignal: true,
      ExitSignal: 11,
      CompletionDate: T + 30,
      RemoteWallClockTime: 3,
      Cmd: '/home/alice/segv.sh',
      Args: '',
    }),
    job(5, 0, { JobStatus: 3, EnteredCurrentStatus: T + 20, CompletionDate: 0 }),
    job(4, 0, { JobStatus: 4, ExitCode: 0, CompletionDate: T + 10, RemoteWallClockTime: 10 }),
  ];
  test('output/jobs – ID OWNER SUBMITTED RUN_TIME ST COMPLETED CMD, in the given order, full path', () => {
    assert.deepEqual(formatHistoryView(hist, { now }), [
      'ID    OWNER            SUBMITTED     RUN_TIME ST COMPLETED   CMD',
      '7.0   alice          11/23 14:05   0+00:01:00 C  11/23 14:06 /home/alice/exit2.sh',
      '6.0   alice          11/23 14:05   0+00:00:03 C  11/23 14:05 /home/alice/segv.sh',
      '5.0   alice          11/23 14:05   0+00:00:00 X  11/23 14:05 /bin/sleep 60',
      '4.0   alice          11/23 14:05   0+00:00:10 C  11/23 14:05 /bin/sleep 60',
    ]);
  });
  test('output/jobs – the EXIT column shows failures; a non-zero exit is never shown as 0', () => {
    const out = renderHistory(hist, { now, exitColumn: true }).split('\n');
    assert.equal(out[0], 'ID    OWNER            SUBMITTED     RUN_TIME ST  EXIT COMPLETED   CMD');
    assert.equal(out[1], '7.0   alice          11/23 14:05   0+00:01:00 C      2 11/23 14:06 /home/alice/exit2.sh');
    assert.equal(out[2], '6.0   alice          11/23 14:05   0+00:00:03 C  SIG11 11/23 14:05 /home/alice/segv.sh');
    assert.equal(out[3], '5.0   alice          11/23 14:05   0+00:00:00 X        11/23 14:05 /bin/sleep 60');
    assert.equal(out[4], '4.0   alice          11/23 14:05   0+00:00:10 C      0 11/23 14:05 /bin/sleep 60');
    // With colour, only failures are red.
    const colored = formatHistoryView(hist, { now, exitColumn: true, color: true });
    assert.ok(colored[1]!.includes('\x1b[31m2\x1b[39m'));
    assert.ok(!colored[4]!.includes('\x1b[31m'));
  });
});

describe('output/jobs – -long and JSON', () => {
  const jobs = [
    ad({ ClusterId: 1, ProcId: 0, Owner: 'alice', ExitCode: 2 }, { Requirements: 'TARGET.Memory >= RequestMemory' }),
    ad({ ClusterId: 1, ProcId: 1, Owner: 'alice' }),
  ];
  test('output/jobs – -long: every attribute sorted, a blank line between ads', () => {
    assert.equal(
      formatJobsLong(jobs),
      'ClusterId = 1\nExitCode = 2\nOwner = "alice"\nProcId = 0\nRequirements = TARGET.Memory >= RequestMemory\n\nClusterId = 1\nOwner = "alice"\nProcId = 1\n',
    );
  });
  test('output/jobs – -json is a condor_q-compatible array with stable key order and no extra keys', () => {
    const text = formatJobsJson(jobs);
    const parsed = JSON.parse(text) as Record<string, unknown>[];
    assert.equal(parsed.length, 2);
    assert.deepEqual(Object.keys(parsed[0]!), ['ClusterId', 'ExitCode', 'Owner', 'ProcId', 'Requirements']);
    assert.equal(parsed[0]!.Requirements, '/Expr(TARGET.Memory >= RequestMemory)/');
    assert.equal(parsed[0]!.ExitCode, 2);
    assert.ok(!text.includes('$schema'));
    assert.equal(formatJobsJson([]), '[]\n');
  });
  test('output/jobs – the schema tag can be put into the array elements on request', () => {
    const parsed = JSON.parse(formatJobsJson(jobs, { schemaInArray: true })) as Record<string, unknown>[];
    assert.equal(parsed[0]!.$schema, 'dsched.job.v1');
    assert.equal(Object.keys(parsed[0]!)[0], '$schema');
  });
  test('output/jobs – -jsonl: one ad per line, each tagged with its schema first', () => {
    const lines = formatJobsJsonl(jobs).trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['$schema', 'ClusterId', 'ExitCode', 'Owner', 'ProcId', 'Requirements']);
    assert.equal(first.$schema, 'dsched.job.v1');
    assert.equal(formatJobsJsonl([]), '');
  });
});
