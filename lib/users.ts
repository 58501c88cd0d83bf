// Local user accounts, read from /etc/passwd (Node has no getpwnam/getpwuid).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** Who a daemon running as root runs a user's job or script as (unknown users: nobody). */
export function runAsOwner(owner: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0 || !owner || owner === 'root') return undefined;
  return lookupUser(owner) ?? { uid: 65534, gid: 65534 };
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

/**
 * Whether a user may read (or write) a path, as the kernel would decide for them: the permission bits of
 * the file and search permission on every directory above it. A daemon running as root uses it before it
 * reads or writes files on a user's behalf (job file transfer), so root's powers never leak to the user.
 */
export function userMay(user: { uid: number; gid: number; name: string }, path: string, want: 'read' | 'write'): boolean {
  if (user.uid === 0) return true;
  const groups = groupsOf(user.name, user.gid);
  const allowed = (p: string, bit: number) => {
    const st = statSync(p);
    const m = st.uid === user.uid ? (st.mode >> 6) & 7 : groups.includes(st.gid) ? (st.mode >> 3) & 7 : st.mode & 7;
    return (m & bit) !== 0;
  };
  try {
    const parts = path.split('/').filter(Boolean);
    let dir = '/';
    for (let i = 0; i < parts.length - 1; i++) {
      if (!allowed(dir, 1)) return false;
      dir = join(dir, parts[i]!);
    }
    if (!allowed(dir, 1)) return false;
    return allowed(path, want === 'read' ? 4 : 2);
  } catch {
    return false;
  }
}
