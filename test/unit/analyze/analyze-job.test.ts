// dq -analyze: the analysis of one job against a pool, as a table of job/slot combinations. Each case names
// the "Why:" verdict, lines that must appear (the clause table, the funnel, suggestions) and the funnel counts.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseExpr, unparse, type ClassAd } from '../../../grammar/classad/index.js';
import { analyzeJob, analyzeJobs, diagnoseJob, splitClauses, type AnalyzeExtra } from '../../../cli/shared/analyze.js';
import { T, dslot, job, pslot } from './fixtures.js';

interface Case {
  name: string;
  job: ClassAd;
  slots: ClassAd[];
  extra?: AnalyzeExtra;
  why: RegExp;
  has?: Array<string | RegExp>;
  lacks?: Array<string | RegExp>;
  /** requirements, start, bigEnough, available (the funnel) */
  funnel?: [number, number, number, number];
}

const PRIOS: AnalyzeExtra = {
  submitter: 'alice@submit',
  priorities: [
    { name: 'alice@submit', effectivePriority: 2.5, realPriority: 2.5, priorityFactor: 1, resourcesInUse: 1 },
    { name: 'bob@submit', effectivePriority: 0.5, realPriority: 0.5, priorityFactor: 1, resourcesInUse: 3 },
  ],
};

const cases: Case[] = [
  {
    name: 'a Requirements that is an error: the negotiator matches it nowhere, and Why says so and names the clause',
    job: job({ requirements: 'TARGET.Arch == "X86_64" && TARGET.Memory > "lots"' }),
    slots: [pslot({ host: 'a' }), pslot({ host: 'b' })],
    why: /^Why: its Requirements is an error \(a type mismatch, a bad argument, or more work than an evaluation may do: clause \[1\] TARGET\.Memory > "lots"\), so the negotiator matches it to no slot: fix the expression \(dqedit 12\.0 Requirements '…'\)\.$/m,
    has: [/^ +\[1\] +0 TARGET\.Memory > "lots" +<- rules out the most \(2\); an error: the job matches no slot$/m],
    funnel: [0, 0, 0, 0],
  },
  {
    name: 'request_memory above every slot: the memory clause rules out the most, and the suggestion names the largest slot',
    job: job({ memory: 64000 }),
    slots: [pslot({ host: 'a' })],
    why: /^Why: no slot matches its Requirements; clause \[3\] TARGET\.Memory >= RequestMemory rules out the most\.$/m,
    has: [
      /^ +\[3\] +0 TARGET\.Memory >= RequestMemory +<- rules out the most \(1\)$/m,
      /^ +\[0\] +1 TARGET\.Arch == "X86_64"$/m,
      '    RequestMemory = 64000',
      '  - RequestMemory 64000 exceeds the largest slot (TotalMemory 4096): ask for 4096 MB or less (request_memory).',
      '    slot1@a: free 4 of 4 cpus, 4096 of 4096 MB memory, 1.0 GB of 1.0 GB disk',
    ],
    lacks: [/Clause \[3\]/],
    funnel: [0, 0, 0, 0],
  },
  {
    name: 'a job that fits an idle slot: it should be matched at the next cycle, no suggestions',
    job: job({ memory: 1000 }),
    slots: [pslot({ host: 'a' }), pslot({ host: 'b' })],
    extra: PRIOS,
    why: /^Why: 2 slots can run it now; the negotiator should match it at its next cycle\.$/m,
    has: [
      /^ +2 of those are Unclaimed with that much free now$/m,
      /Fair share: submitter alice@submit has effective priority 2\.50/,
    ],
    lacks: ['Suggestions:', '<- rules out'],
    funnel: [2, 2, 2, 2],
  },
  {
    name: 'partitionable slots match at full size: a busy machine still matches, but has too little free now',
    job: job({ memory: 3000 }),
    slots: [
      pslot({ host: 'a', free: { cpus: 0, memory: 96 } }),
      dslot('a', 1, 'bob', { memory: 2000 }),
      dslot('a', 2, 'bob'),
      dslot('a', 3, 'bob'),
      dslot('a', 4, 'alice'),
    ],
    extra: PRIOS,
    why: /^Why: every slot that can run it is busy: it waits for resources to free up, and fair share decides who gets them first\.$/m,
    has: [
      'Slots in the pool: 5 (1 partitionable, 4 dynamic)',
      '  The busy ones run 4 jobs: 1 of yours, 3 of other users (bob 3).',
      'Fair share: submitter alice@submit has effective priority 2.50 (real 2.50 × factor 1.00; lower is better), 1 job running.',
      '    1 submitter ahead of it: bob@submit (0.50, 3 running).',
      '    slot1@a: free 0 of 4 cpus, 96 of 4096 MB memory, 1.0 GB of 1.0 GB disk',
    ],
    lacks: ['Suggestions:'],
    funnel: [1, 1, 1, 0],
  },
  {
    name: 'the slots START refuses the job: named with its START expression',
    job: job(),
    slots: [pslot({ host: 'a', start: 'TARGET.Owner == "bob"' })],
    why: /^Why: the 1 slot its Requirements match refuses it \(its START\)\.$/m,
    has: [
      '  - The START expression of slot1@a refuses the job: START = TARGET.Owner == "bob". Ask the pool\'s admin, or use -reverse to see which part refuses it.',
    ],
    funnel: [1, 0, 0, 0],
  },
  {
    name: 'a clause on an attribute value no slot has: the suggestion lists the values the pool has',
    job: job({ requirements: 'TARGET.Arch == "ARM" && TARGET.Memory >= RequestMemory' }),
    slots: [pslot({ host: 'a' }), pslot({ host: 'b' }), pslot({ host: 'c', arch: 'aarch64' })],
    why: /clause \[0\] TARGET\.Arch == "ARM" rules out the most/,
    has: [
      '  - Clause [0] TARGET.Arch == "ARM" is true for no slot: the pool has Arch = "X86_64" (2 slots), "aarch64" (1 slot). Change or remove it.',
    ],
    funnel: [0, 0, 0, 0],
  },
  {
    name: 'a clause on an attribute no slot defines: undefined is counted and said',
    job: job({ requirements: '(TARGET.HasGPU) && (TARGET.Memory >= RequestMemory)' }),
    slots: [pslot({ host: 'a' }), pslot({ host: 'b' })],
    why: /clause \[0\] TARGET\.HasGPU rules out the most/,
    has: [
      /^ +\[0\] +0 TARGET\.HasGPU +<- rules out the most \(2\); undefined for 2$/m,
      '  - Clause [0] TARGET.HasGPU is true for no slot: no slot defines HasGPU. Change or remove it.',
    ],
  },
  {
    name: 'every clause matches some slot but none matches all: the nearest slots are named',
    job: job({ requirements: '(TARGET.Arch == "X86_64") && (TARGET.Memory >= RequestMemory)', memory: 4096 }),
    slots: [pslot({ host: 'small', memory: 1024 }), pslot({ host: 'arm', arch: 'aarch64', memory: 8192 })],
    why: /^Why: no slot matches its Requirements; clause \[0\] TARGET\.Arch == "X86_64" rules out the most\.$/m,
    has: [
      '  - Each clause matches some slot, but no slot matches them all; 1 slot fails only clause [0] TARGET.Arch == "X86_64".',
    ],
    lacks: [/exceeds the largest slot/],
    funnel: [0, 0, 0, 0],
  },
  {
    name: 'request_cpus above every slot is caught even without a Cpus clause',
    job: job({ cpus: 8 }),
    slots: [pslot({ host: 'a' })],
    why: /^Why: no slot that accepts it is big enough for its requests\.$/m,
    has: [
      '  - RequestCpus 8 exceeds the largest slot (TotalCpus 4): ask for 4 cpus or less (request_cpus).',
      /big enough for RequestCpus 8, RequestMemory 128 MB, RequestDisk 43 KB/,
    ],
    funnel: [1, 1, 0, 0],
  },
  {
    name: 'the only slot big enough refuses the job, the one that accepts it is too small',
    job: job({ requirements: 'TARGET.OpSys == "LINUX"', memory: 2048 }),
    slots: [
      pslot({ host: 'big', memory: 8192, start: 'TARGET.Owner == "bob"' }),
      pslot({ host: 'small', memory: 1024 }),
    ],
    why: /^Why: no slot that accepts it is big enough for its requests\.$/m,
    has: ['  - RequestMemory 2048 is more than any slot that accepts the job has (1024 MB): lower request_memory.'],
    funnel: [2, 1, 0, 0],
  },
  {
    name: 'a held job: the HoldReason and its code, and how to release it',
    job: job({ status: 5, values: { HoldReason: 'via dhold', HoldReasonCode: 1 } }),
    slots: [pslot({ host: 'a' })],
    extra: PRIOS,
    why: /^Why: it is held: via dhold \(HoldReasonCode 1\)\. Fix the cause, then drelease 12\.0\.$/m,
    has: [/^-- Job 12\.0 \(alice\): Held for 0\+00:01:05$/m],
  },
  {
    name: 'a job waiting on a dependency is said to be released by the schedd',
    job: job({
      status: 5,
      values: {
        DependencyHold: true,
        HoldReason: 'waiting for dependency afterok:11 (job 11.0 is running)',
        HoldReasonCode: 1,
      },
    }),
    slots: [pslot({ host: 'a' })],
    why: /^Why: it is held until its dependency is satisfied \(waiting for dependency afterok:11 \(job 11\.0 is running\)\); the schedd releases it by itself\.$/m,
    lacks: [/drelease/],
  },
  {
    name: 'a running job: where it runs, and no suggestions',
    job: job({ status: 2, values: { RemoteHost: 'slot1_1@a' } }),
    slots: [pslot({ host: 'a', free: { cpus: 3, memory: 3968 } }), dslot('a', 1, 'alice')],
    why: /^Why: it is running on slot1_1@a\.$/m,
    lacks: ['Suggestions:', 'Fair share'],
    funnel: [1, 1, 1, 1],
  },
  {
    name: 'a job without Requirements matches nothing',
    job: job({ requirements: null }),
    slots: [pslot({ host: 'a' })],
    why: /^Why: it has no Requirements, so it matches no slot\.$/m,
    has: [
      '  - The job has no Requirements expression, so it matches no slot: give it one (dsubmit writes one by default).',
    ],
    lacks: ['The Requirements expression'],
    funnel: [0, 0, 0, 0],
  },
  {
    name: 'an empty pool',
    job: job(),
    slots: [],
    why: /^Why: the pool has no slots\.$/m,
    has: ['Slots in the pool: 0 (0 partitionable, 0 dynamic)', /The collector knows no slots/],
    lacks: ['Each clause'],
  },
  {
    name: 'the negotiator could not be asked: the analysis says so instead of a priority',
    job: job({ memory: 1000 }),
    slots: [pslot({ host: 'a', free: { cpus: 0 } }), dslot('a', 1, 'bob')],
    extra: { prioritiesError: 'the negotiator at 127.0.0.1:1 did not answer' },
    why: /every slot that can run it is busy/,
    has: ['Fair share: unknown (the negotiator at 127.0.0.1:1 did not answer).'],
  },
  {
    name: 'no account yet for the submitter',
    job: job(),
    slots: [pslot({ host: 'a' })],
    extra: { submitter: 'alice@submit', priorities: [] },
    why: /can run it now/,
    has: [
      'Fair share: the negotiator has no account for alice@submit yet (it opens one at the first cycle that sees its idle jobs).',
    ],
  },
  {
    name: 'concurrency limits are reported',
    job: job({ values: { ConcurrencyLimits: 'license:2' } }),
    slots: [pslot({ host: 'a' })],
    why: /^Why: 1 slot can run it now; the negotiator should match it at its next cycle, unless its concurrency limits \(license:2\) are in use\.$/m,
    has: [/^Concurrency limits: the job needs license:2 /m],
  },
  {
    name: 'a job that ran before and went back to idle says so',
    job: job({ values: { NumJobStarts: 2 } }),
    slots: [pslot({ host: 'a' })],
    why: /can run it now/,
    has: ['It has run 2 times before and went back to idle.'],
  },
  {
    name: '-reverse: each START clause against the job',
    job: job(),
    slots: [
      pslot({ host: 'a', start: '(TARGET.Owner == "bob") && (TARGET.RequestMemory < 100000)' }),
      pslot({ host: 'b', start: '(TARGET.Owner == "bob") && (TARGET.RequestMemory < 100000)' }),
    ],
    extra: { reverse: true },
    why: /^Why: the 2 slots its Requirements match refuse it \(their START\)\.$/m,
    has: [
      'The START expression of slot1@a, slot1@b is',
      /^ +\[0\] +0\/2 TARGET\.Owner == "bob"$/m,
      /^ +\[1\] +2\/2 TARGET\.RequestMemory < 100000$/m,
    ],
  },
];

describe('analyze – one job against a pool', () => {
  for (const c of cases) {
    test(`analyze – ${c.name}`, () => {
      const text = analyzeJob(c.job, c.slots, { now: T, ...c.extra });
      assert.match(text, c.why, text);
      for (const h of c.has ?? []) {
        if (typeof h === 'string') assert.ok(text.includes(h), `expected ${JSON.stringify(h)} in\n${text}`);
        else assert.match(text, h, text);
      }
      for (const l of c.lacks ?? []) {
        if (typeof l === 'string') assert.ok(!text.includes(l), `did not expect ${JSON.stringify(l)} in\n${text}`);
        else assert.doesNotMatch(text, l, text);
      }
      if (c.funnel) {
        const d = diagnoseJob(c.job, c.slots).counts;
        assert.deepEqual([d.requirements, d.start, d.bigEnough, d.available], c.funnel);
      }
    });
  }
});

describe('analyze – clauses', () => {
  const table: Array<[string, string[]]> = [
    ['a && b && c', ['a', 'b', 'c']],
    ['((a && b)) && (c || d)', ['a', 'b', '(c || d)']],
    ['a || b && c', ['a || b && c']],
    ['(a)', ['(a)']],
    ['!(a && b)', [' !(a && b)']],
  ];
  for (const [text, want] of table) {
    test(`analyze – split ${text}`, () => {
      assert.deepEqual(splitClauses(parseExpr(text)).map(unparse), want);
    });
  }

  test('analyze – the Requirements are printed wrapped at the width, one clause never cut', () => {
    const text = analyzeJob(job(), [pslot({ host: 'a' })], { now: T, width: 60 });
    const block = text.split('The Requirements expression for job 12.0 is\n\n')[1]!.split('\n\n')[0]!.split('\n');
    assert.ok(block.length > 2, block.join('\n'));
    for (const l of block) assert.ok(l.startsWith('    ('), l);
    assert.equal(block.join(' ').replace(/\s+/g, ' ').trim(), parseExprText(job()));
  });

  test('analyze – the job attributes the Requirements use are listed, following references', () => {
    const j = job({ values: { DiskUsage: 43 } });
    j.setExprText('RequestDisk', 'DiskUsage');
    const text = analyzeJob(j, [pslot({ host: 'a' })], { now: T });
    assert.ok(
      text.includes(
        '    DiskUsage = 43\n    FileSystemDomain = "submit.example"\n    RequestDisk = DiskUsage\n    RequestMemory = 128\n',
      ),
      text,
    );
  });
});

function parseExprText(j: ClassAd): string {
  return unparse(j.get('Requirements')!);
}

describe('analyze – several jobs', () => {
  test('analyze – jobs that analyse the same are named once, a different one gets its own analysis', () => {
    const jobs = [job({ id: '7.0' }), job({ id: '7.1' }), job({ id: '7.2' }), job({ id: '7.3', memory: 64000 })];
    const text = analyzeJobs(jobs, [pslot({ host: 'a' })], { now: T });
    assert.equal(text.match(/^-- Job /gm)!.length, 2, text);
    assert.ok(text.includes('The same analysis applies to 2 more jobs: 7.1, 7.2\n'), text);
    assert.match(text, /^-- Job 7\.3 \(alice\): Idle/m);
  });
});

describe('analyze – requests that cannot be evaluated', () => {
  test('analyze – request_memory = lots is named as undefined, not counted silently as the default', () => {
    const j = job();
    j.setExprText('RequestMemory', 'lots');
    const text = analyzeJob(j, [pslot({ host: 'a' })]);
    assert.match(
      text,
      /^Undefined request: request_memory = lots: RequestMemory uses lots, which the job does not define nor any slot; it is undefined/m,
    );
  });

  test('analyze – a request that is a number at submit, or reads the slot, is not reported', () => {
    const j = job();
    j.setExprText('RequestMemory', 'ifThenElse(MemoryUsage =!= undefined, MemoryUsage * 2, 2048)');
    j.setExprText('RequestDisk', 'TARGET.Disk / 2');
    assert.doesNotMatch(analyzeJob(j, [pslot({ host: 'a' })]), /Undefined request/);
  });
});
