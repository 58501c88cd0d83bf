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
