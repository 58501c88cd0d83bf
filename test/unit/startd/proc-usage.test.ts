// A job's usage (proc-usage.ts): a job given as its process group is found in a pass over /proc, a job given
// as its cgroup's members (`only`) is exactly those processes, and both ways give the same figures.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { measureJobs } from '../../../daemons/startd/proc-usage.js';

/** A process that leads a process group of its own and has a child in it; both sleep. */
async function group(): Promise<{ leader: ChildProcess; pids: number[] }> {
  const leader = spawn('/bin/sh', ['-c', 'sleep 60 & echo $!; wait'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = (await once(leader.stdout!, 'data')) as [Buffer];
  return { leader, pids: [leader.pid!, Number(line.toString().trim())] };
}

describe('startd proc-usage – measuring jobs', () => {
  test('startd proc-usage – a job given as its members is measured as the pass over /proc finds its group', async () => {
    const a = await group();
    const b = await group();
    try {
      const [byGroup, byMembers, none] = measureJobs([
        { pgid: a.leader.pid! },
        { pgid: b.leader.pid!, only: b.pids },
        { pgid: 0, only: [] },
      ]);
      assert.deepEqual([...byGroup!.pids].sort(), [...a.pids].sort());
      assert.deepEqual([...byMembers!.pids].sort(), [...b.pids].sort());
      assert.ok(byGroup!.rssKb > 0 && byMembers!.rssKb > 0);
      assert.ok(byGroup!.vsizeKb > 0 && byMembers!.vsizeKb > 0);
      assert.deepEqual(none, { rssKb: 0, vsizeKb: 0, userCpu: 0, sysCpu: 0, pids: [] });
      // only the processes named: the other job's group is not searched for
      const [onlyOne] = measureJobs([{ pgid: a.leader.pid!, only: [a.pids[1]!] }]);
      assert.deepEqual(onlyOne!.pids, [a.pids[1]]);
    } finally {
      for (const g of [a, b]) process.kill(-g.leader.pid!, 'SIGKILL');
    }
  });

  test('startd proc-usage – a member gone meanwhile is left out', () => {
    const [u] = measureJobs([{ pgid: 0, only: [2 ** 22 + 1] }]);
    assert.deepEqual(u!.pids, []);
  });
});
