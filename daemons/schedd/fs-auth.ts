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
//
// A challenge left behind (a client killed between its mkdir and its finish, or a user who put files in it)
// stays in the folder until the schedd sweeps it: at start and at most once a minute, an entry named as a
// challenge (`auth-` and 24 characters) and older than two minutes goes. Never as root into a user's tree:
// the owner fills it, links included, and can change it while it is removed, so root only removes names in
// the folder itself (rmdir of an empty directory, unlink of anything that is no directory: neither follows a
// link), and a directory with something in it is removed by `rm -rf` run with its owner's uid and gid alone,
// which can take away nothing that owner could not. A root-owned one with something in it is left alone.
import { execFile } from 'node:child_process';
import { randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, opendirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { DschedError } from '../../lib/errors.js';
import { signToken } from '../../lib/rpc/auth.js';
import { accountOf, NO_ACCOUNT_HINT } from '../../lib/users.js';

/** What is kept of a challenge: never the name the caller asked as (up to 2 MiB, and unused: the token names
 *  the directory's owner), as 10,000 of them held 20 GB of the schedd. */
interface Challenge {
  path: string;
  issued: number;
  /** the client that asked: a local user (uid:N) or a remote host (lib/rpc/peer.ts) */
  host: string;
}

/**
 * Challenges in flight, in all and from one client host. BeginAuth is open to anyone: past the bound it
 * refused everyone, so a flood of challenges never answered kept every user from a token. Now the oldest
 * gives way to the newest, the asking host's own first, and a handshake takes milliseconds.
 */
const MAX_CHALLENGES = 10_000;
const CHALLENGES_PER_HOST = 64;

/** A name begin() gives: `auth-` and 18 random bytes in base64url. */
const CHALLENGE_NAME = /^auth-[A-Za-z0-9_-]{24}$/;
/** An entry this old is no challenge in flight (they expire after a minute). */
const STALE_MS = 120_000;
const SWEEP_EVERY_MS = 60_000;
/** Bounds on one sweep: a folder anyone may fill must not hold the schedd up. */
const SWEEP_MAX_ENTRIES = 10_000;
const SWEEP_MAX_REMOVALS = 100;
const RM_TIMEOUT_MS = 60_000;

/** `rm -rf` of one path with `uid` and `gid` (and no other group): resolves to its error, if any. */
function removeAs(path: string, uid: number, gid: number): Promise<Error | undefined> {
  const ids = process.geteuid?.() === 0 ? { uid, gid } : {};
  return new Promise((resolve) =>
    execFile(
      '/bin/rm',
      ['-rf', '--one-file-system', '--', path],
      { ...ids, env: {}, timeout: RM_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (err, _out, stderr) => resolve(err ? new Error(stderr.trim() || err.message) : undefined),
    ),
  );
}

export class FsAuth {
  private challenges = new Map<string, Challenge>();
  /** each client host's challenges in flight, oldest first */
  private byHost = new Map<string, string[]>();
  private lastSweep = 0;
  private sweeping = false;
  constructor(
    private dir: string,
    private tokenKey: () => KeyObject,
    private isAdmin: (user: string) => boolean,
    private warn: (message: string) => void = () => {},
  ) {
    mkdirSync(dir, { recursive: true });
    // anyone may make a challenge here, by the name the schedd gave them, but no one else may list or watch
    // the folder: a listing showed each challenge as it was made, and its name was all FinishAuth asks for
    chmodSync(dir, 0o1733);
  }

  /** A challenge for the client `host` (CallContext.client: a local user, or a remote host). */
  begin(host = ''): { path: string; nonce: string } {
    this.gc();
    if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) void this.sweep();
    const mine = this.byHost.get(host) ?? [];
    if (mine.length >= CHALLENGES_PER_HOST) this.forget(mine[0]!);
    if (this.challenges.size >= MAX_CHALLENGES) this.forget(this.challenges.keys().next().value!);
    const nonce = randomBytes(18).toString('base64url');
    const path = join(this.dir, `auth-${nonce}`);
    this.challenges.set(nonce, { path, issued: Date.now(), host });
    this.byHost.set(host, [...(this.byHost.get(host) ?? []), nonce]);
    return { path, nonce };
  }

  private forget(nonce: string): void {
    const c = this.challenges.get(nonce);
    if (!c) return;
    this.challenges.delete(nonce);
    const left = (this.byHost.get(c.host) ?? []).filter((n) => n !== nonce);
    if (left.length) this.byHost.set(c.host, left);
    else this.byHost.delete(c.host);
  }

  finish(nonce: string): { token: string; user: string; admin: boolean } {
    const c = this.challenges.get(nonce);
    this.forget(nonce);
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
    // a uid with no account gets no name: a made-up one (`uidN`) was run and handled as nobody
    const user = accountOf(st.uid);
    if (user === undefined)
      throw new DschedError('PERMISSION_DENIED', `uid ${st.uid} has no account on the schedd's host`, {
        hint: NO_ACCOUNT_HINT,
      });
    const admin = this.isAdmin(user);
    return { token: signToken(this.tokenKey(), { user, admin, ttl: 8 * 3600 }), user, admin };
  }

  /** Remove challenges left behind (see the top); resolves to how many went. One sweep at a time. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    this.lastSweep = now;
    let removed = 0;
    try {
      const stale: string[] = [];
      const dir = opendirSync(this.dir);
      try {
        for (let seen = 0; seen < SWEEP_MAX_ENTRIES && stale.length < SWEEP_MAX_REMOVALS; seen++) {
          const entry = dir.readSync();
          if (!entry) break;
          if (CHALLENGE_NAME.test(entry.name)) stale.push(entry.name);
        }
      } finally {
        dir.closeSync();
      }
      const own = process.geteuid?.() ?? -1;
      for (const name of stale) {
        const path = join(this.dir, name);
        let st;
        try {
          st = lstatSync(path);
        } catch {
          continue;
        }
        // a challenge in flight, or one of this process's own still to be finished
        if (now - st.mtimeMs < STALE_MS || this.challenges.has(name.slice('auth-'.length))) continue;
        if (!st.isDirectory()) {
          try {
            unlinkSync(path);
            removed++;
          } catch {
            /* gone already */
          }
          continue;
        }
        try {
          rmdirSync(path);
          removed++;
          continue;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST')
            continue;
        }
        // something in it: only its owner's rights may go in (root's own, or another user's while not root: left)
        if (st.uid === 0 || (own !== 0 && st.uid !== own)) continue;
        const err = await removeAs(path, st.uid, st.gid);
        if (err) this.warn(`could not remove the leftover challenge ${path} as uid ${st.uid}: ${err.message}`);
        else removed++;
      }
    } catch (e) {
      this.warn(`could not sweep ${this.dir}: ${(e as Error).message}`);
    } finally {
      this.sweeping = false;
    }
    return removed;
  }

  private gc() {
    const old = Date.now() - 60_000;
    // oldest first: the first one young enough ends the look
    for (const [n, c] of this.challenges) {
      if (c.issued >= old) break;
      this.forget(n);
    }
  }
}

/** The user the schedd runs as: always a queue super user of its own pool. */
export const poolOwner = () => userInfo().username;
