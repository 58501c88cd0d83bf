// Local user accounts, read from /etc/passwd (Node has no getpwnam/getpwuid).
import { readFileSync } from 'node:fs';

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
  return passwd().find((e) => Number(e[2]) === uid)?.[0] ?? `uid${uid}`;
}

/**
 * Who a daemon running as root runs a user's job or script as, and handles the user's files as (unknown
 * users: nobody); undefined when the daemon is not root (it can only act as itself) or the owner is root.
 */
export function runAsOwner(owner: string): { uid: number; gid: number; groups: number[]; name: string } | undefined {
  if (process.getuid?.() !== 0 || !owner || owner === 'root') return undefined;
  const u = lookupUser(owner);
  return u
    ? { ...u, groups: groupsOf(owner, u.gid), name: owner }
    : { uid: 65534, gid: 65534, groups: [65534], name: owner };
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
