// The pool CA certificate a command run inside a job checks its startd against (dchirp, dsched-rank): the
// path comes from a file the startd left in the job's sandbox; the certificate is world-readable.
import { readFileSync } from 'node:fs';
import { DschedError } from '../../lib/errors.js';

export function readPoolCa(caPath: string): Buffer {
  try {
    return readFileSync(caPath);
  } catch (e) {
    throw new DschedError('USAGE', `cannot read the pool CA certificate ${caPath}: ${(e as Error).message}`);
  }
}
