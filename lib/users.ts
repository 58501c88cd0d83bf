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

/** The user name of a uid (`uid<N>` when it has none). */
export function userNameOf(uid: number): string {
  return passwd().find((e) => Number(e[2]) === uid)?.[0] ?? `uid${uid}`;
}

/** Who a daemon running as root runs a user's job or script as (unknown users: nobody). */
export function runAsOwner(owner: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0 || !owner || owner === 'root') return undefined;
  return lookupUser(owner) ?? { uid: 65534, gid: 65534 };
}
