// The matching core in process: Rank, START, partitionable splitting, fair share, concurrency limits, and
// agreement with the brute-force definition on random pools (slot classes must not change any result).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { ConcurrencyLimits } from '../../../daemons/negotiator/limits.js';
import { Matchmaker, type AutoclusterInput, type NegotiationInput } from '../../../daemons/negotiator/matchmaker.js';
import { job, lit, referenceMatches, rng, slot, submitter } from './helpers.js';

function negotiate(input: Partial<NegotiationInput> & Pick<NegotiationInput, 'slots' | 'submitters'>) {
  return new Matchmaker(input).negotiate();
}
const ac = (id: number, idle: number, ad: ClassAd): AutoclusterInput => ({ id, idle, ad });
const sorted = <T extends { autocluster: number; slot: string }>(xs: T[]) =>
  xs
    .map((m) => ({ autocluster: m.autocluster, slot: m.slot, count: (m as unknown as { count: number }).count }))
    .sort((a, b) => a.autocluster - b.autocluster || (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));

describe('matchmaker – rank', () => {
  test('matchmaker – a job goes to the slot its Rank prefers', () => {
    const slots = [
      slot({ name: 'slot1@a', memory: 2048 }),
      slot({ name: 'slot1@b', memory: 8192 }),
      slot({ name: 'slot1@c', memory: 4096 }),
    ];
    const r = negotiate({ slots, submitters: [submitter('alice', [ac(1, 1, job({ rank: 'TARGET.Memory' }))])] });
    assert.deepEqual(sorted(r.matches), [{ autocluster: 1, slot: 'slot1@b', count: 1 }]);
  });

  test('matchmaker – a Rank over class attributes picks the class, ties go by slot name', () => {
    const slots = [
      slot({ name: 'slot1@d', attrs: { HasSSD: 'true' } }),
      slot({ name: 'slot1@a' }),
      slot({ name: 'slot1@c', attrs: { HasSSD: 'true' } }),
      slot({ name: 'slot1@b' }),
    ];
    const r = negotiate({
      slots,
      submitters: [submitter('alice', [ac(1, 3, job({ rank: 'TARGET.HasSSD =?= true' }))])],
    });
    assert.deepEqual(
      sorted(r.matches).map((m) => m.slot),
      ['slot1@a', 'slot1@c', 'slot1@d'],
    );
  });

  test('matchmaker – equal job Rank: the machine that ranks the job higher wins', () => {
    const slots = [slot({ name: 'slot1@a' }), slot({ name: 'slot1@b', rank: 'TARGET.Owner == "alice"' })];
    const r = negotiate({ slots, submitters: [submitter('alice', [ac(1, 1, job())])] });
    assert.deepEqual(
      sorted(r.matches).map((m) => m.slot),
      ['slot1@b'],
    );
  });
});

describe('matchmaker – requirements', () => {
  test('matchmaker – START refuses a job: it goes elsewhere or waits', () => {
    const slots = [slot({ name: 'slot1@a', start: 'TARGET.Owner != "bob"' })];
    const r = negotiate({
      slots,
      submitters: [submitter('bob', [ac(1, 1, job({ owner: 'bob' }))]), submitter('alice', [ac(2, 1, job())], 5)],
    });
    assert.deepEqual(
      r.matches.map((m) => [m.submitter, m.slot]),
      [['alice@schedd', 'slot1@a']],
    );
  });

  test("matchmaker – the job's Requirements and its size both count", () => {
    const slots = [
      slot({ name: 'slot1@arm', attrs: { Arch: lit('aarch64') }, memory: 65536 }),
      slot({ name: 'slot1@small', memory: 1024 }),
      slot({ name: 'slot1@big', memory: 8192 }),
    ];
    const r = negotiate({ slots, submitters: [submitter('alice', [ac(1, 5, job({ memory: 4096 }))])] });
    assert.deepEqual(
      sorted(r.matches).map((m) => m.slot),
      ['slot1@big'],
    );
  });

  test('matchmaker – a job without Requirements, or a slot without START, never matches', () => {
    const noReq = job();
    noReq.delete('Requirements');
    const noStart = slot({ name: 'slot1@a' });
    noStart.delete('Start');
    noStart.delete('Requirements');
    assert.equal(
      negotiate({ slots: [slot({ name: 'slot1@b' })], submitters: [submitter('alice', [ac(1, 1, noReq)])] }).matches
        .length,
      0,
    );
    assert.equal(
      negotiate({ slots: [noStart], submitters: [submitter('alice', [ac(1, 1, job())])] }).matches.length,
      0,
    );
  });
});

describe('matchmaker – a Requirements that evaluates to error', () => {
  // 64 slots with their own names: a conjunct reading TARGET.Name is evaluated per slot
  const slots = Array.from({ length: 64 }, (_, i) => slot({ name: `slot1@host${String(i).padStart(2, '0')}` }));
  const attrs: Record<string, string> = { A0: lit('x') };
  for (let i = 1; i <= 24; i++) attrs[`A${i}`] = `strcat(A${i - 1}, A${i - 1})`;
  const cases: Array<[string, string, Record<string, string>]> = [
    ['a type error', 'TARGET.Name > 3 && TARGET.Memory > 0', {}],
    // 2^24 steps without the evaluation bounds: over them, each evaluation is cut off (and is an error)
    ['an evaluation over the bounds', 'size(strcat(A24, TARGET.Name)) > 0', attrs],
  ];
  for (const [what, requirements, extra] of cases)
    test(`matchmaker – ${what} costs one evaluation per cycle, and other jobs still match`, () => {
      const r = negotiate({
        slots,
        submitters: [
          submitter('mallory', [ac(1, 10, job({ owner: 'mallory', requirements, attrs: extra }))]),
          submitter('alice', [ac(2, 1, job())], 5),
        ],
      });
      assert.deepEqual(
        r.matches.map((m) => m.submitter),
        ['alice@schedd'],
      );
      // the erroring conjunct once, and alice's job on the slots it visited
      assert.ok(r.stats.slotEvaluations + r.stats.classEvaluations <= 10, JSON.stringify(r.stats));
      assert.equal(r.stats.requirementsErrors, 1);
    });
});

describe('matchmaker – partitionable slots', () => {
  test('matchmaker – one cycle fills a partitionable slot', () => {
    const r = negotiate({
      slots: [slot({ name: 'slot1@big', partitionable: true, cpus: 8, memory: 16384 })],
      submitters: [submitter('alice', [ac(1, 20, job())])],
    });
    assert.deepEqual(sorted(r.matches), [{ autocluster: 1, slot: 'slot1@big', count: 8 }]);
  });

  test('matchmaker – memory can be what runs out first', () => {
    const r = negotiate({
      slots: [slot({ name: 'slot1@big', partitionable: true, cpus: 8, memory: 16384 })],
      submitters: [submitter('alice', [ac(1, 20, job({ memory: 4096 }))])],
    });
    assert.deepEqual(sorted(r.matches), [{ autocluster: 1, slot: 'slot1@big', count: 4 }]);
  });

  test('matchmaker – the slot ads are as advertised again afterwards (the negotiator keeps them between cycles)', () => {
    const p = slot({ name: 'slot1@big', partitionable: true, cpus: 8, memory: 16384 });
    const before = p.toLong();
    const r = negotiate({ slots: [p], submitters: [submitter('alice', [ac(1, 3, job())])] });
    assert.equal(r.stats.jobs, 3);
    assert.equal(p.toLong(), before);
  });

  test('matchmaker – what one autocluster leaves, the next one can use', () => {
    const r = negotiate({
      slots: [slot({ name: 'slot1@big', partitionable: true, cpus: 8, memory: 32768 })],
      submitters: [submitter('alice', [ac(1, 3, job({ cpus: 2 })), ac(2, 10, job({ cpus: 1 }))])],
    });
    assert.deepEqual(sorted(r.matches), [
      { autocluster: 1, slot: 'slot1@big', count: 3 },
      { autocluster: 2, slot: 'slot1@big', count: 2 },
    ]);
  });

  test("matchmaker – START sees the partitionable slot's remaining resources", () => {
    // the machine takes jobs only while it has more than 4 cpus left
    const r = negotiate({
      slots: [slot({ name: 'slot1@p', partitionable: true, cpus: 8, memory: 32768, start: 'MY.Cpus > 4' })],
      submitters: [submitter('alice', [ac(1, 2, job()), ac(2, 10, job({ cpus: 3 }))])],
    });
    assert.deepEqual(sorted(r.matches), [
      { autocluster: 1, slot: 'slot1@p', count: 2 },
      { autocluster: 2, slot: 'slot1@p', count: 2 },
    ]);
  });
});

describe('matchmaker – fair share', () => {
  test('matchmaker – the better (lower) effective priority is served first', () => {
    const slots = [slot({ name: 'slot1@a' })];
    const r = negotiate({
      slots,
      submitters: [submitter('alice', [ac(1, 5, job())], 10), submitter('bob', [ac(2, 5, job({ owner: 'bob' }))], 0.5)],
    });
    assert.deepEqual(
      r.matches.map((m) => m.submitter),
      ['bob@schedd'],
    );
  });

  test('matchmaker – the pie is cut in inverse proportion to the priorities', () => {
    const slots = Array.from({ length: 8 }, (_, i) => slot({ name: `slot1@n${i}` }));
    const r = negotiate({
      slots,
      submitters: [submitter('alice', [ac(1, 20, job())], 3), submitter('bob', [ac(2, 20, job({ owner: 'bob' }))], 1)],
    });
    assert.equal(r.placed.get('bob@schedd')?.jobs, 6);
    assert.equal(r.placed.get('alice@schedd')?.jobs, 2);
  });

  test('matchmaker – what a submitter cannot use goes to the others in the next spin', () => {
    const slots = Array.from({ length: 6 }, (_, i) => slot({ name: `slot1@n${i}` }));
    const r = negotiate({
      slots,
      submitters: [
        submitter('alice', [ac(1, 1, job())], 0.5),
        submitter('bob', [ac(2, 20, job({ owner: 'bob' }))], 0.5),
      ],
    });
    assert.equal(r.placed.get('alice@schedd')?.jobs, 1);
    assert.equal(r.placed.get('bob@schedd')?.jobs, 5);
  });

  test('matchmaker – within a submitter, higher JobPrio first', () => {
    const slots = [slot({ name: 'slot1@a' })];
    const r = negotiate({ slots, submitters: [submitter('alice', [ac(1, 1, job()), ac(2, 1, job({ prio: 5 }))])] });
    assert.deepEqual(
      r.matches.map((m) => m.autocluster),
      [2],
    );
  });
});

describe('matchmaker – concurrency limits', () => {
  test('matchmaker – every match counts against the limit', () => {
    const limits = new ConcurrencyLimits((n) => (n === 'license' ? 2 : Infinity), 0);
    limits.reset([]);
    const slots = Array.from({ length: 5 }, (_, i) => slot({ name: `slot1@n${i}` }));
    const r = negotiate({ slots, limits, submitters: [submitter('alice', [ac(1, 5, job({ limits: 'LICENSE' }))])] });
    assert.equal(r.stats.jobs, 2);
  });

  test('matchmaker – running jobs and amounts count too, and a partitionable slot is not filled past the limit', () => {
    const limits = new ConcurrencyLimits((n) => (n === 'license' ? 5 : Infinity), 0);
    limits.reset(['LICENSE']); // one already running elsewhere
    const r = negotiate({
      slots: [slot({ name: 'slot1@p', partitionable: true, cpus: 16, memory: 65536 })],
      limits,
      submitters: [submitter('alice', [ac(1, 10, job({ limits: 'LICENSE:2' }))])],
    });
    assert.deepEqual(sorted(r.matches), [{ autocluster: 1, slot: 'slot1@p', count: 2 }]);
  });
});

describe('matchmaker – slot classes', () => {
  test('matchmaker – identical machines form one class whatever their names', () => {
    const slots = Array.from({ length: 200 }, (_, i) =>
      slot({ name: `slot1@n${String(i).padStart(3, '0')}`, attrs: { Rack: lit(`r${i % 2}`) } }),
    );
    const r = negotiate({
      slots,
      submitters: [
        submitter('alice', [
          ac(1, 300, job({ requirements: 'TARGET.Rack == "r1" && TARGET.Memory >= RequestMemory' })),
        ]),
      ],
    });
    assert.equal(r.stats.classes, 2);
    assert.equal(r.stats.jobs, 100);
    assert.ok(r.stats.classEvaluations <= 10, `class evaluations ${r.stats.classEvaluations}`);
  });

  test('matchmaker – same matches as testing every slot, on random pools', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const machines = 5 + Math.floor(rand() * 40);
      const slots: ClassAd[] = [];
      for (let m = 0; m < machines; m++) {
        const host = `node${String(m).padStart(3, '0')}`;
        const common = {
          start: pick([
            'TRUE',
            'TRUE',
            'TARGET.Owner != "bob"',
            'LoadAvg < 0.8',
            'MY.Memory >= 2048',
            'TARGET.RequestCpus <= 2 || KFlops > 1500',
          ]),
          rank: pick(['0', '0', 'TARGET.Owner == "carol"', 'KFlops / 1000']),
          attrs: {
            Arch: lit(pick(['X86_64', 'X86_64', 'aarch64'])),
            Rack: lit(`r${m % 3}`),
            KFlops: String(1000 + Math.floor(rand() * 1000)),
            LoadAvg: (rand() * 1.2).toFixed(2),
            HasDocker: pick(['true', 'false']),
          },
        };
        if (rand() < 0.4)
          slots.push(
            slot({
              name: `slot1@${host}`,
              partitionable: true,
              cpus: 1 + Math.floor(rand() * 16),
              memory: 1024 * (1 + Math.floor(rand() * 32)),
              ...common,
            }),
          );
        else {
          const n = 1 + Math.floor(rand() * 4);
          for (let k = 1; k <= n; k++)
            slots.push(slot({ name: `slot${k}@${host}`, cpus: pick([1, 2]), memory: pick([2048, 4096]), ...common }));
        }
      }
      const acs: AutoclusterInput[] = [];
      const nAcs = 3 + Math.floor(rand() * 8);
      for (let i = 1; i <= nAcs; i++) {
        const extra = pick([
          '',
          'TARGET.HasDocker',
          'TARGET.Machine != "node003"',
          'TARGET.KFlops > 1400',
          'TARGET.Rack == "r1"',
          '(TARGET.FileSystemDomain == MY.FileSystemDomain) || TARGET.HasFileTransfer',
          'eval("TARGET.Arch") == "X86_64"',
          'TARGET.LoadAvg < 1.0',
        ]);
        const cpus = pick([1, 1, 2, 4]);
        const requirements = [
          extra && `(${extra})`,
          '(TARGET.Arch == "X86_64" || TARGET.Arch == "aarch64")',
          '(TARGET.Memory >= RequestMemory)',
          cpus > 1 ? '(TARGET.Cpus >= RequestCpus)' : '',
        ]
          .filter(Boolean)
          .join(' && ');
        acs.push(
          ac(
            i,
            1 + Math.floor(rand() * 30),
            job({
              owner: pick(['alice', 'bob', 'carol']),
              cpus,
              memory: pick([512, 1024, 2048, 4096]),
              prio: pick([0, 0, 1]),
              requirements,
              rank: pick([
                '',
                '',
                'TARGET.Memory',
                'TARGET.KFlops',
                'TARGET.Rack == "r2"',
                '-TARGET.LoadAvg',
                'TARGET.HasDocker =?= true',
              ]),
            }),
          ),
        );
      }
      const clone = () => slots.map((s) => s.clone());
      const want = referenceMatches(
        clone(),
        acs.map((a) => ({ ...a, ad: a.ad.clone() })),
      );
      const got = negotiate({
        slots: clone(),
        submitters: [
          submitter(
            'u',
            acs.map((a) => ({ ...a })),
          ),
        ],
      });
      assert.deepEqual(sorted(got.matches), sorted(want), `seed ${seed}`);
    }
  });
});
