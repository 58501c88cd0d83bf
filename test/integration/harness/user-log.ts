// What the integration tests read of a user log.
import type { TestPool } from './pool.js';

/** The codes of the events of job cluster.0 in a user log, in order (image size updates, 006, left out). */
export function eventCodes(pool: TestPool, log: string, cluster: number): string[] {
  if (!pool.exists(log)) return [];
  const id = `(${String(cluster).padStart(3, '0')}.000.000)`;
  return pool
    .read(log)
    .split('\n')
    .filter((l) => l.includes(id))
    .map((l) => l.slice(0, 3))
    .filter((e) => e !== '006');
}

/**
 * Event codes without the disconnections the schedd recovered from (a 022 and then its 023): a renewal of the
 * job's lease left unanswered a few seconds (RENEWAL_PATIENCE_MS), as a loaded machine may make any of them,
 * says nothing of what a test that is not about disconnections looks at.
 */
export function withoutReconnects(codes: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === '022' && codes[i + 1] === '023') i++;
    else out.push(codes[i]!);
  }
  return out;
}
