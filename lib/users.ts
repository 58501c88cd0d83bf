// Local user accounts, read from /etc/passwd (Node has no getpwnam/getpwuid).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { DschedError } from './errors.js';

function passwd(): string[][] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => f.length > 3);
  } catch {
    return [];
  }
}

/** uid and gid of a user name, or undefined when there is no such user here. */
export function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const f = passwd().find((e) => e[0] === name);
  return f ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

/** A user's home directory and login shell (what a login sets HOME and SHELL to). */
export function loginOf(name: string): { home: string; shell: string } | undefined {
  const f = passwd().find((e) => e[0] === name);
  return f && f.length > 6 ? { home: f[5]!, shell: f[6]! } : undefined;
}

/** The user name of a uid (`uid<N>` when it has none). */
export function userNameOf(uid: number): string {
  return accountOf(uid) ?? `uid${uid}`;
}

/** A uid and gid no account has ((uid_t)-2; -1 means "unchanged" to the kernel). */
export const NO_ACCOUNT_ID = 0xfffffffe;

/** What to do about a uid with no account. */
export const NO_ACCOUNT_HINT =
  'dsched runs jobs as named users: an administrator adds one for this uid (to /etc/passwd or the user directory)';

/** The name of the account this process runs as; a uid with none cannot use the pool (see runAsOwner). */
export function ownAccount(): string {
  try {
    return userInfo().username;
  } catch {
    throw new DschedError('PERMISSION_DENIED', `uid ${process.getuid?.() ?? '?'} has no account on this host`, {
      hint: NO_ACCOUNT_HINT,
    });
  }
}

/** The account name of a uid, or undefined when it has no passwd entry here. */
export function accountOf(uid: number): string | undefined {
  return passwd().find((e) => Number(e[2]) === uid)?.[0];
}

/**
 * Who a daemon running as root runs a user's job or script as, and handles the user's files as; undefined
 * when the daemon is not root (it can only act as itself) or the owner is root. An owner with no account
 * here is refused: acting for them as some stand-in (nobody) gave them that account's files and processes.
 */
export function runAsOwner(
  owner: string,
): { uid: number; gid: number; groups: number[]; name: string; umask?: number } | undefined {
  if (process.getuid?.() !== 0 || !owner || owner === 'root') return undefined;
  const u = lookupUser(owner);
  if (!u)
    throw new DschedError(
      'PERMISSION_DENIED',
      `${owner} has no account on this host: its jobs and files cannot be run or handled as anyone`,
      {
        hint: NO_ACCOUNT_HINT,
      },
    );
  return { ...u, groups: groupsOf(owner, u.gid), name: owner };
}

const recentOwners = new Map<string, { at: number; owner: ReturnType<typeof runAsOwner> }>();
/** runAsOwner remembered for a minute per owner: the account files are read once a minute, not once per job. */
export function runAsOwnerCached(owner: string): ReturnType<typeof runAsOwner> {
  const hit = recentOwners.get(owner);
  if (hit && Date.now() - hit.at < 60_000) return hit.owner;
  if (recentOwners.size > 10_000) recentOwners.clear();
  const who = runAsOwner(owner);
  recentOwners.set(owner, { at: Date.now(), owner: who });
  return who;
}

/** The groups a user is in: the primary group and the supplementary ones from /etc/group. */
export function groupsOf(name: string, primary: number): number[] {
  const out = new Set([primary]);
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 3 && f[3]!.split(',').includes(name)) out.add(Number(f[2]));
    }
  } catch {
    /* no group file: the primary group only */
  }
  return [...out];
}
