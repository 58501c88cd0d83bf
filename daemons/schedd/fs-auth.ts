// Who is calling? Node has no SO_PEERCRED, so local users prove their identity the way HTCondor's FS
// method does: the schedd names a file in a sticky world-writable directory, the client creates it, and
// the schedd reads the file's owner. The answer is a pool token for that user.
import { randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
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
      throw new DschedError('UNAUTHENTICATED', `the challenge file ${c.path} was not created`);
    } finally {
      rmSync(c.path, { force: true });
    }
    // A symlink or hard link could borrow another user's file: only a fresh regular file counts.
    if (!st.isFile() || st.nlink !== 1 || st.mtimeMs < c.issued - 2000)
      throw new DschedError('UNAUTHENTICATED', 'the challenge file is not a fresh regular file');
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
