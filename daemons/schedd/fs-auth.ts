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
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, opendirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { DschedError } from '../../lib/errors.js';
import { signToken } from '../../lib/rpc/auth.js';
import { CLEAN_EXEC_PATH, cleanExecArgs } from './clean-exec.js';
import { accountOf, NO_ACCOUNT_HINT } from '../../lib/users.js';

/**
 * A challenge is kept by no one: its name carries when it was given and a MAC of that under a key of this
 * schedd's run, so FinishAuth checks it without any record. Challenges were records, at most 64 per client
 * host (the oldest giving way) and 10,000 in all: every local user shares the loopback address, so one of them
 * asking for challenges without end had everyone else's give way before they were finished, and kept every
 * other local user from a token. Now a flood keeps nothing and evicts nothing. (Knowing a challenge's name
 * gives nothing to anyone but its maker: the token is for the owner of the directory made under that name,
 * in a folder no one else may list.)
 */
const CHALLENGE_SECONDS = 60;
const MAC_BYTES = 8;

/** A name begin() gives: `auth-` and 18 bytes in base64url (when it was given, 6 random bytes, a MAC). */
const CHALLENGE_NAME = /^auth-[A-Za-z0-9_-]{24}$/;
/** An entry this old is no challenge in flight (they expire after a minute). */
const STALE_MS = 120_000;
const SWEEP_EVERY_MS = 60_000;
/** Bounds on one sweep: a folder anyone may fill must not hold the schedd up. */
const SWEEP_MAX_ENTRIES = 10_000;
const SWEEP_MAX_REMOVALS = 100;
const RM_TIMEOUT_MS = 60_000;

/**
 * `rm -rf` of one path with `uid` and `gid` (and no other group): resolves to its error, if any. Run by root,
 * through the clean exec helper: that user may reach the process while it runs (`/proc`, `ptrace`), so it
 * holds no keyring nor descriptor of the schedd's.
 */
function removeAs(path: string, uid: number, gid: number): Promise<Error | undefined> {
  const rm = ['/bin/rm', '-rf', '--one-file-system', '--', path];
  const [program, ...args] =
    process.geteuid?.() === 0 ? [CLEAN_EXEC_PATH, ...cleanExecArgs(rm, { uid, gid, groups: [] })] : rm;
  return new Promise((resolve) =>
    execFile(program!, args, { env: {}, timeout: RM_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, _out, stderr) =>
      resolve(err ? new Error(stderr.trim() || err.message) : undefined),
    ),
  );
}

export class FsAuth {
  /** what the challenges of this run are signed with: a restarted schedd's are no longer good (as before) */
  private readonly macKey = randomBytes(32);
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

  /** A challenge: a name to create, and the nonce FinishAuth is given (the name, signed). */
  begin(): { path: string; nonce: string } {
    if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) void this.sweep();
    const head = Buffer.alloc(10);
    head.writeUInt32BE(Math.floor(Date.now() / 1000));
    randomBytes(6).copy(head, 4);
    const nonce = Buffer.concat([head, this.mac(head)]).toString('base64url');
    return { path: join(this.dir, `auth-${nonce}`), nonce };
  }

  private mac(head: Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(head).digest().subarray(0, MAC_BYTES);
  }

  /** When the challenge `nonce` was given (ms), if this schedd gave it and it is still good. */
  private issuedAt(nonce: string): number | undefined {
    if (!CHALLENGE_NAME.test(`auth-${nonce}`)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    const [head, mac] = [raw.subarray(0, 10), raw.subarray(10)];
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(head))) return undefined;
    const issued = head.readUInt32BE() * 1000;
    const age = Date.now() - issued;
    return age >= -5000 && age <= CHALLENGE_SECONDS * 1000 ? issued : undefined;
  }

  finish(nonce: string): { token: string; user: string; admin: boolean } {
    const issued = this.issuedAt(String(nonce));
    if (issued === undefined) throw new DschedError('UNAUTHENTICATED', 'unknown or expired authentication challenge');
    const c = { path: join(this.dir, `auth-${nonce}`), issued };
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
        // a challenge in flight (good for a minute)
        if (now - st.mtimeMs < STALE_MS) continue;
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
}

/** The user the schedd runs as: always a queue super user of its own pool. */
export const poolOwner = () => userInfo().username;
