// Accounting groups: which group a submitter is in, quotas (static, dynamic, scaled), surplus, and the
// matchmaker keeping each group within its quota.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { AccountingGroups, ownQuota, ROOT_GROUP, type GroupSettings } from '../../../daemons/negotiator/groups.js';
import { Matchmaker } from '../../../daemons/negotiator/matchmaker.js';
import { job, slot, submitter } from './helpers.js';

function groups(
  names: string[],
  quotas: Record<string, number> = {},
  dynamic: Record<string, number> = {},
  surplus: Record<string, boolean> = {},
  extra: Partial<GroupSettings> = {},
) {
  return new AccountingGroups({
    names,
    staticQuota: (g) => quotas[g],
    dynamicQuota: (g) => dynamic[g],
    acceptSurplus: (g) => surplus[g] ?? false,
    allowOversubscription: false,
    ...extra,
  });
}
const pool = (n: number) => Array.from({ length: n }, (_, i) => slot({ name: `slot1@n${i}` }));

describe('groups – membership and quotas', () => {
  test('groups – a submitter is in the longest configured group its accounting name starts with', () => {
    const g = groups(['group_physics', 'group_physics.hep', 'group_chem']);
    assert.equal(g.groupOf('group_physics.hep.higgs'), 'group_physics.hep');
    assert.equal(g.groupOf('group_physics.lep.bob'), 'group_physics');
    assert.equal(g.groupOf('GROUP_CHEM.alice'), 'group_chem');
    assert.equal(g.groupOf('alice'), ROOT_GROUP);
    assert.equal(g.groupOf('john.smith'), ROOT_GROUP);
  });

  test('groups – static quotas, dynamic ones as a fraction of the parent, oversubscription scaled down', () => {
    const g = groups(['a', 'a.x', 'a.y', 'b'], { a: 20, b: 20 }, { 'a.x': 0.75, 'a.y': 0.5 });
    const t = g.tree(30);
    // a and b ask for 40 of 30: both scaled to 15
    assert.equal(t.get('a')!.quota, 15);
    assert.equal(t.get('b')!.quota, 15);
    // a.x and a.y ask for 1.25 of a's 15: scaled to 9 and 6
    assert.equal(t.get('a.x')!.quota, 9);
    assert.equal(t.get('a.y')!.quota, 6);
    assert.equal(ownQuota(t.get('a')!), 0);
    assert.equal(ownQuota(t.get(ROOT_GROUP)!), 0);
    const over = groups(['a', 'b'], { a: 20, b: 20 }, {}, {}, { allowOversubscription: true }).tree(30);
    assert.equal(over.get('a')!.quota, 20);
  });
});

describe('groups – negotiation', () => {
  test('groups – a group at its quota gets no more, while the others run', () => {
    const r = new Matchmaker({
      slots: pool(4),
      groups: groups(['group_a'], { group_a: 1 }),
      poolCpus: 4,
      submitters: [
        submitter('group_a.alice', [{ id: 1, idle: 3, ad: job() }]),
        submitter('bob', [{ id: 2, idle: 3, ad: job({ owner: 'bob' }) }], 5),
      ],
    }).negotiate();
    assert.equal(r.placed.get('group_a.alice@schedd')?.jobs, 1);
    assert.equal(r.placed.get('bob@schedd')?.jobs, 3);
  });

  test("groups – the group's running jobs count: at its quota it gets nothing", () => {
    const r = new Matchmaker({
      slots: pool(4),
      groups: groups(['group_a'], { group_a: 1 }),
      poolCpus: 5,
      submitters: [submitter('group_a.alice', [{ id: 1, idle: 3, ad: job() }], 0.5, 1)],
    }).negotiate();
    assert.equal(r.stats.jobs, 0);
  });

  test('groups – all members of a group share its quota; cpus are what counts', () => {
    const r = new Matchmaker({
      slots: [slot({ name: 'slot1@p', partitionable: true, cpus: 16, memory: 65536 })],
      groups: groups(['group_a'], { group_a: 5 }),
      poolCpus: 16,
      submitters: [
        submitter('group_a.alice', [{ id: 1, idle: 10, ad: job({ cpus: 2 }) }]),
        submitter('group_a.bob', [{ id: 2, idle: 10, ad: job({ owner: 'bob', cpus: 2 }) }]),
      ],
    }).negotiate();
    // 5 cpus of quota: two 2-cpu jobs, never a third
    assert.equal(r.stats.jobs, 2);
  });

  test('groups – a group that accepts surplus takes what the others leave', () => {
    const mk = (surplus: boolean) =>
      new Matchmaker({
        slots: pool(6),
        groups: groups(['group_a', 'group_b'], { group_a: 2, group_b: 2 }, {}, { group_a: surplus }),
        poolCpus: 6,
        submitters: [
          submitter('group_a.alice', [{ id: 1, idle: 10, ad: job() }]),
          submitter('group_b.bob', [{ id: 2, idle: 1, ad: job({ owner: 'bob' }) }]),
        ],
      }).negotiate();
    assert.equal(mk(false).placed.get('group_a.alice@schedd')?.jobs, 2);
    assert.equal(mk(true).placed.get('group_a.alice@schedd')?.jobs, 5);
    assert.equal(mk(true).placed.get('group_b.bob@schedd')?.jobs, 1);
  });

  test('groups – a parent that refuses surplus caps its subgroups together', () => {
    const r = new Matchmaker({
      slots: pool(10),
      groups: groups(['p', 'p.x', 'p.y'], { p: 3, 'p.x': 1, 'p.y': 1 }, {}, { 'p.x': true, 'p.y': true }),
      poolCpus: 10,
      submitters: [
        submitter('p.x.alice', [{ id: 1, idle: 10, ad: job() }]),
        submitter('p.y.bob', [{ id: 2, idle: 10, ad: job({ owner: 'bob' }) }]),
      ],
    }).negotiate();
    assert.equal(r.stats.jobs, 3);
  });

  test('groups – a dynamic quota follows the size of the pool', () => {
    const r = new Matchmaker({
      slots: pool(8),
      groups: groups(['group_a'], {}, { group_a: 0.25 }),
      poolCpus: 8,
      submitters: [submitter('group_a.alice', [{ id: 1, idle: 10, ad: job() }])],
    }).negotiate();
    assert.equal(r.stats.jobs, 2);
  });

  test('groups – the most starved group goes first', () => {
    const r = new Matchmaker({
      slots: pool(1),
      groups: groups(['group_a', 'group_b'], { group_a: 4, group_b: 4 }, {}, {}),
      poolCpus: 9,
      // b has the better priority but a uses less of its quota
      submitters: [
        submitter('group_a.alice', [{ id: 1, idle: 1, ad: job() }], 10, 1),
        submitter('group_b.bob', [{ id: 2, idle: 1, ad: job({ owner: 'bob' }) }], 0.5, 3),
      ],
    }).negotiate();
    assert.deepEqual(
      r.matches.map((m) => m.submitter),
      ['group_a.alice@schedd'],
    );
  });
});
