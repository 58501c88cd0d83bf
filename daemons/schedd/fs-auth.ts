// Who is calling? Node has no SO_PEERCRED, so local users prove their identity the way HTCondor's FS
// method does: the schedd names an entry in a sticky world-writable directory, the client creates it, and
// the schedd reads its owner. The answer is a pool token for that user.
//
// The entry is a directory of mode 0700, not a file: a file of another user's can be renamed into place by
// anyone who may write the folder it lies in (a shared scratch folder without the sticky bit), and its times
// can be fresh (a file that user has just written). Moving a directory to another folder needs write
// permission on the directory itself (its '..' changes), which no one but its owner (and root) has on a 0700
// one, so only the caller's own mkdir can be there. Its birth time must be fresh too, where the file system
// keeps one.
import { randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { DschedError } from '../../lib/errors.js';
import { signToken } from '../../lib/rpc/auth.js';
import { userNameOf } from '../../lib/users.js';

interface Challenge {
  path: string;
  user: string;
  issued: number;
}

export class FsAuth {
  private challenges = new Map<string, Challenge>();
  constructor(
    private dir: string,
    private tokenKey: () => KeyObject,
    private isAdmin: (user: string) => boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o1777);
  }

  begin(user: string): { path: string; nonce: string } {
    this.gc();
    if (this.challenges.size > 10_000) throw new DschedError('INTERNAL', 'too many authentication attempts in flight');
    const nonce = randomBytes(18).toString('base64url');
    const path = join(this.dir, `auth-${nonce}`);
    this.challenges.set(nonce, { path, user, issued: Date.now() });
    return { path, nonce };
  }

  finish(nonce: string): { token: string; user: string; admin: boolean } {
    const c = this.challenges.get(nonce);
    this.challenges.delete(nonce);
    if (!c) throw new DschedError('UNAUTHENTICATED', 'unknown or expired authentication challenge');
    let st;
    try {
      st = lstatSync(c.path);
    } catch {
      throw new DschedError('UNAUTHENTICATED', `the challenge directory ${c.path} was not created`);
    } finally {
      try {
        rmdirSync(c.path);
      } catch {
        /* gone, or not an empty directory: refused below; the sticky folder keeps what its owner left */
      }
    }
    // only an empty directory of its owner's alone, made after the challenge was given (see the top)
    const fresh = (ms: number) => ms >= c.issued - 2000;
    if (
      !st.isDirectory() ||
      (st.mode & 0o077) !== 0 ||
      st.nlink !== 2 ||
      !fresh(st.mtimeMs) ||
      (st.birthtimeMs > 0 && !fresh(st.birthtimeMs))
    )
      throw new DschedError(
        'UNAUTHENTICATED',
        'the challenge is not a fresh directory of mode 0700 (dsched commands of an older version create a file: use the commands of this one)',
      );
    const user = userNameOf(st.uid);
    const admin = this.isAdmin(user);
    return { token: signToken(this.tokenKey(), { user, admin, ttl: 8 * 3600 }), user, admin };
  }

  private gc() {
    const old = Date.now() - 60_000;
    for (const [n, c] of this.challenges) if (c.issued < old) this.challenges.delete(n);
  }
}

/** The user the schedd runs as: always a queue super user of its own pool. */
export const poolOwner = () => userInfo().username;
