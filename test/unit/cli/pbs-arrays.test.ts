// qstat – an array job is one line, C[].host, as PBS's qstat shows it: Q until a subjob has begun, then B, F once
// every subjob has finished; its subjobs (C[I].host) follow it only with -t (dq -pbs -pbs-subjobs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { arrayLines, pbsJobId, pbsState, renderPbsTable } from '../../../cli/shared/pbs-view.js';

/** Subjob `index` of array 12 (status: JobStatus) and a plain job 11. */
const subjob = (index: number, status: number, cpu = 0) =>
  ClassAd.fromRecord({
    ClusterId: '12',
    ProcId: String(index - 1),
    Owner: '"alice"',
    PbsJobId: '"12[].server"',
    PbsArrayIndex: String(index),
    PbsJobName: '"sweep"',
    JobStatus: String(status),
    RemoteUserCpu: String(cpu),
  });
const plain = () =>
  ClassAd.fromRecord({ ClusterId: '11', ProcId: '0', Owner: '"bob"', PbsJobId: '"11.server"', JobStatus: '2' });

describe('qstat – array jobs', () => {
  test('qstat – a finished subjob is X, as PBS Pro shows it; a finished plain job stays F', () => {
    const ads = [
      subjob(1, 4),
      subjob(2, 2),
      ClassAd.fromRecord({ ClusterId: '11', ProcId: '0', PbsJobId: '"11.server"', JobStatus: '4' }),
    ];
    const all = arrayLines(ads, true);
    assert.deepEqual(all.map(pbsJobId), ['12[].server', '12[1].server', '12[2].server', '11.server']);
    assert.deepEqual(all.map(pbsState), ['B', 'X', 'R', 'F']);
    assert.match(renderPbsTable(all), /^12\[1\]\.server +sweep +alice +00:00:00 X $/m);
    const [done] = arrayLines([subjob(1, 4), subjob(2, 4)], false);
    assert.equal(pbsState(done!), 'F', 'an array whose subjobs have all finished is F');
  });

  test('qstat – an array is one line C[] without -t, its subjobs after it with -t', () => {
    const ads = [plain(), subjob(1, 2, 5), subjob(2, 1), subjob(3, 5, 7)];
    const lines = arrayLines(ads, false);
    assert.deepEqual(lines.map(pbsJobId), ['11.server', '12[].server']);
    assert.equal(pbsState(lines[1]!), 'B', 'a subjob runs: begun');
    assert.match(renderPbsTable(lines), /^12\[\]\.server +sweep +alice +00:00:12 B $/m);
    const all = arrayLines(ads, true);
    assert.deepEqual(all.map(pbsJobId), ['11.server', '12[].server', '12[1].server', '12[2].server', '12[3].server']);
    assert.deepEqual(all.slice(2).map(pbsState), ['R', 'Q', 'H']);
  });

  for (const [states, want] of [
    [[1, 1], 'Q'],
    [[1, 5], 'Q'],
    [[5, 5], 'H'],
    [[4, 1], 'B'],
    [[4, 4], 'F'],
  ] as const)
    test(`qstat – an array whose subjobs are ${states.join(', ')} is ${want}`, () => {
      const [line] = arrayLines(
        states.map((s, i) => subjob(i + 1, s)),
        false,
      );
      assert.equal(pbsState(line!), want);
    });
});
