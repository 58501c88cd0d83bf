// The local user the security tests attack a root pool as (uid 65534), and a folder of that user's files.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOptions } from '../integration/harness/pool.js';

export const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

/** A folder `name` in `parent`, owned by nobody, and a writer of nobody's files in it (returns the path). */
export function nobodyFolder(parent: string, name = 'user') {
  const dir = join(parent, name);
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, 65534, 65534);
  const put = (file: string, text: string, mode = 0o644) => {
    const p = join(dir, file);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    chownSync(p, 65534, 65534);
    return p;
  };
  return { dir, put };
}
