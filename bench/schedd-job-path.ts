// The schedd's share of the job path, without the other daemons or the machine's load in the figure (run on
// demand: `node --import tsx bench/schedd-job-path.ts`; BENCH_JOBS, 4000 by default, BENCH_SLOTS 128,
// BENCH_BATCH 16). A Schedd on a queue file runs the jobs of one `queue N` submission on claims of a startd
// that answers at once: batches of exit events (JobEvents), each followed by the next jobs of the freed claims
// (ActivateClaims) and their start recorded, as on a busy pool. Printed: the schedd's CPU and the time its
// event loop spent in queue commits, per job, and the commits per job. To compare two builds, run it in each
// tree, alternating. Nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSubmit, loadSubmit } from '../grammar/submit/index.js';
import { JobQueue, type Job } from '../daemons/schedd/queue.js';
import { openQueueDb } from '../daemons/schedd/store/db.js';
import { JobStatus } from '../lib/job-status.js';
import { exitedEvent, makeSchedd } from '../test/unit/schedd/helpers.js';

const N = Number(process.env.BENCH_JOBS ?? 4000);
const SLOTS = Number(process.env.BENCH_SLOTS ?? 128);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);

const dir = mkdtempSync(join(tmpdir(), 'dsched-jobpath-bench-'));
try {
  const queue = new JobQueue(openQueueDb(join(dir, 'queue.db')));
  const schedd = makeSchedd(queue);
  (schedd as unknown as { startd: () => unknown }).startd = () => ({
    activateMany: async (items: unknown[]) => ({ errors: items.map(() => '') }),
    deactivate: async () => ({}),
    release: async () => ({}),
  });
  const claims = (schedd as unknown as { claims: Map<string, { id: string; slot: string; job?: Job }> }).claims;

  const plan = loadSubmit({
    file: 'bench.sub',
    text: `executable = /bin/true\narguments = a b c\noutput = out.$(Process)\nerror = err.$(Process)\nqueue ${N}\n`,
    cwd: dir,
    env: {},
    owner: 'bench',
    hostname: hostname(),
    maxProcs: 1_000_000,
  });
  const cluster = queue.reserveCluster('bench');
  const { jobs } = expandSubmit(plan, cluster);
  queue.submit(cluster, 'bench', jobs.cluster, jobs.procs);

  // every slot's claim runs its first job (as after the first negotiation cycle)
  const ac = [...queue.autoclusters.keys()][0]!;
  for (let s = 1; s <= SLOTS; s++) {
    const job = queue.takeIdle(ac)!;
    const claim = { id: `claim-${s}`, startd: '127.0.0.1:1', slot: `slot1_${s}@unit`, lastAc: ac, renewedAt: 0 };
    claims.set(claim.id, claim);
    job.claim = { id: claim.id, startd: claim.startd, slot: claim.slot };
    job.matching = false;
    (schedd as unknown as { claimed: { markRunning(j: Job, c: unknown): void } }).claimed.markRunning(job, claim);
  }
  queue.flush();

  const running = () => [...claims.values()].map((c) => c.job).filter((j): j is Job => j?.status === JobStatus.Running);
  const commits0 = { ...queue.commits };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  let seq = 0;
  while (done < N) {
    const batch = running().slice(0, BATCH);
    if (!batch.length) break;
    await schedd.jobEvents(
      batch.map((j) => exitedEvent(j, j.claim!.id, String(++seq))),
      'unit',
    );
    // the activations of the freed claims answered, and their starts recorded
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    done += batch.length;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const commits = queue.commits.count - commits0.count;
  const commitMs = (queue.commits.seconds - commits0.seconds) * 1000;
  console.log(
    `schedd job path: ${done} jobs in batches of ${BATCH} on ${SLOTS} claims — CPU ${((cpu.user + cpu.system) / 1000 / done).toFixed(3)} ms per job, ` +
      `queue commits ${(commits / done).toFixed(3)} per job taking ${(commitMs / done).toFixed(3)} ms of the event loop per job; ` +
      `wall ${(wall / done).toFixed(3)} ms per job (${queue.jobs.size} left in the queue)`,
  );
  schedd.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
