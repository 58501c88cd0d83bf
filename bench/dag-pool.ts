// DAG node throughput on a real personal pool (on demand: `node --import tsx bench/dag-pool.ts`):
// a DAG of N independent /bin/true nodes (BENCH_DAG_NODES, default 5000) on 128 slots, from submit to the
// DAG job's completion. Prints nodes/s; nothing is asserted (the issue states the target).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool } from '../test/integration/harness/pool.js';

const N = Number(process.env.BENCH_DAG_NODES ?? 5000);

const pool = await TestPool.start({
  NUM_CPUS: '128',
  MEMORY: '262144',
  UPDATE_INTERVAL: '5',
  NEGOTIATOR_INTERVAL: '10',
});
try {
  writeFileSync(join(pool.work, 'node.sub'), 'executable = /bin/true\nqueue\n');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(`JOB n${i} node.sub`);
  writeFileSync(join(pool.work, 'big.dag'), lines.join('\n') + '\n');
  const t0 = performance.now();
  const r = await pool.run('dsubmit-dag', ['--wait', 'big.dag'], { timeoutMs: 3_600_000 });
  const t1 = performance.now();
  if (r.code !== 0) throw new Error(`the DAG failed: ${r.stdout}${r.stderr}`);
  console.log(
    `dag: ${N} independent /bin/true nodes on 128 slots — ${((t1 - t0) / 1000).toFixed(1)} s → ${(N / ((t1 - t0) / 1000)).toFixed(1)} nodes/s (${r.stdout.trim().split('\n').pop()})`,
  );
} finally {
  await pool.stop();
}
